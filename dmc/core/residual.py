"""The residual's top direction: what a fit has not learned yet.

Used by the compressed network's plateau move
(:meth:`dmc.core.models.CompressedNetwork.escape_plateau`) and by the training
loop's warning when a fit stops with a component missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from .sampled import SampledPattern

__all__ = ["ESCAPE_MIN_SHARE", "ResidualDirection", "residual_direction"]

#: a rank-one direction explaining at least this share of the residual's energy is a
#: component the fit has not learned (a plateau move, a warning at a stop)
ESCAPE_MIN_SHARE = 0.2


@dataclass
class ResidualDirection:
    """The top singular pair ``(u, v)`` of the residual ``R = P_Ω(Φ − W)``.

    ``share``: the part of ``‖R‖²`` that the best multiple of ``P_Ω(u vᵀ)`` removes,
    in [0, 1]; ``residual`` holds R's values at ``(rows, cols)`` (float64, CPU).
    """

    u: np.ndarray
    v: np.ndarray
    share: float
    rows: np.ndarray
    cols: np.ndarray
    residual: np.ndarray


def residual_direction(model, pattern: SampledPattern, seed: int) -> ResidualDirection:
    """The residual's top singular direction and the share of it that it explains.

    ``model`` is any factorization (it needs ``predict`` and ``shape``).

    Costs one top singular pair of a sparse m x n matrix with |Ω| entries (ARPACK,
    started from a vector seeded by ``seed``) and one prediction at Ω.
    """
    with torch.no_grad():
        residual = (pattern.values - model.predict(pattern)).double().cpu().numpy()
    rows, cols = pattern.rows.cpu().numpy(), pattern.cols.cpu().numpy()
    total = float(residual @ residual)
    if total == 0 or min(model.shape) < 2:
        zeros = np.zeros(model.shape[0]), np.zeros(model.shape[1])
        return ResidualDirection(*zeros, 0.0, rows, cols, residual)
    M = pattern.residual_matrix(residual)
    v0 = np.random.default_rng(seed).standard_normal(min(model.shape))
    U, _, Vt = spla.svds(real_operator(M), k=1, v0=v0)
    u, v = U[:, 0], Vt[0]
    a = u[rows] * v[cols]
    aa = float(a @ a)
    share = float(a @ residual) ** 2 / aa / total if aa > 0 else 0.0
    return ResidualDirection(u, v, share, rows, cols, residual)


def real_operator(M: sp.csr_array) -> spla.LinearOperator:
    """The real sparse matrix ``M`` as an operator whose adjoint is ``M.T``, a view.

    scipy's own adjoint of a sparse matrix copies its values (``M.conj()``),
    |Ω| numbers that a real matrix does not need.
    """
    Mt = M.T
    return spla.LinearOperator(
        M.shape,
        matvec=M.__matmul__,
        rmatvec=Mt.__matmul__,
        matmat=M.__matmul__,
        rmatmat=Mt.__matmul__,
        dtype=M.dtype,
    )
