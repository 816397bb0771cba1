"""Parameter checks of :class:`~dmc.impute.estimator.DeepMatrixCompletion`.

Each check names the estimator and the parameter, as ``fit`` reports them.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .._validation import as_dense_matrix, check_float, check_int, shown

__all__ = [
    "AUTO_RANK_MAX",
    "auto_rank",
    "check_bounds",
    "check_clip",
    "check_dense_X",
    "check_flag",
    "check_missing_values",
    "check_rank",
    "check_standardize",
    "check_verbose",
    "is_auto",
    "is_nan_marker",
    "name_estimator",
    "named",
]

_OWNER = "DeepMatrixCompletion"


def is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


#: the largest rank that ``rank="auto"`` selects
AUTO_RANK_MAX = 50


def auto_rank(shape: tuple[int, int]) -> int:
    """The rank ``rank="auto"`` selects for training rows of ``shape``.

    10 (the previous default), or a quarter of the smaller side when that is
    more, at most :data:`AUTO_RANK_MAX`, and never more than the smaller side.
    A spectrum that decays slowly needs many components: on issue 14's
    decaying generator (500 x 800) rank 10 leaves 0.32 standardized RMSE where
    rank 50 reaches 0.18, while on narrow tables the quarter would be too few
    (bench/README "Imputation"). Early stopping then picks how many of them the
    fit keeps.

    >>> auto_rank((500, 800)), auto_rank((1797, 64)), auto_rank((178, 13)), auto_rank((5, 3))
    (50, 16, 10, 3)
    """
    small = min(shape)
    return int(min(AUTO_RANK_MAX, max(min(10, small), small // 4)))


def check_rank(value: Any) -> int | str:
    """``rank``: "auto" or an int ≥ 1."""
    if is_auto(value):
        return "auto"
    if isinstance(value, str):
        raise TypeError(
            f"The 'rank' parameter of {_OWNER} must be 'auto' or an int in the range "
            f"[1, inf). Got {value!r} instead."
        )
    return named(check_int, value, "rank", low=1)


def is_nan_marker(value: Any) -> bool:
    """Whether ``missing_values`` is NaN (or pandas' NA), as scikit-learn's ``is_scalar_nan``
    and ``is_pandas_na`` tell: then NaN in ``X`` is allowed."""
    if type(value).__name__ == "NAType":
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value)


def check_dense_X(X):
    """Refuse, naming 'X', what scikit-learn's check_array refuses with less clear words."""
    try:
        as_dense_matrix(X, "X", owner=" of DeepMatrixCompletion")
    except TypeError as exc:
        if "complex" not in str(exc):
            raise
        # scikit-learn's contract: a ValueError that says so
        raise ValueError(f"{exc} Complex data not supported.") from None


def check_clip(clip):
    if clip is None:
        return (None, None)
    expected = "None or a pair (low, high) of real numbers or None with low <= high"
    try:
        low, high = clip
    except (TypeError, ValueError):
        raise TypeError(
            f"The 'clip' parameter of DeepMatrixCompletion must be {expected}. "
            f"Got {clip!r} instead."
        ) from None
    bounds = []
    for value in (low, high):
        if value is not None:
            value = named(check_float, value, "clip")
        bounds.append(value)
    if None not in bounds and bounds[0] > bounds[1]:
        raise ValueError(
            f"The 'clip' parameter of DeepMatrixCompletion must be {expected}. "
            f"Got {clip!r} instead."
        )
    return tuple(bounds)


def check_flag(value: Any, name: str) -> bool:
    """A bool parameter (Python or numpy), as scikit-learn's "boolean" constraint."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"The {name!r} parameter of {_OWNER} must be True or False. "
            f"Got {shown(value)!r} instead."
        )
    return bool(value)


def check_standardize(value: Any) -> bool | str:
    """``standardize``: True, False or "auto"."""
    if is_auto(value):
        return "auto"
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"The 'standardize' parameter of {_OWNER} must be True, False or 'auto'. "
            f"Got {shown(value)!r} instead."
        )
    return bool(value)


def check_verbose(verbose: Any) -> int:
    """``verbose`` as an int ≥ 0: an int (0 silent, 1 a progress bar, 2 and more: also a
    line per stage) or a bool (False is 0, True is 1), as scikit-learn's "verbose"."""
    if isinstance(verbose, (bool, np.bool_)):
        return int(verbose)
    expected = "an int >= 0 (0: silent, 1: a progress bar, 2: more detail) or a bool"
    if not isinstance(verbose, numbers.Integral):
        raise TypeError(
            f"The 'verbose' parameter of {_OWNER} must be {expected}. "
            f"Got {shown(verbose)!r} instead."
        )
    if verbose < 0:
        raise ValueError(
            f"The 'verbose' parameter of {_OWNER} must be {expected}. "
            f"Got {shown(verbose)!r} instead."
        )
    return int(verbose)


def check_missing_values(value: Any) -> float:
    """``missing_values`` as a float: NaN (also for pandas' ``NA``) or a finite number."""
    if type(value).__name__ == "NAType":  # pandas.NA: read as NaN, as dmc reads it in X
        return math.nan
    expected = "np.nan, pandas.NA or a finite real number (such as -1 or 0)"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"The 'missing_values' parameter of {_OWNER} must be {expected}; X holds "
            f"numbers. Got {shown(value)!r} instead."
        )
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float64 range
        number = math.inf
    if math.isinf(number):
        raise ValueError(
            f"The 'missing_values' parameter of {_OWNER} must be {expected}. "
            f"Got {shown(value)!r} instead."
        )
    return number


def check_bounds(
    min_value: Any, max_value: Any, clip: Any, n_features: int, *, warn: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The per-feature bounds of the filled values, as two float64 arrays of
    ``n_features``, from ``min_value`` and ``max_value`` (a number or an array-like
    of ``n_features`` numbers each, ±inf allowed, as in scikit-learn's
    ``IterativeImputer``) or from the deprecated ``clip`` (with a FutureWarning
    when ``warn``); every ``min_value < max_value``, as there."""
    low, high = check_clip(clip)
    default = _is_default(min_value, -math.inf) and _is_default(max_value, math.inf)
    if clip is not None:
        if not default:
            raise ValueError(
                f"The 'clip' parameter of {_OWNER} is deprecated and replaced by "
                "'min_value' and 'max_value': give one or the other, not both. Got "
                f"clip={clip!r}, min_value={shown(min_value)!r} and "
                f"max_value={shown(max_value)!r} instead."
            )
        if warn:
            warnings.warn(
                f"The 'clip' parameter of {_OWNER} is deprecated and will be removed in a "
                "future release: pass min_value=low and max_value=high instead "
                "(scikit-learn's names, also per feature). The bounds of 'clip' are applied "
                "as those.",
                FutureWarning,
                stacklevel=4,
            )
        lows = np.full(n_features, -math.inf if low is None else low)
        return lows, np.full(n_features, math.inf if high is None else high)
    lows = _limit(min_value, "min_value", n_features)
    highs = _limit(max_value, "max_value", n_features)
    bad = np.flatnonzero(~(lows < highs))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"The 'min_value' and 'max_value' parameters of {_OWNER} must satisfy "
            f"min_value < max_value for every feature. Got min_value = {lows[j]} and "
            f"max_value = {highs[j]} for feature {j} instead."
        )
    return lows, highs


def _is_default(value: Any, default: float) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and float(value) == default
    )


def _limit(value: Any, name: str, n_features: int) -> np.ndarray:
    """One bound: a real number or an array-like of ``n_features`` of them, not NaN."""
    expected = (
        f"a real number (±inf allowed) or an array-like of shape (n_features,) = "
        f"({n_features},) of them, without NaN"
    )
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise TypeError(
            f"The {name!r} parameter of {_OWNER} must be {expected}. Got {shown(value)!r} instead."
        )
    if isinstance(value, numbers.Real):
        try:
            array = np.full(n_features, float(value))
        except OverflowError:
            array = np.full(n_features, math.copysign(math.inf, value))
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # ragged nesting
            array = np.asarray(None)
        if array.dtype.kind not in "iuf" or array.ndim != 1:
            what = f"an array of dtype {array.dtype} and shape {array.shape}"
            raise TypeError(
                f"The {name!r} parameter of {_OWNER} must be {expected}. Got {what} instead."
            )
        if array.shape != (n_features,):
            raise ValueError(
                f"The {name!r} parameter of {_OWNER} must be {expected}. Got an array of "
                f"shape {array.shape} instead."
            )
        array = array.astype(np.float64)
    if np.isnan(array).any():
        raise ValueError(
            f"The {name!r} parameter of {_OWNER} must be {expected}. Got NaN at feature "
            f"{int(np.flatnonzero(np.isnan(array))[0])} instead."
        )
    return array


def named(check, value, name, **kwargs):
    """Run a ``dmc._validation`` check, naming the estimator in its message."""
    try:
        return check(value, name, **kwargs)
    except (TypeError, ValueError) as exc:
        name_estimator(exc, [name])
        raise


def name_estimator(exc, names):
    """Rewrite "The 'p' parameter ..." into "The 'p' parameter of DeepMatrixCompletion ..."."""
    message = str(exc)
    for name in names:
        prefix = f"The {name!r} parameter "
        if message.startswith(prefix) and exc.args:
            exc.args = (
                f"The {name!r} parameter of DeepMatrixCompletion " + message[len(prefix) :],
                *exc.args[1:],
            )
            return
