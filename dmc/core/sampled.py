"""Products evaluated only at observed entries: (A Bᵀ)_ij for (i, j) in Ω.

The forward pass gathers rows of A and B in bounded chunks; the backward pass
is two sparse-times-dense products with the residual held as a CSR matrix,
so no m x n matrix and no |Ω| x k temporary beyond one chunk is ever built.
Cost: O(|Ω| k) per call.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from .observations import Observations

_CHUNK = 1 << 18


class SampledPattern:
    """The observed index set Ω on a device, with CSR views of it and of its transpose."""

    def __init__(self, obs: Observations, *, dtype: torch.dtype, device: torch.device):
        m, n = obs.shape
        self.shape = obs.shape
        self.dtype = dtype
        self.device = device
        # Observations are sorted row-major, so (rows, cols) is already CSR order.
        # On the CPU the tensors share the observations' (read-only) memory.
        self.rows = _shared(obs.rows, torch.int64, device)
        self.cols = _shared(obs.cols, torch.int64, device)
        self.values = _shared(obs.values, dtype, device)
        self._crow = _pointers(obs.rows, m, device)
        order = np.lexsort((obs.rows, obs.cols))  # column-major order for the transpose
        self._t_perm = torch.as_tensor(order, device=device)
        self._t_ccol = _pointers(obs.cols[order], n, device)
        self._t_rows = torch.as_tensor(obs.rows[order], device=device)

    def __len__(self) -> int:
        return int(self.rows.numel())

    def sample(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """Entries of ``A @ B.T`` at Ω, as a vector in the order of ``rows, cols``."""
        # beta = 0: the template's values (finite observations) only give the
        # sparsity pattern and are multiplied by zero, so no |Ω| zeros are kept
        values = self.values if self.values.dtype == A.dtype else self.values.to(A.dtype)
        template = _csr(self._crow, self.cols, values, self.shape)
        return torch.sparse.sampled_addmm(template, A, B.T, beta=0.0).values()

    def residual_times(self, r: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """R @ B where R is m x n with values r at Ω (zero elsewhere)."""
        return _csr(self._crow, self.cols, r, self.shape) @ B

    def residual_t_times(self, r: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """Rᵀ @ A where R is m x n with values r at Ω (zero elsewhere)."""
        m, n = self.shape
        return _csr(self._t_ccol, self._t_rows, r[self._t_perm], (n, m)) @ A

    def residual_matrix(self, r: np.ndarray) -> sp.csr_array:
        """R as a scipy CSR array with values ``r`` (a CPU array in the order of Ω).

        Shares ``r`` and, on the CPU, the column indices where their dtype
        allows: no COO-to-CSR conversion.
        """
        crow, cols = self._crow.cpu().numpy(), self.cols.cpu().numpy()
        return sp.csr_array((r, cols, crow), shape=self.shape, copy=False)


def sampled_dot(
    A: torch.Tensor, B: torch.Tensor, pattern: SampledPattern | None, rows=None, cols=None
):
    """Entries of ``A @ B.T`` at Ω (or at explicit ``rows, cols``), differentiable."""
    if rows is None:
        return _SampledDot.apply(A, B, pattern)
    return _gather_dot(A, B, rows, cols)


def _gather_dot(A, B, rows, cols):
    out = torch.empty(rows.shape[0], dtype=A.dtype, device=A.device)
    for s in range(0, rows.shape[0], _CHUNK):
        e = s + _CHUNK
        out[s:e] = torch.einsum(
            "ik,ik->i", A.index_select(0, rows[s:e]), B.index_select(0, cols[s:e])
        )
    return out


class _SampledDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, A, B, pattern):
        ctx.pattern = pattern
        ctx.save_for_backward(A, B)
        return pattern.sample(A.detach(), B.detach())

    @staticmethod
    def backward(ctx, grad):
        A, B = ctx.saved_tensors
        pattern = ctx.pattern
        grad = grad.contiguous()
        grad_A = pattern.residual_times(grad, B) if ctx.needs_input_grad[0] else None
        grad_B = pattern.residual_t_times(grad, A) if ctx.needs_input_grad[1] else None
        return grad_A, grad_B, None


def _shared(a: np.ndarray, dtype: torch.dtype, device) -> torch.Tensor:
    """``a`` as a tensor: the same memory where dtype and device allow, else a copy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read-only arrays: never written to
        t = torch.from_numpy(a)
    if t.dtype == dtype and torch.device(device).type == "cpu":
        return t
    return t.to(device=device, dtype=dtype, copy=True)


def _pointers(sorted_index: np.ndarray, size: int, device) -> torch.Tensor:
    counts = np.bincount(sorted_index, minlength=size)
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return torch.as_tensor(ptr, device=device)


def _csr(crow, col, values, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta state"
        return torch.sparse_csr_tensor(crow, col, values, size=shape, check_invariants=False)
