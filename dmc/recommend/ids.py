"""Ids of users and items ↔ the contiguous indices the solver works with."""

from __future__ import annotations

import numpy as np

from ..exceptions import FileFormatError
from ..io import storable
from .inputs import object_array

__all__ = ["IdIndex"]


@storable("IdIndex")
class IdIndex:
    """Ids of any hashable type ↔ contiguous indices 0..n-1.

    Ids that numpy can sort (ints, strings, ...) are kept sorted and looked up by
    binary search when the query has a compatible dtype; other ids (mixed types,
    tuples) in order of first appearance, looked up through a dict. Ids match
    by equality: 5 and "5" are different ids.

    Attributes
    ----------
    ids : ndarray
        The ids; position = index.

    Examples
    --------
    >>> import numpy as np
    >>> index, codes = IdIndex.build(np.array([30, 10, 30, 20]), "users")
    >>> index.ids.tolist(), codes.tolist()
    ([10, 20, 30], [2, 0, 2, 1])
    >>> index.lookup(np.array([20, 99])).tolist()
    [1, -1]
    """

    def __init__(self, ids: np.ndarray, sorted_: bool):
        self.ids = ids
        self._sorted = sorted_
        self._dict = None  # id -> index, built on demand (a lookup cache)

    @classmethod
    def build(cls, values: np.ndarray, name: str):
        """The index of the distinct ``values``, and the index of each value."""
        if values.dtype != object:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        try:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        except TypeError:  # not mutually comparable: first appearance order
            mapping = {}
            codes = np.fromiter(
                (mapping.setdefault(v, len(mapping)) for v in values.tolist()),
                dtype=np.int64,
                count=values.size,
            )
            ids = np.empty(len(mapping), dtype=object)
            ids[:] = list(mapping)
            index = cls(ids, False)
            index._dict = mapping
            return index, codes

    def __len__(self) -> int:
        return self.ids.size

    def lookup(self, values: np.ndarray) -> np.ndarray:
        """Index of each value, -1 where unknown."""
        if (
            self._sorted
            and values.dtype != object
            and self.ids.dtype != object
            and np.can_cast(values.dtype, self.ids.dtype, "safe")
        ):
            q = values.astype(self.ids.dtype, copy=False)
            pos = np.searchsorted(self.ids, q)
            pos = np.minimum(pos, self.ids.size - 1)
            return np.where(self.ids[pos] == q, pos, -1).astype(np.int64)
        if self._dict is None:
            self._dict = {v: t for t, v in enumerate(self.ids.tolist())}
        get = self._dict.get
        return np.fromiter((get(v, -1) for v in values.tolist()), dtype=np.int64, count=values.size)

    def add(self, value) -> int:
        """Append a new id; return its index."""
        if self._dict is None:
            self._dict = {v: t for t, v in enumerate(self.ids.tolist())}
        idx = len(self._dict)
        self._dict[value] = idx
        try:
            grown = np.append(self.ids, np.asarray([value], dtype=self.ids.dtype))
            if grown[-1] != value:  # truncated string, overflow, ...
                raise ValueError
        except (ValueError, TypeError, OverflowError):
            grown = np.append(self.ids.astype(object), object_array([value]))
        self.ids = grown
        self._sorted = False
        return idx

    # -- files (dmc.io) -------------------------------------------------------------

    def _get_state(self) -> dict:
        # the lookup dict is a cache, rebuilt from the ids on demand
        return {"ids": self.ids, "sorted": self._sorted}

    @classmethod
    def _from_state(cls, state: dict):
        ids = state["ids"]
        if not isinstance(ids, np.ndarray) or ids.ndim != 1:
            raise FileFormatError("the ids of an index must be a 1-D array")
        return cls(ids, bool(state["sorted"]))
