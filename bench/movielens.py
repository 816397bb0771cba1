"""RatingsModel on MovieLens-100k (5-fold CV) and on a 1M-rating problem of MovieLens-1M shape.

Usage::

    python bench/movielens.py PATH [--folds 5] [--seed 0] [--method compressed]
                              [--part all|cv|synthetic] [--json bench/results/movielens.json]

PATH is a MovieLens-100k ratings file in any layout ``dmc.data.read_ratings``
reads (``u.data``, or RecBole's ``ml-100k.inter``; never committed). One way to
get it without GroupLens::

    pip download recbole==1.2.1 --no-deps -d /tmp/recbole_wheel
    cd /tmp && unzip -o -j recbole_wheel/recbole-1.2.1-py3-none-any.whl \\
        recbole/dataset_example/ml-100k/ml-100k.inter

Cross-validation follows Surprise's protocol (random 5-fold split of the ratings,
fixed seed, RMSE and MAE over each test fold; anchors: SVD 0.934, SVD++ 0.919,
KNNBaseline 0.931). Default settings only: nothing is tuned on the test folds.
NDCG@10 is reported two ways: (a) per user, the test items ranked by predicted
rating, gains = true ratings; (b) per user, the top 10 of all items not rated in
the training fold, relevant = test rating ≥ 4.

The synthetic part (6,040 users x 3,706 items, 1,000,000 ratings on a 1-5 scale,
popularity-skewed, rank-10 signal plus noise) runs in a child process so that its
peak resident memory (``resource.getrusage(...).ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dmc.data.readers import read_ratings
from dmc.recommend.evaluation import kfold_split, mae, ndcg_at_k, rank_heldout, rmse
from dmc.recommend.model import RatingsModel


def cross_validate(path, folds, seed, method):
    data = read_ratings(path, as_frame=False)
    users, items, ratings = data["user"], data["item"], data["rating"]
    print(
        f"MovieLens file {path}: {ratings.size:,} ratings, {np.unique(users).size} users, "
        f"{np.unique(items).size} items; {folds}-fold CV, seed {seed}, method {method}"
    )
    header = (
        f"{'fold':>4} {'RMSE':>7} {'MAE':>7} {'NDCG@10a':>9} {'NDCG@10b':>9} "
        f"{'fit s':>7} {'shrink':>7} {'deep it':>8}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for f, (train, test) in enumerate(kfold_split(ratings.size, folds, random_state=seed)):
        model = RatingsModel(method=method, random_state=seed)
        start = time.perf_counter()
        model.fit(users[train], items[train], ratings[train])
        seconds = time.perf_counter() - start
        pred = model.predict(users[test], items[test])
        y = ratings[test]
        ranked, gains = rank_heldout(users[test], items[test], y, pred)
        ndcg_a = ndcg_at_k(ranked, gains, 10)
        test_users = np.unique(users[test])
        rec = model.recommend_many(test_users, 10)
        lists = {}
        for user, item in zip(rec.user.tolist(), rec.item.tolist()):
            lists.setdefault(user, []).append(item)
        relevant = {}
        for user, item, r in zip(users[test].tolist(), items[test].tolist(), y.tolist()):
            if r >= 4:
                relevant.setdefault(user, set()).add(item)
        keys = test_users.tolist()
        ndcg_b = ndcg_at_k([lists.get(u, []) for u in keys], [relevant.get(u, set()) for u in keys])
        row = dict(
            fold=f,
            rmse=rmse(y, pred),
            mae=mae(y, pred),
            ndcg10_heldout=ndcg_a,
            ndcg10_catalogue=ndcg_b,
            fit_seconds=seconds,
            shrinkage=model.shrinkage_,
            deep_iterations=model.completion_.n_iter,
        )
        rows.append(row)
        print(
            f"{f:>4} {row['rmse']:>7.4f} {row['mae']:>7.4f} {ndcg_a:>9.4f} {ndcg_b:>9.4f} "
            f"{seconds:>7.1f} {model.shrinkage_:>7g} {model.completion_.n_iter:>8}"
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "fold"}
    print("-" * len(header))
    print(
        f"{'mean':>4} {mean['rmse']:>7.4f} {mean['mae']:>7.4f} {mean['ndcg10_heldout']:>9.4f} "
        f"{mean['ndcg10_catalogue']:>9.4f} {mean['fit_seconds']:>7.1f}"
    )
    return dict(folds=rows, mean=mean)


def synthetic(seed, method, m=6040, n=3706, n_ratings=1_000_000, rank=10):
    after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = np.random.default_rng(seed)
    # popularity-skewed distinct (user, item) pairs, about 4.5% of the matrix
    pu = rng.pareto(1.5, m) + 1.0
    pi = rng.pareto(1.2, n) + 1.0
    pu, pi = pu / pu.sum(), pi / pi.sum()
    keys = np.zeros(0, dtype=np.int64)
    while keys.size < n_ratings + 10_000:
        draw = rng.choice(m, 2 * n_ratings, p=pu) * n + rng.choice(n, 2 * n_ratings, p=pi)
        keys = np.unique(np.concatenate([keys, draw]))
    keys = rng.permutation(keys)[: n_ratings + 10_000]
    u, i = keys // n, keys % n
    U = rng.normal(0, 0.35, (m, rank))
    V = rng.normal(0, 0.35, (n, rank))
    bu, bi = rng.normal(0, 0.4, m), rng.normal(0, 0.5, n)
    signal = 3.6 + bu[u] + bi[i] + np.einsum("ij,ij->i", U[u], V[i])
    r = np.clip(np.round(signal + rng.normal(0, 0.9, u.size)), 1, 5)
    fit, held = slice(0, n_ratings), slice(n_ratings, None)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = RatingsModel(method=method, random_state=seed)
    start = time.perf_counter()
    model.fit(u[fit], i[fit], r[fit])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    held_rmse = rmse(r[held], model.predict(u[held], i[held]))
    out = dict(
        shape=[m, n],
        n_ratings=n_ratings,
        fit_seconds=seconds,
        rss_mib_after_imports=after_imports / 1024,
        peak_rss_mib_before_fit=before / 1024,
        peak_rss_mib=peak / 1024,
        heldout_rmse=held_rmse,
        noise_floor_rmse=rmse(r[held], np.clip(signal[held], 1, 5)),
        deep_iterations=model.completion_.n_iter,
        shrinkage=model.shrinkage_,
    )
    print(
        f"synthetic {m} x {n}, {n_ratings:,} ratings, method {method}: fit {seconds:.1f} s, "
        f"peak RSS {out['peak_rss_mib']:.0f} MiB (after imports {out['rss_mib_after_imports']:.0f},"
        f" before the fit {out['peak_rss_mib_before_fit']:.0f}), held-out RMSE {held_rmse:.4f} "
        f"(noise floor {out['noise_floor_rmse']:.4f})"
    )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", help="MovieLens-100k ratings file (u.data or .inter)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="compressed")
    ap.add_argument("--part", default="all", choices=("all", "cv", "synthetic"))
    ap.add_argument("--json", default=None, help="write the figures as JSON here")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (torch default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = (
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, numpy {np.__version__}"
    )
    print(f"machine: {machine}")
    results = dict(machine=machine, seed=args.seed, method=args.method)
    if args.part in ("all", "cv"):
        if not args.path:
            ap.error("the cross-validation needs the path of a MovieLens-100k ratings file")
        results["cv"] = cross_validate(args.path, args.folds, args.seed, args.method)
    if args.part == "synthetic":
        results["synthetic"] = synthetic(args.seed, args.method)
    elif args.part == "all":  # own process: its peak memory is its own
        cmd = [sys.executable, __file__, "--part", "synthetic", "--seed", str(args.seed)]
        cmd += ["--method", args.method, "--json", "/dev/stdout"]
        cmd += ["--threads", str(args.threads)] if args.threads else []
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        lines = proc.stdout.splitlines()
        print("\n".join(line for line in lines if line.startswith("synthetic")))
        results["synthetic"] = json.loads(proc.stdout[proc.stdout.index("{") :])["synthetic"]
    if args.json:
        text = json.dumps(results, indent=2)
        if args.json == "/dev/stdout":
            print(text)
        else:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text)
    return results


if __name__ == "__main__":
    main()
