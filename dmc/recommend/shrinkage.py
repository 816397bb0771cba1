"""Step 3 of the ratings model: empirical-Bayes ridge shrinkage of biases and vectors.

The deep fit of step 2 gives latent factors and, through their spread and the
residuals it leaves, a prior: :class:`ShrinkagePrior` (see :mod:`.deepfit`). Each user's
``(b_u, a_u)``, then each item's, then each user's again, is re-solved by a
ridge regression against the other side with that prior scaled by α
(:func:`shrink`); :func:`choose_shrinkage` picks α on held-out ratings. The
same ridge solve (:func:`ridge_rows`) folds in new users.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np

from ..core.distributed import SINGLE, Communicator
from ..core.linalg import ridge_fold_in
from ..io import storable
from .config import SHRINKAGE_GRID

logger = logging.getLogger(__name__)

__all__ = [
    "ShrinkageFit",
    "ShrinkagePrior",
    "choose_shrinkage",
    "ridge_rows",
    "shrink",
    "solve_user",
]


@storable("ShrinkagePrior")
class ShrinkagePrior(NamedTuple):
    """The prior the deep fit implies: second moments of its factors, noise variance."""

    user_cov: np.ndarray
    item_cov: np.ndarray
    noise: float

    # -- files (dmc.io) -------------------------------------------------------------

    def _get_state(self) -> dict:
        return {"user_cov": self.user_cov, "item_cov": self.item_cov, "noise": self.noise}

    @classmethod
    def _from_state(cls, state: dict):
        return cls(state["user_cov"], state["item_cov"], state["noise"])


class ShrinkageFit(NamedTuple):
    """Biases and latent factors of both sides after the ridge sweeps."""

    user_bias: np.ndarray
    item_bias: np.ndarray
    A: np.ndarray
    B: np.ndarray

    def predict(self, u: np.ndarray, i: np.ndarray, mu: float) -> np.ndarray:
        return (
            mu + self.user_bias[u] + self.item_bias[i] + np.einsum("ij,ij->i", self.A[u], self.B[i])
        )


def choose_shrinkage(
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray, np.ndarray],
    mu: float,
    bi: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    prior: ShrinkagePrior,
    opts: dict[str, Any],
    rating_range: tuple[float, float],
    comm: Communicator = SINGLE,
    verbose: bool = False,
) -> tuple[float, dict[float, float]]:
    """The α of :data:`SHRINKAGE_GRID` whose shrinkage predicts ``val`` best.

    ``fit`` and ``val`` are ``(u, i, r)`` triplets: the ratings the sweeps see
    and the held-out ones, on which the predictions clipped to
    ``rating_range`` are scored. Returns α and the validation RMSE of each α
    tried (the smallest α on ties). ``comm`` sums over the ranks of a
    data-parallel fit, each with its own ``fit`` and ``val`` ratings.
    ``verbose``: a progress bar over the α tried (minutes at 25M ratings).
    """
    from tqdm.auto import tqdm

    u_val, i_val, y_val = val
    n_val = comm.sum(float(y_val.size))
    scores = {}
    grid = tqdm(SHRINKAGE_GRID, desc="dmc shrinkage", unit="α", leave=False, disable=not verbose)
    for alpha in grid:
        state = shrink(*fit, mu, bi, A, B, prior, alpha, opts, comm)
        pred = state.predict(u_val, i_val, mu)
        pred = np.clip(pred, *rating_range)
        scores[alpha] = float(np.sqrt(comm.sum(float(np.sum((pred - y_val) ** 2))) / n_val))
    alpha = min(scores, key=scores.__getitem__)
    logger.info(
        "shrinkage: validation RMSE %s, chose %g",
        {a: round(v, 4) for a, v in scores.items()},
        alpha,
    )
    return alpha, scores


def shrink(
    u: np.ndarray,
    i: np.ndarray,
    r: np.ndarray,
    mu: float,
    bi: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    prior: ShrinkagePrior,
    alpha: float,
    opts: dict[str, Any],
    comm: Communicator = SINGLE,
    sweeps: int = 1,
    verbose: bool = False,
) -> ShrinkageFit:
    """Users, then ``sweeps`` times items and users: ridge re-solves of (bias, latent vector).

    ``bi`` are the item biases of step 1, the starting point of the first sweep.
    ``comm`` sums the normal equations over the ranks of a data-parallel fit.
    Each sweep lowers the same penalised least-squares objective (alternating
    exact minimisation), so more sweeps move the vectors further from the deep
    fit's towards that objective's minimum. ``verbose``: a progress bar over the
    ``2 sweeps + 1`` ridge solves.
    """
    from tqdm.auto import tqdm

    m, n = A.shape[0], B.shape[0]
    ridge = prior.noise * alpha
    user_reg, item_reg = opts["user_bias_reg"], opts["item_bias_reg"]
    with tqdm(
        total=2 * sweeps + 1,
        desc="dmc final shrinkage",
        unit="solve",
        leave=False,
        disable=not verbose,
    ) as bar:
        bu, A = ridge_rows(u, i, r - mu - bi[i], m, B, prior.user_cov, ridge, user_reg, comm)
        bar.update()
        for _ in range(sweeps):
            bi, B = ridge_rows(i, u, r - mu - bu[u], n, A, prior.item_cov, ridge, item_reg, comm)
            bu, A = ridge_rows(u, i, r - mu - bi[i], m, B, prior.user_cov, ridge, user_reg, comm)
            bar.update(2)
    return ShrinkageFit(bu, bi, A, B)


def solve_user(
    i: np.ndarray,
    target: np.ndarray,
    item_factors: np.ndarray,
    prior: ShrinkagePrior,
    alpha: float,
    bias_reg: float,
) -> tuple[float, np.ndarray]:
    """``(b_u, a_u)`` of one user who rated items ``i``: the solve of :func:`shrink`'s
    user sweeps (same prior, same α), so a folded-in user is treated as a fitted one."""
    b, a = ridge_rows(
        np.zeros(i.size, dtype=np.int64),
        i,
        target,
        1,
        item_factors,
        prior.user_cov,
        prior.noise * alpha,
        bias_reg,
    )
    return b[0], a[0]


def ridge_rows(
    rows: np.ndarray,
    cols: np.ndarray,
    target: np.ndarray,
    n_rows: int,
    F: np.ndarray,
    cov: np.ndarray,
    ridge: float,
    bias_reg: float,
    comm: Communicator = SINGLE,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row ``t``: ``(b_t, a_t)`` minimising

    ``Σ_{(t, j)} (target − b_t − F_j · a_t)² + bias_reg b_t² + ridge · a_tᵀ cov⁻¹ a_t``.

    The prior covariance is handled in its eigenbasis (``a = T z`` with
    ``T = E diag(√s)``), so directions it does not support get no weight.
    Solved in blocks of rows with batched ``(k + 1) x (k + 1)`` systems
    (:func:`dmc.core.linalg.ridge_fold_in`).
    """
    k = F.shape[1]
    s, E = np.linalg.eigh(cov)
    keep = s > 1e-10 * max(float(s.max()), 1e-300)
    T = E[:, keep] * np.sqrt(s[keep])
    X = np.hstack([np.ones((F.shape[0], 1)), F @ T])
    D = np.full(X.shape[1], ridge)
    D[0] = bias_reg
    D += 1e-12  # rows with a single rating and no penalty stay solvable
    Z = ridge_fold_in(X, D, rows, cols, target, n_rows, accumulate="sparse", comm=comm)
    b = Z[:, 0]
    a = Z[:, 1:] @ T.T if k else np.zeros((n_rows, 0))
    return b, a
