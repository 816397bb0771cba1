"""Fold-in of many users, or of new items, at once, without refitting.

The batch form of :meth:`RatingsModel.fold_in <dmc.recommend.model.RatingsModel.fold_in>`,
as implicit's ``partial_fit_users`` and ``partial_fit_items``: each user's
``(b_u, a_u)`` is the ridge solve of step 3 of ``fit`` against the learned
item side (:func:`~.shrinkage.ridge_rows`, same prior, same shrinkage), all
users in one batched solve; each item's ``(b_i, b̃_i)`` is the solve of the
item sweep against the learned user side. Nothing else of the model moves.
"""

from __future__ import annotations

import logging
import warnings
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from .._validation import all_or_nothing
from .duplicates import dedupe
from .fitted import FittedRatings
from .ids import IdIndex
from .inputs import py_value, triplets
from .shrinkage import ridge_rows

logger = logging.getLogger(__name__)

__all__ = ["FoldInMixin"]

_Model = TypeVar("_Model", bound="FoldInMixin")


class FoldInMixin(FittedRatings):
    """``fold_in_users`` and ``fold_in_items`` of ``RatingsModel``."""

    def fold_in_users(
        self: _Model,
        users: ArrayLike,
        items: ArrayLike | None = None,
        ratings: ArrayLike | None = None,
    ) -> _Model:
        """Add (or update) many users from their ratings at once, without refitting.

        The same as one :meth:`fold_in` per user, in order of first appearance,
        with all the ridge solves batched: each user's bias and latent vector
        solve step 3 of ``fit`` against the learned item side. Ratings of items
        unknown to the model are ignored; a user left without any is added
        with bias 0 and latent vector 0 (a ``UserWarning`` says how many). A
        known user's parameters and seen items are replaced; new users are
        appended to ``users_``. A failed call changes nothing.

        Parameters
        ----------
        users : DataFrame, mapping or array-like
            A table with columns ``user``, ``item``, ``rating`` (then ``items``
            and ``ratings`` are None), or the user id of each rating.
        items : array-like or None
            The item id of each rating.
        ratings : array-like or None
            The ratings. Repeated (user, item) pairs follow ``duplicates``.

        Returns
        -------
        self

        Notes
        -----
        ``O(n_ratings k² + n_users k³)``, against ``O(n_users n_items)`` to
        look items up one user at a time.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> _ = model.fold_in_users(["ann", "ann", "bob"], [1, 2, 1], [5.0, 4.0, 2.0])
        >>> model.users_[-2:].tolist()
        ['ann', 'bob']
        >>> 1 in model.recommend("ann", k=20)[0]  # rated: not recommended
        False
        """
        with all_or_nothing(self):
            self._fold_in("user", users, items, ratings)
        return self

    def fold_in_items(
        self: _Model,
        users: ArrayLike,
        items: ArrayLike | None = None,
        ratings: ArrayLike | None = None,
    ) -> _Model:
        """Add (or update) items from the ratings users gave them, without refitting.

        As implicit's ``partial_fit_items``: each item's bias and latent vector
        are the ridge solve of the item sweep of ``fit`` (its prior, the same
        shrinkage) against the learned user side; the users do not move.
        Ratings by users unknown to the model are ignored; an item left without
        any is added with bias 0 and latent vector 0 (with a ``UserWarning``).
        A known item's parameters are replaced; new items are appended to
        ``items_``. The items are added to the seen items of the users who
        rated them, so ``exclude_seen`` leaves them out of those users' lists.
        A failed call changes nothing.

        Parameters
        ----------
        users, items, ratings
            As :meth:`fold_in_users` and ``fit``: the ratings, as a table or
            three arrays, with the items to fold in as their ``item`` column.

        Returns
        -------
        self

        Notes
        -----
        ``O(n_ratings k² + n_items k³)``. A fitted item folded in again from its
        own ratings comes back close to, not exactly at, its fitted vector:
        ``fit`` solves the items against the users of its first sweep and then
        re-solves the users.

        Examples
        --------
        >>> import numpy as np
        >>> from dmc.recommend import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(pairs // 20, pairs % 20, ratings)
        >>> _ = model.fold_in_items([0, 1, 2], ["new", "new", "new"], [5.0, 4.0, 5.0])
        >>> model.items_[-1], bool(model.predict([5], ["new"])[0] > model.global_mean_)
        ('new', True)
        """
        with all_or_nothing(self):
            self._fold_in("item", users, items, ratings)
        return self

    def _fold_in(self, side, users, items, ratings):
        self._check_fitted()
        users, items, ratings = triplets(users, items, ratings)
        user_side = side == "user"
        own, other = (users, items) if user_side else (items, users)
        own_index = self._user_index if user_side else self._item_index
        other_index = self._item_index if user_side else self._user_index
        other_name = "item" if user_side else "user"

        batch_ids, codes = _first_appearance(own, f"{side}s")
        j = other_index.lookup(other)
        known = j >= 0
        if not known.all():
            logger.info(
                "fold_in_%ss: %d ratings of unknown %ss ignored",
                side,
                int((~known).sum()),
                other_name,
            )
        n_other = len(other_index)

        def describe(key, count):
            t, o = divmod(int(key), n_other)
            user = batch_ids[t] if user_side else self._user_index.ids[o]
            item = self._item_index.ids[o] if user_side else batch_ids[t]
            return f"item {py_value(item)!r} rated {count} times by user {py_value(user)!r}"

        keys, r, _ = dedupe(
            codes[known] * n_other + j[known], ratings[known], self._opts["duplicates"], describe
        )
        rows, cols = keys // n_other, keys % n_other
        if user_side:
            other_bias, other_factors = self.item_bias_, self.item_factors_
            cov, bias_reg = self._prior.user_cov, self._opts["user_bias_reg"]
        else:
            other_bias, other_factors = self.user_bias_, self.user_factors_
            cov, bias_reg = self._prior.item_cov, self._opts["item_bias_reg"]
        target = r - self.global_mean_ - other_bias[cols]
        ridge = self._prior.noise * self.shrinkage_
        b, a = ridge_rows(rows, cols, target, batch_ids.size, other_factors, cov, ridge, bias_reg)
        empty = np.bincount(rows, minlength=batch_ids.size) == 0
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} of the {batch_ids.size} {side}(s) folded in "
                f"(e.g. {py_value(batch_ids[np.flatnonzero(empty)[0]])!r}) have no rating of a "
                f"{other_name} known to the model; they are added with bias 0 and latent "
                "vector 0.",
                UserWarning,
                stacklevel=3,
            )

        # everything is computed: now change the model
        idx = own_index.lookup(batch_ids)
        new = idx < 0
        if new.any():
            idx[new] = own_index.extend(batch_ids[new])
        bias_name, factors_name = (
            ("user_bias_", "user_factors_")
            if user_side
            else (
                "item_bias_",
                "item_factors_",
            )
        )
        bias = np.concatenate([getattr(self, bias_name), np.zeros(int(new.sum()))])
        factors = np.vstack([getattr(self, factors_name), np.zeros((int(new.sum()), a.shape[1]))])
        bias[idx], factors[idx] = b, a
        setattr(self, bias_name, bias)
        setattr(self, factors_name, factors)
        bounds = np.searchsorted(rows, np.arange(batch_ids.size + 1))
        if user_side:
            for t, user in enumerate(idx.tolist()):
                self._seen.set(user, cols[bounds[t] : bounds[t + 1]].copy())
        else:
            by_user = np.argsort(cols, kind="stable")
            u_sorted, item_of = cols[by_user], idx[rows[by_user]]
            starts = np.flatnonzero(np.r_[True, u_sorted[1:] != u_sorted[:-1]])
            for s, e in zip(starts, np.r_[starts[1:], u_sorted.size]):
                user = int(u_sorted[s])
                self._seen.set(user, np.union1d(self._seen.items_of(user), item_of[s:e]))


def _first_appearance(ids: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``ids`` in order of first appearance, and the position of each id there.

    >>> import numpy as np
    >>> distinct, codes = _first_appearance(np.array(["b", "a", "b", "c"]), "users")
    >>> distinct.tolist(), codes.tolist()
    (['b', 'a', 'c'], [0, 1, 0, 2])
    """
    index, codes = IdIndex.build(ids, name)
    first = np.full(len(index), codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size))
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return index.ids[order], position[codes]
