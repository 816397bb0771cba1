"""The items each user rated, left out of their recommendations."""

from __future__ import annotations

import numpy as np

from ..io import storable

__all__ = ["SeenItems"]


@storable("SeenItems")
class SeenItems:
    """Items each user rated (CSR), for ``exclude_seen``; fold-in can replace a row.

    Attributes
    ----------
    ptr, items : ndarray of int64
        The items of user ``u`` in ``fit`` are ``items[ptr[u]:ptr[u + 1]]``, sorted.
    overrides : dict
        User index -> items, for users folded in since (new or replaced).

    Examples
    --------
    >>> import numpy as np
    >>> seen = SeenItems.build(np.array([1, 0, 1]), np.array([5, 2, 3]), 3)
    >>> seen.items_of(1).tolist(), seen.items_of(2).tolist()
    ([3, 5], [])
    >>> seen.set(2, np.array([4]))
    >>> seen.items_of(2).tolist()
    [4]
    """

    def __init__(self, ptr: np.ndarray, items: np.ndarray, overrides: dict[int, np.ndarray]):
        self.ptr, self.items, self.overrides = ptr, items, overrides

    @classmethod
    def build(cls, u: np.ndarray, i: np.ndarray, m: int) -> SeenItems:
        """From the (user, item) index pairs of ``m`` users."""
        order = np.lexsort((i, u))
        ptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=m))])
        return cls(ptr, i[order], {})

    def items_of(self, user: int) -> np.ndarray:
        if user in self.overrides:
            return self.overrides[user]
        if user + 1 >= self.ptr.size:
            return np.zeros(0, dtype=np.int64)
        return self.items[self.ptr[user] : self.ptr[user + 1]]

    def set(self, user: int, items: np.ndarray) -> None:
        self.overrides[user] = items

    # -- files (dmc.io) -------------------------------------------------------------

    def _get_state(self) -> dict:
        # the overrides, in CSR form too: three arrays rather than one per user
        users = np.array([int(u) for u in self.overrides], dtype=np.int64)
        lists = [np.asarray(v, dtype=np.int64) for v in self.overrides.values()]
        ptr = np.concatenate([[0], np.cumsum([v.size for v in lists], dtype=np.int64)])
        items = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
        return {
            "ptr": self.ptr,
            "items": self.items,
            "override_users": users,
            "override_ptr": ptr.astype(np.int64),
            "override_items": items,
        }

    @classmethod
    def _from_state(cls, state: dict):
        users, ptr, items = (
            state["override_users"],
            state["override_ptr"],
            state["override_items"],
        )
        overrides = {
            int(u): items[ptr[t] : ptr[t + 1]].copy() for t, u in enumerate(users.tolist())
        }
        return cls(state["ptr"], state["items"], overrides)
