"""Issue 16: MovieLens-25M-shaped synthetic ratings on one machine.

Usage::

    python bench/scale.py [--n-ratings 25000000] [--users N] [--items N] [--seed 0]
                          [--csv PATH] [--keep-csv]

Generates ratings in MovieLens-25M shape (162,541 users x 59,047 items for 25M
ratings; ``--n-ratings`` scales users and items in proportion unless given):
skewed user and item activity (log-normal activity and popularity), a rank-10
signal plus user and item biases plus noise, ratings rounded to the 0.5-5
half-star grid. It writes them as a ``ratings.csv``
(``userId,movieId,rating,timestamp``), reads the file back with
``dmc.data.read_ratings`` (timed), holds out 2% of the ratings, fits
``RatingsModel()`` with its defaults on the rest (timed, with the progress
bar) and reports the held-out RMSE against the global mean and the bias
baseline (global mean plus damped user and item biases), and the peak
resident memory of the process (``ru_maxrss``) after the read and after the fit.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from dmc.data.readers import read_ratings
from dmc.recommend.model import RatingsModel

ML25M = (162_541, 59_047, 25_000_000)


def generate(n_users, n_items, n_ratings, seed, rank=10):
    """Distinct (user, item) pairs with skewed activity, and half-star ratings."""
    rng = np.random.default_rng(seed)
    # log-normal activity: at 25M the busiest user rates ~16k items and the most
    # popular item gets ~90k ratings (MovieLens-25M: 32k and 81k)
    user_w = rng.lognormal(0.0, 1.2, n_users)
    item_w = rng.lognormal(0.0, 1.5, n_items)
    keys = np.empty(0, dtype=np.int64)
    new_share = 1.0  # share of the last draw that was new: sizes the next one
    while keys.size < n_ratings:  # draw, keep distinct pairs, top up
        need = int(1.1 * (n_ratings - keys.size) / max(new_share, 0.05)) + 1000
        u = rng.choice(n_users, need, p=user_w / user_w.sum())
        i = rng.choice(n_items, need, p=item_w / item_w.sum())
        before = keys.size
        keys = np.unique(np.concatenate([keys, u.astype(np.int64) * n_items + i]))
        new_share = (keys.size - before) / need
    keys = rng.permutation(keys)[:n_ratings]
    users, items = keys // n_items, keys % n_items
    del keys
    U = rng.standard_normal((n_users, rank)) * 0.35
    V = rng.standard_normal((n_items, rank)) * 0.35
    signal = np.empty(n_ratings)
    for s in range(0, n_ratings, 1 << 22):
        e = s + (1 << 22)
        signal[s:e] = np.einsum("ij,ij->i", U[users[s:e]], V[items[s:e]])
    bu, bi = rng.normal(0, 0.35, n_users), rng.normal(0, 0.45, n_items)
    raw = 3.5 + bu[users] + bi[items] + signal + rng.normal(0, 0.5, n_ratings)
    ratings = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    return users + 1, items + 1, ratings


def write_csv(path, users, items, ratings, seed):
    import pandas as pd

    stamps = np.random.default_rng(seed + 1).integers(789_652_009, 1_574_327_703, users.size)
    with open(path, "w") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        for s in range(0, users.size, 1 << 21):
            e = s + (1 << 21)
            frame = pd.DataFrame(
                {"u": users[s:e], "i": items[s:e], "r": ratings[s:e], "t": stamps[s:e]}
            )
            frame.to_csv(fh, header=False, index=False, float_format="%g")


def peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-ratings", type=int, default=ML25M[2])
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, default=None, help="where to write the CSV")
    parser.add_argument("--device", default="cpu", help="torch device of the fit (default: cpu)")
    parser.add_argument("--keep-csv", action="store_true")
    args = parser.parse_args()
    scale = args.n_ratings / ML25M[2]
    n_users = args.users or max(10, round(ML25M[0] * scale))
    n_items = args.items or max(10, round(ML25M[1] * scale))

    start = time.perf_counter()
    users, items, ratings = generate(n_users, n_items, args.n_ratings, args.seed)
    print(
        f"generated {ratings.size:,} ratings, {n_users:,} users x {n_items:,} items, "
        f"seed {args.seed}, in {time.perf_counter() - start:.1f} s"
    )
    folder = None if args.csv else tempfile.TemporaryDirectory(prefix="dmc-scale-")
    path = args.csv or Path(folder.name) / "ratings.csv"
    start = time.perf_counter()
    write_csv(path, users, items, ratings, args.seed)
    size = path.stat().st_size / 2**20
    print(f"wrote {path} ({size:,.0f} MiB) in {time.perf_counter() - start:.1f} s")
    del users, items, ratings

    start = time.perf_counter()
    data = read_ratings(path, as_frame=False)
    read_s = time.perf_counter() - start
    print(
        f"read_ratings: {read_s:.1f} s (acceptance: <= 60 s), peak RSS so far {peak_gib():.2f} GiB"
    )
    if folder is not None and not args.keep_csv:
        folder.cleanup()
    del data["timestamp"]

    rng = np.random.default_rng(args.seed + 2)
    test = rng.random(data["rating"].size) < 0.02
    train = {k: v[~test] for k, v in data.items()}
    held = {k: v[test] for k, v in data.items()}
    del data
    start = time.perf_counter()
    model = RatingsModel(random_state=args.seed, verbose=True, device=args.device).fit(train)
    fit_s = time.perf_counter() - start
    predicted = model.predict(held["user"], held["item"])
    truth = held["rating"]
    rmse = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    mean = float(train["rating"].mean())
    rmse_mean = float(np.sqrt(np.mean((mean - truth) ** 2)))
    baseline = bias_baseline(train, held, mean)
    print(
        f"RatingsModel(): fit {fit_s:.1f} s (acceptance: <= 600 s), {model.completion_.n_iter} "
        f"iterations; peak RSS {peak_gib():.2f} GiB (acceptance: <= 4 GiB)"
    )
    print(
        f"held-out RMSE ({truth.size:,} ratings): {rmse:.4f}; global mean {rmse_mean:.4f}; "
        f"bias baseline {baseline:.4f}"
    )


def bias_baseline(train, held, mean, reg_user=15.0, reg_item=10.0):
    """Global mean plus damped item, then user, biases (unknown ids: 0)."""
    _, item_idx = np.unique(train["item"], return_inverse=True)
    items = np.unique(train["item"])
    r = train["rating"] - mean
    bi = np.bincount(item_idx, r) / (np.bincount(item_idx) + reg_item)
    users = np.unique(train["user"])
    user_idx = np.searchsorted(users, train["user"])
    r = r - bi[item_idx]
    bu = np.bincount(user_idx, r) / (np.bincount(user_idx) + reg_user)

    def lookup(keys, ids, b):
        pos = np.clip(np.searchsorted(keys, ids), 0, keys.size - 1)
        return np.where(keys[pos] == ids, b[pos], 0.0)

    pred = mean + lookup(items, held["item"], bi) + lookup(users, held["user"], bu)
    return float(np.sqrt(np.mean((pred - held["rating"]) ** 2)))


if __name__ == "__main__":
    main()
