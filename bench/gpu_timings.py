"""The reference case on a GPU: absolute times of the compressed and original networks.

    python bench/gpu_timings.py [--device cuda] [--seeds 3] [--dtypes float64 float32]

The reference case of docs/method.md (1000 x 1000, rank 5 truncated Gaussian,
20% observed, L = 3, r̂ = 5), ``dmc.complete``'s defaults on ``--device``, seeds
0, 1, ... of the problem and the fit. Each fit is timed from the call to its
return with the device synchronised (``torch.cuda.synchronize``), after one
untimed warm-up fit per method and dtype (CUDA context, kernels, cuBLAS
handles). One line per fit: iterations, stop reason, seconds, recovery error;
then per method and dtype the median seconds and the original/compressed ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

import dmc
from dmc.reproduce.experiments import machine


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def fit(problem, device, seed, **options):
    _sync(device)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(
            problem.observations, rank=5, random_state=seed, device=device, **options
        )
    _sync(device)
    seconds = time.perf_counter() - start
    error = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    return result, seconds, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    args = parser.parse_args(argv)
    print(machine())
    if args.device.startswith("cuda"):
        print(torch.cuda.get_device_name(args.device))
    problems = [
        dmc.make_problem((1000, 1000), 5, fraction=0.2, random_state=seed)
        for seed in range(args.seeds)
    ]
    medians = {}
    for dtype in args.dtypes:
        for method in ("compressed", "original"):
            fit(problems[0], args.device, 0, method=method, dtype=dtype, max_iter=5)  # warm-up
            times = []
            for seed, problem in enumerate(problems):
                result, seconds, error = fit(problem, args.device, seed, method=method, dtype=dtype)
                times.append(seconds)
                print(
                    f"{dtype:8s} {method:10s} seed {seed}  {result.n_iter:5d} it  "
                    f"{result.stop_reason:9s} {seconds:8.3f} s  error {error:.2e}",
                    flush=True,
                )
            medians[dtype, method] = statistics.median(times)
    for dtype in args.dtypes:
        c, o = medians[dtype, "compressed"], medians[dtype, "original"]
        print(f"{dtype}: median {c:.3f} s compressed, {o:.3f} s original, ratio {o / c:.1f}x")


if __name__ == "__main__":
    main()
