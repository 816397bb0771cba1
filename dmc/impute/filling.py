"""The missing entries of :class:`~dmc.impute.estimator.DeepMatrixCompletion`.

What the estimator reads as missing (``missing_values``), how it fills the
missing entries of a row (ridge fold-in against the fitted column space, within
per-feature bounds) and what ``transform`` returns around the filled matrix:
the columns with no observed entry in ``fit`` dropped unless
``keep_empty_features``, and scikit-learn's ``MissingIndicator`` columns
appended when ``add_indicator``, both as scikit-learn's imputers do
(sklearn/impute/_base.py, ``_BaseImputer`` and ``SimpleImputer.transform``).
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.impute import MissingIndicator
from sklearn.utils.validation import check_array

from .._validation import as_plain_input
from ..core.linalg import ridge_fold_in
from .params import check_dense_X

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

__all__ = [
    "as_nan",
    "clipped",
    "fill",
    "fit_indicator",
    "indicator_from_features",
    "output",
    "output_names",
    "validate_input",
]

# scikit-learn 1.6 renamed check_array's force_all_finite to ensure_all_finite
_FINITE_KW = (
    "ensure_all_finite"
    if "ensure_all_finite" in inspect.signature(check_array).parameters
    else "force_all_finite"
)


# -- reading the input ------------------------------------------------------------------


def validate_input(estimator: Any, X: Any, *, reset: bool) -> np.ndarray:
    """``X`` as a dense float32 or float64 array, NaN allowed, checked by scikit-learn
    (``n_features_in_``, feature names) for ``estimator``; sparse input refused."""
    X = as_plain_input(X)  # masked entries missing, tensors detached, pd.NA as NaN
    if sp.issparse(X):
        raise TypeError(
            "DeepMatrixCompletion does not accept scipy.sparse input for 'X': "
            "scikit-learn reads unstored sparse entries as zeros, dmc as missing. Pass "
            "a dense array with NaN for missing entries, or complete the sparse "
            "observations with dmc.complete(X, rank=...) (dmc.Observations.from_sparse)."
        )
    check_dense_X(X)
    kwargs = {"dtype": [np.float64, np.float32], _FINITE_KW: "allow-nan", "reset": reset}
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, X, **kwargs)
    return estimator._validate_data(X, **kwargs)  # pragma: no cover - older scikit-learn


def as_nan(X: np.ndarray, missing_values: float) -> np.ndarray:
    """``X`` with its ``missing_values`` entries as NaN (``X`` itself when that is NaN).

    As in scikit-learn's imputers, a NaN in ``X`` when ``missing_values`` is a
    number is refused: it is neither an observed value nor a missing one.
    """
    if math.isnan(missing_values):
        return X
    nan = np.isnan(X)
    if nan.any():
        i, j = np.argwhere(nan)[0]
        raise ValueError(
            f"The 'X' parameter of DeepMatrixCompletion must not hold NaN when "
            f"missing_values={missing_values:g}: NaN is then neither observed nor missing, "
            f"as in scikit-learn's imputers. Got NaN at row {i}, column {j} instead; "
            f"replace it by {missing_values:g}, or set missing_values=np.nan."
        )
    return np.where(X == missing_values, np.nan, X).astype(X.dtype, copy=False)


# -- filling ------------------------------------------------------------------------------


def clipped(values: Any, low: np.ndarray | None, high: np.ndarray | None) -> Any:
    """``values`` (rows of all the features, or one row) within the per-feature bounds;
    unchanged when there are none (None, or all infinite)."""
    if low is None or high is None or (np.isneginf(low).all() and np.isposinf(high).all()):
        return values
    return np.clip(values, low, high)


def fill(X: np.ndarray, model: Any) -> np.ndarray:
    """``X`` (NaN for missing) with its missing entries filled by the fitted ``model``.

    Every feature of ``X`` comes back; observed entries unchanged. A row with no
    observed entry (in a column observed in ``fit``) gets ``column_means_``, with
    a warning; the others are folded in (see the estimator's Notes).
    """
    low, high = getattr(model, "_min_value", None), getattr(model, "_max_value", None)
    out = np.array(X, dtype=X.dtype, copy=True)
    observed = ~np.isnan(X)
    has_missing = ~observed.all(axis=1)
    if not has_missing.any():
        return out
    # columns with no observed entry in fit have no component (see fit): their
    # entries are filled with their mean, and carry nothing to fold in
    unseen = ~model.components_.any(axis=0) if model.n_components_ else np.zeros(X.shape[1], bool)
    empty = ~(observed & ~unseen).any(axis=1)
    means = clipped(model.column_means_, low, high)
    if empty.any():
        warnings.warn(
            f"{int(empty.sum())} row(s) of 'X' have no observed entry (the first is row "
            f"{int(np.flatnonzero(empty)[0])})"
            f"{' in a column observed in fit' if unseen.any() else ''}; they are filled "
            "with the column means of the fitted matrix (column_means_).",
            UserWarning,
            stacklevel=4,
        )
        out[empty] = np.where(observed[empty], X[empty], means)
    rows = np.flatnonzero(has_missing & ~empty)
    if rows.size:
        filled = clipped(fold_in(X[rows], observed[rows], model), low, high)
        filled[:, unseen] = means[unseen]
        out[rows] = np.where(observed[rows], X[rows], filled)
    return out


def fold_in(X: np.ndarray, observed: np.ndarray, model: Any) -> np.ndarray:
    """Ridge fold-in of rows ``X`` (each with an observed entry) against ``components_``."""
    C = model.components_.T.astype(np.float64)  # n x k
    if C.shape[1] == 0:
        return np.zeros(X.shape)
    rows, cols = np.nonzero(observed)
    # files of dmc before issue 14 hold neither (no standardisation)
    shift = getattr(model, "_shift", np.zeros(X.shape[1]))
    scale = getattr(model, "_scale", np.ones(X.shape[1]))
    latent = ridge_fold_in(
        C,
        model._penalty,
        rows,
        cols,
        (X[rows, cols] - shift[cols]) / scale[cols],
        X.shape[0],
        accumulate="mask",
        unit=getattr(model, "_penalty_unit", 1.0),  # older files: _penalty = α s_max²
    )
    return (latent @ C.T) * scale + shift


# -- the output of transform: empty features, the missing indicator ------------------------


def fit_indicator(mask: np.ndarray, missing_values: float, add: bool) -> MissingIndicator | None:
    """scikit-learn's ``MissingIndicator`` fitted on the missing-entry ``mask`` of the
    training data, as ``_BaseImputer._fit_indicator`` fits it; None unless ``add``."""
    if not add:
        return None
    indicator = MissingIndicator(missing_values=missing_values, error_on_new=False)
    # the mask is given, not recomputed (precomputed=True), as scikit-learn's imputers do
    indicator._fit(mask, precomputed=True)
    return indicator


def indicator_from_features(
    features: np.ndarray, n_features: int, missing_values: float
) -> MissingIndicator:
    """The fitted indicator whose ``features_`` are ``features`` (a loaded file keeps only
    them): fitted on one row that is missing exactly there."""
    mask = np.zeros((1, n_features), dtype=bool)
    mask[0, features] = True
    indicator = fit_indicator(mask, missing_values, True)
    assert indicator is not None
    return indicator


def output(
    filled: np.ndarray,
    mask: np.ndarray,
    dropped: np.ndarray | None,
    indicator: MissingIndicator | None,
) -> np.ndarray:
    """What ``transform`` returns: the ``filled`` matrix without the ``dropped`` columns,
    then the indicator's columns for the missing-entry ``mask`` of the input."""
    if dropped is not None and dropped.any():
        filled = filled[:, ~dropped]
    if indicator is None:
        return filled
    return np.hstack((filled, indicator.transform(mask)))


def output_names(
    names: np.ndarray, dropped: np.ndarray | None, indicator: MissingIndicator | None
) -> np.ndarray:
    """The names of :func:`output`'s columns, given the input feature ``names``."""
    kept = names if dropped is None else names[~dropped]
    if indicator is None:
        return kept
    return np.concatenate([kept, indicator.get_feature_names_out(names)])


def warn_empty(observed: np.ndarray, keep_empty_features: bool) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of a training matrix with an observed entry, with a
    ``UserWarning`` for those without (they are left out of the training)."""
    keep_cols = observed.any(axis=0)
    empty_cols = np.flatnonzero(~keep_cols)
    if empty_cols.size:
        kept = "filled with 0 (keep_empty_features=True)"
        dropped = "dropped from the output of transform (keep_empty_features=False)"
        warnings.warn(
            f"{empty_cols.size} column(s) of 'X' have no observed entry (starting with "
            f"{empty_cols[:5].tolist()}); they are left out of the training and "
            f"{kept if keep_empty_features else dropped}.",
            UserWarning,
            stacklevel=4,
        )
    keep_rows = observed.any(axis=1)
    n_empty = int(observed.shape[0] - keep_rows.sum())
    if n_empty:
        warnings.warn(
            f"{n_empty} row(s) of 'X' have no observed entry (the first is row "
            f"{int(np.flatnonzero(~keep_rows)[0])}); they are left out of the training "
            "and filled with the column means.",
            UserWarning,
            stacklevel=4,
        )
    return np.asarray(keep_rows), np.asarray(keep_cols)
