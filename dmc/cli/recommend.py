"""The ``dmc recommend`` subcommand: fit a ratings file, report held-out metrics, write lists.

Wired into ``dmc/cli/main.py`` with ``add_recommend_parser(sub)``; ``main`` runs it
on its own (as ``dmc recommend`` does). This module is part of the
command line: it prints; the library does not.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time

import numpy as np

from ..core.complete import METHODS
from ..core.observations import DUPLICATES
from ..data.readers import FORMATS, read_ratings
from ..recommend.evaluation import (
    mae,
    ndcg_at_k,
    precision_at_k,
    rank_heldout,
    recall_at_k,
    rmse,
    user_holdout_split,
)
from ..recommend.model import RatingsModel

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
    p.add_argument("--format", default="auto", choices=FORMATS, help="file layout (auto)")
    p.add_argument("--sep", default=None, help="field separator of a CSV file (,)")
    p.add_argument(
        "--method", default="compressed", choices=METHODS, help="deep factorization (compressed)"
    )
    p.add_argument("--rank", type=int, default=None, help="rank estimate (method default)")
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share of each user's ratings held out for the metrics; 0 fits everything (0.2)",
    )
    p.add_argument("--top-k", type=int, default=10, help="length of the top-k lists (10)")
    p.add_argument(
        "--threshold",
        type=float,
        default=4.0,
        help="held-out ratings at or above it are relevant for precision/recall/NDCG (4)",
    )
    p.add_argument(
        "--duplicates",
        default="raise",
        choices=DUPLICATES,
        help="policy for a (user, item) pair rated twice (raise)",
    )
    p.add_argument("--output", default=None, help="CSV file to write (nothing written if absent)")
    p.add_argument(
        "--write",
        default="topk",
        choices=("topk", "predictions"),
        help="top-k lists of every user, or predictions of the held-out ratings (topk)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of split and fit (0)")
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


def _run(args) -> int:
    if not 0.0 <= args.test_fraction < 1.0:
        raise ValueError(
            f"The '--test-fraction' option must be in [0, 1). Got {args.test_fraction} instead."
        )
    if not np.isfinite(args.threshold):
        raise ValueError(
            f"The '--threshold' option must be a finite number. Got {args.threshold} instead."
        )
    if args.top_k < 1:
        raise ValueError(f"The '--top-k' option must be an int ≥ 1. Got {args.top_k} instead.")
    if args.write == "predictions" and args.test_fraction == 0:
        raise ValueError(
            "The '--write predictions' option needs held-out ratings. Got --test-fraction 0."
        )
    data = read_ratings(args.ratings_file, format=args.format, sep=args.sep, as_frame=False)
    users, items, ratings = data["user"], data["item"], data["rating"]
    n_users, n_items = np.unique(users).size, np.unique(items).size
    print(
        f"dmc recommend: {ratings.size:,} ratings, {n_users:,} users, {n_items:,} items "
        f"from {args.ratings_file}"
    )
    if args.test_fraction > 0:
        train, test = user_holdout_split(
            users, test_fraction=args.test_fraction, random_state=args.seed
        )
        print(
            f"held out {args.test_fraction:.0%} of each user's ratings (seed {args.seed}): "
            f"{train.size:,} to fit, {test.size:,} to test"
        )
    else:
        train, test = np.arange(ratings.size), np.zeros(0, dtype=np.int64)

    model = RatingsModel(
        method=args.method,
        rank=args.rank,
        duplicates=args.duplicates,
        random_state=args.seed,
        verbose=not args.no_progress,
    )
    start = time.perf_counter()
    model.fit(users[train], items[train], ratings[train])
    seconds = time.perf_counter() - start
    print(
        f"fitted {args.method} (rank {model.rank_}, "
        f"{model.completion_.n_parameters:,} deep parameters, "
        f"shrinkage {model.shrinkage_:g}) in {seconds:.1f} s"
    )
    k = min(args.top_k, model.items_.size)

    pred = cold = None
    if test.size:
        pred, cold = model.predict(users[test], items[test], return_cold=True)
        y = ratings[test]
        print(f"held-out RMSE {rmse(y, pred):.4f}   MAE {mae(y, pred):.4f}")
        test_users = np.unique(users[test])
        rec = model.recommend_many(test_users, k)
        recommended = _lists(rec, test_users)
        relevant = {}
        for user, item, rating in zip(users[test].tolist(), items[test].tolist(), y.tolist()):
            if rating >= args.threshold:
                relevant.setdefault(user, {})[item] = 1.0
        rel_lists = [relevant.get(user, {}) for user in test_users.tolist()]
        if any(rel_lists):
            print(
                f"top-{k} among unseen items, relevant = held-out rating ≥ {args.threshold:g}: "
                f"precision {precision_at_k(recommended, rel_lists, k):.4f}   "
                f"recall {recall_at_k(recommended, rel_lists, k):.4f}   "
                f"NDCG {ndcg_at_k(recommended, rel_lists, k):.4f}"
            )
        ranked, gains = rank_heldout(users[test], items[test], y, pred)
        if any(gains):
            value = ndcg_at_k(ranked, gains, k)
            print(f"NDCG@{k} of the held-out items ranked by prediction: {value:.4f}")

    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if args.write == "predictions":
                writer.writerow(["user", "item", "rating", "prediction", "cold_start"])
                for row in zip(
                    users[test].tolist(),
                    items[test].tolist(),
                    ratings[test].tolist(),
                    pred.round(4).tolist(),
                    cold.tolist(),
                ):
                    writer.writerow(row)
                what = f"{test.size:,} held-out predictions"
            else:
                all_users = model.users_
                rec = model.recommend_many(all_users, k)
                writer.writerow(["user", "item", "rank", "score"])
                for row in zip(
                    rec.user.tolist(),
                    rec.item.tolist(),
                    rec.rank.tolist(),
                    rec.score.round(4).tolist(),
                ):
                    writer.writerow(row)
                what = f"top-{k} lists of {all_users.size:,} users"
        print(f"wrote {what} to {args.output}")
    return 0


def _lists(rec, users):
    """Per user (in ``users`` order), the recommended items of a long-form result."""
    out = {}
    for user, item in zip(rec.user.tolist(), rec.item.tolist()):
        out.setdefault(user, []).append(item)
    return [out.get(user, []) for user in users.tolist()]


if __name__ == "__main__":
    raise SystemExit(main())
