"""Step 2 of the ratings model: the deep factorization of what the biases leave over.

:func:`deep_fit` runs :func:`dmc.complete` on the residual ratings; its factors
give the latent space of step 3 (:func:`latent_factors`) and, through their
spread and the residuals they leave, its prior (:func:`prior_from_deep_fit`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.complete import DEGENERATE_WARNING, CompletionResult, complete
from ..core.distributed import SINGLE, Communicator
from ..core.linalg import truncate_product
from ..core.observations import Observations
from ..exceptions import ConvergenceWarning
from .shrinkage import ShrinkagePrior

logger = logging.getLogger(__name__)

__all__ = ["deep_fit", "latent_factors", "prior_from_deep_fit"]

#: leading bits kept of the deep fit's trial steps: on ratings (a nearly flat
#: loss) exact Barzilai–Borwein steps turn rounding into drift, so a distributed
#: fit would not agree with one process (bench/README.md, "Many processes")
STEP_BITS = 8


def deep_fit(
    obs: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]],
    opts: dict[str, Any],
    rng: np.random.Generator,
    dtype: Any,
    device: Any,
    verbose: bool,
    distributed: Any = False,
) -> CompletionResult:
    """:func:`dmc.complete` of the residuals ``obs = (u, i, residual, shape)``.

    With the settings ``opts`` (:func:`~.config.resolve_options`) and a seed
    drawn from ``rng``; ``distributed`` as :func:`dmc.complete` takes it (each
    rank passes its own residuals).
    """
    seed = int(rng.integers(2**31 - 1))
    with warnings.catch_warnings():
        # a budget of iterations is the point here, not a failure to converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        # users or items whose ratings all went to the validation part are handled
        # in prior_from_deep_fit (their factors are zeroed)
        warnings.filterwarnings("ignore", DEGENERATE_WARNING, UserWarning)
        return complete(
            # the residuals and index arrays are the model's own: no copies
            Observations.from_triplets(*obs, copy=False),
            rank=opts["rank"],
            depth=opts["depth"],
            method=opts["method"],
            init_scale=opts["init_scale"],
            gamma=opts["gamma"],
            weight_decay=opts["weight_decay"],
            step_bits=STEP_BITS,
            max_iter=opts["max_iter"],
            tol=opts["tol"],
            n_iter_no_change=opts["n_iter_no_change"],
            dtype=dtype,
            device=device,
            random_state=seed,
            verbose=verbose,
            distributed=distributed,
        )


def prior_from_deep_fit(
    result: CompletionResult,
    u: np.ndarray,
    i: np.ndarray,
    residual: np.ndarray,
    m: int,
    n: int,
    k: int,
    comm: Communicator = SINGLE,
) -> tuple[np.ndarray, np.ndarray, ShrinkagePrior]:
    """Latent factors ``(A, B)`` of the deep fit and the prior they imply.

    The factors are truncated to ``k`` columns (:func:`latent_factors`); rows of
    users or items without a rating among ``(u, i)`` hold only their initial
    values and are zeroed. The prior's covariances are the second moments of
    the rows that had ratings, its noise the mean squared residual of the fit.
    """
    A, B = latent_factors(result.factors(), k)
    # rows without a rating in the fitted part hold only their initial values
    user_active = comm.sum_array(np.bincount(u, minlength=m).astype(np.float64)) > 0
    item_active = comm.sum_array(np.bincount(i, minlength=n).astype(np.float64)) > 0
    A[~user_active] = 0.0
    B[~item_active] = 0.0
    fitted = result.predict(u, i)
    noise = comm.sum(float(np.sum((residual - fitted) ** 2))) / comm.sum(float(residual.size))
    prior = ShrinkagePrior(
        user_cov=_active_cov(A, user_active),
        item_cov=_active_cov(B, item_active),
        noise=max(noise, 1e-12),
    )
    return A, B, prior


def latent_factors(factors: Sequence[Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` with at most ``k`` columns: the top-k singular part of ``A Bᵀ`` if wider.

    The wide network's factors have ``d = max(m, n)`` columns; the shrinkage step
    needs ``O(k²)`` per rating, so they are truncated to the ``2 r̂`` leading
    singular directions (what the compressed network keeps by construction).
    """
    A, B = (np.asarray(f, dtype=np.float64) for f in factors)
    if A.shape[1] <= k:
        return A, B
    A_k, B_k = truncate_product(A, B, k)
    logger.info("deep factors truncated from %d to %d columns", A.shape[1], A_k.shape[1])
    return A_k, B_k


def _active_cov(F, active):
    """Second moment of the rows of F that the fit saw (rows with observations)."""
    rows = F[active]
    return rows.T @ rows / max(rows.shape[0], 1)
