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

__all__ = ["ALPHA_GRID", "FoldInScore"]

#: ridge weights of the fold-in tried by the score, relative to the squared largest
#: singular value of the fitted matrix
ALPHA_GRID = (1e-6, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
_NEGLIGIBLE = 1e-4


class FoldInScore:
    """``score(model, fit, held_out)``: the relative held-out error of the fold-in, best α.

    Called by :func:`dmc.complete`'s early stopping every few iterations;
    ``best_alpha`` holds the α of the best score so far: the α of the parameters
    that early stopping keeps. Costs ``O(m n k² + m k³)`` per call for an
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

    def __init__(self, alphas=ALPHA_GRID):
        self.alphas = tuple(alphas)
        self.best_value, self.best_alpha = math.inf, self.alphas[0]
        self._fit, self._mask = None, None

    def __call__(self, model, fit, held_out) -> float:
        errors = self.errors(model, fit, held_out)
        best = int(np.argmin(errors))
        if errors[best] < self.best_value:
            self.best_value, self.best_alpha = float(errors[best]), self.alphas[best]
        return float(errors[best])

    def errors(self, model, fit, held_out) -> np.ndarray:
        """The relative held-out error for each α of the grid."""
        with torch.no_grad():
            A, B = model._left_right()
            s, Vt = column_space(A.double().cpu().numpy(), B.double().cpu().numpy())
        norm = float(np.linalg.norm(held_out.values)) or 1.0
        if s.size == 0 or s[0] == 0:
            return np.full(len(self.alphas), float(np.linalg.norm(held_out.values)) / norm)
        # components below 1e-4 s₁ weigh less than 1e-8 s₁² against the smallest ridge
        # 1e-6 s₁²: left out, they would only cost time (early on, all 2r̂ are tiny)
        keep = s > _NEGLIGIBLE * s[0]
        C = (s[keep, None] * Vt[keep]).T / s[0]  # n x k, at unit scale: α relative to s₁²
        mask = self._fit_mask(fit)
        n_cols, k = C.shape
        outer = (C[:, :, None] * C[:, None, :]).reshape(n_cols, k * k)
        gram = (mask @ outer).reshape(-1, k, k)  # G_t for every row
        target = np.zeros(mask.shape)
        target[fit.rows, fit.cols] = fit.values
        rhs = target @ C  # b_t
        evals, Q = np.linalg.eigh(gram)
        proj = np.einsum("tki,tk->ti", Q, rhs)  # Q_tᵀ b_t
        rows, cols = held_out.rows, held_out.cols
        Qh, ph, eh, Ch = Q[rows], proj[rows], evals[rows], C[cols]
        CQ = np.einsum("hk,hki->hi", Ch, Qh)  # c_jᵀ Q_t for each held-out entry
        errors = np.empty(len(self.alphas))
        for i, alpha in enumerate(self.alphas):
            predicted = np.einsum("hi,hi->h", CQ, ph / (np.maximum(eh, 0.0) + alpha))
            errors[i] = float(np.linalg.norm(predicted - held_out.values)) / norm
        return errors

    def _fit_mask(self, fit) -> np.ndarray:
        """The 0/1 ``m x n`` mask of the fitted entries (kept between calls)."""
        if fit is not self._fit:
            self._fit, self._mask = fit, np.zeros(fit.shape)
            self._mask[fit.rows, fit.cols] = 1.0
        return self._mask
