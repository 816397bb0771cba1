"""Inputs of DeepMatrixCompletion that issue 13 found mishandled, now accepted.

The refused ones are rows of the tables in tests/impute/test_malformed_impute.py
(docs/input-validation.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from malformed import M, X

from dmc import DeepMatrixCompletion

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit(data, rank=2):
    return DeepMatrixCompletion(rank=rank, random_state=0).fit(data)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_values_far_from_unit_scale_below_the_limit_fit_and_transform(scale):
    model = _fit(scale * X)
    out = model.transform(scale * X[:10])
    assert np.isfinite(out).all()
    assert np.isfinite(model.completed_).all() and np.isfinite(model.column_means_).all()
    unit = _fit(X)
    missing = np.isnan(X[:10])
    want = unit.transform(X[:10])[missing]
    assert np.allclose(out[missing] / scale, want, rtol=1e-4, atol=1e-6 * np.abs(M).max())
    score = model.score(scale * X)  # its squared errors neither overflow nor underflow
    # both fits stop at tol, with held-out errors of ~2.5e-6: alike to a few percent
    assert score < 0 and score / scale == pytest.approx(unit.score(X), rel=5e-2)


def test_a_masked_array_reads_its_mask_as_missing():
    masked = np.ma.masked_array(np.nan_to_num(X, nan=1e6), mask=np.isnan(X))
    a, b = _fit(masked), _fit(X)
    assert np.array_equal(a.completed_, b.completed_)
    assert np.array_equal(a.transform(masked[:5]), b.transform(X[:5]))


def test_pd_na_is_missing_in_object_columns_as_in_nullable_ones():
    pd = pytest.importorskip("pandas")
    Z = X[:, :4]
    frames = [
        pd.DataFrame({c: pd.Series(list(Z[:, c]), dtype=dtype) for c in range(4)}).mask(
            np.isnan(Z), pd.NA
        )
        for dtype in (object, "Float64")
    ]
    assert frames[0].dtypes.iloc[0] == np.dtype(object) and frames[0].isna().values.any()
    fits = [_fit(frame, rank=1) for frame in frames]
    reference = _fit(Z, rank=1)
    for model in fits:
        assert np.array_equal(model.completed_, reference.completed_)
