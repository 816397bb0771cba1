"""Issue 15: cross_validate and fcp against Surprise's behaviour, written out on small data.

Surprise (NicolasHug/Surprise) is a compiled package and not a dependency: the
reference here transcribes its ``KFold.split`` (shuffled indices cut into
``n_splits`` runs, the first ``n % n_splits`` one longer), its
``fit_and_score`` (fit on the training part, ``test`` on the test part, the
measures of ``surprise/accuracy.py``) and its ``accuracy.fcp`` loop.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np
import pytest
from malformed import state_hash
from sklearn.model_selection import KFold

from dmc.recommend import RatingsModel, cross_validate
from dmc.recommend.evaluation import fcp, kfold_split, mse

pd = pytest.importorskip("pandas")


def small_ratings(seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.permutation(30 * 20)[:300]
    users, items = pairs // 20, pairs % 20
    ratings = np.clip(np.round(3 + users % 3 - items % 2 + rng.normal(0, 0.5, 300)), 1, 5)
    return users, items, ratings


DATA = small_ratings()
MODEL = RatingsModel(rank=2, max_iter=20, random_state=0)


def surprise_kfold(indices, n_splits):
    """Surprise's KFold.split on already shuffled indices: (train, test) per fold."""
    start, stop = 0, 0
    for fold_i in range(n_splits):
        start = stop
        stop += len(indices) // n_splits
        if fold_i < len(indices) % n_splits:
            stop += 1
        yield np.concatenate([indices[:start], indices[stop:]]), indices[start:stop]


def surprise_fcp(users, y_true, y_pred):
    """surprise.accuracy.fcp, line for line."""
    predictions_u = defaultdict(list)
    nc_u = defaultdict(int)
    nd_u = defaultdict(int)
    for u0, r0, est in zip(users, y_true, y_pred):
        predictions_u[u0].append((r0, est))
    for u0, preds in predictions_u.items():
        for r0i, esti in preds:
            for r0j, estj in preds:
                if esti > estj and r0i > r0j:
                    nc_u[u0] += 1
                if esti >= estj and r0i < r0j:
                    nd_u[u0] += 1
    nc = np.mean(list(nc_u.values())) if nc_u else 0
    nd = np.mean(list(nd_u.values())) if nd_u else 0
    return nc / (nc + nd)


def test_folds_are_surprises_kfold_of_the_same_shuffle():
    n, k = 301, 4
    perm = np.random.default_rng(7).permutation(n)  # what kfold_split draws with seed 7
    ours = list(kfold_split(n, k, random_state=7))
    theirs = list(surprise_kfold(perm, k))
    for (train, test), (ref_train, ref_test) in zip(ours, theirs, strict=True):
        assert test.tolist() == sorted(ref_test.tolist())
        assert train.tolist() == sorted(ref_train.tolist())


@pytest.fixture(scope="module")
def table():
    return cross_validate(
        MODEL, *DATA, measures=("RMSE", "mae", "mse", "fcp"), cv=3, random_state=0
    )


def test_cross_validate_matches_surprises_loop(table):
    users, items, ratings = DATA
    assert list(table.columns) == [
        "test_rmse",
        "test_mae",
        "test_mse",
        "test_fcp",
        "fit_time",
        "test_time",
    ]
    assert table.index.name == "fold" and table.index.tolist() == [0, 1, 2]
    perm = np.random.default_rng(0).permutation(ratings.size)
    for f, (train, test) in enumerate(surprise_kfold(perm, 3)):
        algo = copy.deepcopy(MODEL).fit(users[train], items[train], ratings[train])
        est = algo.predict(users[test], items[test])
        true_r = ratings[test]
        expected = {
            "rmse": np.sqrt(np.mean([float((t - e) ** 2) for t, e in zip(true_r, est)])),
            "mse": np.mean([float((t - e) ** 2) for t, e in zip(true_r, est)]),
            "mae": np.mean([float(abs(t - e)) for t, e in zip(true_r, est)]),
            "fcp": surprise_fcp(users[test], true_r, est),
        }
        for name, value in expected.items():
            assert table.loc[f, f"test_{name}"] == pytest.approx(value, rel=1e-12)
    assert (table[["fit_time", "test_time"]] >= 0).all().all()


def test_cross_validate_is_seeded_and_leaves_the_model_alone(table):
    fitted = copy.deepcopy(MODEL).fit(*DATA)
    before = state_hash(fitted)
    again = cross_validate(
        fitted, *DATA, measures=("rmse", "mae", "mse", "fcp"), cv=3, random_state=0
    )
    assert state_hash(fitted) == before
    scores = ["test_rmse", "test_mae", "test_mse", "test_fcp"]
    assert np.array_equal(again[scores].to_numpy(), table[scores].to_numpy())
    other = cross_validate(MODEL, *DATA, cv=3, random_state=1)
    assert not np.array_equal(other["test_rmse"].to_numpy(), table["test_rmse"].to_numpy())


def test_cross_validate_returns_surprises_dict_and_train_measures():
    result = cross_validate(
        MODEL, *DATA, cv=2, random_state=0, return_train_measures=True, as_frame=False
    )
    assert list(result) == [
        "test_rmse",
        "test_mae",
        "train_rmse",
        "train_mae",
        "fit_time",
        "test_time",
    ]
    assert all(isinstance(v, np.ndarray) and v.shape == (2,) for v in result.values())
    # the fit is closer to its own ratings than to the held-out ones
    assert (result["train_rmse"] < result["test_rmse"]).all()


def test_cross_validate_accepts_a_table_a_splitter_and_index_pairs():
    users, items, ratings = DATA
    frame = pd.DataFrame({"user": users, "item": items, "rating": ratings})
    folds = list(kfold_split(ratings.size, 3, random_state=0))
    by_pairs = cross_validate(MODEL, frame, cv=folds)
    by_int = cross_validate(MODEL, *DATA, cv=3, random_state=0)
    assert np.array_equal(by_pairs["test_rmse"].to_numpy(), by_int["test_rmse"].to_numpy())
    splitter = KFold(3, shuffle=True, random_state=0)
    by_splitter = cross_validate(MODEL, *DATA, cv=splitter)
    expected = list(splitter.split(np.zeros((ratings.size, 1))))
    users_, items_, ratings_ = DATA
    train, test = expected[1]
    pred = copy.deepcopy(MODEL).fit(users_[train], items_[train], ratings_[train])
    rmse1 = np.sqrt(np.mean((pred.predict(users_[test], items_[test]) - ratings_[test]) ** 2))
    assert by_splitter.loc[1, "test_rmse"] == pytest.approx(rmse1, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(measures=("rmse", "ndcg")), ValueError, "'measures' parameter must name.*'ndcg'"),
        (dict(measures="rmse"), TypeError, "'measures' parameter must be a sequence"),
        (dict(measures=()), ValueError, "'measures' parameter must name at least one"),
        (dict(cv=1), ValueError, r"'cv' parameter must be an int in \[2, 300\]. Got 1"),
        (dict(cv=301), ValueError, "Got 301"),
        (dict(cv=2.5), TypeError, "'cv' parameter must be an int, a splitter"),
        (dict(cv=[(np.arange(5), np.arange(5, 999))]), ValueError, r"indices in \[0, 299\]"),
        (dict(cv=[(np.arange(5), [])]), ValueError, "non-empty 1-D integer test indices"),
        (dict(cv=[]), ValueError, "at least one \\(train, test\\) pair"),
        (dict(return_train_measures="yes"), TypeError, "'return_train_measures' parameter"),
    ],
)
def test_cross_validate_refuses_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cross_validate(MODEL, *DATA, **kwargs)


def test_cross_validate_refuses_a_model_that_cannot_fit():
    with pytest.raises(TypeError, match="'model' parameter must be an estimator.*Got str"):
        cross_validate("svd", *DATA)


@pytest.mark.parametrize("seed", range(4))
def test_fcp_is_surprises(seed):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 12, 150)
    y_true = rng.integers(1, 6, 150).astype(float)  # many ties, as real ratings
    y_pred = np.round(y_true + rng.normal(0, 1.0, 150), 1)
    assert fcp(users, y_true, y_pred) == pytest.approx(surprise_fcp(users, y_true, y_pred))


def test_fcp_and_mse_refuse_what_is_undefined():
    with pytest.raises(ValueError, match="'users' parameter must give some user two ratings"):
        fcp([1, 2], [3.0, 4.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="'users' parameter must be 1-D with the length"):
        fcp([1], [3.0, 4.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="'y_pred' parameter must have the length"):
        mse([1.0, 2.0], [1.0])
    assert mse([1.0, 3.0], [2.0, 1.0]) == 2.5
