"""Error measures quoted by every comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from .._validation import as_real_array
from .observations import Observations

__all__ = ["mae", "recovery_error", "recovery_evaluator", "rmse", "root_mean_square"]


def recovery_error(estimate: ArrayLike, truth: Any, observed: Any) -> float:
    """Relative Frobenius error on the unobserved entries.

    ``‖P_Ωᶜ(Ŵ − Φ)‖_F / ‖P_Ωᶜ(Φ)‖_F``.

    Parameters
    ----------
    estimate : array of shape (m, n), or anything with ``to_dense()``
    truth : array of shape (m, n), or anything with ``to_dense()``
    observed : Observations or boolean array of shape (m, n)
        The observed set Ω, whose entries are left out.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.arange(4.0).reshape(2, 2)
    >>> observed = np.array([[True, False], [False, True]])
    >>> recovery_error(truth + 0.1 * observed, truth, observed)
    0.0
    """
    est = _dense(estimate)
    tru = _dense(truth)
    if est.shape != tru.shape:
        raise ValueError(
            f"The 'estimate' parameter must have the shape of 'truth' {tru.shape}. "
            f"Got {est.shape} instead."
        )
    if isinstance(observed, Observations):
        mask = observed.mask()
    else:
        mask = np.asarray(observed, dtype=bool)
    if mask.shape != tru.shape:
        raise ValueError(
            f"The 'observed' parameter must have the shape of 'truth' {tru.shape}. "
            f"Got {mask.shape} instead."
        )
    diff = np.where(mask, 0.0, est - tru)
    ref = np.where(mask, 0.0, tru)
    denom = np.linalg.norm(ref)
    if denom == 0:
        raise ValueError("The unobserved entries of 'truth' are all zero (or there are none).")
    return float(np.linalg.norm(diff) / denom)


def _dense(x) -> np.ndarray:
    if hasattr(x, "to_dense"):
        x = x.to_dense()
    return np.asarray(x, dtype=float)


# -- rating errors ---------------------------------------------------------------


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error ``sqrt(mean((y_true - y_pred)²))``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True and predicted ratings, finite, of the same length (n ≥ 1).

    Returns
    -------
    float

    Examples
    --------
    >>> from dmc.core.metrics import rmse
    >>> rmse([4.0, 3.0, 5.0], [4.0, 2.0, 4.0])
    0.816496580927726
    """
    a, b = _check_pair(y_true, y_pred)
    return root_mean_square(a - b)


def root_mean_square(x) -> float:
    """``sqrt(mean(x²))``, without overflow or underflow in the squares.

    Values beyond 2^±400 are scaled by a power of two near the largest before
    squaring (exact); others are squared as they are. NaN and inf propagate.
    No check of the input: :func:`rmse` and the held-out scores call it.

    Examples
    --------
    >>> from dmc.core.metrics import root_mean_square
    >>> round(root_mean_square([3e300, -4e300]) / 1e300, 12), root_mean_square([1.0, 7.0])
    (3.535533905933, 5.0)
    """
    x = np.asarray(x, dtype=np.float64)
    big = float(np.abs(x).max()) if x.size else 0.0
    if not np.isfinite(big) or big == 0.0 or 2.0**-400 <= big <= 2.0**400:
        return float(np.sqrt(np.mean(x**2)))
    scale = 2.0 ** int(np.floor(np.log2(big)))
    return float(scale * np.sqrt(np.mean((x / scale) ** 2)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error ``mean(|y_true - y_pred|)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True and predicted ratings, finite, of the same length (n ≥ 1).

    Returns
    -------
    float

    Examples
    --------
    >>> from dmc.core.metrics import mae
    >>> mae([4.0, 3.0, 5.0], [4.0, 2.0, 4.5])
    0.5
    """
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


def _check_pair(y_true, y_pred):
    a = _as_float_vector(y_true, "y_true")
    b = _as_float_vector(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(
            f"The 'y_pred' parameter must have the length of 'y_true' ({a.size}). "
            f"Got {b.size} instead."
        )
    return a, b


def _as_float_vector(x, name):
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"The {name!r} parameter must be a 1-D array of real numbers. "
            f"Got {type(x).__name__} that cannot be converted to float."
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"The {name!r} parameter must be a non-empty 1-D array. Got shape {arr.shape} instead."
        )
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"The {name!r} parameter must hold finite numbers. Got {bad} instead.")
    return arr


def recovery_evaluator(truth, obs: Observations, value_scale=1.0):
    """``evaluate(model)``: the recovery error of a model against ``truth``, in torch.

    For the training loop's history: the model's dense matrix is compared with
    ``truth / value_scale`` on the entries not in ``obs``, on the model's device.
    """
    if hasattr(truth, "to_dense"):
        truth = truth.to_dense()
    truth = as_real_array(truth, "truth")
    if truth.shape != obs.shape:
        raise ValueError(
            f"The 'truth' parameter must have the shape of the observations {obs.shape}. "
            f"Got {truth.shape} instead."
        )
    if not np.isfinite(truth).all():
        i, j = np.argwhere(~np.isfinite(truth))[0]
        raise ValueError(
            "The 'truth' parameter must hold finite numbers (the complete matrix). "
            f"Got {truth[i, j]} at ({i}, {j}) instead."
        )
    mask = obs.mask()
    ref = np.where(mask, 0.0, truth / value_scale)
    denom = np.linalg.norm(ref)
    if denom == 0:
        raise ValueError("The 'truth' parameter is zero on every unobserved entry.")
    cache = {}

    def evaluate(model) -> float:
        with torch.no_grad():
            W = model.to_dense()
            if "t" not in cache:
                cache["t"] = torch.as_tensor(ref, dtype=W.dtype, device=W.device)
                cache["m"] = torch.as_tensor(mask, device=W.device)
            diff = torch.where(cache["m"], 0.0, W - cache["t"])
            return float(torch.linalg.vector_norm(diff)) / denom

    return evaluate
