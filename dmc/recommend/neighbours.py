"""Similar items and similar users: cosine similarity of the fitted latent vectors.

As implicit's ``similar_items`` and ``similar_users``
(``implicit/cpu/matrix_factorization_base.py``): the score of ``j`` for a query
``i`` is ``f_i · f_j / (‖f_i‖ ‖f_j‖)``, with ``f`` the rows of
``item_factors_`` (or ``user_factors_``), the biases left out. A vector of
norm 0 (nothing learned about that item) has similarity 0 with every other
one, as implicit's norms floored at 1e-10 give. The query itself always comes
first among its own neighbours, with similarity 1, even when another vector
points the same way.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_int
from .candidates import candidate_columns, ids_with_gaps, known_indices
from .fitted import FittedRatings
from .inputs import as_id_vector, check_hashable_id, object_array
from .ranking import as_matrix, top_k_lists

__all__ = ["NeighboursMixin", "cosine_top_k"]

#: the query's own score while ranking: above every cosine, so it comes first
_SELF = 2.0


def cosine_top_k(
    factors: np.ndarray,
    queries: np.ndarray,
    k: int,
    columns: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` rows of ``factors`` most cosine-similar to each row ``queries[t]``.

    Parameters
    ----------
    factors : ndarray of shape (n, d)
    queries : ndarray of int64
        Row indices.
    k : int
    columns, excluded : ndarray of int64 or None
        Candidate rows (sorted, distinct), or rows never returned.

    Returns
    -------
    rows, idx, scores, ranks : ndarray
        Long form, as :func:`~.ranking.top_k_lists`: position in ``queries``,
        row index, cosine (clipped to [-1, 1]; 1 for the query itself), rank.

    Notes
    -----
    ``O(len(queries) n d)``.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    >>> rows, idx, scores, ranks = cosine_top_k(F, np.array([0]), 3)
    >>> idx.tolist(), scores.round(4).tolist()
    ([0, 2, 1], [1.0, 0.7071, 0.0])
    """
    norms = np.linalg.norm(factors, axis=1)
    norms[norms == 0] = 1.0  # a zero vector: cosine 0 with everything
    cand = factors if columns is None else factors[columns]
    cand_norms = norms if columns is None else norms[columns]

    def scores_of(ix):
        s = (factors[ix] @ cand.T) / norms[ix, None] / cand_norms[None, :]
        np.clip(s, -1.0, 1.0, out=s)
        if columns is None:
            s[np.arange(ix.size), ix] = _SELF
        else:
            pos = np.minimum(np.searchsorted(columns, ix), columns.size - 1)
            hit = columns[pos] == ix
            s[np.flatnonzero(hit), pos[hit]] = _SELF
        return s

    rows, idx, scores, ranks = top_k_lists(
        queries, k, factors.shape[0], scores_of, None, columns=columns, excluded=excluded
    )
    scores[idx == queries[rows]] = 1.0
    return rows, idx, scores, ranks


class NeighboursMixin(FittedRatings):
    """``similar_items`` and ``similar_users`` of ``RatingsModel``."""

    def similar_items(
        self,
        item: Hashable | ArrayLike,
        k: int = 10,
        *,
        items: ArrayLike | None = None,
        filter_items: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items whose latent vectors are closest in angle to ``item``'s.

        As implicit's ``similar_items``: cosine similarity of the rows of
        ``item_factors_`` (the biases are left out), best first; the item itself
        comes first, with similarity 1.

        Parameters
        ----------
        item : hashable, or list or array of ids
            An item id known to the model (seen in ``fit`` or folded in); a list
            or 1-D array of ids gives one row of results per id.
        k : int, default 10
            In [1, n_items].
        items : array-like of item ids, optional
            Rank only these items.
        filter_items : array-like of item ids, optional
            Never return these items. Not together with ``items``.

        Returns
        -------
        ids : ndarray
            Item ids, best first: shape ``(k',)`` for one item, ``(n_queries, k')``
            for a list, ``k' = min(k, n_candidates)``; in a 2-D result the
            places a row cannot fill hold NaN scores and the placeholder ids of
            :meth:`recommend_batch`.
        scores : ndarray of float64
            Cosine similarities, in [-1, 1].

        Notes
        -----
        ``O(n_items k_f)`` per query item, ``k_f`` the width of the latent vectors.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> ids, scores = model.similar_items(4, k=3)
        >>> int(ids[0]), float(scores[0])
        (4, 1.0)
        >>> model.similar_items([4, 5], k=3)[0].shape
        (2, 3)
        """
        return self._similar("item", item, k, items, filter_items)

    def similar_users(
        self,
        user: Hashable | ArrayLike,
        k: int = 10,
        *,
        users: ArrayLike | None = None,
        filter_users: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` users whose latent vectors are closest in angle to ``user``'s.

        As implicit's ``similar_users``: cosine similarity of the rows of
        ``user_factors_``; see :meth:`similar_items`, with users for items.

        Parameters
        ----------
        user : hashable, or list or array of ids
            A user id known to the model (seen in ``fit`` or folded in), or several.
        k : int, default 10
            In [1, n_users].
        users : array-like of user ids, optional
            Rank only these users.
        filter_users : array-like of user ids, optional
            Never return these users. Not together with ``users``.

        Returns
        -------
        ids, scores : ndarray
            As :meth:`similar_items`.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> ids, scores = model.similar_users(7, k=5, filter_users=[7])
        >>> 7 in ids, bool(np.all(np.diff(scores) <= 0))
        (False, True)
        """
        return self._similar("user", user, k, users, filter_users)

    def _similar(self, side, query, k, subset, excluded):
        self._check_fitted()
        index = self._item_index if side == "item" else self._user_index
        factors = self.item_factors_ if side == "item" else self.user_factors_
        one = not (isinstance(query, (list, np.ndarray)) or hasattr(query, "to_numpy"))
        if one:
            check_hashable_id(query, side)
        queries = object_array([query]) if one else as_id_vector(query, side)
        q = known_indices(index, queries, side, side)
        k = check_int(k, "k", low=1, high=len(index))
        names = ("items", "filter_items") if side == "item" else ("users", "filter_users")
        columns, excluded = candidate_columns(index, subset, excluded, names, side)
        rows, idx, scores, ranks = cosine_top_k(factors, q, k, columns, excluded)
        if one:
            return index.ids[idx], scores
        n_candidates = len(index) if columns is None else columns.size
        if excluded is not None:
            n_candidates -= excluded.size
        matrix, values = as_matrix(rows, idx, scores, ranks, q.size, min(k, n_candidates))
        return ids_with_gaps(index.ids, matrix), values
