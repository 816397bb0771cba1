"""The ``dmc`` command line. Thin: parse, check the options, then run the command.

Parsing imports nothing heavy (the method names are read only when an option
needs them), so ``dmc --help`` and a refused option answer at once; the command
itself runs in :mod:`dmc.cli.commands` (``demo``, ``compare``, ``reproduce``) or
:mod:`dmc.cli.recommend`, which import the library.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from .options import (
    CLAIMS,
    DEFAULT_SIZES,
    GRID_CLAIMS,
    GRID_OPTIONS,
    METHODS,
    check_at_least,
    check_output_dir,
    check_output_file,
    option,
)
from .recommend import add_recommend_parser

__all__ = ["build_parser", "main"]


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "check", None) is not None:
            args.check(args)  # before anything is imported, fitted or written
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:  # bad arguments, unwritable output
        print(f"dmc: error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``dmc`` and its commands (building it imports nothing heavy)."""
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
    demo.add_argument("--size", type=int, default=600, help="rows = columns (default: 600)")
    _problem_arguments(demo, rank=5, fraction=0.2)
    demo.add_argument(
        "--output", default="dmc-demo.png", help="figure path (default: dmc-demo.png)"
    )
    demo.add_argument("--no-plot", action="store_true", help="skip the figure")
    demo.set_defaults(func=_command("run_demo"), check=_check_demo)

    compare = sub.add_parser(
        "compare",
        help="all four methods (and scikit-learn's imputers) side by side",
        description=(
            "Complete one synthetic problem with the original, compressed and narrow deep "
            "networks and with Burer-Monteiro, all with the same optimizer and stopping "
            "rule, and with scikit-learn's imputers; print a table and write figures of "
            "recovery error against iterations and seconds. Progress goes to stderr. "
            "Defaults: the reference case of the paper, described in dmc's docs/method.md "
            "(1000 x 1000, rank 5, 20% observed, L = 3)."
        ),
    )
    compare.add_argument(
        "--shape",
        type=int,
        nargs=2,
        default=[1000, 1000],
        metavar=("M", "N"),
        help="rows and columns of the matrix (default: 1000 1000)",
    )
    _problem_arguments(compare, rank=5, fraction=0.2)
    compare.add_argument(
        "--rank-estimate", type=int, default=None, help="r̂ of the methods (default: --rank)"
    )
    compare.add_argument(
        "--condition-number",
        type=float,
        default=None,
        metavar="KAPPA",
        help="κ ≥ 1: the true matrix gets singular values spaced geometrically from κ down "
        "to 1, entries of unit RMS (default: none, a Gaussian matrix truncated to the rank)",
    )
    compare.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="standard deviation of the Gaussian noise added to each observed entry (default: 0)",
    )
    compare.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="METHOD",
        help="methods to fit, among %(choices)s (default: all)",
    )
    compare.add_argument("--no-peers", action="store_true", help="skip scikit-learn's imputers")
    compare.add_argument(
        "--n-iter-no-change",
        type=int,
        default=50,
        help="every method also stops when its loss stalls for this many iterations (default: 50)",
    )
    compare.add_argument("--output-dir", default=".", help="where figures and JSON go (default: .)")
    compare.set_defaults(func=_command("run_compare"), check=_check_compare)

    reproduce = sub.add_parser(
        "reproduce",
        help="figures reproducing the published claims",
        description=(
            "fixed-step: original and compressed trajectories under plain GD at the "
            "published step (and γ = 0); rank-sweep: iterations and seconds to 1e-6 "
            "against r̂ for compressed and narrow; parsimony: singular values of the "
            "wide network's weights under full and partial observation; all: these three. "
            "phase-transition: the fraction of seeds recovered (error ≤ 1e-4) against the "
            "oversampling ratio ρ, per condition number κ and rank estimate r̂, and the "
            "threshold ρ*, with dmc.complete's default options; depth: Arora, Cohen, Hu and "
            "Luo (2019)'s recovery against depth at 2,000 and 5,000 observed entries. The "
            "last two run a grid of fits (minutes) and take the grid options below; --quick "
            "runs a tiny grid. Progress goes to stderr."
        ),
    )
    reproduce.add_argument("claim", choices=[*CLAIMS, "all", *GRID_CLAIMS])
    sizes = ", ".join(f"{claim} {size}" for claim, size in DEFAULT_SIZES.items())
    reproduce.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"rows = columns, at least 1 (default: {sizes}, phase-transition 500, depth 100)",
    )
    reproduce.add_argument(
        "--seed", type=int, default=0, help="the (first) seed, at least 0 (default: 0)"
    )
    reproduce.add_argument(
        "--output-dir", default=".", help="where figures and JSON go (default: .)"
    )
    grid = reproduce.add_argument_group("phase-transition and depth")
    grid.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="number of seeds, from --seed (default: 3; --quick 1)",
    )
    grid.add_argument("--rank", type=int, default=None, help="true rank r (default: 5; --quick 2)")
    grid.add_argument(
        "--max-iter", type=int, default=None, help="iterations (default: dmc.complete's)"
    )
    grid.add_argument(
        "--quick",
        action="store_true",
        help="a tiny grid for a smoke test (seconds): phase-transition 60x60, ρ 2 4; "
        "depth 30x30, |Ω| 200 450, L 2 3",
    )
    grid.add_argument("--json", action="store_true", help="also write the rows to dmc-<claim>.json")
    grid.add_argument(
        "--rhos",
        type=float,
        nargs="+",
        default=None,
        help="phase-transition: ρ (default: 1.5 2 2.5 3 4 6)",
    )
    grid.add_argument(
        "--kappas",
        type=float,
        nargs="+",
        default=None,
        help="phase-transition: κ (default: 1 10)",
    )
    grid.add_argument(
        "--rank-factors",
        type=int,
        nargs="+",
        default=None,
        help="phase-transition: r̂ = factor x r (default: 1 2)",
    )
    grid.add_argument(
        "--samples", type=int, nargs="+", default=None, help="depth: |Ω| (default: 2000 5000)"
    )
    grid.add_argument(
        "--depths", type=int, nargs="+", default=None, help="depth: L (default: 2 3 4 5)"
    )
    grid.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="METHOD",
        help="depth: among %(choices)s (default: original compressed)",
    )
    reproduce.set_defaults(func=_command("run_reproduce"), check=_check_reproduce)

    add_recommend_parser(sub)
    return parser


def _command(name):
    """``run(args)`` that imports :mod:`dmc.cli.commands` (and so the library) to run."""

    def run(args) -> int:
        from . import commands

        return getattr(commands, name)(args)

    return run


def _problem_arguments(p, *, rank, fraction):
    p.add_argument("--rank", type=int, default=rank, help=f"true rank (default: {rank})")
    p.add_argument(
        "--fraction",
        type=float,
        default=fraction,
        help=f"fraction of the entries observed (default: {fraction})",
    )
    p.add_argument("--depth", type=int, default=3, help="depth L (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed, at least 0 (default: 0)")


def _check_demo(args) -> None:
    check_at_least(args, 0, "seed")
    if not args.no_plot:
        check_output_file(args.output, "--output")


def _check_compare(args) -> None:
    check_at_least(args, 0, "seed")
    check_at_least(args, 1, "n_iter_no_change")
    check_output_dir(args.output_dir)


def _check_reproduce(args) -> None:
    """Refuse a grid option given to a claim that does not use it, and bad values."""
    specific = {"rhos": "phase-transition", "kappas": "phase-transition"}
    specific.update(rank_factors="phase-transition", samples="depth", depths="depth")
    specific.update(methods="depth")
    for name in (*GRID_OPTIONS, *specific):
        value = getattr(args, name)
        if value is None or value is False:
            continue
        allowed = specific.get(name)
        if args.claim not in ((allowed,) if allowed else GRID_CLAIMS):
            where = allowed or " and ".join(GRID_CLAIMS)
            raise ValueError(
                f"The '{option(name)}' option applies to 'dmc reproduce {where}' only. "
                f"Got it with {args.claim!r}."
            )
    check_at_least(args, 1, "seeds", "max_iter", "size")
    check_at_least(args, 0, "seed")
    check_output_dir(args.output_dir)


if __name__ == "__main__":
    raise SystemExit(main())
