"""Malformed inputs of Observations and dmc.complete (see tests/malformed.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from malformed import (
    M,
    X,
    case,
    check_error,
)

import dmc
from dmc import Observations

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
    case(
        lambda: Observations.from_dense([[1.0, 10**400]]),
        ValueError,
        "'X'",
        r"float64 range.*Got an int near 1e\+400 at position \(0, 1\)",
        "dense-python-int-beyond-float",
    ),
    case(
        lambda: T([0, 1], [0, 0], [1.0, -(10**400)]),
        ValueError,
        "'values'",
        r"float64 range.*Got an int near -1e\+400 at position 1",
        "values-python-int-beyond-float",
    ),
    case(
        lambda: Observations.from_any(([0, 1], [0, 1])),
        TypeError,
        "'X'",
        r"\(rows, cols, values\[, shape\]\) tuple has 3 or 4 elements.*Got a tuple of 2",
        "any-pair",
    ),
    case(
        lambda: T([10**6 - 1], [10**6 - 1], [1.0]).to_dense(),
        dmc.ProblemTooLargeError,
        "'shape'",
        r"GiB.*Got shape \(1000000, 1000000\)",
        "observations-to-dense-too-large",
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


def _huge_result():
    """A 10**6 x 10**6 completion with one observed entry: its factors are small."""
    with pytest.warns(UserWarning, match="no observed entry"):
        return dmc.complete(T([10**6 - 1], [10**6 - 1], [1.0]), rank=1, max_iter=1)


COMPLETE = [
    case(_complete(rank=21), ValueError, "'rank'", r"\[1, 20\]. Got 21", "rank-above-min"),
    case(_complete(rank=0), ValueError, "'rank'", "Got 0", "rank-0"),
    case(_complete(rank=-1), ValueError, "'rank'", "Got -1", "rank-negative"),
    case(_complete(rank=1.5), TypeError, "'rank'", "an int.*Got 1.5", "rank-float"),
    case(_complete(rank=True), TypeError, "'rank'", "Got True", "rank-bool"),
    case(_complete(rank=np.inf), TypeError, "'rank'", "Got inf", "rank-inf"),
    case(_complete(rank="5"), TypeError, "'rank'", "Got '5'", "rank-string"),
    case(_complete(depth=1), ValueError, "'depth'", r"\[2, 100\]. Got 1", "depth-1"),
    case(_complete(depth=101), ValueError, "'depth'", r"\[2, 100\]. Got 101", "depth-above-max"),
    case(_complete(depth=10**7), ValueError, "'depth'", "Got 10000000", "depth-huge"),
    case(_complete(depth=2**64), ValueError, "'depth'", "Got 18446744073709551616", "depth-2-64"),
    *[
        case(
            _complete(**{name: 10**400}),
            ValueError,
            f"'{name}'",
            r"finite real number.*Got an int near 1e\+400",
            f"{name}-python-int-beyond-float",
        )
        for name in ("tol", "gamma", "init_scale", "weight_decay", "step_size", "max_change")
    ],
    case(
        _complete(dtype=(np.float64, -1)),
        ValueError,
        "'dtype'",
        r"'float64' or 'float32'.*Got \(<class 'numpy.float64'>, -1\)",
        "dtype-tuple",
    ),
    case(_complete(dtype=None), TypeError, "'dtype'", "Got None", "dtype-none"),
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
    case(_complete(step_bits=0), ValueError, "'step_bits'", "[1, 52]", "step-bits-0"),
    case(_complete(step_bits=2.5), TypeError, "'step_bits'", "Got 2.5", "step-bits-float"),
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
        lambda: _huge_result().to_dense(),
        dmc.ProblemTooLargeError,
        "'shape'",
        r"GiB.*Got shape \(1000000, 1000000\).*predict",
        "result-to-dense-too-large",
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
