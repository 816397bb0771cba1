"""Malformed inputs of DeepMatrixCompletion and model selection (see tests/malformed.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from malformed import (
    M,
    X,
    _pandas,
    case,
    check_error,
    state_hash,
)

import dmc
from dmc import DeepMatrixCompletion
from dmc.impute import model_selection as ms

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def est():
    return DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(X)


# -- DeepMatrixCompletion: bad data and bad parameters on a fitted estimator -----------------

E = "of DeepMatrixCompletion"


def _with(array, position, value):
    array[position] = value
    return array


BAD_FIT_DATA = [
    case(np.ones(5), ValueError, "'X'", r"2-D.*Got an array of shape \(5,\)", "1d"),
    case(np.ones((2, 2, 2)), ValueError, "'X'", r"2-D.*Got .*\(2, 2, 2\)", "3d"),
    case(np.zeros((0, 3)), ValueError, "'X'", r"Got 0 sample\(s\) \(shape=\(0, 3\)\)", "0xn"),
    case(np.zeros((3, 0)), ValueError, "'X'", r"Got 0 feature\(s\) \(shape=\(3, 0\)\)", "mx0"),
    case(X + 0j, ValueError, "'X'", "Got complex dtype.*Complex data not supported", "complex"),
    case(
        np.array([[1.0, "a"], [2.0, 3.0]], dtype=object),
        TypeError,
        "'X'",
        r"Got str 'a' at position \(0, 1\)",
        "object-str",
    ),
    case(np.array([["1", "2"], ["3", "4"]]), TypeError, "'X'", "not strings", "strings"),
    case(np.ones((3, 3), dtype=bool), TypeError, "'X'", "not booleans", "bool"),
    case([[1.0, 2.0], [3.0]], TypeError, "'X'", "rectangular array. Got list", "ragged"),
    case(None, TypeError, "'X'", "Got None", "none"),
    case(
        np.where(np.isnan(X), np.inf, X),
        ValueError,
        "'X'",
        r"not infinity. Got inf at row 0",
        "inf",
    ),
    case(
        np.full((3, 4), np.nan), ValueError, "'X'", "at least one observed.*Got an array", "all-nan"
    ),
    case(
        sp.csr_array(np.nan_to_num(X)),
        TypeError,
        "'X'",
        r"sparse.*dmc\.complete",
        "sparse",
    ),
    case(
        _with(X.astype(object), (0, 1), 10**400),
        ValueError,
        "'X'",
        r"float64 range.*Got an int near 1e\+400 at position \(0, 1\)",
        "python-int-beyond-float",
    ),
    case(
        np.where(np.isnan(X), np.nan, -1e308),
        ValueError,
        "'X'",
        r"magnitude at most 1.76e\+305.*Got -1e\+308 at row 0, column 0",
        "above-limit",
    ),
]


@pytest.mark.parametrize("data, exc, name, match", BAD_FIT_DATA)
def test_estimator_fit_bad_data_keeps_the_fit(est, data, exc, name, match):
    before = state_hash(est)
    if isinstance(data, sp.sparray):  # the sparse message names 'X' its own way
        with pytest.raises(exc, match=match):
            est.fit(data)
    else:
        check_error(lambda: est.fit(data), exc, name, match)
    assert state_hash(est) == before


def test_estimator_fit_dataframe_with_a_text_column_keeps_the_fit(est):
    pd = _pandas()
    frame = pd.DataFrame(X[:5, :3], columns=["a", "b", "c"]).assign(c=["x", "y", "z", "u", "v"])
    before = state_hash(est)
    check_error(lambda: est.fit(frame), TypeError, "'X'", r"Got str 'x' in column 'c'")
    assert state_hash(est) == before


def test_estimator_fit_dataframe_with_repeated_column_names_keeps_the_fit(est):
    pd = _pandas()
    frame = pd.DataFrame(X[:, :3], columns=["a", "a", "b"])
    before = state_hash(est)
    check_error(
        lambda: est.fit(frame), ValueError, "'X'", r"distinct column names. Got 'a' 2 times"
    )
    assert state_hash(est) == before


def test_estimator_fit_sparse_dataframe_keeps_the_fit(est):
    pd = _pandas()
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"]).astype(pd.SparseDtype(float, np.nan))
    before = state_hash(est)
    check_error(lambda: est.fit(frame), TypeError, "'X'", r"dense.*Got sparse column\(s\) \['a'")
    assert state_hash(est) == before


def test_estimator_fit_dataframe_object_column_with_a_huge_int_keeps_the_fit(est):
    pd = _pandas()
    frame = pd.DataFrame({"a": pd.Series([1.0, 10**400, None], dtype=object), "b": [1.0, 2, 3]})
    before = state_hash(est)
    check_error(
        lambda: est.fit(frame), ValueError, "'X'", r"float64 range.*Got an int near 1e\+400"
    )
    assert state_hash(est) == before


BAD_PARAMS = [
    case({"rank": 0}, ValueError, "'rank'", rf"{E} must be an int in \[1, inf\]. Got 0", "rank-0"),
    case({"rank": -1}, ValueError, "'rank'", "Got -1", "rank-negative"),
    case({"rank": 1.5}, TypeError, "'rank'", "Got 1.5", "rank-float"),
    case({"rank": True}, TypeError, "'rank'", "Got True", "rank-bool"),
    case({"rank": np.inf}, TypeError, "'rank'", "Got inf", "rank-inf"),
    case({"rank": "5"}, TypeError, "'rank'", "Got '5'", "rank-string"),
    case({"depth": 1}, ValueError, "'depth'", f"{E}.*Got 1", "depth-1"),
    case({"depth": 101}, ValueError, "'depth'", rf"{E}.*\[2, 100\]. Got 101", "depth-above-max"),
    case({"depth": 2**64}, ValueError, "'depth'", "Got 18446744073709551616", "depth-2-64"),
    *[
        case(
            {name: 10**400},
            ValueError,
            f"'{name}'",
            rf"{E} must be a finite real number.*Got an int near 1e\+400",
            f"{name}-python-int-beyond-float",
        )
        for name in ("tol", "gamma", "init_scale", "weight_decay", "step_size", "fold_in_alpha")
    ],
    case(
        {"clip": (0.0, 10**400)},
        ValueError,
        "'clip'",
        f"{E}.*Got an int near 1e\\+400",
        "clip-python-int-beyond-float",
    ),
    case({"dtype": (np.float64, -1)}, ValueError, "'dtype'", rf"{E}.*Got \(<class", "dtype-tuple"),
    case({"init_scale": 0.0}, ValueError, "'init_scale'", "Got 0.0", "init-0"),
    case({"init_scale": -1.0}, ValueError, "'init_scale'", "Got -1.0", "init-negative"),
    case({"init_scale": np.nan}, ValueError, "'init_scale'", "Got nan", "init-nan"),
    case({"init_scale": np.inf}, ValueError, "'init_scale'", "Got inf", "init-inf"),
    case({"gamma": -1.0}, ValueError, "'gamma'", "Got -1.0", "gamma-negative"),
    case({"gamma": np.nan}, ValueError, "'gamma'", "Got nan", "gamma-nan"),
    case({"max_iter": 0}, ValueError, "'max_iter'", "Got 0", "max-iter-0"),
    case({"tol": -1.0}, ValueError, "'tol'", "Got -1.0", "tol-negative"),
    case({"tol": np.nan}, ValueError, "'tol'", "Got nan", "tol-nan"),
    case({"weight_decay": -1.0}, ValueError, "'weight_decay'", "Got -1.0", "wd-negative"),
    case({"weight_decay": np.inf}, ValueError, "'weight_decay'", "Got inf", "wd-inf"),
    case({"step_size": 0.0}, ValueError, "'step_size'", "Got 0.0", "step-0"),
    case({"step_size": -1.0}, ValueError, "'step_size'", "Got -1.0", "step-negative"),
    case({"step_size": np.nan}, ValueError, "'step_size'", "Got nan", "step-nan"),
    case({"step_size": np.inf}, ValueError, "'step_size'", "Got inf", "step-inf"),
    case({"step_size": "fast"}, ValueError, "'step_size'", f"{E}.*Got 'fast'", "step-str"),
    case({"dtype": "float16"}, ValueError, "'dtype'", f"{E}.*Got 'float16'", "dtype-float16"),
    case({"dtype": "int32"}, ValueError, "'dtype'", "Got 'int32'", "dtype-int32"),
    case({"device": "tpu"}, ValueError, "'device'", f"{E}.*Got 'tpu'", "device-tpu"),
    case({"random_state": "seed"}, TypeError, "'random_state'", "Got 'seed'", "rs-str"),
    case({"random_state": -1}, ValueError, "'random_state'", "Got -1", "rs-negative"),
    case({"random_state": 1.5}, TypeError, "'random_state'", "Got 1.5", "rs-float"),
    case({"method": "svd"}, ValueError, "'method'", f"{E}.*Got 'svd'", "method-unknown"),
    case({"fold_in_alpha": 0.0}, ValueError, "'fold_in_alpha'", "Got 0.0", "fold-in-alpha-0"),
    case({"clip": (1.0, -1.0)}, ValueError, "'clip'", r"Got \(1.0, -1.0\)", "clip-reversed"),
    case({"clip": 3.0}, TypeError, "'clip'", "Got 3.0", "clip-scalar"),
    case({"callback": 3}, TypeError, "'callback'", f"{E} must be callable", "callback"),
    # the imputer parameters of scikit-learn (issue 15)
    case({"missing_values": "?"}, TypeError, "'missing_values'", "Got '\\?'", "mv-str"),
    case({"missing_values": None}, TypeError, "'missing_values'", "Got None", "mv-none"),
    case({"missing_values": np.inf}, ValueError, "'missing_values'", "Got inf", "mv-inf"),
    case(
        {"missing_values": -1},
        ValueError,
        "'X'",
        "must not hold NaN when missing_values=-1",
        "mv-nan-in-X",
    ),
    case(
        {"add_indicator": "yes"}, TypeError, "'add_indicator'", "True or False. Got 'yes'", "ai-str"
    ),
    case({"keep_empty_features": 1}, TypeError, "'keep_empty_features'", "Got 1", "kef-int"),
    case(
        {"min_value": np.nan},
        ValueError,
        "'min_value'",
        "without NaN. Got NaN at feature 0",
        "min-nan",
    ),
    case({"min_value": "low"}, TypeError, "'min_value'", "Got 'low'", "min-str"),
    case(
        {"max_value": [1.0, 2.0]},
        ValueError,
        "'max_value'",
        r"shape \(n_features,\) = \(20,\).*Got an array of shape \(2,\)",
        "max-shape",
    ),
    case(
        {"max_value": np.ones((20, 1))},
        TypeError,
        "'max_value'",
        r"Got an array of dtype float64 and shape \(20, 1\)",
        "max-2d",
    ),
    case(
        {"min_value": 1.0, "max_value": 1.0},
        ValueError,
        "'min_value'",
        "min_value < max_value for every feature. Got min_value = 1.0 and max_value = 1.0 for feature 0",
        "min-equals-max",
    ),
    case(
        {"clip": (0.0, 1.0), "max_value": 2.0},
        ValueError,
        "'clip'",
        "give one or the other, not both. Got clip=",
        "clip-and-max",
    ),
    case({"verbose": -1}, ValueError, "'verbose'", "an int >= 0.*Got -1", "verbose-negative"),
    case({"verbose": 1.5}, TypeError, "'verbose'", "Got 1.5", "verbose-float"),
]


@pytest.mark.parametrize("params, exc, name, match", BAD_PARAMS)
def test_estimator_refit_with_bad_parameters_keeps_the_fit(est, params, exc, name, match):
    before = state_hash(est)
    saved = {key: getattr(est, key) for key in params}
    est.set_params(**params)
    try:
        check_error(lambda: est.fit(X), exc, name, match)
    finally:
        est.set_params(**saved)
    assert state_hash(est) == before


def test_estimator_refit_that_diverges_midway_keeps_the_fit(est):
    """A failure after training began (not a validation error) restores every attribute."""
    before = state_hash(est)
    saved = est.get_params()
    est.set_params(step_size=1e6, init_scale=1.0)
    try:
        with pytest.raises(dmc.DivergenceError, match="step_size"):
            est.fit(X)
    finally:
        est.set_params(**saved)
    assert state_hash(est) == before


def test_unfitted_estimator_that_fails_to_fit_stays_unfitted():
    from sklearn.exceptions import NotFittedError

    fresh = DeepMatrixCompletion(depth=1)
    with pytest.raises(ValueError, match="'depth'"):
        fresh.fit(X)
    assert not [name for name in vars(fresh) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        fresh.transform(X)


BAD_TRANSFORM = [
    case(
        lambda e: e.transform(X[:, :5]),
        ValueError,
        "X",
        "X has 5 features, but DeepMatrixCompletion is expecting 20",
        "transform-too-few-columns",
    ),
    case(
        lambda e: e.transform(np.hstack([X, X[:, :1]])),
        ValueError,
        "X",
        "X has 21 features, but DeepMatrixCompletion is expecting 20",
        "transform-too-many-columns",
    ),
    case(
        lambda e: e.transform(np.where(np.isnan(X), -np.inf, X)),
        ValueError,
        "'X'",
        "not infinity. Got -inf",
        "transform-inf",
    ),
    case(lambda e: e.transform(X[0]), ValueError, "'X'", r"2-D.*\(20,\)", "transform-1d"),
    case(lambda e: e.transform(X[:0]), ValueError, "'X'", r"0 sample\(s\)", "transform-empty"),
    case(lambda e: e.transform(X + 0j), ValueError, "'X'", "complex", "transform-complex"),
    case(
        lambda e: e.transform(X.astype(str)), TypeError, "'X'", "not strings", "transform-strings"
    ),
    case(lambda e: e.transform(None), TypeError, "'X'", "Got None", "transform-none"),
    case(
        lambda e: e.fit_transform(np.ones(4)),
        ValueError,
        "'X'",
        r"2-D.*\(4,\)",
        "fit-transform-1d",
    ),
    case(
        lambda e: e.score(X[:, :3]),
        ValueError,
        "X",
        "X has 3 features",
        "score-wrong-columns",
    ),
    case(
        lambda e: e.score(np.where(np.eye(30, 20) > 0, 1.0, np.nan)),
        ValueError,
        "'X'",
        "no observed entry that can be held out.*Got 20 observed entries in 30 rows",
        "score-nothing-to-hold-out",
    ),
    case(
        lambda e: e.transform(np.where(np.isnan(X), np.nan, 1e308)),
        ValueError,
        "'X'",
        r"magnitude at most 1.76e\+305.*Got 1e\+308 at row 0, column 0",
        "transform-above-limit",
    ),
    case(
        lambda e: e.score(np.where(np.isnan(X), np.nan, 1e308)),
        ValueError,
        "'X'",
        r"magnitude at most 1.76e\+305.*Got 1e\+308",
        "score-above-limit",
    ),
]


@pytest.mark.parametrize("call, exc, name, match", BAD_TRANSFORM)
def test_estimator_bad_transform_keeps_the_fit(est, call, exc, name, match):
    before = state_hash(est)
    check_error(lambda: call(est), exc, name, match)
    assert state_hash(est) == before


# -- model_selection ---------------------------------------------------------------------------

SELECTION = [
    case(lambda: ms.mask_observed(X, 1.0), ValueError, "'fraction'", "Got 1.0", "mask-fraction-1"),
    case(lambda: ms.mask_observed(X, 0.0), ValueError, "'fraction'", "Got 0.0", "mask-fraction-0"),
    case(lambda: ms.mask_observed(X[0]), ValueError, "'X'", r"2-D.*\(20,\)", "mask-1d"),
    case(lambda: ms.mask_observed(X + 0j), TypeError, "'X'", "complex", "mask-complex"),
    case(lambda: ms.mask_observed(X.astype(str)), TypeError, "'X'", "not strings", "mask-strings"),
    case(
        lambda: ms.mask_observed(np.where(np.isnan(X), np.inf, X)),
        ValueError,
        "'X'",
        "finite.*Got inf",
        "mask-inf",
    ),
    case(lambda: ms.mask_observed(np.zeros((0, 3))), ValueError, "'X'", r"\(0, 3\)", "mask-empty"),
    case(
        lambda: ms.mask_observed(sp.csr_array(np.ones((2, 2)))),
        TypeError,
        "'X'",
        "dense array.*Got a scipy.sparse",
        "mask-sparse",
    ),
    case(
        lambda: ms.make_heldout_scorer(0.2, random_state=None),
        TypeError,
        "'random_state'",
        "Got None",
        "scorer-seed-none",
    ),
    case(lambda: ms.make_heldout_scorer(-1), ValueError, "'fraction'", "Got -1", "scorer-fraction"),
    case(lambda: ms.make_rank_selector(rtol=np.nan), ValueError, "'rtol'", "Got nan", "selector"),
    case(
        lambda: ms.make_rank_selector()({"params": [{"depth": 3}]}),
        ValueError,
        "'cv_results'",
        "'rank'. Got candidates",
        "selector-no-rank",
    ),
    case(lambda: ms.search_rank(X, ranks=(0,)), ValueError, "'ranks'", "Got 0", "search-rank-0"),
    case(lambda: ms.search_rank(X, ranks=()), ValueError, "'ranks'", "Got none", "search-no-ranks"),
    case(lambda: ms.search_rank(X, ranks=5), TypeError, "'ranks'", "Got 5", "search-ranks-int"),
    case(lambda: ms.search_rank(X, ranks=(2,), cv=1), ValueError, "'cv'", "Got 1", "search-cv-1"),
]


@pytest.mark.parametrize("call, exc, name, match", SELECTION)
def test_model_selection(call, exc, name, match):
    check_error(call, exc, name, match)


def test_estimator_keeps_an_empty_training_column_at_zero_when_asked():
    """keep_empty_features=True (scikit-learn's policy; by default the column is dropped)."""
    Z = X.copy()
    Z[:, 5] = np.nan
    with pytest.warns(UserWarning, match=r"1 column\(s\) of 'X' have no observed entry.*\[5\]"):
        model = DeepMatrixCompletion(
            rank=2, max_iter=30, random_state=0, keep_empty_features=True
        ).fit(Z)
    assert np.array_equal(model.completed_[:, 5], np.zeros(len(Z)))
    assert model.column_means_[5] == 0.0
    new = Z[:4].copy()
    new[0, 5] = 7.0  # observed there now: kept, and carries nothing to fold in
    out = model.transform(new)
    assert out[0, 5] == 7.0 and np.array_equal(out[1:, 5], np.zeros(3))
    observed = ~np.isnan(new)
    assert np.array_equal(out[observed], new[observed]) and np.isfinite(out).all()
    only_there = np.full((1, 20), np.nan)
    only_there[0, 5] = 1.0
    with pytest.warns(UserWarning, match="no observed entry.*in a column observed in fit"):
        row = model.transform(only_there)
    assert row[0, 5] == 1.0 and np.allclose(np.delete(row[0], 5), np.delete(model.column_means_, 5))


def test_estimator_empty_training_row_and_empty_new_row_are_filled(est):
    Z = X.copy()
    Z[7] = np.nan
    with pytest.warns(UserWarning, match=r"1 row\(s\) of 'X' have no observed entry.*row 7"):
        model = DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(Z)
    assert np.array_equal(model.completed_[7], model.column_means_)
    with pytest.warns(UserWarning, match="filled with the column means"):
        out = est.transform(np.full((2, 20), np.nan))
    assert np.allclose(out, est.column_means_)


def test_estimator_fully_observed_training_matrix_is_fine():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        model = DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(M)
    assert np.array_equal(model.transform(M), M)
    assert np.isfinite(model.transform(X)).all()


def test_estimator_rank_above_the_data_is_lowered_with_a_warning():
    with pytest.warns(UserWarning, match=r"'rank' parameter of DeepMatrixCompletion \(25\)"):
        model = DeepMatrixCompletion(rank=25, max_iter=5, random_state=0).fit(X)
    assert model.rank_ == 20
