"""Top-k lists: the best-scored items of each user, in long form."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Recommendations", "top_k_lists"]

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


def top_k_lists(u, k, n_items, scores_of, seen=None):
    """The ``k`` best items of each user index of ``u``, in long form.

    Parameters
    ----------
    u : ndarray of int64
        User indices, -1 for unknown users.
    k : int
        In [1, n_items].
    n_items : int
    scores_of : callable
        ``scores_of(idx)``: the ``(idx.size, n_items)`` scores of the users ``idx``.
    seen : SeenItems or None
        Items to leave out for each known user (their score becomes -inf).

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
    """
    out_u, out_i, out_s, out_r = [], [], [], []
    block = max(1, _BLOCK_ENTRIES // n_items)
    for s in range(0, u.size, block):
        idx = u[s : s + block]
        known = idx >= 0
        scores = scores_of(idx)
        if seen is not None:
            for row in np.flatnonzero(known):
                scores[row, seen.items_of(idx[row])] = -np.inf
        kk = min(k, n_items)
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        valid = np.isfinite(top_scores)
        rows = np.repeat(np.arange(s, s + idx.size), valid.sum(axis=1))
        out_u.append(rows)
        out_i.append(top[valid])
        out_s.append(top_scores[valid])
        out_r.append(np.broadcast_to(np.arange(1, kk + 1), top.shape)[valid])
    return (
        np.concatenate(out_u),
        np.concatenate(out_i),
        np.concatenate(out_s),
        np.concatenate(out_r).astype(np.int64),
    )
