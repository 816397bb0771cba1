"""The estimator's column scaling, chosen on the held-out entries with ``standardize="auto"``.

Columns in different units (a table of areas near 1,000 and ratios near 0.01)
need centring and scaling to weigh alike; columns in one unit (pixels, a
low-rank matrix with noise) are better fitted as they are: the scaling then
only adds the error of the estimated means and spreads (measured in
bench/README "Imputation": digits 0.82 standardized against 0.75 raw, the noisy
low-rank case 0.061 against 0.055, wine 0.78 against 2.03). With
``standardize="auto"`` both fits are trained on the same held-out split and the
raw one is kept when its fold-in predicts the held-out entries clearly better
(by 1%), in units of each column's observed standard deviation; else the
standardized one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.complete import training_scale
from ..core.observations import Observations
from .params import is_auto
from .validation import FoldInScore

__all__ = ["ScaledFit", "column_scaling", "fit_scaled"]


@dataclass
class ScaledFit:
    """One candidate: the scaling of the kept columns, the fit and its held-out score."""

    standardized: bool
    shift: np.ndarray
    scale: np.ndarray
    result: Any
    score: FoldInScore | None


def column_scaling(X_fit: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, scale)`` of the columns of ``X_fit``: observed mean and standard
    deviation (1 where it is 0) with ``standardize``, else 0 and 1."""
    n = X_fit.shape[1]
    if not standardize:
        return np.zeros(n), np.ones(n)
    # divided by a power of two near each column's size: no overflow or
    # underflow in the squares, and no rounding in the division
    size = np.nanmax(np.abs(X_fit), axis=0)
    unit = np.exp2(np.round(np.log2(np.where(size > 0, size, 1.0))))
    shift = np.nanmean(X_fit / unit, axis=0) * unit
    spread = np.nanstd(X_fit / unit, axis=0) * unit
    return shift, np.where(spread > 0, spread, 1.0)


def fit_scaled(estimator, X_fit: np.ndarray, train) -> ScaledFit:
    """Train on ``X_fit`` with the estimator's ``standardize`` (``True``, ``False`` or
    ``"auto"``: both, the better held-out score kept).

    ``train(obs, standardized, early, score)`` runs the fit (``early``: with early
    stopping; ``score``: its :class:`FoldInScore`, or None for the loss on the
    held-out entries) and returns the
    :class:`~dmc.core.complete.CompletionResult`.
    """
    auto = is_auto(estimator.standardize)
    choices = (True, False) if auto else (bool(estimator.standardize),)  # standardized first
    _, spread = column_scaling(X_fit, True)  # the common unit of the comparison
    fits = []
    for standardized in choices:
        shift, scale = column_scaling(X_fit, standardized)
        obs = Observations.from_dense((X_fit - shift) / scale)
        early = estimator.early_stopping and obs.n_observed * estimator.validation_fraction >= 1
        score = None
        if early and is_auto(estimator.fold_in_alpha):
            # errors in units of each column's spread; the score sees the values
            # divided by complete()'s training scale
            weights = (scale * training_scale(obs)) / spread if auto else None
            score = FoldInScore(column_weights=weights)
        result = train(obs, standardized, early, score)
        fits.append(ScaledFit(standardized, shift, scale, result, score))
        if score is None:
            break  # nothing to compare the candidates on: the first (standardized) is kept
    return fits[0] if len(fits) == 1 or not _clearly_better(fits[1], fits[0]) else fits[1]


def _clearly_better(raw: ScaledFit, standardized: ScaledFit) -> bool:
    """Whether the raw fit predicts the held-out entries clearly better: by 1%, and by
    more than 1e-6 of their size (exactly low-rank data fits both to rounding: a
    tie, which must not depend on the data's scale)."""
    a, b = raw.score, standardized.score
    assert a is not None and b is not None  # both fits were scored
    return a.best_error < 0.99 * b.best_error - 1e-6 * b.norm
