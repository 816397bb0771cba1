"""Audit of malformed inputs across every entry point (issue 6, item 1).

One table per entry point: a malformed input, the exception it must raise
(ValueError or TypeError, or a documented subclass; never an IndexError,
KeyError, AttributeError, RuntimeError or a torch error) and a pattern its
message must match. Every message must also name the parameter and say what
was received ("Got ..."). Calls on an already fitted estimator or ratings
model, re-``fit`` included, must leave the model's state unchanged, which is
checked by hashing every attribute before and after.

Inputs that a documented policy accepts (empty rows or columns, fully
observed data, duplicates with a merging policy, huge ids) are at the end,
with the warning and the result the docs promise. docs/input-validation.md
is the same table in prose.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import dmc
from dmc import DeepMatrixCompletion, Observations, RatingsModel
from dmc.cli import main as cli_main
from dmc.data.readers import read_ratings
from dmc.impute import model_selection as ms

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FORBIDDEN = (IndexError, KeyError, AttributeError, RuntimeError, OverflowError)
RECEIVED = re.compile(r"\b[Gg]ot\b|expecting")


# -- data and fitted models ------------------------------------------------------------


def _matrix(shape=(30, 20), fraction=0.6, seed=0):
    M = dmc.low_rank_matrix(shape, 2, random_state=seed).to_dense()
    mask = np.random.default_rng(seed).random(shape) < fraction
    mask[np.arange(shape[0]), np.arange(shape[0]) % shape[1]] = True  # no empty row
    mask[np.arange(shape[1]) % shape[0], np.arange(shape[1])] = True  # no empty column
    return np.where(mask, M, np.nan), M


def _ratings(n_users=25, n_items=15, n=200, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.permutation(n_users * n_items)[:n]
    users, items = pairs // n_items, pairs % n_items
    ratings = np.clip(np.round(3 + (users % 3) - (items % 2) + rng.normal(0, 0.5, n)), 1, 5)
    return users, items, ratings


X, M = _matrix()
U, I, R = _ratings()


@pytest.fixture(scope="module")
def est():
    return DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(X)


@pytest.fixture(scope="module")
def rm():
    return RatingsModel(rank=2, max_iter=20, random_state=0).fit(U, I, R)


# -- the state hash ----------------------------------------------------------------------


def state_hash(obj) -> str:
    """SHA-256 of everything in ``vars(obj)``, recursively."""
    h = hashlib.sha256()
    _feed(h, obj, set())
    return h.hexdigest()


def _feed(h, value, seen):
    if isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        h.update(repr(value.tolist()).encode() if value.dtype == object else value.tobytes())
    elif isinstance(value, torch.Tensor):
        _feed(h, value.detach().cpu().numpy(), seen)
    elif isinstance(value, torch.nn.Module):
        _feed(h, dict(value.state_dict()), seen)
    elif isinstance(value, dict):
        h.update(b"dict")
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key], seen)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _feed(h, item, seen)
    elif isinstance(value, (str, bytes, int, float, complex, bool, type(None), np.generic)):
        h.update(repr(value).encode())
    elif type(value).__name__ == "_IdIndex":  # ids; its dict is a lookup cache
        _feed(h, (value.ids, value._sorted), seen)
    elif hasattr(value, "__dict__") and not callable(value):
        if id(value) in seen:
            return
        seen.add(id(value))
        h.update(type(value).__name__.encode())
        _feed(h, dict(vars(value)), seen)
    else:
        h.update(repr(value).encode())


def test_state_hash_sees_a_change(est, rm):
    import copy

    for model, name in ((est, "components_"), (rm, "item_factors_")):
        twin = copy.deepcopy(model)
        assert state_hash(twin) == state_hash(model)
        getattr(twin, name)[0, 0] += 1e-12
        assert state_hash(twin) != state_hash(model)
    twin = copy.deepcopy(rm)
    twin.completion_.model.cores[0].data[0, 0] += 1.0
    assert state_hash(twin) != state_hash(rm)


# -- checking one case ----------------------------------------------------------------------


def check_error(call, exc, name, match):
    """``call()`` raises ``exc`` whose message names ``name``, matches ``match`` and says 'Got'."""
    with pytest.raises(exc) as info:
        call()
    error = info.value
    assert not isinstance(error, FORBIDDEN) or isinstance(error, (ValueError, TypeError)), error
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    message = str(error)
    assert name in message, f"{name!r} not named in: {message}"
    assert re.search(match, message), f"{match!r} does not match: {message}"
    assert RECEIVED.search(message), f"nothing received is shown in: {message}"
    return error


def case(call, exc, name, match, id):
    return pytest.param(call, exc, name, match, id=id)


def _pandas():
    return pytest.importorskip("pandas")


# -- Observations -------------------------------------------------------------------------

T = Observations.from_triplets
OBSERVATIONS = [
    case(lambda: Observations.from_dense(np.float64(3.0)), ValueError, "'X'", "2-D", "dense-0d"),
    case(
        lambda: Observations.from_dense(np.ones(3)), ValueError, "'X'", r"2-D.*\(3,\)", "dense-1d"
    ),
    case(
        lambda: Observations.from_dense(np.ones((2, 2, 2))),
        ValueError,
        "'X'",
        r"2-D.*\(2, 2, 2\)",
        "dense-3d",
    ),
    case(
        lambda: Observations.from_dense(np.zeros((0, 3))),
        ValueError,
        "'X'",
        r"not be empty.*\(0, 3\)",
        "dense-0xn",
    ),
    case(
        lambda: Observations.from_dense(np.zeros((3, 0))),
        ValueError,
        "'X'",
        r"not be empty.*\(3, 0\)",
        "dense-mx0",
    ),
    case(
        lambda: Observations.from_dense(np.array([[1.0, np.inf]])),
        ValueError,
        "'X'",
        r"finite.*Got inf at position \(0, 1\)",
        "dense-inf",
    ),
    case(
        lambda: Observations.from_dense(np.full((2, 2), np.nan)),
        ValueError,
        "'X'",
        "at least one observed entry. Got none",
        "dense-all-nan",
    ),
    case(
        lambda: Observations.from_dense(np.ones((2, 2)) * 1j),
        TypeError,
        "'X'",
        "complex dtype complex128",
        "dense-complex",
    ),
    case(
        lambda: Observations.from_dense(np.array([[1.0, "a"]], dtype=object)),
        TypeError,
        "'X'",
        r"real numbers. Got str 'a' at position \(0, 1\)",
        "dense-object-str",
    ),
    case(
        lambda: Observations.from_dense(np.array([[1.0, {}]], dtype=object)),
        TypeError,
        "'X'",
        "Got dict",
        "dense-object-dict",
    ),
    case(
        lambda: Observations.from_dense([["1", "2"]]),
        TypeError,
        "'X'",
        "not strings. Got dtype <U1",
        "dense-strings",
    ),
    case(
        lambda: Observations.from_dense(np.ones((2, 2), dtype=bool)),
        TypeError,
        "'X'",
        "not booleans.*Got dtype bool",
        "dense-bool",
    ),
    case(
        lambda: Observations.from_dense([[1.0, 2.0], [3.0]]),
        TypeError,
        "'X'",
        "rectangular array. Got list",
        "dense-ragged",
    ),
    case(
        lambda: T([0, 5], [0, 0], [1.0, 2.0], shape=(3, 3)),
        ValueError,
        "'rows'",
        r"\[0, 2\].*Got 5",
        "triplets-row-out-of-range",
    ),
    case(
        lambda: T([0], [3], [1.0], shape=(3, 3)),
        ValueError,
        "'cols'",
        r"\[0, 2\].*Got 3",
        "triplets-col-out-of-range",
    ),
    case(
        lambda: T([0, -1], [0, 0], [1.0, 2.0], shape=(3, 3)),
        ValueError,
        "'rows'",
        "Got -1",
        "triplets-negative-with-shape",
    ),
    case(
        lambda: T([0, -1], [0, 0], [1.0, 2.0]),
        ValueError,
        "'rows'",
        "non-negative indices. Got -1",
        "triplets-negative-no-shape",
    ),
    case(lambda: T([2.5], [0], [1.0]), ValueError, "'rows'", "integer indices. Got 2.5", "idx-2.5"),
    case(lambda: T([0], [np.nan], [1.0]), ValueError, "'cols'", "integer.*Got nan", "idx-nan"),
    case(lambda: T([True], [0], [1.0]), TypeError, "'rows'", "Got dtype bool", "idx-bool"),
    case(lambda: T(["a"], [0], [1.0]), TypeError, "'rows'", "Got dtype <U1", "idx-str"),
    case(
        lambda: T([[0]], [[0]], [1.0]), ValueError, "'rows'", r"1-D. Got shape \(1, 1\)", "idx-2d"
    ),
    case(
        lambda: T(np.array([2**63 + 5], dtype=np.uint64), [0], [1.0]),
        ValueError,
        "'rows'",
        r"fit in int64.*Got 9223372036854775813",
        "idx-uint64-over-int64",
    ),
    case(
        lambda: T([2**70], [0], [1.0]),
        ValueError,
        "'rows'",
        "fit in int64.*Got 1180591620717411303424",
        "idx-python-int-over-int64",
    ),
    case(
        lambda: T([0, 1], [0], [1.0, 2.0]),
        ValueError,
        "'rows', 'cols' and 'values'",
        "same length. Got lengths 2, 1 and 2",
        "triplets-length-mismatch",
    ),
    case(
        lambda: T([0, 1], [0, 0], [1.0, np.nan]),
        ValueError,
        "'values'",
        r"finite.*Got nan at entry \(1, 0\)",
        "values-nan",
    ),
    case(
        lambda: T([0, 1], [0, 0], [1.0, -np.inf]),
        ValueError,
        "'values'",
        "Got -inf",
        "values-inf",
    ),
    case(lambda: T([0], [0], [1j]), TypeError, "'values'", "complex", "values-complex"),
    case(lambda: T([0], [0], ["4"]), TypeError, "'values'", "not strings", "values-strings"),
    case(lambda: T([0], [0], [True]), TypeError, "'values'", "not booleans", "values-bool"),
    case(
        lambda: T([0], [0], [[1.0]]),
        ValueError,
        "'values'",
        r"1-D. Got shape \(1, 1\)",
        "values-2d",
    ),
    case(
        lambda: T([], [], [], shape=(2, 2)),
        ValueError,
        "'values'",
        r"not be empty. Got shape \(0,\)",
        "triplets-empty",
    ),
    case(lambda: T([0], [0], [1.0], shape=(0, 3)), ValueError, "'shape'", "positive", "shape-zero"),
    case(
        lambda: T([0], [0], [1.0], shape=(2.0, 3)),
        TypeError,
        "'shape'",
        "pair of ints",
        "shape-float",
    ),
    case(
        lambda: T([0], [0], [1.0], shape=(2, 2, 2)),
        TypeError,
        "'shape'",
        "pair of ints",
        "shape-3d",
    ),
    case(
        lambda: T([0, 0], [1, 1], [1.0, 2.0]),
        ValueError,
        "'duplicates'",
        r"Got \(0, 1\) more than once \(2 times.*duplicates='raise'",
        "triplets-duplicate",
    ),
    case(
        lambda: T([0], [0], [1.0], duplicates="sum"),
        ValueError,
        "'duplicates'",
        "one of 'raise', 'mean', 'first', 'last'. Got 'sum'",
        "duplicates-sum",
    ),
    case(
        lambda: Observations.from_sparse(np.ones((2, 2))),
        TypeError,
        "'X'",
        "scipy.sparse.*Got ndarray",
        "sparse-dense-input",
    ),
    case(
        lambda: Observations.from_sparse(sp.csr_array((2, 3))),
        ValueError,
        "'X'",
        "store at least one entry.*Got a 2 x 3 sparse matrix with none",
        "sparse-nothing-stored",
    ),
    case(
        lambda: Observations.from_sparse(sp.csr_array(np.array([[np.nan, 1.0]]))),
        ValueError,
        "'X'",
        r"finite.*Got nan at entry \(0, 0\)",
        "sparse-nan-stored",
    ),
    case(
        lambda: Observations.from_sparse(sp.csr_array(np.array([[1j, 0]]))),
        TypeError,
        "'X'",
        "complex",
        "sparse-complex",
    ),
    case(
        lambda: Observations.from_sparse(
            sp.coo_array(([1.0, 2.0], ([0, 0], [1, 1])), shape=(2, 2))
        ),
        ValueError,
        "'duplicates'",
        r"Got \(0, 1\) more than once",
        "sparse-coo-duplicate-not-summed",
    ),
    case(
        lambda: Observations.from_any(None),
        TypeError,
        "'X'",
        "Got None",
        "any-none",
    ),
    case(
        lambda: Observations.from_any("abc"),
        TypeError,
        "'X'",
        "not strings",
        "any-string",
    ),
]


@pytest.mark.parametrize("call, exc, name, match", OBSERVATIONS)
def test_observations(call, exc, name, match):
    check_error(call, exc, name, match)


# -- dmc.complete ------------------------------------------------------------------------


def _complete(**kwargs):
    kwargs.setdefault("rank", 2)
    kwargs.setdefault("max_iter", 2)
    return lambda: dmc.complete(X, **kwargs)


COMPLETE = [
    case(_complete(rank=21), ValueError, "'rank'", r"\[1, 20\]. Got 21", "rank-above-min"),
    case(_complete(rank=0), ValueError, "'rank'", "Got 0", "rank-0"),
    case(_complete(rank=-1), ValueError, "'rank'", "Got -1", "rank-negative"),
    case(_complete(rank=1.5), TypeError, "'rank'", "an int.*Got 1.5", "rank-float"),
    case(_complete(rank=True), TypeError, "'rank'", "Got True", "rank-bool"),
    case(_complete(rank=np.inf), TypeError, "'rank'", "Got inf", "rank-inf"),
    case(_complete(rank="5"), TypeError, "'rank'", "Got '5'", "rank-string"),
    case(_complete(depth=1), ValueError, "'depth'", r"\[2, inf\]. Got 1", "depth-1"),
    case(_complete(init_scale=0), ValueError, "'init_scale'", r"\(0, inf\]. Got 0", "init-0"),
    case(_complete(init_scale=-1), ValueError, "'init_scale'", "Got -1", "init-negative"),
    case(_complete(init_scale=np.nan), ValueError, "'init_scale'", "Got nan", "init-nan"),
    case(_complete(init_scale=np.inf), ValueError, "'init_scale'", "Got inf", "init-inf"),
    case(_complete(gamma=-1), ValueError, "'gamma'", "Got -1", "gamma-negative"),
    case(_complete(gamma=np.nan), ValueError, "'gamma'", "Got nan", "gamma-nan"),
    case(_complete(max_iter=0), ValueError, "'max_iter'", "Got 0", "max-iter-0"),
    case(_complete(max_iter=2.0), TypeError, "'max_iter'", "Got 2.0", "max-iter-float"),
    case(_complete(tol=-1), ValueError, "'tol'", "Got -1", "tol-negative"),
    case(_complete(tol=np.nan), ValueError, "'tol'", "Got nan", "tol-nan"),
    case(_complete(weight_decay=-1), ValueError, "'weight_decay'", "Got -1", "wd-negative"),
    case(_complete(weight_decay=np.inf), ValueError, "'weight_decay'", "Got inf", "wd-inf"),
    case(_complete(step_size=0), ValueError, "'step_size'", "Got 0", "step-0"),
    case(_complete(step_size=-1), ValueError, "'step_size'", "Got -1", "step-negative"),
    case(_complete(step_size=np.nan), ValueError, "'step_size'", "Got nan", "step-nan"),
    case(_complete(step_size=np.inf), ValueError, "'step_size'", "Got inf", "step-inf"),
    case(_complete(step_size="fast"), ValueError, "'step_size'", "'auto'.*Got 'fast'", "step-str"),
    case(_complete(max_change=0), ValueError, "'max_change'", "Got 0", "max-change-0"),
    case(_complete(n_iter_no_change=0), ValueError, "'n_iter_no_change'", "Got 0", "no-change-0"),
    case(_complete(eval_every=0), ValueError, "'eval_every'", "Got 0", "eval-every-0"),
    case(_complete(dtype="float16"), ValueError, "'dtype'", "Got 'float16'", "dtype-float16"),
    case(_complete(dtype="int32"), ValueError, "'dtype'", "Got 'int32'", "dtype-int32"),
    case(_complete(dtype=torch.int64), ValueError, "'dtype'", "Got torch.int64", "dtype-torch-int"),
    case(_complete(device="tpu"), ValueError, "'device'", "Got 'tpu'", "device-tpu"),
    case(_complete(device=0), TypeError, "'device'", "Got 0", "device-int"),
    case(_complete(random_state="seed"), TypeError, "'random_state'", "Got 'seed'", "rs-str"),
    case(_complete(random_state=-1), ValueError, "'random_state'", "Got -1", "rs-negative"),
    case(_complete(random_state=1.5), TypeError, "'random_state'", "Got 1.5", "rs-float"),
    case(_complete(method="svd"), ValueError, "'method'", "Got 'svd'", "method-unknown"),
    case(_complete(init="pca"), ValueError, "'init'", "Got 'pca'", "init-unknown"),
    case(_complete(method="original", width=0), ValueError, "'width'", "Got 0", "width-0"),
    case(
        _complete(callback=3), TypeError, "'callback'", "callable.*Got 3", "callback-not-callable"
    ),
    case(
        _complete(truth=np.ones((2, 2))),
        ValueError,
        "'truth'",
        r"shape.*\(30, 20\). Got \(2, 2\)",
        "truth-shape",
    ),
    case(
        _complete(truth=np.full(X.shape, np.nan)),
        ValueError,
        "'truth'",
        r"finite.*Got nan",
        "truth-nan",
    ),
    case(_complete(truth="abc"), TypeError, "'truth'", "not strings", "truth-string"),
    case(
        lambda: dmc.complete(([0, 1, 1], [0, 1, 1], [1.0, 2.0, 3.0]), rank=1),
        ValueError,
        "'duplicates'",
        r"Got \(1, 1\) more than once",
        "triplets-duplicate",
    ),
    case(lambda: dmc.complete(np.array([1.0, 2.0]), rank=1), ValueError, "'X'", "2-D", "x-1d"),
    case(lambda: dmc.complete(None, rank=1), TypeError, "'X'", "Got None", "x-none"),
    case(
        lambda: dmc.complete(T([2**40], [0], [1.0]), rank=1),
        dmc.ProblemTooLargeError,
        "'shape'",
        "GiB.*Got a 1099511627777 x 1 matrix",
        "shape-huge-from-int64-index",
    ),
    case(
        lambda: dmc.complete(X, rank=2, max_iter=2).predict([2.5], [0]),
        ValueError,
        "'rows'",
        "integer indices. Got 2.5",
        "result-predict-float-index",
    ),
    case(
        lambda: dmc.complete(X, rank=2, max_iter=2).predict([0, 1], [0]),
        ValueError,
        "'rows' and 'cols'",
        "same length. Got 2 and 1",
        "result-predict-length",
    ),
    case(
        lambda: dmc.complete(X, rank=2, max_iter=2).predict([30], [0]),
        ValueError,
        "'rows'",
        r"\[0, 29\]. Got values in \[30, 30\]",
        "result-predict-out-of-range",
    ),
]


@pytest.mark.parametrize("call, exc, name, match", COMPLETE)
def test_complete(call, exc, name, match):
    check_error(call, exc, name, match)


# -- DeepMatrixCompletion: bad data and bad parameters on a fitted estimator -----------------

E = "of DeepMatrixCompletion"
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


BAD_PARAMS = [
    case({"rank": 0}, ValueError, "'rank'", rf"{E} must be an int in \[1, inf\]. Got 0", "rank-0"),
    case({"rank": -1}, ValueError, "'rank'", "Got -1", "rank-negative"),
    case({"rank": 1.5}, TypeError, "'rank'", "Got 1.5", "rank-float"),
    case({"rank": True}, TypeError, "'rank'", "Got True", "rank-bool"),
    case({"rank": np.inf}, TypeError, "'rank'", "Got inf", "rank-inf"),
    case({"rank": "5"}, TypeError, "'rank'", "Got '5'", "rank-string"),
    case({"depth": 1}, ValueError, "'depth'", f"{E}.*Got 1", "depth-1"),
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
]


@pytest.mark.parametrize("call, exc, name, match", BAD_TRANSFORM)
def test_estimator_bad_transform_keeps_the_fit(est, call, exc, name, match):
    before = state_hash(est)
    check_error(lambda: call(est), exc, name, match)
    assert state_hash(est) == before


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


# -- read_ratings ----------------------------------------------------------------------------

FILES = [
    case(
        ("u.data", "1\t2\t3\t4\n1\t2\n"), ValueError, "u.data", "Got 2 on data row 2", "short-line"
    ),
    case(("u.data", "1\t2\n"), ValueError, "u.data", "at least 3 fields.*Got 2", "two-fields"),
    case(("u.data", "1\t2\tx\n"), ValueError, "'rating'", "Got 'x' on data row 1", "non-numeric"),
    case(("u.data", "1\t2\tnan\n"), ValueError, "'rating'", "finite.*Got 'nan'", "nan-rating"),
    case(("u.data", "1\t\t3\n"), ValueError, "'item'", "Got an empty one", "empty-id"),
    case(("u.data", ""), ValueError, "u.data", "holds no ratings.*Got no data line", "empty-file"),
    case(("r.csv", ""), ValueError, "r.csv", "is empty.*Got no line", "empty-csv"),
    case(
        ("r.csv", "userId,movieId,rating\n"),
        ValueError,
        "r.csv",
        "holds no ratings.*Got only a header",
        "header-only",
    ),
    case(
        ("r.csv", "userId,movieId\n1,2\n"),
        ValueError,
        "['rating']",
        "has no column for.*got none of the usual names for rating",
        "missing-column",
    ),
    case(
        ("r.csv", "user,user,item,rating\n1,2,3,4\n"),
        ValueError,
        "'user'",
        "each column once. Got 'user' 2 times",
        "repeated-column",
    ),
    case(
        ("r.csv", "a,b,c\n1,2,3\n", {"columns": {"user": "a", "item": "b", "rating": "z"}}),
        ValueError,
        "'columns'",
        "names column 'z' for 'rating'.*Got columns=",
        "columns-unknown-name",
    ),
    case(
        ("r.csv", "a,b,c\n1,2,3\n", {"columns": ["a"]}),
        TypeError,
        "'columns'",
        "mapping.*Got list",
        "columns-not-mapping",
    ),
    case(
        ("r.csv", "a;b;c\n1;2;3\n", {"sep": ";;"}),
        ValueError,
        "'sep'",
        "one character.*Got sep=';;'",
        "sep-two-chars",
    ),
    case(
        ("u.data", "1\t2\t3\n", {"format": "xls"}),
        ValueError,
        "'format'",
        "Got 'xls'",
        "format-unknown",
    ),
    case(
        ("u.data", "1\t2\t3\n", {"encoding": "nope"}),
        ValueError,
        "'encoding'",
        "Got 'nope'",
        "encoding-unknown",
    ),
    case(
        ("r.csv", b"user,item,rating\n\xe9,2,3\n"),
        ValueError,
        "'utf-8'",
        r"Got byte b'\\xe9' at byte offset 17",
        "not-utf8",
    ),
    case(("weird", "1 2 3\n"), ValueError, "'format'", "could not be guessed.*Got", "no-layout"),
]


@pytest.mark.parametrize("spec, exc, name, match", FILES)
def test_read_ratings(tmp_path, spec, exc, name, match):
    file_name, content, *kwargs = spec
    path = tmp_path / file_name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    kwargs = kwargs[0] if kwargs else {}
    check_error(lambda: read_ratings(path, as_frame=False, **kwargs), exc, name, match)


def test_read_ratings_bad_path(tmp_path):
    check_error(lambda: read_ratings(None), TypeError, "'path'", "str or path-like. Got None")
    with pytest.raises(FileNotFoundError, match="'path' parameter must name a file. Got"):
        read_ratings(tmp_path)  # a folder: an OSError, as for a missing file


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


# -- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    content = {
        "bad.data": "1\t2\t3\n1\t2\n",
        "empty.data": "",
        "nocol.csv": "user,item\n1,2\n",
        "ok.data": "1\t1\t3\n1\t2\t4\n2\t1\t5\n2\t2\t3\n",
    }
    for name, text in content.items():
        (folder / name).write_text(text)
    return folder


CLI = [
    case(["recommend", "{bad.data}"], 2, "bad.data", "Got 2 on data row 2", "recommend-short-line"),
    case(["recommend", "{empty.data}"], 2, "empty.data", "holds no ratings", "recommend-empty"),
    case(["recommend", "{nocol.csv}"], 2, "nocol.csv", "no column for", "recommend-no-rating"),
    case(
        ["recommend", "{missing.data}"], 2, "'path'", "must name a file", "recommend-missing-file"
    ),
    case(["recommend", "{ok.data}", "--top-k", "0"], 2, "'--top-k'", "Got 0", "recommend-top-k-0"),
    case(
        ["recommend", "{ok.data}", "--test-fraction", "1.5"],
        2,
        "'--test-fraction'",
        "Got 1.5",
        "recommend-test-fraction",
    ),
    case(
        ["recommend", "{ok.data}", "--threshold", "nan"],
        2,
        "'--threshold'",
        "Got nan",
        "recommend-threshold-nan",
    ),
    case(
        ["recommend", "{ok.data}", "--rank", "abc"],
        2,
        "--rank",
        "invalid int value: 'abc'",
        "recommend-rank-not-int",
    ),
    case(
        ["recommend", "{ok.data}", "--method", "svd"],
        2,
        "--method",
        "invalid choice: 'svd'",
        "recommend-method",
    ),
    case(["recommend", "{ok.data}", "--sep", ";;"], 2, "'sep'", "Got sep=';;'", "recommend-sep"),
    case(
        ["recommend", "{ok.data}", "--rank", "0", "--test-fraction", "0"],
        2,
        "'rank'",
        "Got 0",
        "recommend-rank-0",
    ),
    case(
        ["recommend", "{ok.data}", "--rank", "5", "--test-fraction", "0"],
        2,
        "'rank'",
        r"\[1, 2\]. Got 5",
        "recommend-rank-above-min",
    ),
    case(["demo", "--size", "0"], 2, "'shape'", r"Got \(0, 0\)", "demo-size-0"),
    case(["demo", "--fraction", "2", "--no-plot"], 2, "'fraction'", "Got 2.0", "demo-fraction"),
    case(["demo", "--fraction", "nan"], 2, "'fraction'", "Got nan", "demo-fraction-nan"),
    case(["demo", "--size", "30", "--depth", "1"], 2, "'depth'", "Got 1", "demo-depth-1"),
    case(["compare", "--shape", "0", "5"], 2, "'shape'", r"Got \(0, 5\)", "compare-shape"),
    case(
        ["compare", "--shape", "30", "30", "--rank-estimate", "0", "--no-peers"],
        2,
        "'rank'",
        "Got 0",
        "compare-rank-estimate-0",
    ),
    case(["reproduce", "nothing"], 2, "claim", "invalid choice: 'nothing'", "reproduce-claim"),
    case([], 2, "command", "required", "no-command"),
    case(["frobnicate"], 2, "command", "invalid choice: 'frobnicate'", "unknown-command"),
]


@pytest.mark.parametrize("argv, code, name, match", CLI)
def test_command_line(files, capsys, argv, code, name, match):
    argv = [str(files / a[1:-1]) if a.startswith("{") else a for a in argv]
    try:
        status = cli_main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == code
    assert "error:" in err and "Traceback" not in err
    assert name in err, err
    assert re.search(match, err), err


def test_command_line_process_exits_cleanly(files):
    proc = subprocess.run(
        [sys.executable, "-m", "dmc.cli", "recommend", str(files / "bad.data")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("dmc: error: The file") and "Traceback" not in proc.stderr


# -- documented policies instead of errors ------------------------------------------------------


def test_complete_warns_about_empty_rows_and_columns():
    Z = X.copy()
    Z[3], Z[:, 5] = np.nan, np.nan
    with pytest.warns(
        UserWarning,
        match=r"has 1 row\(s\) and 1 column\(s\) with no observed entry \(the first row is 3, "
        r"the first column is 5\).*not estimates",
    ):
        result = dmc.complete(Z, rank=2, max_iter=5, random_state=0)
    assert np.isfinite(result.to_dense()).all()
    with pytest.warns(UserWarning, match=r"has 2 row\(s\) and 0 column\(s\).*first row is 2"):
        dmc.complete((np.array([0, 1]), np.array([0, 1]), np.ones(2), (4, 2)), rank=1, max_iter=2)


def test_complete_warns_about_a_fully_observed_matrix():
    with pytest.warns(UserWarning, match=r"fully observed \(all 30 x 20 entries\).*nothing"):
        dmc.complete(M, rank=2, max_iter=5, random_state=0)


def test_estimator_fills_an_empty_training_column_with_the_mean():
    Z = X.copy()
    Z[:, 5] = np.nan
    with pytest.warns(UserWarning, match=r"1 column\(s\) of 'X' have no observed entry.*\[5\]"):
        model = DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(Z)
    mean = np.nanmean(Z)
    assert np.allclose(model.completed_[:, 5], mean) and model.column_means_[5] == pytest.approx(
        mean
    )
    new = Z[:4].copy()
    new[0, 5] = 7.0  # observed there now: kept, and carries nothing to fold in
    out = model.transform(new)
    assert out[0, 5] == 7.0 and np.allclose(out[1:, 5], mean)
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


@pytest.mark.parametrize(
    "policy, expected", [("mean", [1.5, 5.0]), ("first", [1.0, 5.0]), ("last", [2.0, 5.0])]
)
def test_observations_duplicates_policy(policy, expected):
    obs = T([0, 1, 0], [1, 0, 1], [1.0, 5.0, 2.0], duplicates=policy)
    assert obs.values.tolist() == expected and obs.n_observed == 2
    coo = sp.coo_array(([1.0, 5.0, 2.0], ([0, 1, 0], [1, 0, 1])), shape=(2, 2))
    assert Observations.from_sparse(coo, duplicates=policy).values.tolist() == expected
    csr = sp.csr_array(
        (np.array([1.0, 2.0, 5.0]), np.array([1, 1, 0]), np.array([0, 2, 3])), shape=(2, 2)
    )
    assert not csr.has_canonical_format  # a CSR matrix that stores (0, 1) twice
    from_csr = Observations.from_sparse(csr, duplicates=policy).values.tolist()
    assert from_csr == expected
    assert (
        Observations.from_any(
            (np.array([0, 1, 0]), [1, 0, 1], [1.0, 5.0, 2.0]), duplicates=policy
        ).values.tolist()
        == expected
    )


def test_observations_index_conventions():
    assert T([2.0], [0.0], [1.0]).shape == (3, 1)  # integral floats are indices
    big = T([2**31 + 5], [0], [1.0])  # beyond int32, within int64
    assert big.shape == (2**31 + 6, 1) and big.rows.dtype == np.int64
    assert T(np.array([3], dtype=np.uint64), [0], [1.0]).rows.tolist() == [3]
    huge = T([2**40, 2**40], [2**40 - 1, 2**40 - 2], [1.0, 2.0])  # m n overflows int64
    assert huge.cols.tolist() == [2**40 - 2, 2**40 - 1]
    with pytest.raises(ValueError, match="more than once"):
        T([2**40, 2**40], [2**40 - 1, 2**40 - 1], [1.0, 2.0])
    dense = Observations.from_dense(np.array([[1.0, None]], dtype=object))
    assert dense.n_observed == 1  # None marks a missing entry, like NaN


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
