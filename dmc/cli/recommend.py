"""The ``dmc recommend`` subcommand: fit a ratings file, report held-out metrics, write lists.

Wired into ``dmc/cli/main.py`` with ``add_recommend_parser(sub)``; ``main`` runs it
on its own (as ``dmc recommend`` does). This module is part of the
command line: it prints; the library does not. Building the parser imports nothing
heavy; running the command imports the library (:func:`_run`).
"""

from __future__ import annotations

import argparse
import math
import sys

from .options import DUPLICATES, FORMATS, METHODS, check_at_least, check_output_file

__all__ = ["add_recommend_parser", "main", "run_recommend"]


def add_recommend_parser(subparsers):
    """Register ``recommend`` on an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "recommend",
        help="fit a ratings file, report held-out RMSE/MAE and top-k quality, write top-k lists",
        description=(
            "Read a ratings file (MovieLens u.data, ratings.dat, ratings.csv, RecBole .inter, "
            "or any CSV with user/item/rating columns), hold out a fraction of each user's "
            "ratings, fit a RatingsModel on the rest, print RMSE, MAE, precision@k, recall@k "
            "and NDCG@k on the held-out ratings, and write top-k lists (or the held-out "
            "predictions) to a CSV file."
        ),
    )
    p.add_argument("ratings_file", help="path of the ratings file")
    p.add_argument(
        "--format",
        default="auto",
        choices=FORMATS,
        metavar="FORMAT",
        help="file layout: %(choices)s (default: auto)",
    )
    p.add_argument("--sep", default=None, help="field separator of a CSV file (default: ,)")
    p.add_argument(
        "--method",
        default="compressed",
        choices=METHODS,
        metavar="METHOD",
        help="deep factorization: %(choices)s (default: compressed)",
    )
    p.add_argument(
        "--rank",
        type=int,
        default=None,
        help="rank estimate (default: the method's, see RATINGS_DEFAULTS)",
    )
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share of each user's ratings held out for the metrics, in [0, 1); 0 fits "
        "everything (default: 0.2)",
    )
    p.add_argument(
        "--top-k", type=int, default=10, help="length of the top-k lists, at least 1 (default: 10)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=4.0,
        help="held-out ratings at or above it are relevant for precision/recall/NDCG (default: 4)",
    )
    p.add_argument(
        "--duplicates",
        default="raise",
        choices=DUPLICATES,
        metavar="POLICY",
        help="policy for a (user, item) pair rated twice: %(choices)s (default: raise)",
    )
    p.add_argument(
        "--output",
        default=None,
        help="CSV file to write, in an existing folder, checked before the fit "
        "(default: none, nothing written)",
    )
    p.add_argument(
        "--write",
        default="topk",
        choices=("topk", "predictions"),
        help="top-k lists of every user, or predictions of the held-out ratings (default: topk)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="random seed of split and fit, at least 0 (default: 0)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_recommend)
    return p


def main(argv=None) -> int:
    """``dmc recommend ...`` without the rest of the command line (for tests and scripts)."""
    parser = argparse.ArgumentParser(prog="dmc")
    add_recommend_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def run_recommend(args) -> int:
    """Run the subcommand on parsed ``args``; returns the exit status."""
    try:
        return _run(args)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"dmc: error: {exc}", file=sys.stderr)
        return 2


def _check(args) -> None:
    """The options, before the file is read or anything is fitted."""
    if not 0.0 <= args.test_fraction < 1.0:
        raise ValueError(
            f"The '--test-fraction' option must be in [0, 1). Got {args.test_fraction} instead."
        )
    if not math.isfinite(args.threshold):
        raise ValueError(
            f"The '--threshold' option must be a finite number. Got {args.threshold} instead."
        )
    if args.top_k < 1:
        raise ValueError(f"The '--top-k' option must be an int ≥ 1. Got {args.top_k} instead.")
    if args.write == "predictions" and args.test_fraction == 0:
        raise ValueError(
            "The '--write predictions' option needs held-out ratings. Got --test-fraction 0."
        )
    check_at_least(args, 0, "seed")
    if args.output is not None:
        check_output_file(args.output, "--output")


def _run(args) -> int:
    _check(args)
    from . import commands  # the library: only now that the options are sound

    return commands.run_recommend(args)


if __name__ == "__main__":
    raise SystemExit(main())
