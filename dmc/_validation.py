"""Argument checks shared by every public entry point.

Every message has the same form: the parameter's name, what was expected and
what was received, e.g. ``The 'rank' parameter must be an int in [1, 50].
Got 0 instead.``
"""

from __future__ import annotations

import contextlib
import decimal
import math
import numbers
from typing import NoReturn

import numpy as np
import scipy.sparse as sp
import torch

#: the largest magnitude of data trained in float64: 2¹⁰ below the largest float64
#: (about 1.76e305), so that completed entries and products of factors do not overflow
FLOAT64_LIMIT = float(np.finfo(np.float64).max) / 2.0**10

#: the deepest factorization dmc builds (the ``depth`` parameter of every entry point)
MAX_DEPTH = 100


class _Shown(str):
    """Text that a message shows as it is (its repr is itself)."""

    def __repr__(self) -> str:
        return str(self)


def shown(value):
    """``value`` as a message shows it: an int too long to print whole shows its size,
    a numpy scalar the Python value it holds (``nan``, not ``np.float64(nan)``).

    >>> shown(10**400), shown((1, -(10**50))), shown(np.float32("nan")), shown(7)
    (an int near 1e+400, (1, an int near -1e+50), nan, 7)
    """
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return _Shown(str(value))  # NaT
    if isinstance(value, (np.floating, np.complexfloating)):
        return value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = int(value)
        if abs(value) >= 10**30:
            sign = "-" if value < 0 else ""
            return _Shown(f"an int near {sign}1e+{int(math.log10(abs(value)))}")
        return value
    if isinstance(value, (tuple, list)) and any(shown(v) is not v for v in value):
        items = ", ".join(repr(shown(v)) for v in value)
        if isinstance(value, tuple):
            return _Shown(f"({items}{',' if len(value) == 1 else ''})")
        return _Shown(f"[{items}]")
    return value


def _fail(name: str, expected: str, got, exc: type[Exception] = ValueError) -> NoReturn:
    raise exc(f"The {name!r} parameter must be {expected}. Got {shown(got)!r} instead.")


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` or raise naming ``name``."""
    if low is not None and high is not None and low > high:
        raise ValueError(
            f"The {name!r} parameter has no valid value: it must lie in "
            f"[{low}, {high}], which is empty for this problem."
        )
    expected = "an int" + _interval(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, expected, value, TypeError)
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(name, expected, value)
    return value


def check_float(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given range or raise naming ``name``."""
    left = "(" if low_open else "["
    expected = "a finite real number"
    if low is not None or high is not None:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        expected += f" in {left}{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(name, expected, value, TypeError)
    try:
        value = float(value)
    except OverflowError:  # an int (or Fraction) beyond the float64 range
        _fail(name, expected, value)
    if not np.isfinite(value):
        _fail(name, expected, value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        _fail(name, expected, value)
    return value


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool (Python or numpy) or raise a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The {name!r} parameter must be a bool. Got {shown(value)!r} instead.")
    return bool(value)


def check_choice(value, name: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        _fail(name, f"one of {options}", value, ValueError if isinstance(value, str) else TypeError)
    return value


def _interval(low, high) -> str:
    if low is None and high is None:
        return ""
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    return f" in [{lo}, {hi}]"


_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "double": torch.float64,
    "float": torch.float32,
}


def resolve_dtype(dtype) -> torch.dtype:
    """Map 'float64', np.float32, torch.float32, ... to a torch floating dtype.

    None is refused (numpy would read it as float64): a front door whose
    ``dtype=None`` means something (follow the input) resolves it first.
    """
    expected = "'float64' or 'float32' (a string, numpy or torch dtype)"
    if dtype is None:
        _fail("dtype", expected, dtype, TypeError)
    if isinstance(dtype, torch.dtype) and dtype in (torch.float32, torch.float64):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    try:
        np_dtype = np.dtype(dtype) if not isinstance(dtype, (str, torch.dtype)) else None
    except (TypeError, ValueError):  # e.g. (np.float64, -1): an invalid sub-array
        np_dtype = None
    if np_dtype == np.float64:
        return torch.float64
    if np_dtype == np.float32:
        return torch.float32
    _fail("dtype", expected, dtype)


def resolve_device(device) -> torch.device:
    """Map 'cpu', 'cuda', 'cuda:1', 'auto' or a torch.device to a usable device."""
    if isinstance(device, torch.device):
        # the cpu is one device whatever its index (torch.device("cpu", 0))
        device = "cpu" if device.type == "cpu" else str(device)
    if not isinstance(device, str):
        _fail("device", "'cpu', 'cuda', 'cuda:N' or 'auto'", device, TypeError)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter asks for {device!r}, but torch sees no CUDA "
                "device on this machine. Use device='cpu' or device='auto'."
            )
        return torch.device(device)
    _fail("device", "'cpu', 'cuda', 'cuda:N' or 'auto'", device)


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a private numpy Generator (never the global RNG)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            _fail("random_state", "None, a non-negative int or a numpy Generator", random_state)
        return np.random.default_rng(int(random_state))
    _fail("random_state", "None, a non-negative int or a numpy Generator", random_state, TypeError)


def is_missing(value) -> bool:
    """Whether ``value`` is a marker of a missing value.

    None, NaN (a float, a numpy float or a ``Decimal``), pandas' ``NA`` and
    ``NaT``, numpy's ``NaT``. Data reads them all as a missing entry; an id
    that is one is refused.

    >>> import decimal
    >>> [is_missing(v) for v in (None, float("nan"), decimal.Decimal("NaN"), 0.0, "NaN")]
    [True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, decimal.Decimal):
        return value.is_nan()
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return type(value).__name__ in ("NAType", "NaTType")  # pandas, without importing it


def as_plain_input(X):
    """``X`` with what numpy would misread made plain; anything else as it is.

    A torch tensor is detached and moved to the CPU (one that requires grad
    is read, not refused). A numpy masked array becomes an array with its
    masked entries missing: NaN (ints become float64), None in an object
    array. In the object columns of a pandas table, every missing marker
    (None, ``pd.NA``, ``NaT``) becomes NaN, as ``pd.NA`` already is in
    nullable columns (Int64, Float64).
    """
    if isinstance(X, torch.Tensor):
        return X.detach().cpu()
    if isinstance(X, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(X)
        data = np.ma.getdata(X)
        if not mask.any() or data.dtype.kind not in "iufcO":
            return data  # nothing masked; or booleans, strings: refused anyway
        data = data.astype(np.float64) if data.dtype.kind in "iu" else data.copy()
        data[mask] = None if data.dtype.kind == "O" else np.nan
        return data
    dtypes = getattr(X, "dtypes", None)
    if hasattr(X, "to_numpy") and hasattr(dtypes, "items"):  # a pandas DataFrame
        objects = [c for c, t in dtypes.items() if isinstance(t, np.dtype) and t.kind == "O"]
        if objects and X.columns.is_unique and X[objects].isna().to_numpy().any():
            X = X.copy()
            X[objects] = X[objects].where(X[objects].notna(), np.nan)
    return X


def as_real_array(
    X, name: str, *, owner: str = "", expected: str = "hold real numbers"
) -> np.ndarray:
    """``X`` as a float64 array, refusing what is not real numbers, naming ``name``.

    Refused with a ``TypeError``: None, ragged nesting, complex, boolean
    (a mask, not values) and string dtypes, and object arrays holding anything
    but real numbers and missing markers (:func:`is_missing`: None, ``pd.NA``,
    ... become NaN); with a ``ValueError``: Python ints beyond the float64
    range. Masked arrays and tensors are read by :func:`as_plain_input`;
    pandas tables must be dense, with distinct column names. ``owner`` (e.g.
    " of DeepMatrixCompletion") follows the parameter's name in messages,
    ``expected`` says what it must be.
    Shape, emptiness and finiteness are left to the caller.
    """
    head = f"The {name!r} parameter{owner}"
    start = f"{head} must {expected}"
    X = as_plain_input(X)
    if X is None:
        raise TypeError(f"{start}. Got None instead.")
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas
        X = _pandas_as_float(X, head, start, name)
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(
            f"{start} in a rectangular array. Got {type(X).__name__} that numpy cannot "
            f"convert ({exc})."
        ) from None
    kind = arr.dtype.kind
    if kind in "fiu":
        return arr.astype(np.float64, copy=False)
    if kind == "c":
        raise TypeError(f"{start}. Got complex dtype {arr.dtype} instead.")
    if kind == "b":
        raise TypeError(
            f"{start}, not booleans (a mask?). Got dtype bool instead; pass "
            f"{name}.astype(float) to use 0 and 1 as values."
        )
    if kind in "US":
        raise TypeError(
            f"{start}, not strings. Got dtype {arr.dtype} instead; convert the strings "
            "to numbers first."
        )
    if kind != "O":
        raise TypeError(f"{start}. Got dtype {arr.dtype} instead.")
    return _objects_as_float(arr, start)


def _objects_as_float(arr, start, where=""):
    """An object array of real numbers and missing markers (NaN) as float64."""
    missing = np.frompyfunc(is_missing, 1, 1)(arr).astype(bool)
    if missing.any():
        arr = np.where(missing, np.nan, arr)
    try:
        out = arr.astype(np.float64)
    except OverflowError:
        pos, bad = _first_beyond_float(arr)
        raise ValueError(
            f"{start} within the float64 range (magnitude below about 1.8e308). Got "
            f"{shown(bad)!r}{where} at position {pos} instead."
        ) from None
    except (TypeError, ValueError) as exc:
        pos, bad = _first_not_real(arr)
        raise TypeError(
            f"{start}. Got {type(bad).__name__} {bad!r}{where} at position {pos} instead ({exc})."
        ) from None
    pos, bad = _first_not_real(arr)
    if bad is not None:
        raise TypeError(
            f"{start}. Got {type(bad).__name__} {bad!r}{where} at position {pos} instead; "
            "convert it to a number first."
        )
    return out


def as_dense_matrix(X, name: str, *, owner: str = "") -> np.ndarray:
    """``X`` as a 2-D float array with NaN for missing entries, naming ``name``.

    A float32 array stays float32, anything else becomes float64 through
    :func:`as_real_array` (which says what is refused as not real numbers).
    Refused besides: a scipy.sparse matrix (a ``TypeError``: its unstored
    entries would be ambiguous), an array that is not 2-D, has no row or no
    column, holds an infinity, or a value beyond :data:`FLOAT64_LIMIT`
    (``ValueError``). ``owner`` (e.g. " of DeepMatrixCompletion") follows the
    parameter's name in messages; their wording is the one scikit-learn's
    estimator checks expect ("Reshape your data", "... while a minimum of 1
    is required").
    """
    start = f"The {name!r} parameter{owner}"
    if sp.issparse(X):
        raise TypeError(
            f"{start} must be a dense array with NaN for missing entries. Got a "
            "scipy.sparse matrix: its unstored entries would be ambiguous (zero or missing). "
            f"Use {name}.toarray() after setting the missing entries to NaN."
        )
    X = as_plain_input(X)
    if not (isinstance(X, np.ndarray) and X.dtype == np.float32):
        X = as_real_array(X, name, owner=owner)
    if X.ndim != 2:
        raise ValueError(
            f"{start} must be a 2-D array (n_samples, n_features). Got an array of shape "
            f"{X.shape} instead. Reshape your data with {name}.reshape(-1, 1) for a single "
            f"feature or {name}.reshape(1, -1) for a single sample."
        )
    if 0 in X.shape:
        what = "sample" if X.shape[0] == 0 else "feature"
        raise ValueError(
            f"{start} must have at least one sample and one feature. Got 0 {what}(s) "
            f"(shape={X.shape}) while a minimum of 1 is required."
        )
    if np.isinf(X).any():
        i, j = np.argwhere(np.isinf(X))[0]
        raise ValueError(
            f"{start} must hold finite values, with NaN for missing entries, not infinity. "
            f"Got {X[i, j]} at row {i}, column {j} instead."
        )
    beyond = np.abs(X) > FLOAT64_LIMIT if X.dtype == np.float64 else np.zeros(X.shape, bool)
    if beyond.any():  # (float32 stays far below the limit)
        i, j = np.argwhere(beyond)[0]
        raise ValueError(
            f"{start} must hold values of magnitude at most {FLOAT64_LIMIT:.3g} (2**10 "
            "below the largest float64: completed entries and products may overflow), "
            f"with NaN for missing entries. Got {X[i, j]} at row {i}, column {j} instead; "
            f"rescale {name}."
        )
    return X


def _first_not_real(arr):
    """Position and value of the first element that is neither a real number nor missing."""
    for pos, value in np.ndenumerate(arr):
        if is_missing(value):
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return (pos[0] if len(pos) == 1 else pos), value
    return None, None


def _first_beyond_float(arr):
    """Position and value of the first element that float() cannot hold."""
    for pos, value in np.ndenumerate(arr):
        try:
            float(value)
        except OverflowError:
            return (pos[0] if len(pos) == 1 else pos), value
        except (TypeError, ValueError):
            continue
    return None, None  # pragma: no cover - only called after an OverflowError


def _pandas_as_float(X, head, start, name):
    """A pandas table or Series as float64, column by column, naming a bad column."""
    columns = getattr(X, "columns", None)
    if columns is not None and not columns.is_unique:
        names = list(columns)
        repeated = next(c for c in names if names.count(c) > 1)
        raise ValueError(
            f"{head} must have distinct column names. Got {repeated!r} "
            f"{names.count(repeated)} times among the columns {names} instead."
        )
    dtypes = list(X.dtypes.items()) if columns is not None else [(None, X.dtype)]
    sparse = [column for column, dtype in dtypes if type(dtype).__name__ == "SparseDtype"]
    if sparse:
        what = "a sparse Series" if columns is None else f"sparse column(s) {sparse}"
        raise TypeError(
            f"{head} must be a dense DataFrame or array with NaN for missing entries. Got "
            f"{what} instead; pass {name}.sparse.to_dense()."
        )
    converted = {}
    for column, dtype in dtypes:
        where = "" if column is None else f" in column {column!r}"
        kind = getattr(dtype, "kind", "O")
        if kind == "b":
            raise TypeError(f"{start}, not booleans. Got dtype {dtype}{where} instead.")
        if kind == "c":
            raise TypeError(f"{start}. Got complex dtype {dtype}{where} instead.")
        if kind in "fiu":
            continue
        series = X if column is None else X[column]
        try:
            values = series.to_numpy(dtype=object)
        except (TypeError, ValueError):  # pragma: no cover - exotic extension types
            values = np.asarray(list(series), dtype=object)
        pos, bad = _first_not_real(values)
        if bad is not None:
            raise TypeError(
                f"{start}. Got {type(bad).__name__} {bad!r}{where} at row {pos} "
                f"(dtype {dtype}) instead."
            )
        converted[column] = _objects_as_float(values, start, where)
    if columns is None:
        return converted[None] if converted else X.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.empty(X.shape)
    for j, (column, _) in enumerate(dtypes):
        if column in converted:
            out[:, j] = converted[column]
        else:
            out[:, j] = X.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


@contextlib.contextmanager
def all_or_nothing(obj):
    """Put back every attribute of ``obj`` if the block fails: a failed ``fit`` leaves
    a fitted model as it was (and an unfitted one unfitted)."""
    state = dict(vars(obj))
    try:
        yield
    except BaseException:
        vars(obj).clear()
        vars(obj).update(state)
        raise
