"""RatingsModel(distributed=True) (issue 16): two gloo ranks, each with a slice of the file."""

from pathlib import Path

import numpy as np
import pytest
from ranks import run_ranks

import dmc
from dmc.data.readers import read_ratings
from dmc.recommend.model import RatingsModel

WORKER = Path(__file__).with_name("ratings_worker.py")
N_REPEATS = 300


def movielens_100k_shaped(seed=0, n_users=943, n_items=1682, n_ratings=100_000):
    """Distinct pairs with skewed activity, a rank-3 signal, biases, 1-5 stars."""
    rng = np.random.default_rng(seed)
    user_w, item_w = rng.lognormal(0, 1.0, n_users), rng.lognormal(0, 1.3, n_items)
    keys = np.unique(
        rng.choice(n_users, 3 * n_ratings, p=user_w / user_w.sum()) * n_items
        + rng.choice(n_items, 3 * n_ratings, p=item_w / item_w.sum())
    )
    keys = rng.permutation(keys)[:n_ratings]
    u, i = keys // n_items, keys % n_items
    U, V = rng.normal(0, 0.5, (n_users, 3)), rng.normal(0, 0.5, (n_items, 3))
    raw = 3.5 + rng.normal(0, 0.4, n_users)[u] + rng.normal(0, 0.5, n_items)[i]
    raw += np.einsum("ij,ij->i", U[u], V[i]) + rng.normal(0, 0.7, u.size)
    return u + 1, i + 1, np.clip(np.round(raw), 1, 5)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """The file, the probe pairs, and what each of two gloo ranks fitted.

    The file ends with 300 repeats, new ratings, of pairs from its first half:
    the two ranks read a pair's first and last rating.
    """
    out = tmp_path_factory.mktemp("ratings-distributed")
    u, i, r = movielens_100k_shaped()
    again = np.random.default_rng(2).choice(30_000, N_REPEATS, replace=False)
    u, i, r = (np.concatenate([a, a[again]]) for a in (u, i, r))
    r[-N_REPEATS:] = 6 - r[-N_REPEATS:]
    lines = [f"{a},{b},{c:g},{881250949 + t}" for t, (a, b, c) in enumerate(zip(u, i, r))]
    (out / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(lines) + "\n")
    rng = np.random.default_rng(1)
    np.savez(out / "probe.npz", user=rng.choice(u, 2000), item=rng.choice(i, 2000))
    run_ranks(WORKER, out, 2)
    return out, [dict(np.load(out / f"rank{k}.npz")) for k in range(2)]


@pytest.fixture(scope="module")
def single(two_ranks):
    out, _ = two_ranks
    data = read_ratings(out / "ratings.csv", as_frame=False)
    return RatingsModel(random_state=0, duplicates="last").fit(data)


def test_each_rank_read_its_slice_of_the_file(two_ranks):
    _, (r0, r1) = two_ranks
    assert int(r0["n_local"]) + int(r1["n_local"]) == 100_000 + N_REPEATS
    assert abs(int(r0["n_local"]) - int(r1["n_local"])) < 100


def test_repeats_read_by_two_ranks_are_merged_as_one_process_merges_them(two_ranks, single):
    _, (r0, r1) = two_ranks
    assert int(r0["n_duplicates"]) == int(r1["n_duplicates"]) == N_REPEATS
    assert single.n_duplicates_ == N_REPEATS


def test_every_rank_ends_with_the_same_model(two_ranks):
    _, (r0, r1) = two_ranks
    for key in ("predicted", "user_factors", "item_bias", "shrinkage", "top"):
        assert np.array_equal(r0[key], r1[key]), key


def test_equal_to_the_single_process_fit(two_ranks, single):
    # The sums run in another order on two ranks; the deep fit keeps 8 bits of
    # its steps (deepfit.STEP_BITS), so rounding is not amplified along the fit
    # (measured: predictions 9.1e-15, RMSE 6.0e-15; without it 4.6e-6 and 2.6e-6).
    out, (r0, _) = two_ranks
    probe = np.load(out / "probe.npz")
    expected = single.predict(probe["user"], probe["item"])
    assert np.linalg.norm(r0["predicted"] - expected) / np.linalg.norm(expected) < 1e-9
    assert float(r0["shrinkage"]) == single.shrinkage_
    # RMSE on the file's own ratings, as the acceptance reads it (1e-6)
    data = read_ratings(out / "ratings.csv", as_frame=False)
    loaded = dmc.load(out / "model0.dmc")
    rmse = [
        np.sqrt(np.mean((m.predict(data["user"], data["item"]) - data["rating"]) ** 2))
        for m in (loaded, single)
    ]
    assert abs(rmse[0] - rmse[1]) < 1e-9 * rmse[1]
    # seen items are global: the top-k of a user leaves out what it rated on either rank
    top, _ = single.recommend(probe["user"][0], k=10)
    assert np.array_equal(r0["top"], top)


def test_a_saved_distributed_model_loads_in_one_process(two_ranks):
    out, _ = two_ranks
    loaded = dmc.load(out / "model1.dmc")
    assert loaded.distributed is True
    assert loaded.predict([1], [1]).shape == (1,)
