"""How long the ill-conditioned acceptance case of issue 2 takes, when given time.

    python bench/hard_case.py [--rank 10] [--init-scale 1e-3] [--max-iter 200000]
                              [--seed 0] [--every 5000]

500 x 1200, rank 5, condition number 10, ρ = 6, compressed network with the
default options except ``max_iter`` (and ``rank`` / ``init_scale`` when given):
prints the relative recovery error and the training residual every ``--every``
iterations, so the staircase of incremental learning (one component after
another, each after a longer plateau) can be read off. The default run takes
about 15-25 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import torch

import dmc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--init-scale", type=float, default=1e-3)
    parser.add_argument("--max-iter", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=5000)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch "
        f"{torch.__version__}; seed {args.seed}, rank {args.rank}, init_scale {args.init_scale:g}"
    )
    problem = dmc.make_problem(
        (500, 1200), 5, oversampling=6, condition_number=10, random_state=args.seed
    )
    start = time.perf_counter()

    def report(iteration, state):
        if iteration % args.every == 0:
            print(
                f"{iteration:>7} it  error {state['recovery_error']:.2e}  "
                f"residual {state['residual']:.2e}  {time.perf_counter() - start:.0f} s",
                flush=True,
            )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(
            problem.observations,
            rank=args.rank,
            init_scale=args.init_scale,
            max_iter=args.max_iter,
            random_state=args.seed,
            truth=problem.truth,
            eval_every=args.every,
            callback=report,
        )
    error = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    print(
        f"stopped at {result.n_iter} it ({result.stop_reason}), recovery error {error:.2e}, "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
