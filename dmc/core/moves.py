"""The plateau moves: a greedy rank-one step that brings a missing direction in.

From a small initialisation a deep factorization learns one component after
another, and a weak component can wait for thousands of iterations on a
plateau. At such a plateau the residual ``P_Ω(Φ − W)`` is dominated by the
missing components, so its top singular pair ``(u, v)`` points at the next one.
A move puts that direction, made orthogonal to the learned ones, into the model
at its least-squares size, keeps it only if the loss falls, and is refused when
the direction explains less than ``min_share`` of the residual (slow
convergence or noise, not a missing component) or when the rank estimate r̂ is
reached. The training loop (:func:`dmc.core.training.train`) calls a model's
``escape_plateau``, which calls one of the two moves here:

* :func:`compressed_move`, for :class:`~dmc.core.models.CompressedNetwork`:
  the direction takes a slot of the ``2 r̂``-dimensional subspace;
* :func:`deep_move`, for the original and narrow networks: the direction
  enters as a balanced chain through every layer.

Everything is computed in torch on the model's device: numpy's BLAS threads
would linger and slow the next iterations (measured: +12% on the reference
case).
"""

from __future__ import annotations

import numpy as np
import torch

from .residual import residual_direction
from .sampled import SampledPattern

__all__ = ["compressed_move", "deep_move"]

#: directions of W with singular values above this fraction of the largest are learned
_LEARNED = 1e-3


def compressed_move(model, pattern: SampledPattern, seed: int, min_share: float) -> bool:
    """The compressed network's move (see ``CompressedNetwork.escape_plateau``).

    Writes ``W = Ũ diag(s) Ṽᵀ`` (exact, from QR decompositions of ``U``, ``V``
    and the ``k x k`` product) with balanced diagonal cores ``s_i^(1/L)``; the
    new direction goes into the unused slot it overlaps most (a component on
    its way, which it replaces) or else the weakest one; the other slots keep
    their values. Refused when the subspace is as wide as the matrix or the
    outer factors are frozen (``gamma = 0``).
    """
    if model.gamma == 0 or model.U.shape[1] >= min(model.shape):
        return False  # frozen, or no room for a direction outside the subspace
    with torch.no_grad():
        U, V = model.U.double(), model.V.double()
        cores = [c.double() for c in model.cores]
        k, depth = U.shape[1], len(cores)
        C = cores[0] if depth == 1 else torch.linalg.multi_dot(cores[::-1])
        QU, RU = torch.linalg.qr(U)
        QV, RV = torch.linalg.qr(V)
        P, s, Qt = torch.linalg.svd(RU @ C @ RV.T)
        s = s.cpu().numpy()
        keep = _learned(s)
        if keep >= max(1, k // 2):
            return False  # r̂ = k / 2 directions learned: the rank estimate is reached
        Ul, Vl = (QU @ P).cpu().numpy(), (QV @ Qt.T).cpu().numpy()
        found = _direction(model, pattern, seed, min_share, Ul[:, :keep], Vl[:, :keep])
        if found is None:
            return False
        u, v, t, residual = found
        # the slot the direction takes: the unused one it overlaps most (a component
        # on its way), else the weakest; the other slots keep their values
        overlap = np.abs(u @ Ul[:, keep:]) * np.abs(v @ Vl[:, keep:])
        slot = keep + (int(np.argmax(overlap)) if overlap.max() > 0.25 else k - keep - 1)
        others = [j for j in range(keep, k) if j != slot]
        new_U = _in_order(Ul[:, :keep], np.sign(t) * u, Ul[:, others])
        new_V = _in_order(Vl[:, :keep], v, Vl[:, others])
        floor = 1e-3 * model.init_scale
        rest = np.maximum(s[others] ** (1 / depth), floor)
        diag = np.concatenate([s[:keep] ** (1 / depth), [abs(t) ** (1 / depth)], rest])
        before = [p.detach().clone() for p in model.parameters()]
        like = model.U
        as_t = lambda a: torch.as_tensor(a, dtype=like.dtype, device=like.device)  # noqa: E731
        model.U.copy_(as_t(new_U))
        model.V.copy_(as_t(new_V))
        for core in model.cores:
            core.copy_(as_t(np.diag(diag)))
        return _kept_if_lower(model, before, pattern, residual)


def deep_move(model, pattern: SampledPattern, seed: int, min_share: float) -> bool:
    """The original and narrow networks' move (see ``DeepNetwork.escape_plateau``).

    With ``q_0 = v``, ``q_L = sign(t) u`` and ``q_j`` the network's own image
    ``W_j ⋯ W_1 v`` made orthogonal to the image of the learned directions,
    each weight's value along ``q_j q_(j−1)ᵀ`` is set to ``|t|^(1/L)``. Refused
    when the model has no rank estimate (``rank`` None) or does not move
    (``plateau_move`` False: Burer–Monteiro).
    """
    if not model.plateau_move or model.rank is None or min(model.shape) < 2:
        return False
    with torch.no_grad():
        weights = [w.detach().double() for w in model.weights]
        depth = len(weights)
        left, right = model._left_right()
        Q, R = torch.linalg.qr(right.double())
        P, s, Zt = torch.linalg.svd(left.double() @ R.T, full_matrices=False)
        s = s.cpu().numpy()
        keep = _learned(s)
        if keep >= model.rank:
            return False  # r̂ directions learned: the rank estimate is reached
        Ul, Vl = P[:, :keep].cpu().numpy(), (Q @ Zt.T)[:, :keep].cpu().numpy()
        found = _direction(model, pattern, seed, min_share, Ul, Vl)
        if found is None:
            return False
        u, v, t, residual = found
        chain = _chain(weights, v, np.sign(t) * u, Vl)
        if chain is None:
            return False  # a layer has no room outside the learned directions
        size = abs(t) ** (1.0 / depth)
        before = [w.detach().clone() for w in model.weights]
        for j, w in enumerate(model.weights):
            out, into = chain[j + 1], chain[j]
            now = float(out @ weights[j] @ into)
            w.add_(((size - now) * torch.outer(out, into)).to(w.dtype))
        return _kept_if_lower(model, before, pattern, residual, list(model.weights))


def _learned(s: np.ndarray) -> int:
    """How many singular values (descending) count as learned directions."""
    return int((s > _LEARNED * s[0]).sum()) if s[0] > 0 else 0


def _direction(model, pattern, seed, min_share, Ul, Vl):
    """``(u, v, t, residual)``: the residual's top direction off the learned ``Ul``,
    ``Vl`` and its least-squares size ``t``; None when it explains too little."""
    found = residual_direction(model, pattern, seed)
    if found.share < min_share:
        return None
    u, v, rows, cols, residual = found.u, found.v, found.rows, found.cols, found.residual
    u = _unit(u - Ul @ (Ul.T @ u))
    v = _unit(v - Vl @ (Vl.T @ v))
    a = u[rows] * v[cols]
    t = float(a @ residual) / float(a @ a)
    if t * float(a @ residual) < min_share * float(residual @ residual):
        return None  # the residual is in the learned directions: slow, not stuck
    return u, v, t, residual


def _kept_if_lower(model, before, pattern, residual, params=None) -> bool:
    """Keep the move if the loss fell, else restore ``before``; whether it was kept."""
    after = (pattern.values - model.predict(pattern)).double()
    if float(torch.dot(after, after)) >= float(residual @ residual):
        params = list(model.parameters()) if params is None else params
        for p, old in zip(params, before):
            p.copy_(old)
        return False
    return True


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


def _chain(weights, v, u, learned_right):
    """Unit vectors ``q_0 = v, q_1, …, q_L = u`` through the layers of a deep network.

    ``q_j``: the network's image ``W_j ⋯ W_1 v`` with the image of the learned
    right directions ``learned_right`` projected out; None when that leaves
    (numerically) nothing.
    """
    like = weights[0]
    q = torch.as_tensor(v, dtype=like.dtype, device=like.device)
    learned = torch.as_tensor(learned_right, dtype=like.dtype, device=like.device)
    chain = [q]
    for W in weights[:-1]:
        q, learned = W @ q, W @ learned
        if learned.shape[1]:
            basis = torch.linalg.qr(learned)[0]
            q = q - basis @ (basis.T @ q)
        norm = float(torch.linalg.vector_norm(q))
        if not norm > 0:
            return None
        q = q / norm
        chain.append(q)
    chain.append(torch.as_tensor(u, dtype=like.dtype, device=like.device))
    return chain


def _in_order(learned: np.ndarray, new: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Orthonormal columns: ``learned`` (already orthonormal), ``new`` (orthogonal to
    them), then ``rest`` made orthogonal to all before, column by column (QR), so
    that each keeps its place."""
    Q, R = np.linalg.qr(np.hstack([learned, new[:, None], rest]))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)
