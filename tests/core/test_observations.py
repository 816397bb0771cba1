import numpy as np
import pytest
import scipy.sparse as sp

from dmc import Observations


def test_from_dense_keeps_non_nan_entries():
    X = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan]])
    obs = Observations.from_dense(X)
    assert obs.shape == (2, 3)
    assert obs.rows.dtype == np.int64 and obs.cols.dtype == np.int64
    np.testing.assert_array_equal(obs.rows, [0, 0, 1])
    np.testing.assert_array_equal(obs.cols, [0, 2, 1])
    np.testing.assert_array_equal(obs.values, [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(obs.to_dense(), X)


def test_from_sparse_uses_stored_entries_including_explicit_zeros():
    X = sp.coo_array(([0.0, 2.0], ([1, 0], [2, 1])), shape=(3, 4))
    obs = Observations.from_sparse(X)
    assert obs.shape == (3, 4)
    assert obs.n_observed == 2
    np.testing.assert_array_equal(obs.rows, [0, 1])
    np.testing.assert_array_equal(obs.values, [2.0, 0.0])


def test_from_triplets_infers_shape_and_sorts():
    obs = Observations.from_triplets([2, 0, 1], [0, 3, 1], [1.0, 2.0, 3.0])
    assert obs.shape == (3, 4)
    np.testing.assert_array_equal(obs.rows, [0, 1, 2])
    np.testing.assert_array_equal(obs.values, [2.0, 3.0, 1.0])


def test_from_any_dispatches():
    X = np.array([[1.0, np.nan], [2.0, 3.0]])
    a = Observations.from_any(X)
    b = Observations.from_any(sp.csr_array(np.nan_to_num(X)))
    c = Observations.from_any((a.rows, a.cols, a.values, a.shape))
    assert Observations.from_any(a) is a
    assert a.n_observed == c.n_observed == 3
    assert b.n_observed == 3  # the zero at (0, 1) is not stored


def test_arrays_are_read_only():
    obs = Observations.from_triplets([0], [0], [1.0], shape=(2, 2))
    with pytest.raises(ValueError):
        obs.values[0] = 5.0


BAD = [
    (lambda: Observations.from_dense(np.array([[1.0, np.inf]])), ValueError, "'X'.*finite"),
    (lambda: Observations.from_dense(np.ones(3)), ValueError, "'X'.*2-D"),
    (lambda: Observations.from_dense(np.ones((2, 2, 2))), ValueError, "'X'.*2-D"),
    (lambda: Observations.from_dense(np.full((2, 2), np.nan)), ValueError, "at least one observed"),
    (lambda: Observations.from_dense(np.ones((2, 2)) * 1j), TypeError, "'X'.*complex"),
    (lambda: Observations.from_dense(np.array([["a", "b"]], dtype=object)), TypeError, "'X'"),
    (lambda: Observations.from_dense(np.zeros((0, 3))), ValueError, "'X'.*empty"),
    (
        lambda: Observations.from_triplets([0, 5], [0, 0], [1.0, 2.0], shape=(3, 3)),
        ValueError,
        "'rows'.*\\[0, 2\\]",
    ),
    (
        lambda: Observations.from_triplets([0, -1], [0, 0], [1.0, 2.0], shape=(3, 3)),
        ValueError,
        "'rows'",
    ),
    (lambda: Observations.from_triplets([0], [7], [1.0], shape=(3, 3)), ValueError, "'cols'"),
    (
        lambda: Observations.from_triplets([0, 1], [0, 0], [1.0, np.nan]),
        ValueError,
        "'values'.*finite",
    ),
    (
        lambda: Observations.from_triplets([0, 1], [0, 0], [1.0, np.inf]),
        ValueError,
        "'values'.*finite",
    ),
    (lambda: Observations.from_triplets([0, 1], [0], [1.0, 2.0]), ValueError, "same length"),
    (lambda: Observations.from_triplets([0.5], [0], [1.0]), ValueError, "'rows'.*integer"),
    (lambda: Observations.from_triplets(["a"], [0], [1.0]), TypeError, "'rows'.*integer"),
    (lambda: Observations.from_triplets([0, 0], [1, 1], [1.0, 2.0]), ValueError, "more than once"),
    (lambda: Observations.from_triplets([0], [0], [1.0], shape=(0, 3)), ValueError, "'shape'"),
    (lambda: Observations.from_triplets([0], [0], [1.0], shape=(2.0, 3)), TypeError, "'shape'"),
    (lambda: Observations.from_sparse(np.ones((2, 2))), TypeError, "'X'.*scipy.sparse"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input_names_the_parameter(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_copy_false_keeps_sorted_arrays_as_read_only_views():
    rows, cols = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 0])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    obs = Observations.from_triplets(rows, cols, values, (3, 3), copy=False)
    assert all(
        np.shares_memory(a, b)
        for a, b in zip((obs.rows, obs.cols, obs.values), (rows, cols, values))
    )
    assert not obs.values.flags.writeable and values.flags.writeable  # the caller's stay writable
    same = Observations.from_triplets(rows, cols, values, (3, 3))
    assert not np.shares_memory(same.values, values)
    for a, b in zip((obs.rows, obs.cols, obs.values), (same.rows, same.cols, same.values)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "rows, cols",
    [([1, 0, 2], [0, 1, 0]), ([0, 0, 1], [2, 1, 0]), ([0, 0, 1], [1, 1, 0])],
    ids=["rows unsorted", "cols unsorted in a row", "a repeat"],
)
def test_copy_false_copies_what_is_not_sorted_row_major(rows, cols):
    values = np.array([1.0, 2.0, 3.0])
    obs = Observations.from_triplets(
        np.array(rows), np.array(cols), values, (3, 3), copy=False, duplicates="mean"
    )
    assert not np.shares_memory(obs.values, values)
    expected = Observations.from_triplets(rows, cols, values, (3, 3), duplicates="mean")
    assert np.array_equal(obs.values, expected.values) and np.array_equal(obs.cols, expected.cols)


def test_copy_must_be_a_bool():
    with pytest.raises(TypeError, match="'copy' parameter"):
        Observations.from_triplets([0], [0], [1.0], copy="no")
