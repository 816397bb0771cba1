"""Top-k lists: the best-scored items of each user, in long form."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .seen import SeenItems

__all__ = ["Recommendations", "as_matrix", "positions_in", "top_k_lists"]

#: entries of the dense block of scores ranked at once
_BLOCK_ENTRIES = 1 << 22


class Recommendations(NamedTuple):
    """Top-k lists of many users in long form: one row per (user, recommended item).

    All fields are 1-D arrays of equal length, ordered by the input users and,
    within a user, by ``rank`` (1 = best). ``pandas.DataFrame(rec._asdict())``
    gives a table.
    """

    user: np.ndarray
    item: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    cold: np.ndarray


def top_k_lists(
    u: np.ndarray,
    k: int,
    n_items: int,
    scores_of: Callable[[np.ndarray], np.ndarray],
    seen: SeenItems | None = None,
    *,
    columns: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` best items of each user index of ``u``, in long form.

    Parameters
    ----------
    u : ndarray of int64
        User indices, -1 for unknown users.
    k : int
        At least 1; at most ``min(k, n_candidates)`` items come back per user.
    n_items : int
    scores_of : callable
        ``scores_of(idx)``: the ``(idx.size, n_candidates)`` scores of the users
        ``idx`` for the candidate items (all ``n_items``, or ``columns``).
    seen : SeenItems or None
        Items to leave out for each known user (their score becomes -inf).
    columns : ndarray of int64 or None
        The candidate items, sorted distinct item indices (None: every item).
    excluded : ndarray of int64 or None
        Item indices left out for every user.

    Returns
    -------
    rows, items, scores, ranks : ndarray
        Position in ``u``, item index, score and rank (1 = best; equal scores:
        lower item index first) of every recommended item; users with fewer
        than ``k`` items left get fewer rows.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[1.0, 3.0, 2.0], [0.5, 0.5, 0.0]])
    >>> rows, items, s, ranks = top_k_lists(np.array([0, 1]), 2, 3, lambda idx: scores[idx])
    >>> rows.tolist(), items.tolist(), ranks.tolist()
    ([0, 0, 1, 1], [1, 2, 0, 1], [1, 2, 1, 2])
    >>> cols = np.array([0, 2])  # rank items 0 and 2 only
    >>> rows, items, s, ranks = top_k_lists(
    ...     np.array([0]), 5, 3, lambda idx: scores[idx][:, cols], columns=cols
    ... )
    >>> items.tolist(), s.tolist()
    ([2, 0], [2.0, 1.0])
    """
    width = n_items if columns is None else columns.size
    kk = min(k, width)
    if kk == 0 or u.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0), empty.copy()
    if excluded is not None and columns is not None:
        excluded = positions_in(columns, excluded)
    out_u, out_i, out_s, out_r = [], [], [], []
    block = max(1, _BLOCK_ENTRIES // width)
    for s in range(0, u.size, block):
        idx = u[s : s + block]
        known = idx >= 0
        scores = scores_of(idx)
        if seen is not None:
            for row in np.flatnonzero(known):
                rated = seen.items_of(idx[row])
                if columns is not None:
                    rated = positions_in(columns, rated)
                scores[row, rated] = -np.inf
        if excluded is not None:
            scores[:, excluded] = -np.inf
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        valid = np.isfinite(top_scores)
        rows = np.repeat(np.arange(s, s + idx.size), valid.sum(axis=1))
        out_u.append(rows)
        out_i.append(top[valid] if columns is None else columns[top[valid]])
        out_s.append(top_scores[valid])
        out_r.append(np.broadcast_to(np.arange(1, kk + 1), top.shape)[valid])
    return (
        np.concatenate(out_u),
        np.concatenate(out_i),
        np.concatenate(out_s),
        np.concatenate(out_r).astype(np.int64),
    )


def positions_in(columns: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Positions in the sorted ``columns`` of those of ``items`` that it holds.

    >>> positions_in(np.array([2, 5, 9]), np.array([9, 3, 2])).tolist()
    [2, 0]
    """
    if columns.size == 0:
        return np.zeros(0, dtype=np.int64)
    pos = np.minimum(np.searchsorted(columns, items), columns.size - 1)
    return pos[columns[pos] == items].astype(np.int64)


def as_matrix(
    rows: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    ranks: np.ndarray,
    n_rows: int,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Long-form top-k lists as ``(n_rows, width)`` arrays, best first in each row.

    Places past the end of a short list hold item index -1 and score NaN.

    >>> import numpy as np
    >>> idx, s = as_matrix(
    ...     np.array([0, 0, 1]), np.array([4, 2, 7]), np.array([3.0, 1.0, 2.0]),
    ...     np.array([1, 2, 1]), 2, 2,
    ... )
    >>> idx.tolist(), s.tolist()
    ([[4, 2], [7, -1]], [[3.0, 1.0], [2.0, nan]])
    """
    idx = np.full((n_rows, width), -1, dtype=np.int64)
    values = np.full((n_rows, width), np.nan)
    idx[rows, ranks - 1] = items
    values[rows, ranks - 1] = scores
    return idx, values
