"""Error measures quoted by every comparison."""

from __future__ import annotations

import numpy as np

from .evaluation import rmse  # noqa: F401  (one implementation, re-exported)
from .observations import Observations

__all__ = ["recovery_error", "rmse"]


def recovery_error(estimate, truth, observed) -> float:
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
