"""Inputs of Observations and dmc.complete that issue 13 found mishandled, now accepted.

The refused ones are rows of the tables in tests/core/test_malformed_core.py
(docs/input-validation.md); these are the policies: a tensor that requires
grad, a numpy masked array, pd.NA in an object array, a cpu device with an
index, the largest depth.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from malformed import X

import dmc
from dmc import Observations

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _same(a: Observations, b: Observations):
    assert a.shape == b.shape
    for x, y in ((a.rows, b.rows), (a.cols, b.cols), (a.values, b.values)):
        assert np.array_equal(x, y)


def test_a_tensor_that_requires_grad_is_read_detached():
    dense = torch.tensor(X, requires_grad=True)
    _same(Observations.from_any(dense), Observations.from_dense(X))
    values = torch.tensor([1.0, 2.0], requires_grad=True)
    rows = torch.tensor([0.0, 1.0], requires_grad=True)  # integral float indices
    obs = Observations.from_triplets(rows, [1, 0], values)
    assert obs.values.tolist() == [1.0, 2.0] and obs.rows.tolist() == [0, 1]
    assert dense.requires_grad and dense.grad is None  # the input is left as it was


def test_the_mask_of_a_masked_array_marks_missing_entries():
    masked = np.ma.masked_array(np.nan_to_num(X, nan=1e6), mask=np.isnan(X))
    _same(Observations.from_dense(masked), Observations.from_dense(X))
    _same(Observations.from_any(masked), Observations.from_dense(X))
    ints = np.ma.masked_array([[1, 2], [3, 4]], mask=[[False, True], [False, False]])
    assert Observations.from_dense(ints).values.tolist() == [1.0, 3.0, 4.0]
    a = dmc.complete(masked, rank=2, max_iter=3, random_state=0).to_dense()
    b = dmc.complete(X, rank=2, max_iter=3, random_state=0).to_dense()
    assert np.array_equal(a, b)  # the poisoned masked entries change nothing


def test_a_masked_triplet_value_is_missing_and_refused_like_nan():
    values = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(ValueError, match=r"'values' parameter must hold finite.*Got nan"):
        Observations.from_triplets([0, 1], [0, 0], values)


def test_pd_na_in_an_object_array_is_missing_like_none_and_nan():
    pd = pytest.importorskip("pandas")
    with_na = Observations.from_dense(np.array([[1.0, pd.NA], [pd.NA, 4]], dtype=object))
    with_none = Observations.from_dense(np.array([[1.0, None], [None, 4]], dtype=object))
    _same(with_na, with_none)
    assert with_na.n_observed == 2


def test_a_cpu_device_with_an_index_is_the_cpu():
    a = dmc.complete(X, rank=2, max_iter=3, random_state=0, device=torch.device("cpu", 0))
    b = dmc.complete(X, rank=2, max_iter=3, random_state=0, device="cpu")
    assert np.array_equal(a.to_dense(), b.to_dense())


def test_the_largest_depth_is_accepted():
    result = dmc.complete(X, rank=2, depth=100, max_iter=1, random_state=0)
    assert result.n_iter == 1


def test_rmse_of_values_near_the_float64_limits_is_finite():
    assert dmc.rmse([3e300, 0.0], [0.0, 4e300]) == pytest.approx(np.sqrt(12.5) * 1e300)
    assert dmc.rmse([3e-300, 0.0], [0.0, 4e-300]) == pytest.approx(np.sqrt(12.5) * 1e-300)
