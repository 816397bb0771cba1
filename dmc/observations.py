"""The data layer: a validated set of observed entries of an m x n matrix."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Observations"]


@dataclass(frozen=True, eq=False)
class Observations:
    """Observed entries of an ``m x n`` matrix, validated once.

    Everything downstream of the user's input (models, the training loop,
    the estimators) speaks only this container. Build it with one of the
    constructors; they check indices, values and shape and raise a
    ``ValueError`` or ``TypeError`` that names the offending argument.

    Parameters
    ----------
    rows, cols : ndarray of int64, shape (n_observed,)
        Row and column index of each observed entry.
    values : ndarray of float64, shape (n_observed,)
        The observed values, all finite.
    shape : tuple of int
        ``(m, n)``, the size of the full matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from dmc import Observations
    >>> X = np.array([[1.0, np.nan], [np.nan, 4.0]])
    >>> obs = Observations.from_dense(X)
    >>> obs.shape, obs.n_observed
    ((2, 2), 2)
    >>> obs.rows, obs.cols, obs.values
    (array([0, 1]), array([0, 1]), array([1., 4.]))
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]

    # -- constructors -------------------------------------------------------

    @classmethod
    def from_dense(cls, X) -> Observations:
        """Observed entries of a dense array; NaN marks a missing entry.

        ``inf`` is refused (it is neither missing nor a usable value).
        """
        X = _as_real_array(X, "X")
        if X.ndim != 2:
            raise ValueError(
                f"The 'X' parameter must be a 2-D array. Got an array with {X.ndim} "
                f"dimension(s) and shape {X.shape} instead."
            )
        if np.isinf(X).any():
            i, j = np.argwhere(np.isinf(X))[0]
            raise ValueError(
                "The 'X' parameter must hold finite values or NaN (for missing "
                f"entries). Got {X[i, j]} at position ({i}, {j}) instead."
            )
        mask = ~np.isnan(X)
        rows, cols = np.nonzero(mask)
        return cls._validated(rows, cols, X[rows, cols], X.shape)

    @classmethod
    def from_sparse(cls, X) -> Observations:
        """Observed entries of a scipy.sparse matrix: its *stored* entries.

        Explicitly stored zeros are observations with value 0; entries that are
        not stored are missing (not zero). Duplicate stored entries are refused.
        """
        if not (sp.issparse(X)):
            raise TypeError(
                "The 'X' parameter must be a scipy.sparse matrix or array. "
                f"Got {type(X).__name__} instead."
            )
        coo = sp.coo_array(X)
        if coo.ndim != 2:
            raise ValueError(f"The 'X' parameter must be 2-D. Got shape {coo.shape} instead.")
        values = _as_real_array(coo.data, "X")
        return cls._validated(coo.row, coo.col, values, coo.shape)

    @classmethod
    def from_triplets(cls, rows, cols, values, shape=None) -> Observations:
        """Observed entries from ``(rows, cols, values)``.

        ``shape`` defaults to ``(max(rows) + 1, max(cols) + 1)``.
        """
        rows = _as_index_array(rows, "rows")
        cols = _as_index_array(cols, "cols")
        values = _as_real_array(values, "values")
        if values.ndim != 1:
            raise ValueError(
                f"The 'values' parameter must be 1-D. Got shape {values.shape} instead."
            )
        if not (len(rows) == len(cols) == len(values)):
            raise ValueError(
                "The 'rows', 'cols' and 'values' parameters must have the same length. "
                f"Got lengths {len(rows)}, {len(cols)} and {len(values)} instead."
            )
        if shape is None:
            if len(rows) == 0:
                raise ValueError(
                    "The 'shape' parameter is required when no entries are given. Got None."
                )
            shape = (int(rows.max()) + 1, int(cols.max()) + 1)
        return cls._validated(rows, cols, values, shape)

    @classmethod
    def from_any(cls, X) -> Observations:
        """Dispatch on the type of ``X``: Observations, sparse, (rows, cols, values) or dense."""
        if isinstance(X, Observations):
            return X
        if sp.issparse(X):
            return cls.from_sparse(X)
        if isinstance(X, tuple) and len(X) in (3, 4):
            return cls.from_triplets(*X)
        return cls.from_dense(X)

    @classmethod
    def _validated(cls, rows, cols, values, shape) -> Observations:
        shape = _check_shape(shape)
        rows = _as_index_array(rows, "rows")
        cols = _as_index_array(cols, "cols")
        values = np.ascontiguousarray(values, dtype=np.float64)
        for name, idx, size in (("rows", rows, shape[0]), ("cols", cols, shape[1])):
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                bad = idx[(idx < 0) | (idx >= size)][0]
                raise ValueError(
                    f"The {name!r} parameter must hold indices in [0, {size - 1}] "
                    f"for a matrix of shape {shape}. Got {bad} instead."
                )
        if not np.isfinite(values).all():
            bad = values[~np.isfinite(values)][0]
            raise ValueError(
                "The 'values' parameter must hold finite numbers only (observed entries "
                f"cannot be NaN or inf). Got {bad} instead."
            )
        if rows.size == 0:
            raise ValueError(
                "The observations must contain at least one observed entry. Got none "
                f"for a matrix of shape {shape}."
            )
        flat = rows * shape[1] + cols
        order = np.argsort(flat, kind="stable")
        flat = flat[order]
        dup = np.flatnonzero(flat[1:] == flat[:-1])
        if dup.size:
            i, j = rows[order[dup[0]]], cols[order[dup[0]]]
            raise ValueError(
                "The observations must not repeat an entry: each (row, col) pair may be "
                f"observed once. Got ({i}, {j}) more than once ({dup.size} repeats)."
            )
        # Sorted row-major order: cache friendly gathers and deterministic sums.
        obs = cls(
            rows=np.ascontiguousarray(rows[order]),
            cols=np.ascontiguousarray(cols[order]),
            values=np.ascontiguousarray(values[order]),
            shape=shape,
        )
        for a in (obs.rows, obs.cols, obs.values):
            a.setflags(write=False)
        return obs

    # -- views ---------------------------------------------------------------

    @property
    def n_observed(self) -> int:
        """Number of observed entries, |Ω|."""
        return int(self.values.size)

    @property
    def fraction(self) -> float:
        """Observed fraction |Ω| / (m n)."""
        return self.n_observed / (self.shape[0] * self.shape[1])

    def oversampling(self, rank: int) -> float:
        """Oversampling ratio ρ = |Ω| / (r (m + n - r))."""
        m, n = self.shape
        return self.n_observed / (rank * (m + n - rank))

    def to_sparse(self) -> sp.csr_array:
        """The observed entries as a CSR array (missing entries not stored)."""
        return sp.csr_array((self.values, (self.rows, self.cols)), shape=self.shape)

    def mask(self) -> np.ndarray:
        """Dense boolean mask of observed entries (allocates m x n booleans)."""
        mask = np.zeros(self.shape, dtype=bool)
        mask[self.rows, self.cols] = True
        return mask

    def to_dense(self) -> np.ndarray:
        """Dense m x n array with NaN at the missing entries."""
        X = np.full(self.shape, np.nan)
        X[self.rows, self.cols] = self.values
        return X

    def __repr__(self) -> str:
        m, n = self.shape
        return (
            f"Observations(shape=({m}, {n}), n_observed={self.n_observed}, "
            f"fraction={self.fraction:.3g})"
        )


def _check_shape(shape) -> tuple[int, int]:
    ok = (
        isinstance(shape, (tuple, list))
        and len(shape) == 2
        and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)
    )
    if not ok:
        raise TypeError(f"The 'shape' parameter must be a pair of ints. Got {shape!r} instead.")
    m, n = int(shape[0]), int(shape[1])
    if m < 1 or n < 1:
        raise ValueError(
            f"The 'shape' parameter must be a pair of positive ints. Got {shape!r} instead."
        )
    return m, n


def _as_real_array(X, name: str) -> np.ndarray:
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas
        X = X.to_numpy(dtype=float, na_value=np.nan)
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"The {name!r} parameter must be array-like of real numbers. "
            f"Got {type(X).__name__} that numpy cannot convert ({exc})."
        ) from None
    if arr.dtype.kind in "c":
        raise TypeError(
            f"The {name!r} parameter must hold real numbers. Got complex dtype {arr.dtype} instead."
        )
    if arr.dtype.kind not in "fiub":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"The {name!r} parameter must hold real numbers. Got dtype {arr.dtype} "
                "that cannot be converted to float."
            ) from None
    if arr.size == 0:
        raise ValueError(f"The {name!r} parameter must not be empty. Got shape {arr.shape}.")
    return arr.astype(np.float64, copy=False)


def _as_index_array(idx, name: str) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1:
        raise ValueError(f"The {name!r} parameter must be 1-D. Got shape {arr.shape} instead.")
    if arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
            raise ValueError(
                f"The {name!r} parameter must hold integer indices. Got {bad} instead."
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"The {name!r} parameter holds indices that overflow int64.")
    elif arr.dtype.kind not in "iu":
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        raise TypeError(
            f"The {name!r} parameter must hold integer indices. Got dtype {arr.dtype} instead."
        )
    return arr.astype(np.int64, copy=False)
