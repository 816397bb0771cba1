"""Top-k lists of a fitted ratings model: one user, many users in long form, or a 2-D batch.

The three calls rank the same scores, ``μ + b_u + b_i + a_u · b̃_i`` before
clipping, over the same candidates: every item, the subset ``items=`` or all
but ``filter_items=`` (implicit's names; not both), less the items the user
rated when ``exclude_seen``. They differ in shape only: :meth:`recommend`
returns one user's ids and scores, :meth:`recommend_many` a long table
(:class:`~.ranking.Recommendations`), :meth:`recommend_batch` two
``(n_users, k)`` arrays, as implicit's ``recommend`` does for an array of users.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_bool, check_int
from .candidates import candidate_columns, ids_with_gaps
from .fitted import FittedRatings
from .inputs import as_id_vector, check_hashable_id, object_array, py_value
from .ranking import Recommendations, as_matrix, top_k_lists

__all__ = ["RecommendMixin"]


class RecommendMixin(FittedRatings):
    """``recommend``, ``recommend_many`` and ``recommend_batch`` of ``RatingsModel``."""

    def recommend(
        self,
        user: Hashable,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: ArrayLike | None = None,
        filter_items: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items with the highest predicted rating for one user.

        Parameters
        ----------
        user : hashable
            A user id. An unknown user follows the ``cold_start`` policy: with
            "bias" or "mean" the items are ranked by ``μ + b_i`` (their bias).
        k : int, default 10
            In [1, n_items]. Fewer items come back when ``exclude_seen``,
            ``items`` or ``filter_items`` leave fewer than ``k``.
        exclude_seen : bool, default True
            Leave out the items the user rated in ``fit`` (or in :meth:`fold_in`).
        items : array-like of item ids, optional
            Rank only these items (implicit's ``items``): nothing outside them
            comes back. Every id must be known to the model; repeats count once.
        filter_items : array-like of item ids, optional
            Never return these items (implicit's ``filter_items``). Not together
            with ``items``: leave the excluded items out of ``items`` instead.

        Returns
        -------
        items : ndarray
            Item ids, best first.
        scores : ndarray of float64
            Their predicted ratings, clipped to the rating range as by
            :meth:`predict`; the items are ranked before clipping, so two
            items above the top of the scale keep their order.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> users, items = pairs // 20, pairs % 20
        >>> ratings = np.clip(np.round(3 + users % 3 - items % 2 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(users, items, ratings)
        >>> top, scores = model.recommend(0, k=3, items=[2, 4, 6, 8, 10])
        >>> set(top.tolist()) <= {2, 4, 6, 8, 10}
        True
        >>> 7 in model.recommend(0, k=20, filter_items=[7])[0]
        False
        """
        check_hashable_id(user, "user")
        rec = self.recommend_many(
            object_array([user]),
            k,
            exclude_seen=exclude_seen,
            items=items,
            filter_items=filter_items,
        )
        return rec.item, rec.score

    def recommend_many(
        self,
        users: ArrayLike,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: ArrayLike | None = None,
        filter_items: ArrayLike | None = None,
    ) -> Recommendations:
        """Top-k lists of many users, scored in blocks, in long form.

        Parameters
        ----------
        users : array-like of shape (n_users,)
        k : int, default 10
            In [1, n_items].
        exclude_seen : bool, default True
        items, filter_items : array-like of item ids, optional
            The candidate subset, or the items never returned (see :meth:`recommend`).

        Returns
        -------
        Recommendations
            Long form ``(user, item, score, rank, cold)``: ``min(k, available)``
            rows per user, ``cold`` True for users not seen in ``fit``; scores
            clipped to the rating range, ranks from the unclipped scores.

        Notes
        -----
        ``O(n_users n_items k)`` time; blocks of users keep the dense score
        block below about 4 million entries.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> rec = model.recommend_many([0, 1, 99], k=2)
        >>> rec.user.tolist(), rec.rank.tolist(), rec.cold.tolist()
        ([0, 0, 1, 1, 99, 99], [1, 2, 1, 2, 1, 2], [False, False, False, False, True, True])
        """
        users, u, rows, idx, scores, ranks, _ = self._rank(
            users, k, exclude_seen, items, filter_items
        )
        return Recommendations(
            user=users[rows],
            item=self._item_index.ids[idx],
            score=np.clip(scores, *self.rating_range_),  # ranked above, before clipping
            rank=ranks,
            cold=u[rows] < 0,
        )

    def recommend_batch(
        self,
        users: ArrayLike,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: ArrayLike | None = None,
        filter_items: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k lists of many users as two 2-D arrays, one row per user (implicit's shape).

        Row ``t`` holds what :meth:`recommend` returns for ``users[t]``.

        Parameters
        ----------
        users : array-like of shape (n_users,)
            User ids; unknown ones follow ``cold_start`` (use
            :meth:`recommend_many` to see which rows are cold starts).
        k : int, default 10
            In [1, n_items].
        exclude_seen : bool, default True
        items, filter_items : array-like of item ids, optional
            The candidate subset, or the items never returned (see :meth:`recommend`).

        Returns
        -------
        ids : ndarray of shape (n_users, k')
            Item ids, best first; ``k' = min(k, n_candidates)`` with
            ``n_candidates`` the items of ``items``, or all items less
            ``filter_items``.
        scores : ndarray of float64, shape (n_users, k')
            Predicted ratings clipped to the rating range. A user with fewer
            than ``k'`` items left (the rest rated, with ``exclude_seen``) has
            NaN in the places past the end of the list, and a placeholder id
            there: -1 for integer ids (as implicit), "" for strings, NaN or NaT
            for float or time ids, None for others (the ids then come back as
            an object array).

        Notes
        -----
        The cost of :meth:`recommend_many`, plus ``O(n_users k)``.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> ids, scores = model.recommend_batch([0, 1, 2], k=4)
        >>> ids.shape, scores.shape
        ((3, 4), (3, 4))
        >>> ids[1].tolist() == model.recommend(1, k=4)[0].tolist()
        True
        """
        users, _, rows, idx, scores, ranks, width = self._rank(
            users, k, exclude_seen, items, filter_items
        )
        index, values = as_matrix(rows, idx, scores, ranks, users.size, width)
        np.clip(values, *self.rating_range_, out=values)  # NaN stays NaN
        return ids_with_gaps(self._item_index.ids, index), values

    def _rank(self, users, k, exclude_seen, items, filter_items):
        """Checked arguments and the long-form top-k lists: ``(users, user indices, rows,
        item indices, unclipped scores, ranks, k')``."""
        self._check_fitted()
        users = as_id_vector(users, "users")
        n_items = len(self._item_index)
        k = check_int(k, "k", low=1, high=n_items)
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        columns, excluded = candidate_columns(self._item_index, items, filter_items)
        u = self._user_index.lookup(users)
        if self._opts["cold_start"] == "raise" and (u < 0).any():
            t = int(np.flatnonzero(u < 0)[0])
            raise ValueError(
                "The 'users' parameter must hold ids seen in fit (cold_start='raise'). "
                f"Got unknown id {py_value(users[t])!r} at position {t} instead."
            )
        seen = self._seen if exclude_seen else None
        rows, idx, scores, ranks = top_k_lists(
            u,
            k,
            n_items,
            lambda ix: self._scores(ix, columns),
            seen,
            columns=columns,
            excluded=excluded,
        )
        n_candidates = n_items if columns is None else columns.size
        if excluded is not None:
            n_candidates -= excluded.size
        return users, u, rows, idx, scores, ranks, min(k, n_candidates)

    def _scores(self, idx: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
        """Unclipped predicted ratings of every item (or of ``columns``) for user indices
        ``idx`` (-1: unknown)."""
        item_bias = self.item_bias_ if columns is None else self.item_bias_[columns]
        item_factors = self.item_factors_ if columns is None else self.item_factors_[columns]
        item_base = self.global_mean_ + (item_bias if self._opts["cold_start"] == "bias" else 0.0)
        known = idx >= 0
        scores = np.empty((idx.size, item_bias.size))
        scores[...] = item_base  # unknown users: the item bias, or the mean
        if known.any():
            scores[known] = (
                self.global_mean_
                + item_bias
                + self.user_bias_[idx[known], None]
                + self.user_factors_[idx[known]] @ item_factors.T
            )
        return scores
