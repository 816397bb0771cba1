"""Do results depend on the number of threads? Measured, for the closing note and the README.

Each fit runs in a fresh process with ``torch.set_num_threads(t)`` for t in
``--threads`` (default 1 2 4) and is compared with the one-thread fit: are
the completed matrices bitwise identical, and if not, how far apart are they.
Within one thread count two runs with the same seed are always bitwise equal
(tests/core/test_determinism.py).

    python bench/determinism.py                 # about a minute on 2 cores
    python bench/determinism.py --step-bits 8   # trial steps cut to 8 bits
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

CASES = {
    # name: (shape, rank, fraction, method)
    "compressed 1000x1000 r5 20%": ((1000, 1000), 5, 0.2, "compressed"),
    "original 300x300 r5 20%": ((300, 300), 5, 0.2, "original"),
    "narrow 500x400 r5 20%": ((500, 400), 5, 0.2, "narrow"),
    "burer-monteiro 1000x1000 r5 20%": ((1000, 1000), 5, 0.2, "burer-monteiro"),
}


def child(case: str, threads: int, out: str, step_bits: int | None) -> None:
    import torch

    import dmc

    torch.set_num_threads(threads)
    shape, rank, fraction, method = CASES[case]
    problem = dmc.make_problem(shape, rank, fraction=fraction, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(
            problem.observations, rank=rank, method=method, random_state=0, step_bits=step_bits
        )
    np.save(out, result.to_dense())
    Path(out + ".json").write_text(
        json.dumps({"n_iter": result.n_iter, "loss": result.history["loss"][-1]})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--step-bits", type=int, default=None, help="dmc.complete's step_bits")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2], args.step_bits)
        return

    import torch

    import dmc.reproduce.experiments

    print(dmc.reproduce.experiments.machine())
    print(
        f"torch {torch.__version__}, float64, seed 0, step_bits={args.step_bits}; "
        f"reference: {args.threads[0]} thread(s)"
    )
    print()
    print("| case | threads | iterations | bitwise equal | max abs. difference / max abs. entry |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for case in CASES:
            results = {}
            for t in args.threads:
                out = str(Path(folder) / f"{abs(hash(case))}-{t}.npy")
                command = [sys.executable, __file__, "--child", case, str(t), out]
                if args.step_bits is not None:
                    command += ["--step-bits", str(args.step_bits)]
                subprocess.run(command, check=True)
                results[t] = (np.load(out), json.loads(Path(out + ".json").read_text()))
            W0, info0 = results[args.threads[0]]
            for t in args.threads:
                W, info = results[t]
                same = np.array_equal(W, W0)
                diff = float(np.max(np.abs(W - W0)) / np.max(np.abs(W0)))
                print(
                    f"| {case} | {t} | {info['n_iter']} | {'yes' if same else 'no'} | {diff:.1e} |"
                )


if __name__ == "__main__":
    main()
