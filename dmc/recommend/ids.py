"""Ids of users and items ↔ the contiguous indices the solver works with."""

from __future__ import annotations

from collections.abc import Hashable

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
        # id -> index, built on demand (a lookup cache)
        self._dict: dict[Hashable, int] | None = None

    @classmethod
    def build(cls, values: np.ndarray, name: str) -> tuple[IdIndex, np.ndarray]:
        """The index of the distinct ``values``, and the index of each value."""
        if values.dtype != object:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        try:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        except TypeError:  # not mutually comparable: first appearance order
            mapping: dict[Hashable, int] = {}
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

    def extend(self, values: np.ndarray) -> np.ndarray:
        """Append new distinct ids, in order; return their indices.

        The ids end as :meth:`add` would leave them, one at a time: in the
        index's dtype where each value fits in it unchanged, else all as objects.

        >>> index, _ = IdIndex.build(np.array([10, 20]), "users")
        >>> index.extend(np.array([5, 7])).tolist(), index.ids.tolist()
        ([2, 3], [10, 20, 5, 7])
        >>> index.lookup(np.array([7, 10])).tolist()
        [3, 0]
        """
        if self._dict is None:
            self._dict = {v: t for t, v in enumerate(self.ids.tolist())}
        start = len(self._dict)
        added = values.tolist()
        for t, value in enumerate(added):
            self._dict[value] = start + t
        grown = None
        if values.dtype != object or self.ids.dtype == object:
            try:
                cast = np.asarray(values, dtype=self.ids.dtype)
                if self.ids.dtype == object or (cast == values).all():
                    grown = np.concatenate([self.ids, cast])
            except (ValueError, TypeError, OverflowError):
                grown = None
        if grown is None or grown.dtype != self.ids.dtype:
            grown = np.concatenate([self.ids.astype(object), object_array(added)])
        self.ids = grown
        self._sorted = False
        return np.arange(start, start + len(added), dtype=np.int64)

    def add(self, value: Hashable) -> int:
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
