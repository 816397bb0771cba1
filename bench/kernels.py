"""Where a compressed-network iteration spends its time: the sampled kernels.

    python bench/kernels.py

At the reference case (1000 x 1000, |Ω| = 200,000, k = 2r̂ = 10, float64) it
times, each as the median of 200 calls:

* the forward kernel, (A Bᵀ) at Ω (``torch.sparse.sampled_addmm``, what dmc uses);
* the two backward kernels, R B and Rᵀ A with R the sparse residual (CSR
  sparse-times-dense, what dmc uses);
* for comparison only, the dense product A Bᵀ followed by a gather, which dmc
  does not use because it allocates an m x n matrix.
"""

from __future__ import annotations

import platform
import statistics
import time

import torch

import dmc
from dmc.core.sampled import SampledPattern


def median_ms(fn, repeat=200):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}"
    )
    problem = dmc.make_problem((1000, 1000), 5, fraction=0.2, random_state=0)
    pattern = SampledPattern(problem.observations, dtype=torch.float64, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(1000, 10, dtype=torch.float64, generator=gen)
    B = torch.randn(1000, 10, dtype=torch.float64, generator=gen)
    r = torch.randn(len(pattern), dtype=torch.float64, generator=gen)
    flat = pattern.rows * 1000 + pattern.cols
    rows = [
        ("forward: (A Bᵀ) at Ω, sampled_addmm", lambda: pattern.sample(A, B)),
        ("backward: R B, CSR", lambda: pattern.residual_times(r, B)),
        (
            "backward: Rᵀ A, CSR (with the transpose's permutation)",
            lambda: pattern.residual_t_times(r, A),
        ),
        ("not used: dense A Bᵀ then gather (m x n)", lambda: (A @ B.T).view(-1)[flat]),
    ]
    for name, fn in rows:
        print(f"{median_ms(fn):7.2f} ms  {name}")


if __name__ == "__main__":
    main()
