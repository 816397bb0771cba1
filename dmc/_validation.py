"""Argument checks shared by every public entry point.

Every message has the same form: the parameter's name, what was expected and
what was received, e.g. ``The 'rank' parameter must be an int in [1, 50].
Got 0 instead.``
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np
import scipy.sparse as sp
import torch


def _fail(name: str, expected: str, got, exc=ValueError):
    raise exc(f"The {name!r} parameter must be {expected}. Got {got!r} instead.")


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
    value = float(value)
    if not np.isfinite(value):
        _fail(name, expected, value)
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        _fail(name, expected, value)
    return value


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
    """Map 'float64', np.float32, torch.float32, ... to a torch floating dtype."""
    if isinstance(dtype, torch.dtype) and dtype in (torch.float32, torch.float64):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    try:
        np_dtype = np.dtype(dtype) if not isinstance(dtype, (str, torch.dtype)) else None
    except TypeError:
        np_dtype = None
    if np_dtype == np.float64:
        return torch.float64
    if np_dtype == np.float32:
        return torch.float32
    _fail("dtype", "'float64' or 'float32' (a string, numpy or torch dtype)", dtype)


def resolve_device(device) -> torch.device:
    """Map 'cpu', 'cuda', 'cuda:1', 'auto' or a torch.device to a usable device."""
    if isinstance(device, torch.device):
        device = str(device)
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


def as_real_array(
    X, name: str, *, owner: str = "", expected: str = "hold real numbers"
) -> np.ndarray:
    """``X`` as a float64 array, refusing what is not real numbers, naming ``name``.

    Refused with a ``TypeError``: None, ragged nesting, complex, boolean
    (a mask, not values) and string dtypes, and object arrays holding anything
    but real numbers and None (None becomes NaN). ``owner`` (e.g.
    " of DeepMatrixCompletion") follows the parameter's name in messages,
    ``expected`` says what it must be.
    Shape, emptiness and finiteness are left to the caller.
    """
    start = f"The {name!r} parameter{owner} must {expected}"
    if X is None:
        raise TypeError(f"{start}. Got None instead.")
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas
        X = _pandas_as_float(X, start)
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
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        pos, bad = _first_not_real(arr)
        raise TypeError(
            f"{start}. Got {type(bad).__name__} {bad!r} at position {pos} instead ({exc})."
        ) from None
    pos, bad = _first_not_real(arr)
    if bad is not None:
        raise TypeError(
            f"{start}. Got {type(bad).__name__} {bad!r} at position {pos} instead; "
            "convert it to a number first."
        )
    return out


def as_dense_matrix(X, name: str, *, owner: str = "") -> np.ndarray:
    """``X`` as a 2-D float array with NaN for missing entries, naming ``name``.

    A float32 array stays float32, anything else becomes float64 through
    :func:`as_real_array` (which says what is refused as not real numbers).
    Refused besides: a scipy.sparse matrix (a ``TypeError``: its unstored
    entries would be ambiguous), an array that is not 2-D, has no row or no
    column, or holds an infinity (``ValueError``). ``owner`` (e.g.
    " of DeepMatrixCompletion") follows the parameter's name in messages;
    their wording is the one scikit-learn's estimator checks expect ("Reshape
    your data", "... while a minimum of 1 is required").
    """
    start = f"The {name!r} parameter{owner}"
    if sp.issparse(X):
        raise TypeError(
            f"{start} must be a dense array with NaN for missing entries. Got a "
            "scipy.sparse matrix: its unstored entries would be ambiguous (zero or missing). "
            f"Use {name}.toarray() after setting the missing entries to NaN."
        )
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
    return X


def _first_not_real(arr):
    """Position and value of the first element that is neither a real number nor None."""
    for pos, value in np.ndenumerate(arr):
        if value is None or type(value).__name__ == "NAType":  # pandas.NA
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return (pos[0] if len(pos) == 1 else pos), value
    return None, None


def _pandas_as_float(X, start):
    dtypes = X.dtypes.items() if hasattr(X, "dtypes") and hasattr(X, "columns") else None
    for column, dtype in dtypes if dtypes is not None else [(None, X.dtype)]:
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
    try:
        return X.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:  # pragma: no cover - checked above
        raise TypeError(
            f"{start}. Got {type(X).__name__} that cannot be converted ({exc})."
        ) from None


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
