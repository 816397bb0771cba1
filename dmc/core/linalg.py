"""Dense linear algebra shared by the estimators (numpy only).

* :func:`column_space` and :func:`truncate_product`: the SVD of a product
  ``A Bᵀ`` of two tall factors, computed from their QR factors without forming
  the product (``DeepMatrixCompletion``'s components, the ratings model's
  latent space);
* :func:`ridge_fold_in`: per-row ridge regressions against a shared design
  matrix, solved as batched small systems (folding new rows into a fitted
  model: ``DeepMatrixCompletion.transform``, the ratings model's shrinkage
  sweeps and ``fold_in``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["column_space", "ridge_fold_in", "truncate_product"]

#: "segments": observations per block of rows (the batched systems of a block
#: are built from this many outer products at once)
_MAX_BLOCK = 1 << 16

#: "mask": above this many entries (n_cols * K²) each row's normal equations are
#: formed separately instead of through one table of outer products
_MAX_OUTER_TABLE = 2**24

#: "mask": rows solved per batch, as a number of float64 entries of the batch
_BATCH_ENTRIES = 2**20


# -- the SVD of a product -----------------------------------------------------------------


def _product_svd(A, B):
    """``A Bᵀ = (Qa Us) diag(s) (Vts Qbᵀ)``: the SVD of the small ``Ra Rbᵀ``.

    With ``A = Qa Ra`` and ``B = Qb Rb`` (thin QR), ``A Bᵀ = Qa (Ra Rbᵀ) Qbᵀ``,
    so the SVD of the ``k x k`` core gives that of the ``m x n`` product in
    ``O((m + n) k² + k³)``.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    Qa, Ra = np.linalg.qr(A)
    Qb, Rb = np.linalg.qr(B)
    Us, s, Vts = np.linalg.svd(Ra @ Rb.T, full_matrices=False)
    return Qa, Us, s, Vts, Qb


def column_space(A, B):
    """Singular values and right singular vectors of ``A @ B.T``, without forming it.

    Parameters
    ----------
    A : array-like of shape (m, k)
    B : array-like of shape (n, k)
        Converted to float64.

    Returns
    -------
    s : ndarray of shape (min(m, n, k),)
        Singular values, largest first.
    Vt : ndarray of shape (min(m, n, k), n)
        Right singular vectors (rows), orthonormal.

    Notes
    -----
    ``O((m + n) k² + k³)`` time and ``O((m + n) k)`` memory.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A, B = rng.normal(size=(6, 2)), rng.normal(size=(5, 2))
    >>> s, Vt = column_space(A, B)
    >>> bool(np.allclose(s, np.linalg.svd(A @ B.T)[1][:2]))
    True
    >>> bool(np.allclose(A @ B.T @ Vt.T @ Vt, A @ B.T))
    True
    """
    _, _, s, Vts, Qb = _product_svd(A, B)
    return s, Vts @ Qb.T


def truncate_product(A, B, k):
    """Factors of the best rank-``k`` approximation of ``A @ B.T``, balanced.

    Parameters
    ----------
    A : array-like of shape (m, d)
    B : array-like of shape (n, d)
        Converted to float64.
    k : int
        Columns to keep (at most ``min(m, n, d)`` come back).

    Returns
    -------
    A_k : ndarray of shape (m, k')
    B_k : ndarray of shape (n, k')
        ``A_k = U_k diag(√s_k)`` and ``B_k = V_k diag(√s_k)`` with
        ``k' = min(k, m, n, d)``: ``A_k B_kᵀ`` is the truncated SVD of
        ``A Bᵀ``, and both factors have the same column norms.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A, B = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    >>> A2, B2 = truncate_product(A, B, 2)
    >>> A2.shape, B2.shape
    ((6, 2), (5, 2))
    >>> U, s, Vt = np.linalg.svd(A @ B.T)
    >>> bool(np.allclose(A2 @ B2.T, (U[:, :2] * s[:2]) @ Vt[:2]))
    True
    """
    Qa, Us, s, Vts, Qb = _product_svd(A, B)
    k = min(k, s.size)
    root = np.sqrt(s[:k])
    return Qa @ (Us[:, :k] * root), Qb @ (Vts[:k].T * root)


# -- ridge fold-in ------------------------------------------------------------------------


def ridge_fold_in(
    design, penalty, rows, cols, target, n_rows, *, accumulate="segments", unit=1.0, comm=None
):
    """Per-row ridge regressions against a shared design matrix.

    For every row ``t`` of the output, with ``J_t`` the columns observed in it,

        ``z_t = argmin_z  Σ_{j ∈ J_t} (y_tj − X_j · z)²  +  Σ_c penalty_c z_c²``,

    i.e. ``(Σ_j X_j X_jᵀ + diag(penalty)) z_t = Σ_j y_tj X_j``, solved for all
    rows as batched ``K x K`` systems.

    Parameters
    ----------
    design : ndarray of float64, shape (n_cols, K)
        ``X``: one row per column of the data (an item's latent vector, a
        feature's loadings).
    penalty : float or ndarray of shape (K,)
        The ridge weights, one per coefficient (a float: the same for all), in
        units of ``unit²``. Positive, or the rows with fewer than K
        observations are singular.
    rows, cols : ndarray of int64, shape (n_obs,)
        The observations: row ``rows[o]`` observed column ``cols[o]``. Each
        (row, column) pair at most once.
    target : ndarray, shape (n_obs,)
        ``y``: the observed values.
    n_rows : int
        Rows of the output; rows without an observation get ``z = 0``.
    accumulate : {"segments", "mask"}, default "segments"
        How the normal equations are summed:

        * "segments": the observations sorted by row, the outer products
          ``X_j X_jᵀ`` of each row summed by segment (``np.add.reduceat``), in
          blocks of rows of about 65,536 observations. ``O(n_obs K²)``: for
          sparse rows (ratings).
        * "mask": a dense ``n_rows x n_cols`` 0/1 mask times the table of all
          ``n_cols`` outer products (one matrix product per batch of rows), or
          row by row when that table would exceed 2²⁴ entries. ``O(n_rows n_cols
          K²)``: for dense rows (an imputer's rows).
        * "sparse": a sparse ``n_rows x n_cols`` 0/1 matrix (CSR) times the
          table of all ``n_cols`` outer products, in blocks of rows.
          ``O(n_obs K²)`` in compiled loops: the fast choice for sparse rows
          (measured at 1M ratings, K = 10: ~10x faster than "segments").

        They solve the same systems; their sums are ordered differently, so
        they agree to rounding, not bit for bit (each caller keeps the one its
        results were established with).
    unit : float, default 1.0
        The weights are ``penalty · unit²``: a penalty relative to the
        design's scale (e.g. to its largest singular value) is given without
        forming a square that may overflow.
    comm : Communicator or None
        In a data-parallel fit (:mod:`dmc.core.distributed`), each process
        holds some of the observations of every row: the normal equations are
        summed over processes (``comm.sum_array``) before the solves, which
        every process then makes alike ("sparse" only). None: one process.

    Returns
    -------
    Z : ndarray of float64, shape (n_rows, K)

    Notes
    -----
    A design or target far from unit scale (beyond 2^±200, where the normal
    equations would overflow or underflow) is solved divided by a power of
    two ``c`` near its size, with weights ``penalty (unit / c)²``: the same
    solution, exactly, without overflow.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> rows, cols = np.array([0, 0, 1]), np.array([0, 2, 1])
    >>> y = np.array([2.0, 3.0, 4.0])
    >>> Z = ridge_fold_in(X, 1.0, rows, cols, y, 3)
    >>> Z.round(6).tolist()
    [[1.4, 0.8], [0.0, 2.0], [0.0, 0.0]]
    >>> bool(np.allclose(ridge_fold_in(X, 1.0, rows, cols, y, 3, accumulate="mask"), Z))
    True
    """
    K = design.shape[1]
    distributed = comm is not None and comm.distributed
    c = _scale(design, target, comm.max if distributed else None)
    if c != 1.0:  # exact: a power of two
        design, target, unit = design / c, target / c, unit / c
    weights = np.asarray(penalty, dtype=np.float64) * (unit * unit if unit != 1.0 else 1.0)
    D = np.broadcast_to(weights, (K,))
    if accumulate == "segments":
        return _by_segments(design, D, rows, cols, target, n_rows)
    if accumulate == "mask":
        return _by_mask(design, D, rows, cols, target, n_rows)
    if accumulate == "sparse":
        return _by_sparse(design, D, rows, cols, target, n_rows, comm if distributed else None)
    raise ValueError(
        "The 'accumulate' parameter must be 'segments', 'mask' or 'sparse'. "
        f"Got {accumulate!r} instead."
    )


def _scale(design, target, largest=None) -> float:
    """1, or a power of two near the largest magnitude of the design and target when
    that is beyond 2^±200 (their squares and sums would overflow or underflow).

    ``largest`` takes the largest of a number over processes (data-parallel fits)."""
    big = max(float(np.abs(design).max(initial=0.0)), float(np.abs(target).max(initial=0.0)))
    if largest is not None:
        big = largest(big)
    if big == 0.0 or 2.0**-200 <= big <= 2.0**200:
        return 1.0
    return 2.0 ** int(np.floor(np.log2(big)))


def _by_segments(X, D, rows, cols, target, n_rows):
    K = X.shape[1]
    order = np.argsort(rows, kind="stable")
    rows_s, cols_s, y_s = rows[order], cols[order], target[order]
    counts = np.bincount(rows_s, minlength=n_rows)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    Z = np.zeros((n_rows, K))
    active = np.flatnonzero(counts)
    start = 0
    while start < active.size:
        # block of active rows holding at most _MAX_BLOCK observations (at least one row)
        lo = ptr[active[start]]
        stop = np.searchsorted(ptr[active + 1], lo + _MAX_BLOCK, side="right")
        stop = max(stop, start + 1)
        block = active[start:stop]
        hi = ptr[block[-1] + 1]
        Xb = X[cols_s[lo:hi]]
        seg = ptr[block] - lo
        G = np.add.reduceat(Xb[:, :, None] * Xb[:, None, :], seg, axis=0)
        h = np.add.reduceat(Xb * y_s[lo:hi, None], seg, axis=0)
        G[:, np.arange(K), np.arange(K)] += D
        Z[block] = np.linalg.solve(G, h[:, :, None])[:, :, 0]
        start = stop
    return Z


def _by_sparse(X, D, rows, cols, target, n_rows, comm=None):
    n, K = X.shape
    if max(n_rows, n, rows.size) < 2**31:  # int32 indices: 12 bytes an entry, not 16
        rows, cols = rows.astype(np.int32), cols.astype(np.int32)
    Y = sp.csr_array((target, (rows, cols)), shape=(n_rows, n))
    del rows, cols
    h = Y @ X
    Z = np.zeros((n_rows, K))
    active = np.flatnonzero(np.diff(Y.indptr))
    # the table of every column's outer product, in blocks of rows (bounded memory)
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, K * K)
    batch = max(1, _BATCH_ENTRIES // (K * K))
    summed = None  # one process: each block's sums of outer products as it is solved
    if comm is not None:  # every process's sums first, then the same solves everywhere
        summed = np.zeros((n_rows, K * K))
        for start in range(0, active.size, batch):
            block = active[start : start + batch]
            summed[block] = _pattern(Y[block]) @ outer
        summed, h = comm.sum_array(summed), comm.sum_array(h)
        active = np.flatnonzero(comm.sum_array(np.diff(Y.indptr).astype(np.float64)))
    for start in range(0, active.size, batch):
        block = active[start : start + batch]
        G = summed[block] if summed is not None else _pattern(Y[block]) @ outer
        G = G.reshape(-1, K, K)
        G[:, np.arange(K), np.arange(K)] += D
        Z[block] = np.linalg.solve(G, h[block, :, None])[:, :, 0]
    return Z


def _pattern(Y_block):
    """The 0/1 pattern of a block of rows of a CSR array (``Y[block]`` is a copy)."""
    Y_block.data[:] = 1.0
    return Y_block


def _by_mask(C, D, rows, cols, target, n_rows):
    n, k = C.shape
    observed = np.zeros((n_rows, n), dtype=bool)
    observed[rows, cols] = True
    Xz = np.zeros((n_rows, n))
    Xz[rows, cols] = target
    rhs = Xz @ C
    ridge = np.diag(D)
    latent = np.empty((n_rows, k))
    if n * k * k <= _MAX_OUTER_TABLE:
        outer = (C[:, :, None] * C[:, None, :]).reshape(n, k * k)
        batch = max(1, _BATCH_ENTRIES // max(n, k * k))
        for start in range(0, n_rows, batch):
            part = slice(start, start + batch)
            gram = (observed[part].astype(np.float64) @ outer).reshape(-1, k, k) + ridge
            latent[part] = np.linalg.solve(gram, rhs[part, :, None])[:, :, 0]
    else:
        for i in range(n_rows):
            Cj = C[observed[i]]
            latent[i] = np.linalg.solve(Cj.T @ Cj + ridge, rhs[i])
    return latent
