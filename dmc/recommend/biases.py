"""Step 1 of the ratings model: regularised user and item biases."""

from __future__ import annotations

import numpy as np

from ..core.distributed import SINGLE, Communicator

__all__ = ["fit_biases"]


def fit_biases(
    u: np.ndarray,
    i: np.ndarray,
    centred: np.ndarray,
    m: int,
    n: int,
    reg_u: float,
    reg_i: float,
    sweeps: int = 10,
    comm: Communicator = SINGLE,
) -> tuple[np.ndarray, np.ndarray]:
    """Alternating ridge fits of user and item biases to centred ratings.

    Minimises ``Σ (r − b_u − b_i)² + reg_u Σ b_u² + reg_i Σ b_i²`` over the
    ratings ``r = centred`` of users ``u`` and items ``i`` by ``sweeps`` rounds
    of exact item then user updates, as the baseline predictors of Koren
    (2008). In a data-parallel fit each rank passes its own ratings and
    ``comm`` sums the counts and sums of every rank (:mod:`.sharded`).

    Returns
    -------
    bu : ndarray of shape (m,)
    bi : ndarray of shape (n,)
        0 for a user or item without ratings.

    Examples
    --------
    >>> import numpy as np
    >>> u, i = np.array([0, 0, 1]), np.array([0, 1, 0])
    >>> bu, bi = fit_biases(u, i, np.array([1.0, 1.0, -1.0]), 2, 2, 0.0, 0.0)
    >>> bool(bu[0] > bu[1])
    True
    """
    count_u = comm.sum_array(np.bincount(u, minlength=m).astype(np.float64))
    count_i = comm.sum_array(np.bincount(i, minlength=n).astype(np.float64))
    bu = np.zeros(m)
    bi = np.zeros(n)
    for _ in range(sweeps):
        bi = comm.sum_array(np.bincount(i, centred - bu[u], minlength=n)) / (
            reg_i + count_i + 1e-12
        )
        bu = comm.sum_array(np.bincount(u, centred - bi[i], minlength=m)) / (
            reg_u + count_u + 1e-12
        )
    return bu, bi
