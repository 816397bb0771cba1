"""Repeated ratings of a (user, item) pair, merged by the ``duplicates`` policy.

The policies (:data:`dmc.core.observations.DUPLICATES`) and the merging
(:func:`dmc.core.observations.merge_repeats`) are those of
:class:`~dmc.core.observations.Observations`; what is particular here is the
key (the pair of ids), the message, and the order of the sums of "mean"
(input order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.observations import merge_repeats
from .ids import IdIndex
from .inputs import py_value

logger = logging.getLogger(__name__)

__all__ = ["dedupe", "merge_duplicate_ratings"]


def merge_duplicate_ratings(
    u: np.ndarray,
    i: np.ndarray,
    r: np.ndarray,
    user_index: IdIndex,
    item_index: IdIndex,
    policy: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Apply the ``duplicates`` policy to (user, item) pairs; returns (u, i, r, n_merged).

    The pairs come back sorted by user, then item.
    """
    n_items = len(item_index)

    def describe(key, count):
        uu, ii = divmod(int(key), n_items)
        user, item = py_value(user_index.ids[uu]), py_value(item_index.ids[ii])
        return f"user {user!r} and item {item!r} rated {count} times"

    keys, values, n_dup = dedupe(u * n_items + i, r, policy, describe)
    return keys // n_items, keys % n_items, values, n_dup


def dedupe(
    key: np.ndarray, r: np.ndarray, policy: str, describe: Callable[[Any, int], str] | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge ratings sharing a key by ``policy``; returns (sorted keys, values, n_merged).

    ``describe(key, count)`` names a repeated key in the message of
    ``policy="raise"``.

    Examples
    --------
    >>> import numpy as np
    >>> keys, values, n = dedupe(np.array([7, 2, 7]), np.array([1.0, 5.0, 4.0]), "mean", None)
    >>> keys.tolist(), values.tolist(), n
    ([2, 7], [5.0, 2.5], 1)
    """
    order = np.argsort(key, kind="stable")
    key, r = key[order], r[order]
    repeat = key[1:] == key[:-1]
    n_dup = int(repeat.sum())
    if n_dup == 0:
        return key, r, 0

    def message(t, count, n_dup):
        return (
            "The ratings must rate each (user, item) pair once, or the 'duplicates' "
            "parameter must say how to merge repeats ('mean', 'first' or 'last'). "
            f"Got {n_dup} repeated rating(s), e.g. {describe(key[t], count)}, "
            "with duplicates='raise'."
        )

    starts, values = merge_repeats(r, repeat, policy, message, summation="sequential")
    logger.info("merged %d repeated ratings (duplicates=%r)", n_dup, policy)
    return key[starts], values, n_dup
