"""Which items (or users) a query ranks: a candidate subset or an exclusion list.

implicit's ``recommend``, ``similar_items`` and ``similar_users`` take
``items=`` (rank only these) or ``filter_items=`` (never return these), not
both; :func:`candidate_columns` turns either into item indices.
:func:`ids_with_gaps` maps the index arrays of a 2-D result back to ids, with
a placeholder where a row has fewer entries than the others.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .ids import IdIndex
from .inputs import as_id_vector, object_array, py_value

__all__ = ["candidate_columns", "empty_id", "ids_with_gaps", "known_indices"]


def known_indices(index: IdIndex, values: ArrayLike, name: str, what: str) -> np.ndarray:
    """The indices of the ids ``values``, every one of which must be known to ``index``.

    >>> import numpy as np
    >>> index, _ = IdIndex.build(np.array([10, 20, 30]), "items")
    >>> known_indices(index, [30, 10], "items", "item").tolist()
    [2, 0]
    >>> known_indices(index, [30, 99], "items", "item")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The 'items' parameter must hold item ids known to the model ... id 99 ...
    """
    ids = as_id_vector(values, name)
    idx = index.lookup(ids)
    if (idx < 0).any():
        t = int(np.flatnonzero(idx < 0)[0])
        raise ValueError(
            f"The {name!r} parameter must hold {what} ids known to the model (seen in fit or "
            f"folded in). Got unknown id {py_value(ids[t])!r} at position {t} instead."
        )
    return idx


def candidate_columns(
    index: IdIndex,
    subset: ArrayLike | None,
    excluded: ArrayLike | None,
    names: tuple[str, str] = ("items", "filter_items"),
    what: str = "item",
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(columns, excluded)``: sorted distinct indices of the subset to rank, or of the
    ids to leave out; None where not given.

    ``names`` are the two parameters (``items`` and ``filter_items``, or ``users``
    and ``filter_users``); as in implicit, they cannot be given together.

    >>> import numpy as np
    >>> index, _ = IdIndex.build(np.array(["a", "b", "c"]), "items")
    >>> candidate_columns(index, ["c", "a", "c"], None)
    (array([0, 2]), None)
    >>> candidate_columns(index, None, ["b"])
    (None, array([1]))
    """
    subset_name, excluded_name = names
    if subset is not None and excluded is not None:
        raise ValueError(
            f"The {subset_name!r} and {excluded_name!r} parameters cannot be given together "
            f"(as in implicit): leave the excluded ids out of {subset_name!r} instead. "
            "Got both."
        )
    if subset is not None:
        columns = np.unique(known_indices(index, subset, subset_name, what))
        if columns.size == 0:
            raise ValueError(
                f"The {subset_name!r} parameter must hold at least one {what} id to rank. Got none."
            )
        return columns, None
    if excluded is not None:
        return None, np.unique(known_indices(index, excluded, excluded_name, what))
    return None, None


def empty_id(ids: np.ndarray) -> tuple[np.ndarray, object]:
    """``(ids, fill)``: the id array, converted to object if its dtype has no
    placeholder, and the placeholder of an empty place of a 2-D result.

    -1 for signed integer ids (implicit's placeholder), "" for strings, NaN for
    float ids, NaT for times, None otherwise (object ids).

    >>> import numpy as np
    >>> empty_id(np.array([3, 5]))[1], empty_id(np.array(["a"]))[1], empty_id(np.array([1.5]))[1]
    (-1, '', nan)
    """
    kind = ids.dtype.kind
    if kind == "i":
        return ids, -1
    if kind in "US":
        return ids, "" if kind == "U" else b""
    if kind == "f":
        return ids, np.nan
    if kind in "mM":
        return ids, ids.dtype.type("NaT")
    return (ids if kind == "O" else object_array(ids.tolist())), None


def ids_with_gaps(ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``ids[idx]`` for a 2-D array of indices in which -1 marks an empty place.

    >>> import numpy as np
    >>> ids_with_gaps(np.array(["a", "b"]), np.array([[1, 0], [0, -1]])).tolist()
    [['b', 'a'], ['a', '']]
    """
    gaps = idx < 0
    if not gaps.any():
        return ids[idx]
    ids, fill = empty_id(ids)
    out = ids[np.where(gaps, 0, idx)] if ids.size else np.empty(idx.shape, dtype=ids.dtype)
    out[gaps] = fill
    return out
