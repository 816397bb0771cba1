"""The data layer: a validated set of observed entries of an m x n matrix."""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike

from .._validation import as_plain_input, as_real_array, check_bool, check_choice
from .memory import check_dense_fits_in_memory

__all__ = ["DUPLICATES", "Observations", "merge_repeats"]

logger = logging.getLogger(__name__)

#: policies for an entry given more than once (the ``duplicates`` parameter of
#: :class:`Observations` and of :class:`dmc.RatingsModel`): refuse, average, or
#: keep the first or the last in input order. Values are never summed.
DUPLICATES = ("raise", "mean", "first", "last")

_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class Observations:
    """Observed entries of an ``m x n`` matrix, validated once.

    Everything downstream of the user's input (models, the training loop,
    the estimators) speaks only this container. Build it with one of the
    constructors; they check indices, values and shape and raise a
    ``ValueError`` or ``TypeError`` that names the offending argument
    (docs/input-validation.md has the table of cases).

    An entry given more than once is refused unless the constructor's
    ``duplicates`` parameter says how to merge the repeats: "mean" averages
    them, "first" and "last" keep one in input order. Repeats are never
    summed (scipy sums them when converting a COO matrix; dmc reads the
    stored entries before any conversion).

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
    def from_dense(cls, X: Any) -> Observations:
        """Observed entries of a dense array; NaN marks a missing entry.

        ``inf`` is refused (it is neither missing nor a usable value); so are
        complex, boolean (a mask, not values) and string arrays. In an object
        array (or a DataFrame's object column), None, ``pd.NA`` and ``NaT``
        mark a missing entry too, and so does a masked entry of a numpy masked
        array. A tensor that requires grad is read detached.
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
        return cls._validated(rows, cols, X[rows, cols], X.shape, values_name="X")

    @classmethod
    def from_sparse(cls, X: Any, *, duplicates: str = "raise") -> Observations:
        """Observed entries of a scipy.sparse matrix: its *stored* entries.

        Explicitly stored zeros are observations with value 0; entries that are
        not stored are missing (not zero). Duplicate stored entries (a COO
        matrix, or a CSR/CSC one not in canonical form, may hold them) follow
        ``duplicates``: "raise" (default), "mean", "first" or "last"; they are
        read before any conversion that would sum them.
        """
        duplicates = check_choice(duplicates, "duplicates", DUPLICATES)
        if not (sp.issparse(X)):
            raise TypeError(
                "The 'X' parameter must be a scipy.sparse matrix or array. "
                f"Got {type(X).__name__} instead."
            )
        if len(X.shape) != 2:
            raise ValueError(f"The 'X' parameter must be 2-D. Got shape {X.shape} instead.")
        coo = sp.coo_array(X)  # keeps repeated entries: COO and CSR -> COO do not sum
        if coo.nnz == 0:
            raise ValueError(
                "The 'X' parameter must store at least one entry (its stored entries are "
                f"the observations). Got a {X.shape[0]} x {X.shape[1]} sparse matrix with none."
            )
        values = _as_real_array(coo.data, "X")
        return cls._validated(coo.row, coo.col, values, coo.shape, duplicates, "X")

    @classmethod
    def from_triplets(
        cls,
        rows: ArrayLike,
        cols: ArrayLike,
        values: ArrayLike,
        shape: tuple[int, int] | None = None,
        *,
        duplicates: str = "raise",
        copy: bool = True,
    ) -> Observations:
        """Observed entries from ``(rows, cols, values)``.

        ``shape`` defaults to ``(max(rows) + 1, max(cols) + 1)``. Indices must
        be integers in range: integral floats (2.0) are accepted, 2.5, NaN,
        negative and out-of-range indices are refused, and so are indices
        beyond int64. A (row, col) pair given more than once follows
        ``duplicates``: "raise" (default), "mean", "first" or "last".

        ``copy=False`` saves memory at scale: int64 indices and float64 values
        already sorted row-major without repeats are kept as they are, as
        read-only views (the caller must not change them afterwards); any other
        input is copied as with ``copy=True``.

        Examples
        --------
        >>> from dmc import Observations
        >>> rows, cols, values = [0, 0, 1], [1, 1, 0], [2.0, 4.0, 1.0]
        >>> obs = Observations.from_triplets(rows, cols, values, duplicates="mean")
        >>> obs.values
        array([3., 1.])
        """
        duplicates = check_choice(duplicates, "duplicates", DUPLICATES)
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
            if rows.min() < 0 or cols.min() < 0:
                name, idx = ("rows", rows) if rows.min() < 0 else ("cols", cols)
                raise ValueError(
                    f"The {name!r} parameter must hold non-negative indices. "
                    f"Got {idx.min()} instead."
                )
            shape = (int(rows.max()) + 1, int(cols.max()) + 1)
        return cls._validated(rows, cols, values, shape, duplicates, copy=check_bool(copy, "copy"))

    @classmethod
    def from_any(cls, X: Any, *, duplicates: str = "raise") -> Observations:
        """Dispatch on the type of ``X``: Observations, sparse, (rows, cols, values) or dense.

        ``duplicates`` applies to sparse and triplet input (a dense array
        cannot repeat an entry). A tuple is always triplets: one of another
        length is refused, never read as a dense matrix.
        """
        if isinstance(X, Observations):
            return X
        if X is None:
            raise TypeError(
                "The 'X' parameter must be a dense array with NaN for missing entries, a "
                "scipy.sparse matrix, a (rows, cols, values[, shape]) tuple or Observations. "
                "Got None instead."
            )
        if sp.issparse(X):
            return cls.from_sparse(X, duplicates=duplicates)
        if isinstance(X, tuple):  # always triplets: ([0, 1], [0, 1]) is not a matrix
            if len(X) not in (3, 4):
                raise TypeError(
                    "The 'X' parameter, given as a tuple, must be (rows, cols, values[, "
                    "shape]): a (rows, cols, values[, shape]) tuple has 3 or 4 elements. Got "
                    f"a tuple of {len(X)} instead; pass a dense matrix as an array or a list."
                )
            return cls.from_triplets(*X, duplicates=duplicates)
        return cls.from_dense(X)

    @classmethod
    def _validated(
        cls, rows, cols, values, shape, duplicates="raise", values_name="values", copy=True
    ) -> Observations:
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
            t = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(
                f"The {values_name!r} parameter must hold finite numbers only (observed "
                f"entries cannot be NaN or inf). Got {values[t]} at entry ({rows[t]}, "
                f"{cols[t]}) instead."
            )
        if rows.size == 0:
            raise ValueError(
                f"The {values_name!r} parameter must hold at least one observed entry. Got "
                f"none for a matrix of shape {shape}."
            )
        if not copy and _sorted_row_major(rows, cols):
            # the caller hands the arrays over: read-only views, no copy
            rows, cols, values = (np.ascontiguousarray(a).view() for a in (rows, cols, values))
        else:
            if shape[0] * shape[1] <= _INT64_MAX:
                order = np.argsort(rows * shape[1] + cols, kind="stable")
            else:  # row-major keys would overflow int64
                order = np.lexsort((cols, rows))
            rows, cols, values = rows[order], cols[order], values[order]
            del order
            repeat = (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])
            if repeat.any():
                rows, cols, values = _merge_repeats(rows, cols, values, repeat, duplicates)
        # Sorted row-major order: cache friendly gathers and deterministic sums.
        obs = cls(
            rows=np.ascontiguousarray(rows),
            cols=np.ascontiguousarray(cols),
            values=np.ascontiguousarray(values),
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
        check_dense_fits_in_memory(*self.shape, 1, torch.device("cpu"), "Observations.mask()")
        mask = np.zeros(self.shape, dtype=bool)
        mask[self.rows, self.cols] = True
        return mask

    def to_dense(self) -> np.ndarray:
        """Dense m x n array with NaN at the missing entries.

        A shape too large for memory raises ``ProblemTooLargeError`` first.
        """
        check_dense_fits_in_memory(*self.shape, 8, torch.device("cpu"), "Observations.to_dense()")
        X = np.full(self.shape, np.nan)
        X[self.rows, self.cols] = self.values
        return X

    def __repr__(self) -> str:
        m, n = self.shape
        return (
            f"Observations(shape=({m}, {n}), n_observed={self.n_observed}, "
            f"fraction={self.fraction:.3g})"
        )


def _merge_repeats(rows, cols, values, repeat, policy):
    """Merge entries of sorted (stably: input order within a pair) triplets that repeat."""

    def message(t, count, n_dup):
        return (
            "The observations must not repeat an entry: each (row, col) pair may be "
            f"observed once, or the 'duplicates' parameter must say how to merge repeats "
            f"('mean', 'first' or 'last'). Got ({rows[t]}, {cols[t]}) more than once ({count} "
            f"times; {n_dup} repeats in all) with duplicates='raise'."
        )

    starts, merged = merge_repeats(values, repeat, policy, message)
    logger.info("merged %d repeated entries (duplicates=%r)", int(repeat.sum()), policy)
    return rows[starts], cols[starts], merged


def merge_repeats(values, repeat, policy, message, *, summation="pairwise"):
    """Apply a :data:`DUPLICATES` policy to runs of values that share a key.

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
        Sorted stably by their key: the entries of a key are adjacent, in
        input order.
    repeat : ndarray of bool, shape (n - 1,)
        ``repeat[t]``: entry ``t + 1`` has the key of entry ``t``.
    policy : {"raise", "mean", "first", "last"}
    message : callable ``(t, count, n_dup) -> str``
        The message of the ``ValueError`` of ``policy="raise"``, given the
        first repeated entry ``t`` (its key is the smallest repeated one), how
        many times its key occurs, and the number of repeats in all.
    summation : {"pairwise", "sequential"}, default "pairwise"
        How "mean" adds a run: ``np.add.reduceat`` (numpy's pairwise
        summation) or ``np.bincount`` (one after the other, in input order).
        They agree to rounding, not bit for bit, from 3 values of one key on;
        :class:`Observations` uses the first, the ratings model the second.

    Returns
    -------
    starts : ndarray of int64
        Index of the first entry of each key: ``keys[starts]`` are the merged
        keys.
    merged : ndarray of float64
        The merged value of each key.

    Examples
    --------
    >>> import numpy as np
    >>> keys, values = np.array([3, 3, 3, 5]), np.array([1.0, 2.0, 6.0, 4.0])
    >>> starts, merged = merge_repeats(values, keys[1:] == keys[:-1], "mean", None)
    >>> keys[starts].tolist(), merged.tolist()
    ([3, 5], [3.0, 4.0])
    >>> merge_repeats(values, keys[1:] == keys[:-1], "last", None)[1].tolist()
    [6.0, 4.0]
    """
    n_dup = int(repeat.sum())
    if policy == "raise" and n_dup:
        t = int(np.flatnonzero(repeat)[0])
        count = 2 + int(np.argmin(np.append(repeat[t + 1 :], False)))
        raise ValueError(message(t, count, n_dup))
    starts = np.flatnonzero(np.concatenate([[True], ~repeat]))
    counts = np.diff(np.append(starts, values.size))
    if policy == "mean":
        if summation == "pairwise":
            merged = np.add.reduceat(values, starts) / counts
        else:
            run = np.repeat(np.arange(starts.size), counts)
            merged = np.bincount(run, weights=values) / counts
    elif policy == "first":
        merged = values[starts]
    else:  # last
        merged = values[starts + counts - 1]
    return starts, merged


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
    arr = as_real_array(X, name)
    if arr.size == 0:
        raise ValueError(f"The {name!r} parameter must not be empty. Got shape {arr.shape}.")
    return arr


def _sorted_row_major(rows: np.ndarray, cols: np.ndarray) -> bool:
    """Whether ``(rows, cols)`` are in strictly increasing row-major order (no repeats)."""
    step = 1 << 22  # in blocks: no |Ω|-sized temporaries
    for s in range(0, rows.size, step):
        r, c = rows[s : s + step + 1], cols[s : s + step + 1]
        dr = r[1:] - r[:-1]
        if (dr < 0).any() or ((dr == 0) & (c[1:] <= c[:-1])).any():
            return False
    return True


def _as_index_array(idx, name: str) -> np.ndarray:
    if idx is None:
        raise TypeError(f"The {name!r} parameter must be a 1-D array of integer indices. Got None.")
    idx = as_plain_input(idx)  # a tensor that requires grad, a masked array (NaN: refused)
    try:
        arr = np.asarray(idx)
    except (TypeError, ValueError) as exc:  # ragged
        raise TypeError(
            f"The {name!r} parameter must be a 1-D array of integer indices. Got "
            f"{type(idx).__name__} that numpy cannot convert ({exc})."
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"The {name!r} parameter must be 1-D. Got shape {arr.shape} instead.")
    if arr.dtype.kind == "O" and arr.size:
        ints = all(
            isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
            for v in arr.tolist()
        )
        if ints:  # Python ints, maybe beyond int64
            big = [v for v in arr.tolist() if not -_INT64_MAX - 1 <= v <= _INT64_MAX]
            if big:
                raise ValueError(
                    f"The {name!r} parameter must hold indices that fit in int64 (below "
                    f"2**63). Got {big[0]} instead."
                )
            arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
            bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
            raise ValueError(
                f"The {name!r} parameter must hold integer indices. Got {bad} instead."
            )
        if arr.size and np.abs(arr).max() >= 2.0**63:
            raise ValueError(
                f"The {name!r} parameter must hold indices that fit in int64 (below 2**63). "
                f"Got {np.abs(arr).max()} instead."
            )
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "u" and arr.size and arr.max() > _INT64_MAX:
        raise ValueError(
            f"The {name!r} parameter must hold indices that fit in int64 (below 2**63). "
            f"Got {arr.max()} instead."
        )
    elif arr.dtype.kind not in "iu":
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        raise TypeError(
            f"The {name!r} parameter must hold integer indices. Got dtype {arr.dtype} instead."
        )
    return arr.astype(np.int64, copy=False)
