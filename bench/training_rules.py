"""Issue 12's cases, the previous training rule and today's default side by side.

    python bench/training_rules.py [--cases ref,k10,rect,k100,depth,bias] [--seeds 3]
    python bench/training_rules.py --cases widedepth --device cuda   # on a GPU
    python bench/training_rules.py --rules new,bits8   # today's default against step_bits=8

"old" is ``escape_plateaus=False`` with a per-factor ``init_scale=1e-3`` (the
training of the previous release, bit for bit); "new" is ``dmc.complete``'s
defaults (the plateau move on, ``init_scale=None``); "bits8" is the defaults with
``step_bits=8`` (each trial step cut to its 8 leading bits). Every fit uses default
options otherwise (``max_iter=1000``, ``tol=1e-8``), float64, and the seeds
0, 1, ... of both the problem and the fit. One line per fit: iterations, stop
reason, seconds, recovery error (relative, on the unobserved entries), the
number of plateau moves, and σ_{r+1}/σ_r of the estimate (the low-rank bias).

Cases (issue 12's acceptance list):

* ``ref``: 1000 x 1000, rank 5 truncated Gaussian, 20% observed, r̂ = 5
  (must be no slower than the old rule);
* ``k10``: the same with κ = 10 (target ≤ 1e-6);
* ``rect``: 500 x 1200, rank 5, κ = 10, ρ = 6, r̂ = 10 (target ≤ 1e-4);
* ``k100``: the first two with κ = 100 (reported);
* ``depth``: depths 4 and 5, original, narrow and compressed, on 150 x 150
  rank 5 with 4,000 observations, and compressed on the 1000² reference case
  (target ≤ 1e-4);
* ``widedepth``: the original (wide) network at depths 4 and 5 on the 1000²
  reference case (0.2–0.4 s an iteration on 2 CPU cores: run it on a GPU with
  ``--device cuda``; not in the default list);
* ``bias``: 400 x 400, rank 5, κ = 1, ρ = 2.5, r̂ = 10 (≤ 1e-4 and σ₆ ≤ 1e-3 σ₅).

Run it with nothing else on the machine: the seconds are wall clock.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

import dmc
from dmc.reproduce.experiments import machine

RULES = dict(old=dict(escape_plateaus=False, init_scale=1e-3), new=dict(), bits8=dict(step_bits=8))


DEVICE = "cpu"


def fit(label, problem, rank, rules, seed, **options):
    for name, rule in rules:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dmc.ConvergenceWarning)
            result = dmc.complete(
                problem.observations,
                rank=rank,
                random_state=seed,
                device=DEVICE,
                **rule,
                **options,
            )
        seconds = time.perf_counter() - start
        W = result.to_dense()
        error = dmc.recovery_error(W, problem.truth, problem.observations)
        s = np.linalg.svd(W, compute_uv=False)
        r = problem.truth.rank
        bias = s[r] / s[r - 1] if s.size > r else 0.0
        moves = int(sum(result.history.get("escape", [])))
        print(
            f"{label:34s} {name:5s} seed {seed}  {result.n_iter:5d} it  "
            f"{result.stop_reason:9s} {seconds:7.2f} s  error {error:.2e}  "
            f"moves {moves}  σ{r + 1}/σ{r} {bias:.1e}",
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="ref,k10,rect,k100,depth,bias")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--rules", default="old,new", help=f"from {','.join(RULES)}")
    args = parser.parse_args(argv)
    global DEVICE
    DEVICE = args.device
    cases = args.cases.split(",")
    both = [(name, RULES[name]) for name in args.rules.split(",")]
    print(machine())
    if DEVICE.startswith("cuda"):
        print(torch.cuda.get_device_name(DEVICE))
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)  # one-off import
    for seed in range(args.seeds):
        if "ref" in cases:
            p = dmc.make_problem((1000, 1000), 5, fraction=0.2, random_state=seed)
            fit("reference 1000², r̂ 5", p, 5, both, seed)
        if "k10" in cases:
            p = dmc.make_problem(
                (1000, 1000), 5, fraction=0.2, condition_number=10, random_state=seed
            )
            fit("1000², κ 10, 20%, r̂ 5", p, 5, both, seed)
        if "rect" in cases:
            p = dmc.make_problem(
                (500, 1200), 5, oversampling=6.0, condition_number=10, random_state=seed
            )
            fit("500x1200, κ 10, ρ 6, r̂ 10", p, 10, both, seed)
        if "k100" in cases:
            p = dmc.make_problem(
                (1000, 1000), 5, fraction=0.2, condition_number=100, random_state=seed
            )
            fit("1000², κ 100, 20%, r̂ 5", p, 5, both, seed)
            p = dmc.make_problem(
                (500, 1200), 5, oversampling=6.0, condition_number=100, random_state=seed
            )
            fit("500x1200, κ 100, ρ 6, r̂ 10", p, 10, both, seed)
        if "depth" in cases:
            p = dmc.make_problem((150, 150), 5, fraction=4000 / 150**2, random_state=seed)
            for depth in (4, 5):
                for method in ("original", "narrow", "compressed"):
                    label = f"150², |Ω| 4000, L {depth}, {method}"
                    fit(label, p, 5, both, seed, depth=depth, method=method)
            p = dmc.make_problem((1000, 1000), 5, fraction=0.2, random_state=seed)
            for depth in (4, 5):
                fit(f"reference 1000², L {depth}, compressed", p, 5, both, seed, depth=depth)
        if "widedepth" in cases:
            p = dmc.make_problem((1000, 1000), 5, fraction=0.2, random_state=seed)
            for depth in (4, 5):
                label = f"reference 1000², L {depth}, original"
                fit(label, p, 5, both, seed, depth=depth, method="original")
        if "bias" in cases:
            p = dmc.make_problem(
                (400, 400), 5, oversampling=2.5, condition_number=1, random_state=seed
            )
            fit("400², κ 1, ρ 2.5, r̂ 10", p, 10, both, seed)


if __name__ == "__main__":
    main()
