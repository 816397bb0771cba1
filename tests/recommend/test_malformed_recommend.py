"""Malformed inputs of RatingsModel (see tests/malformed.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from malformed import (
    I,
    R,
    U,
    _pandas,
    case,
    check_error,
    state_hash,
)

from dmc import RatingsModel

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def rm():
    return RatingsModel(rank=2, max_iter=20, random_state=0).fit(U, I, R)


# -- RatingsModel -----------------------------------------------------------------------------

BAD_RATINGS = [
    case(
        (U[:2], I[:2], [3.0, np.nan]),
        ValueError,
        "'ratings'",
        "finite numbers. Got nan at position 1",
        "nan-rating",
    ),
    case((U[:2], I[:2], [3.0, np.inf]), ValueError, "'ratings'", "Got inf", "inf-rating"),
    case((U[:2], I[:2], [3.0 + 1j, 2.0]), TypeError, "'ratings'", "complex", "complex-rating"),
    case((U[:2], I[:2], [True, False]), TypeError, "'ratings'", "not booleans", "bool-rating"),
    case((U[:2], I[:2], ["4", "5"]), TypeError, "'ratings'", "not strings", "string-rating"),
    case(
        (U[:2], I[:2], [[3.0], [4.0]]),
        ValueError,
        "'ratings'",
        r"1-D. Got shape \(2, 1\)",
        "2d-ratings",
    ),
    case(
        (U[:3], I[:2], R[:3]),
        ValueError,
        "'users', 'items' and 'ratings'",
        "same length. Got 3, 2 and 3",
        "length-mismatch",
    ),
    case(([1, None], [1, 2], [3.0, 4.0]), ValueError, "'users'", "Got None", "none-user"),
    case(([1.0, np.nan], [1, 2], [3.0, 4.0]), ValueError, "'users'", "Got nan", "nan-user"),
    case(
        ([[1], [2, 3]], [1, 2], [3.0, 4.0]), TypeError, "'users'", "hashable.*Got list", "list-id"
    ),
    case(
        (U[:2, None], I[:2], R[:2]), ValueError, "'users'", r"1-D. Got shape \(2, 1\)", "2d-users"
    ),
    case(([], [], []), ValueError, "'ratings'", "at least one rating. Got none", "empty"),
    case((U, I, None), TypeError, "'items' and 'ratings'", "Got items=an array", "ratings-none"),
    case(
        ({"user": [1], "item": [2]},),
        ValueError,
        "'users'",
        r"columns 'user', 'item' and 'rating'. Got columns \['user', 'item'\]",
        "table-missing-column",
    ),
    case((42,), TypeError, "'users'", "table.*Got int", "not-a-table"),
    case(
        ([0, 0, 1], [0, 0, 1], [3.0, 4.0, 5.0]),
        ValueError,
        "'duplicates'",
        "Got 1 repeated rating.*user 0 and item 0 rated 2 times.*duplicates='raise'",
        "duplicate-pair",
    ),
    case(
        (U[:2], I[:2], [3, 10**400]),
        ValueError,
        "'ratings'",
        r"float64 range.*Got an int near 1e\+400 at position 1",
        "python-int-rating",
    ),
    case(
        (U, I, R * 1e300),
        ValueError,
        "'ratings'",
        r"magnitude at most 1e\+100. Got \de\+300 at position 0",
        "huge-rating",
    ),
    case(
        (U[:2], I[:2], [3.0, -1e308]),
        ValueError,
        "'ratings'",
        r"magnitude at most 1e\+100. Got -1e\+308 at position 1",
        "rating-1e308",
    ),
    case(
        ([Decimal("NaN"), 1], [1, 2], [3.0, 4.0]),
        ValueError,
        "'users'",
        r"missing ids.*Got Decimal\('NaN'\)",
        "decimal-nan-user",
    ),
    case(
        (np.array(["NaT", "2020-01-01"], dtype="datetime64[D]"), [1, 2], [3.0, 4.0]),
        ValueError,
        "'users'",
        "missing ids.*Got NaT instead",
        "nat-user",
    ),
    case(
        (np.array([np.float32("nan"), "a"], dtype=object), [1, 2], [3.0, 4.0]),
        ValueError,
        "'users'",
        "missing ids.*Got nan",
        "nan-object-user",
    ),
    case(([1, 2], [1, np.inf], [3.0, 4.0]), ValueError, "'items'", "missing.*Got inf", "inf-item"),
    case(({1, 2}, [1, 2], [3.0, 4.0]), TypeError, "'users'", "sequence.*Got set", "set-users"),
]


@pytest.mark.parametrize("args, exc, name, match", BAD_RATINGS)
def test_ratings_refit_with_bad_data_keeps_the_fit(rm, args, exc, name, match):
    before = state_hash(rm)
    check_error(lambda: rm.fit(*args), exc, name, match)
    assert state_hash(rm) == before


BAD_RATINGS_PARAMS = [
    case({"rank": 0}, ValueError, "'rank'", r"\[1, inf\]. Got 0", "rank-0"),
    case({"rank": 1.5}, TypeError, "'rank'", "Got 1.5", "rank-float"),
    case({"rank": 16}, ValueError, "'rank'", r"\[1, 15\]. Got 16", "rank-above-min"),
    case({"depth": 1}, ValueError, "'depth'", "Got 1", "depth-1"),
    case({"init_scale": np.nan}, ValueError, "'init_scale'", "Got nan", "init-nan"),
    case({"gamma": -1.0}, ValueError, "'gamma'", "Got -1.0", "gamma-negative"),
    case({"weight_decay": np.inf}, ValueError, "'weight_decay'", "Got inf", "wd-inf"),
    case({"max_iter": 0}, ValueError, "'max_iter'", "Got 0", "max-iter-0"),
    case({"tol": np.nan}, ValueError, "'tol'", "Got nan", "tol-nan"),
    case({"shrinkage": "big"}, ValueError, "'shrinkage'", "Got 'big'", "shrinkage-str"),
    case({"shrinkage": -1.0}, ValueError, "'shrinkage'", "Got -1.0", "shrinkage-negative"),
    case({"validation_fraction": 0.9}, ValueError, "'validation_fraction'", "Got 0.9", "val-frac"),
    case({"shrinkage_sweeps": 0}, ValueError, "'shrinkage_sweeps'", "Got 0", "sweeps-0"),
    case({"shrinkage_sweeps": 2.5}, TypeError, "'shrinkage_sweeps'", "Got 2.5", "sweeps-float"),
    case({"user_bias_reg": -1.0}, ValueError, "'user_bias_reg'", "Got -1.0", "user-bias-reg"),
    case({"duplicates": "sum"}, ValueError, "'duplicates'", "Got 'sum'", "duplicates-sum"),
    case({"cold_start": "zero"}, ValueError, "'cold_start'", "Got 'zero'", "cold-start"),
    case({"rating_range": (5, 1)}, ValueError, "'rating_range'", r"Got \(5, 1\)", "range-reversed"),
    case(
        {"rating_range": (1, np.nan)}, ValueError, "'rating_range'", r"Got \(1, nan\)", "range-nan"
    ),
    case({"dtype": "float16"}, ValueError, "'dtype'", "Got 'float16'", "dtype-float16"),
    case({"device": "tpu"}, ValueError, "'device'", "Got 'tpu'", "device-tpu"),
    case({"random_state": "seed"}, TypeError, "'random_state'", "Got 'seed'", "rs-str"),
    case({"method": "svd"}, ValueError, "'method'", "Got 'svd'", "method-unknown"),
    *[
        case(
            {name: 10**400},
            ValueError,
            f"'{name}'",
            r"finite real number.*Got an int near 1e\+400",
            f"{name}-python-int-beyond-float",
        )
        for name in ("tol", "init_scale", "gamma", "weight_decay", "shrinkage", "user_bias_reg")
    ],
    case(
        {"rating_range": (1, 10**400)},
        ValueError,
        "'rating_range'",
        r"finite numbers with low < high. Got \(1, an int near 1e\+400\)",
        "range-python-int-beyond-float",
    ),
    case({"depth": 101}, ValueError, "'depth'", r"\[2, 100\]. Got 101", "depth-above-max"),
    case({"dtype": None}, TypeError, "'dtype'", "Got None", "dtype-none"),
    case({"dtype": (np.float64, -1)}, ValueError, "'dtype'", r"Got \(<class", "dtype-tuple"),
]


@pytest.mark.parametrize("params, exc, name, match", BAD_RATINGS_PARAMS)
def test_ratings_refit_with_bad_parameters_keeps_the_fit(rm, params, exc, name, match):
    before = state_hash(rm)
    saved = {key: getattr(rm, key) for key in params}
    for key, value in params.items():
        setattr(rm, key, value)
    try:
        check_error(lambda: rm.fit(U, I, R), exc, name, match)
    finally:
        for key, value in saved.items():
            setattr(rm, key, value)
    assert state_hash(rm) == before


BAD_RATINGS_CALLS = [
    case(
        lambda m: m.predict([1, 2], [1]),
        ValueError,
        "'users' and 'items'",
        "same length. Got 2 and 1",
        "predict-length-mismatch",
    ),
    case(lambda m: m.predict(1, 1), TypeError, "'users'", "1-D.*Got int", "predict-scalar"),
    case(lambda m: m.predict([np.nan], [1]), ValueError, "'users'", "Got nan", "predict-nan-id"),
    case(lambda m: m.predict([[1, 2]], [1]), TypeError, "'users'", "Got list", "predict-list-id"),
    case(
        lambda m: m.predict(np.zeros((1, 1)), [1]),
        ValueError,
        "'users'",
        r"1-D. Got shape \(1, 1\)",
        "predict-2d",
    ),
    case(lambda m: m.recommend(0, k=0), ValueError, "'k'", r"\[1, 15\]. Got 0", "recommend-k-0"),
    case(lambda m: m.recommend(0, k=-1), ValueError, "'k'", "Got -1", "recommend-k-negative"),
    case(lambda m: m.recommend(0, k=1.5), TypeError, "'k'", "Got 1.5", "recommend-k-float"),
    case(lambda m: m.recommend(0, k=16), ValueError, "'k'", "Got 16", "recommend-k-above-items"),
    case(lambda m: m.recommend(None), ValueError, "'user'", "Got None", "recommend-none-user"),
    case(
        lambda m: m.recommend([1, 2]), TypeError, "'user'", "hashable.*Got list", "recommend-list"
    ),
    case(
        lambda m: m.recommend(0, exclude_seen="no"),
        TypeError,
        "'exclude_seen'",
        "bool. Got 'no'",
        "recommend-exclude-seen-str",
    ),
    case(
        lambda m: m.recommend_many(3), TypeError, "'users'", "1-D.*Got int", "recommend-many-scalar"
    ),
    case(
        lambda m: m.recommend_many([0], k="3"), TypeError, "'k'", "Got '3'", "recommend-many-k-str"
    ),
    case(
        lambda m: m.fold_in("x", [0, 1], [3.0]),
        ValueError,
        "'items' and 'ratings'",
        "same length. Got 2 and 1",
        "fold-in-length-mismatch",
    ),
    case(
        lambda m: m.fold_in("x", [0], [np.nan]),
        ValueError,
        "'ratings'",
        "finite numbers. Got nan",
        "fold-in-nan-rating",
    ),
    case(
        lambda m: m.fold_in("x", [], []),
        ValueError,
        "'ratings'",
        "at least one rating to fold in. Got none",
        "fold-in-empty",
    ),
    case(lambda m: m.fold_in(None, [0], [3.0]), ValueError, "'user'", "Got None", "fold-in-none"),
    case(lambda m: m.fold_in([1], [0], [3.0]), TypeError, "'user'", "Got list", "fold-in-list"),
    case(
        lambda m: m.fold_in("x", [0, 0], [3.0, 4.0]),
        ValueError,
        "'duplicates'",
        "item 0 rated 2 times by user 'x'",
        "fold-in-duplicate",
    ),
    case(
        lambda m: m.fold_in("x", [0], ["a"]),
        TypeError,
        "'ratings'",
        "not strings",
        "fold-in-string-rating",
    ),
    case(
        lambda m: m.fold_in("x", [0], [10**400]),
        ValueError,
        "'ratings'",
        r"float64 range.*Got an int near 1e\+400",
        "fold-in-python-int-rating",
    ),
    case(
        lambda m: m.fold_in("x", [0], [1e300]),
        ValueError,
        "'ratings'",
        r"magnitude at most 1e\+100. Got 1e\+300",
        "fold-in-huge-rating",
    ),
    case(
        lambda m: m.fold_in(Decimal("NaN"), [0], [3.0]),
        ValueError,
        "'user'",
        r"missing ids.*Got Decimal\('NaN'\)",
        "fold-in-decimal-nan-user",
    ),
    case(
        lambda m: m.predict([Decimal("NaN")], [0]),
        ValueError,
        "'users'",
        r"missing ids.*Got Decimal\('NaN'\)",
        "predict-decimal-nan",
    ),
    case(
        lambda m: m.predict(np.array(["NaT"], dtype="datetime64[s]"), [0]),
        ValueError,
        "'users'",
        "missing ids.*Got NaT instead",
        "predict-nat",
    ),
    case(
        lambda m: m.predict([0, 1], np.array([1, np.nan], dtype=object)),
        ValueError,
        "'items'",
        "missing ids.*Got nan",
        "predict-nan-object",
    ),
    case(lambda m: m.recommend(float("inf")), ValueError, "'user'", "Got inf", "recommend-inf"),
    case(
        lambda m: m.recommend(Decimal("sNaN")),
        ValueError,
        "'user'",
        r"Got Decimal\('sNaN'\)",
        "recommend-decimal-snan",
    ),
    case(
        lambda m: m.predict([0], [0], return_cold="yes"),
        TypeError,
        "'return_cold'",
        "bool. Got 'yes'",
        "predict-return-cold-str",
    ),
    case(lambda m: m.predict({0, 1}, [0, 1]), TypeError, "'users'", "Got set", "predict-set"),
    case(
        lambda m: m.recommend_many({0: 1}), TypeError, "'users'", "Got dict", "recommend-many-dict"
    ),
]


@pytest.mark.parametrize("call, exc, name, match", BAD_RATINGS_CALLS)
def test_ratings_bad_calls_keep_the_fit(rm, call, exc, name, match):
    before = state_hash(rm)
    check_error(lambda: call(rm), exc, name, match)
    assert state_hash(rm) == before


def test_ratings_cold_start_raise_names_the_unknown_id():
    model = RatingsModel(rank=2, max_iter=5, cold_start="raise", random_state=0).fit(U, I, R)
    before = state_hash(model)
    check_error(lambda: model.predict([999], [0]), ValueError, "'users'", "Got unknown id 999")
    check_error(lambda: model.recommend(999), ValueError, "'users'", "Got unknown id 999")
    assert state_hash(model) == before


def test_unfitted_ratings_model_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet") as info:
        RatingsModel().predict([1], [2])
    assert isinstance(info.value, ValueError)
    fresh = RatingsModel(rank=0)
    with pytest.raises(ValueError, match="'rank'"):
        fresh.fit(U, I, R)
    assert not [name for name in vars(fresh) if name.endswith("_") or name == "_opts"]


def test_ratings_huge_ids_work_and_do_not_wrap():
    users = U.astype(np.uint64) + np.uint64(2**63)  # beyond int64
    model = RatingsModel(rank=2, max_iter=5, random_state=0).fit(users, I, R)
    assert model.users_.dtype == np.uint64 and model.users_[0] == np.uint64(2**63)
    pred, cold = model.predict(users[:3], I[:3], return_cold=True)
    assert not cold.any() and np.isfinite(pred).all()
    big = [2**70 + int(u) for u in U]  # Python ints beyond any integer dtype
    model = RatingsModel(rank=2, max_iter=5, random_state=0).fit(big, I, R)
    assert model.recommend(big[0], k=2)[0].size == 2
    assert not model.predict([big[0]], [I[0]], return_cold=True)[1][0]
    assert model.predict([2**70 + 10**6], [I[0]], return_cold=True)[1][0]  # unknown: cold


def test_ratings_duplicates_and_cold_start_policies(rm):
    model = RatingsModel(rank=2, max_iter=5, duplicates="mean", random_state=0)
    model.fit(np.append(U, U[0]), np.append(I, I[0]), np.append(R, 5.0))
    assert model.n_duplicates_ == 1
    before = state_hash(rm)
    items, scores = rm.recommend(10**6, k=3)  # unknown user: ranked by item bias
    assert np.allclose(scores, rm.global_mean_ + np.sort(rm.item_bias_)[::-1][:3])
    pred, cold = rm.predict([10**6, U[0]], [I[0], 10**6], return_cold=True)
    assert cold.all() and np.isfinite(pred).all()
    empty = rm.recommend_many([], k=3)
    assert all(field.size == 0 for field in empty)
    assert state_hash(rm) == before


def test_ratings_fold_in_of_only_unknown_items_warns():
    model = RatingsModel(rank=2, max_iter=5, random_state=0).fit(U, I, R)
    with pytest.warns(UserWarning, match="None of the 2 item.*is known"):
        model.fold_in("new", [10**6, 10**6 + 1], [4.0, 5.0])
    pred, cold = model.predict(["new"], [I[0]], return_cold=True)
    assert not cold[0] and pred[0] == pytest.approx(
        np.clip(model.global_mean_ + model.item_bias_[model.items_ == I[0]][0], 1, 5)
    )


def test_ratings_pd_na_ids_are_missing_in_object_and_nullable_arrays(rm):
    pd = _pandas()
    before = state_hash(rm)
    for users in (
        np.array([pd.NA, 1], dtype=object),
        pd.Series([pd.NA, 1], dtype="Int64"),
        pd.Series([pd.NaT, pd.Timestamp("2020-01-01")]),
    ):
        check_error(lambda u=users: rm.fit(u, [1, 2], [3.0, 4.0]), ValueError, "'users'", "Got")
        check_error(lambda u=users: rm.predict(u, [1, 2]), ValueError, "'users'", "missing ids")
    check_error(lambda: rm.fold_in(pd.NA, [0], [3.0]), ValueError, "'user'", "Got <NA>")
    check_error(lambda: rm.recommend(pd.NaT), ValueError, "'user'", "Got NaT")
    assert state_hash(rm) == before
