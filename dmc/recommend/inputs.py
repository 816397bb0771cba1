"""What the ratings model accepts: rating triplets, id vectors, ratings."""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping, Sequence, Set
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_plain_input, as_real_array, is_missing, shown

__all__ = [
    "RATINGS_LIMIT",
    "as_id_vector",
    "as_ratings",
    "check_hashable_id",
    "object_array",
    "py_value",
    "triplets",
]


#: the largest magnitude of a rating: their squares and sums of squares (the biases,
#: the prior's noise, the ridge solves) must stay far from float64's overflow
RATINGS_LIMIT = 1e100


def triplets(
    users: Any, items: ArrayLike | None, ratings: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(users, items, ratings)`` of ``fit``, from a table or three arrays, validated.

    Returns 1-D arrays of equal, non-zero length: two id vectors (see
    :func:`as_id_vector`) and the ratings as float64.
    """
    if items is None and ratings is None:
        table = users
        columns = _columns_of(table)
        if columns is None:
            raise TypeError(
                "The 'users' parameter must be a table (DataFrame or mapping) with columns "
                "'user', 'item' and 'rating' when 'items' and 'ratings' are not given. "
                f"Got {type(table).__name__} instead."
            )
        missing = [c for c in ("user", "item", "rating") if c not in columns]
        if missing:
            raise ValueError(
                "The 'users' parameter, given as a table, must have columns 'user', 'item' "
                f"and 'rating'. Got columns {list(columns)} instead (missing {missing}); "
                "rename them or pass three arrays."
            )
        users, items, ratings = table["user"], table["item"], table["rating"]
    elif items is None or ratings is None:
        raise TypeError(
            "The 'items' and 'ratings' parameters must be given together (or neither, with "
            f"a table as 'users'). Got items={'None' if items is None else 'an array'} and "
            f"ratings={'None' if ratings is None else 'an array'}."
        )
    users = as_id_vector(users, "users")
    items = as_id_vector(items, "items")
    ratings = as_ratings(ratings)
    if not (users.size == items.size == ratings.size):
        raise ValueError(
            "The 'users', 'items' and 'ratings' parameters must have the same length. "
            f"Got {users.size}, {items.size} and {ratings.size} instead."
        )
    if ratings.size == 0:
        raise ValueError("The 'ratings' parameter must hold at least one rating. Got none.")
    return users, items, ratings


def _columns_of(table):
    if isinstance(table, Mapping):
        return list(table.keys())
    columns = getattr(table, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def as_id_vector(values: ArrayLike, name: str) -> np.ndarray:
    """A 1-D array of hashable ids, none missing (see :func:`check_hashable_id`).

    Ids numpy holds natively (ints, strings, ...) keep their dtype; mixed
    types and tuples become an object array with each id whole (numpy would
    turn ``1`` into ``"1"`` next to strings, or a tuple into a row). A set or
    a mapping is refused: the ids are matched by position.
    """
    values = as_plain_input(values)  # a masked entry is a missing id
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):  # pandas
        values = values.to_numpy()
    unordered = isinstance(values, (Set, Mapping))
    if unordered or isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"The {name!r} parameter must be a 1-D array-like of ids (a sequence: their "
            f"order matters). Got {type(values).__name__} instead."
        )
    arr = np.asarray(values) if isinstance(values, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(values)
        except ValueError:  # ragged
            arr = None
        if arr is None or arr.ndim != 1:  # e.g. tuples as ids: keep each element whole
            arr = object_array(list(values))
        elif arr.dtype.kind in "US" and not all(isinstance(v, (str, bytes)) for v in values):
            arr = object_array(list(values))  # numpy would turn 1 into "1"
    if arr.ndim != 1:
        raise ValueError(f"The {name!r} parameter must be 1-D. Got shape {arr.shape} instead.")
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        check_hashable_id(arr[~np.isfinite(arr)][0], name)
    if arr.dtype.kind in "mM" and np.isnat(arr).any():
        check_hashable_id(arr[np.isnat(arr)][0], name)
    if arr.dtype.kind == "c":
        raise TypeError(f"The {name!r} parameter must hold ids, not complex numbers.")
    if arr.dtype == object:
        for value in arr:
            check_hashable_id(value, name)
    return arr


def py_value(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (tuples stay elements, not rows)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def check_hashable_id(value: Any, name: str) -> None:
    """Refuse a missing id (None, NaN, NaT, pd.NA: :func:`dmc._validation.is_missing`),
    an infinite number or an unhashable value."""
    infinite = (isinstance(value, (float, np.floating)) and math.isinf(value)) or (
        isinstance(value, decimal.Decimal) and value.is_infinite()
    )
    if infinite or is_missing(value):
        raise ValueError(
            f"The {name!r} parameter must not contain missing ids (None, NaN, NaT, pd.NA) "
            f"or infinite ones. Got {shown(value)!r} instead."
        )
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"The {name!r} parameter must hold hashable ids. Got {type(value).__name__} "
            f"{value!r} instead."
        ) from None


def as_ratings(values: ArrayLike) -> np.ndarray:
    """The ratings as a 1-D float64 array of finite numbers."""
    arr = as_real_array(values, "ratings", expected="be a 1-D array of real numbers")
    if arr.ndim != 1:
        raise ValueError(f"The 'ratings' parameter must be 1-D. Got shape {arr.shape} instead.")
    if not np.isfinite(arr).all():
        t = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(
            "The 'ratings' parameter must hold finite numbers. "
            f"Got {arr[t]} at position {t} instead."
        )
    if arr.size and np.abs(arr).max() > RATINGS_LIMIT:
        t = int(np.flatnonzero(np.abs(arr) > RATINGS_LIMIT)[0])
        raise ValueError(
            f"The 'ratings' parameter must hold ratings of magnitude at most {RATINGS_LIMIT:g}. "
            f"Got {arr[t]} at position {t} instead; rescale them (the model sums their "
            "squares)."
        )
    return arr
