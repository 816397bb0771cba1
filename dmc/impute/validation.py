"""The estimator's held-out score: the fold-in's error on entries hidden from the fit.

``DeepMatrixCompletion`` fills a row by a ridge regression of its observed
entries on the fitted column space (the fold-in). Its early stopping therefore
scores a model by what the fold-in makes of it: every training row is folded in
from its fitted entries, and the held-out entries it predicts are compared with
their values, for each ridge weight α of a grid at once. The best α is the
estimator's ``fold_in_alpha_``.

The per-row normal equations ``G_t = Σ_{j ∈ J_t} c_j c_jᵀ`` do not depend on α:
they are formed once per score and diagonalised (``G_t = Q_t diag(e_t) Q_tᵀ``),
and each α then costs a product, ``z_t = Q_t diag(1 / (e_t + α s₁²)) Q_tᵀ b_t``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core.linalg import column_space

__all__ = ["ALPHA_GRID", "MAX_ROWS", "FoldInScore"]

#: ridge weights of the fold-in tried by the score, relative to the squared largest
#: singular value of the fitted matrix
ALPHA_GRID = (1e-6, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
_NEGLIGIBLE = 1e-4
#: the score folds in at most this many rows (a seeded sample of those with held-out
#: entries): its cost is then bounded by the columns and the width, not the rows
MAX_ROWS = 512


class FoldInScore:
    """``score(model, fit, held_out)``: the relative held-out error of the fold-in, best α.

    Called by :func:`dmc.complete`'s early stopping every few iterations;
    ``best_alpha`` holds the α of the best score so far: the α of the parameters
    that early stopping keeps. Only the held-out entries of at most
    :data:`MAX_ROWS` rows are scored (a sample fixed for the fit, seed 0), so a
    call costs ``O(m' n k² + m' k³)`` with ``m' = min(m, MAX_ROWS)`` for an
    ``m x n`` matrix and a model of width ``k`` (the per-row systems are formed
    with a dense 0/1 mask of the fitted entries: an imputer's rows are dense).

    Examples
    --------
    >>> import numpy as np, dmc
    >>> from dmc.impute.validation import FoldInScore
    >>> M = dmc.low_rank_matrix((40, 30), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
    >>> score = FoldInScore()
    >>> result = dmc.complete(X, rank=2, early_stopping=True, scoring=score, random_state=0)
    >>> bool(result.history["validation_error"][result.best_iteration] < 1e-4)
    True
    """

    def __init__(self, alphas=ALPHA_GRID, column_weights=None):
        self.alphas = tuple(alphas)
        #: per column, the factor that brings an error to the unit in which
        #: ``best_error`` is given (early stopping itself uses the fit's own units)
        self.column_weights = column_weights
        self.best_value, self.best_alpha = math.inf, self.alphas[0]
        #: the absolute held-out error of the best score, weighted by
        #: ``column_weights``: comparable between fits of differently scaled copies
        #: of the same data
        self.best_error = math.inf
        self.norm = math.nan
        self._fit = None
        self._held_out, self._scored = None, None

    @property
    def held_out(self):
        """The entries held out in the last call (:class:`~dmc.core.observations.Observations`
        in the training's units; their positions are those of the fitted matrix), or None."""
        return self._held_out

    def __call__(self, model, fit, held_out) -> float:
        errors = self.errors(model, fit, held_out)
        best = int(np.argmin(errors))
        if errors[best] < self.best_value:
            self.best_value, self.best_alpha = float(errors[best]), self.alphas[best]
            self.best_error = float(self._weighted[best])
            self.norm = self._norm  # of the held-out values, weighted alike
        return float(errors[best])

    def errors(self, model, fit, held_out) -> np.ndarray:
        """The relative held-out error for each α of the grid."""
        with torch.no_grad():
            A, B = model._left_right()
            s, Vt = column_space(A.double().cpu().numpy(), B.double().cpu().numpy())
        if s.size == 0 or s[0] == 0:
            return self.design_errors(np.zeros((0, Vt.shape[1])), fit, held_out)
        # components below 1e-4 s₁ weigh less than 1e-8 s₁² against the smallest ridge
        # 1e-6 s₁²: left out, they would only cost time (early on, all 2r̂ are tiny)
        keep = s > _NEGLIGIBLE * s[0]
        return self.design_errors(s[keep, None] * Vt[keep] / s[0], fit, held_out)

    def design_errors(self, components, fit, held_out) -> np.ndarray:
        """The relative held-out error for each α of the grid, of the fold-in on
        ``components`` (k x n, largest first: α is relative to the squared norm of
        the unit, which ``components`` are given in)."""
        mask, target, (local, cols, values) = self._scored_rows(fit, held_out)
        weights = 1.0 if self.column_weights is None else self.column_weights[cols]
        norm = float(np.linalg.norm(values)) or 1.0
        self._norm = float(np.linalg.norm(values * weights))
        sizes = np.linalg.norm(components, axis=1)
        if sizes.size == 0 or sizes.max() == 0:
            self._weighted = np.full(len(self.alphas), float(np.linalg.norm(values * weights)))
            return np.full(len(self.alphas), float(np.linalg.norm(values)) / norm)
        C = components[sizes > _NEGLIGIBLE * sizes.max()].T  # n x k
        n_cols, k = C.shape
        outer = (C[:, :, None] * C[:, None, :]).reshape(n_cols, k * k)
        gram = (mask @ outer).reshape(-1, k, k)  # G_t for every scored row
        rhs = target @ C  # b_t
        evals, Q = np.linalg.eigh(gram)
        proj = np.einsum("tki,tk->ti", Q, rhs)  # Q_tᵀ b_t
        Qh, ph, eh, Ch = Q[local], proj[local], evals[local], C[cols]
        CQ = np.einsum("hk,hki->hi", Ch, Qh)  # c_jᵀ Q_t for each held-out entry
        errors, self._weighted = np.empty(len(self.alphas)), np.empty(len(self.alphas))
        for i, alpha in enumerate(self.alphas):
            predicted = np.einsum("hi,hi->h", CQ, ph / (np.maximum(eh, 0.0) + alpha))
            errors[i] = float(np.linalg.norm(predicted - values)) / norm
            self._weighted[i] = float(np.linalg.norm((predicted - values) * weights))
        return errors

    def _scored_rows(self, fit, held_out):
        """The rows the score folds in (kept between calls): their 0/1 mask and values
        of the fitted entries, and the held-out entries in them (row index local to
        the sample, column, value)."""
        if fit is not self._fit or held_out is not self._held_out:
            rows = np.unique(held_out.rows)
            if rows.size > MAX_ROWS:
                rows = np.sort(np.random.default_rng(0).choice(rows, MAX_ROWS, replace=False))
            local = np.full(fit.shape[0], -1)
            local[rows] = np.arange(rows.size)
            mask, target = np.zeros((rows.size, fit.shape[1])), np.zeros((rows.size, fit.shape[1]))
            inside = local[fit.rows] >= 0
            mask[local[fit.rows[inside]], fit.cols[inside]] = 1.0
            target[local[fit.rows[inside]], fit.cols[inside]] = fit.values[inside]
            scored = local[held_out.rows] >= 0
            entries = (local[held_out.rows[scored]], held_out.cols[scored], held_out.values[scored])
            self._fit, self._held_out, self._scored = fit, held_out, (mask, target, entries)
        return self._scored
