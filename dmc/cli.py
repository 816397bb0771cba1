"""The ``dmc`` command line. Thin: parse, call the library, print, plot."""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import torch

from . import __version__
from .api import complete
from .metrics import recovery_error
from .synthetic import make_problem


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dmc", description="Efficient deep matrix completion.")
    parser.add_argument("--version", action="version", version=f"dmc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="fit the original and the compressed networks on a synthetic problem",
        description=(
            "Build a random low-rank matrix, observe a uniform fraction of its entries, "
            "complete it with the original (wide) and the compressed deep networks, print "
            "a table and write a figure of recovery error against iterations and seconds."
        ),
    )
    demo.add_argument("--size", type=int, default=600, help="rows = columns (default 600)")
    demo.add_argument("--rank", type=int, default=5, help="true rank and rank estimate (5)")
    demo.add_argument("--fraction", type=float, default=0.2, help="observed fraction (0.2)")
    demo.add_argument("--depth", type=int, default=3, help="depth L (3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--output", default="dmc-demo.png", help="figure path (dmc-demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="skip the figure")
    demo.set_defaults(func=_demo)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"dmc: error: {exc}", file=sys.stderr)
        return 2


def _demo(args) -> int:
    n = args.size
    print(
        f"dmc demo: {n} x {n} matrix of rank {args.rank}, {args.fraction:.0%} of entries "
        f"observed, depth {args.depth}, seed {args.seed}, float64, {_machine()}"
    )
    problem = make_problem((n, n), args.rank, fraction=args.fraction, random_state=args.seed)
    truth = problem.truth.to_dense()
    rows = []
    results = {}
    for method in ("original", "compressed"):
        start = time.perf_counter()
        result = complete(
            problem.observations,
            rank=args.rank,
            depth=args.depth,
            method=method,
            random_state=args.seed,
            truth=truth,
        )
        wall = time.perf_counter() - start
        err = recovery_error(result.to_dense(), truth, problem.observations)
        results[method] = result
        rows.append((method, result.n_parameters, result.n_iter, wall, err))

    header = (
        f"{'method':<12}{'parameters':>12}{'iterations':>12}{'seconds':>10}{'recovery error':>17}"
    )
    print(header)
    print("-" * len(header))
    for method, n_params, n_iter, wall, err in rows:
        print(f"{method:<12}{n_params:>12,}{n_iter:>12}{wall:>10.2f}{err:>17.2e}")
    speedup = rows[0][3] / rows[1][3]
    print(f"compressed is {speedup:.0f}x faster in wall clock (same optimizer, same stopping rule)")

    if not args.no_plot:
        path = _plot(results, args, n)
        if path:
            print(f"figure written to {path}")
    return 0


def _plot(results, args, n):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'dmc[plots]')")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    styles = {
        "original": dict(color="tab:blue", lw=2.5, alpha=0.7),
        "compressed": dict(color="tab:red", lw=1.5, ls="--"),
    }
    for method, result in results.items():
        h = result.history
        err = np.asarray(h["recovery_error"])
        axes[0].semilogy(h["iteration"], err, label=method, **styles[method])
        axes[1].semilogy(h["time"], err, label=method, **styles[method])
    axes[0].set_xlabel("iteration")
    axes[1].set_xlabel("seconds (training only)")
    axes[0].set_ylabel("relative recovery error (unobserved entries)")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
    fig.suptitle(
        f"{n}x{n}, rank {args.rank}, {args.fraction:.0%} observed, L={args.depth}, "
        f"seed {args.seed} — {_machine()}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    plt.close(fig)
    return args.output


def _machine() -> str:
    threads = torch.get_num_threads()
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {threads} threads, torch {torch.__version__}"


if __name__ == "__main__":
    raise SystemExit(main())
