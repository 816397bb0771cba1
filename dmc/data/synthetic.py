"""Synthetic completion problems: low-rank matrices and uniform masks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import FLOAT64_LIMIT, check_float, check_int, check_random_state
from ..core.observations import Observations, _check_shape

__all__ = [
    "LowRankMatrix",
    "Problem",
    "decaying_matrix",
    "low_rank_matrix",
    "sample_entries",
    "make_problem",
]

_MAX_DENSE = 10**8


@dataclass(frozen=True, eq=False)
class LowRankMatrix:
    """A matrix ``left @ right.T`` kept in factored form (never densified unless asked)."""

    left: np.ndarray
    right: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.left.shape[0], self.right.shape[0])

    @property
    def rank(self) -> int:
        return self.left.shape[1]

    def entries(self, rows: ArrayLike, cols: ArrayLike) -> np.ndarray:
        """The entries at ``(rows, cols)``, in O(len(rows) r) without densifying."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        out = np.empty(rows.shape[0])
        step = 1 << 18
        for s in range(0, rows.shape[0], step):
            out[s : s + step] = np.einsum(
                "ij,ij->i", self.left[rows[s : s + step]], self.right[cols[s : s + step]]
            )
        return out

    def to_dense(self) -> np.ndarray:
        return self.left @ self.right.T


@dataclass(frozen=True, eq=False)
class Problem:
    """A completion problem: what is observed, and the truth it came from."""

    observations: Observations
    truth: LowRankMatrix
    noise: float = 0.0


def low_rank_matrix(
    shape: tuple[int, int],
    rank: int,
    *,
    condition_number: float | None = None,
    random_state: Any = None,
) -> LowRankMatrix:
    """A random ``m x n`` matrix of rank ``rank``.

    Parameters
    ----------
    shape : (int, int)
    rank : int
    condition_number : float or None
        None (default): a standard Gaussian matrix truncated by SVD to ``rank``,
        as in the reference experiment (singular values about ``2√max(m, n)``,
        needs a dense SVD, so at most 1e8 entries). A number κ ≥ 1: Haar-random
        singular vectors and singular values spaced geometrically from κ down
        to 1, scaled so that the entries have unit root-mean-square; any size.
    random_state : int, Generator or None

    Examples
    --------
    >>> from dmc.data.synthetic import low_rank_matrix
    >>> M = low_rank_matrix((30, 20), 3, random_state=0)
    >>> M.shape, M.rank, int(np.linalg.matrix_rank(M.to_dense()))
    ((30, 20), 3, 3)
    """
    m, n = _check_shape(shape)
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    rng = check_random_state(random_state)
    if condition_number is None:
        if m * n > _MAX_DENSE:
            raise ValueError(
                f"A truncated Gaussian matrix of shape {(m, n)} needs a dense SVD of "
                f"{m * n:.2e} entries (at most {_MAX_DENSE:.0e}). Pass a "
                "'condition_number' to build the matrix from its factors instead."
            )
        G = rng.standard_normal((m, n))
        U, s, Vt = np.linalg.svd(G, full_matrices=False)
        root = np.sqrt(s[:rank])
        return LowRankMatrix(U[:, :rank] * root, Vt[:rank].T * root)
    kappa = check_float(condition_number, "condition_number", low=1.0)
    U = _haar_columns(m, rank, rng)
    V = _haar_columns(n, rank, rng)
    s = np.geomspace(kappa, 1.0, rank) if rank > 1 else np.ones(1)
    s *= np.sqrt(m * n / np.sum(s**2))
    root = np.sqrt(s)
    return LowRankMatrix(U * root, V * root)


def decaying_matrix(
    shape: tuple[int, int],
    *,
    exponent: float = 1.0,
    noise: float = 0.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A full-rank matrix with a decaying spectrum ``σ_j ∝ j^(−a)``, and a noisy copy.

    The shape of real data: never exactly low rank, with a spectrum that falls
    off like a power law (images, tabular measurements).

    Parameters
    ----------
    shape : (int, int)
        At most 1e8 entries (the matrix is dense).
    exponent : float, default 1.0
        ``a > 0``: the j-th singular value is proportional to ``j^(−a)``.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to every entry of the
        copy, relative to the root-mean-square of the clean entries (which is 1).
    random_state : int, Generator or None

    Returns
    -------
    X : ndarray of shape (m, n)
        The clean matrix plus the noise (the clean matrix itself when ``noise=0``).
    truth : ndarray of shape (m, n)
        The clean matrix: Haar-random singular vectors, entries of unit
        root-mean-square.

    Examples
    --------
    >>> import numpy as np
    >>> from dmc.data.synthetic import decaying_matrix
    >>> X, truth = decaying_matrix((60, 40), exponent=1.0, noise=0.1, random_state=0)
    >>> s = np.linalg.svd(truth, compute_uv=False)
    >>> bool(np.allclose(s[:3] / s[0], [1, 1 / 2, 1 / 3]))
    True
    >>> round(float(np.sqrt(np.mean(truth**2))), 6), X.shape
    (1.0, (60, 40))
    """
    m, n = _check_shape(shape)
    if m * n > _MAX_DENSE:
        raise ValueError(
            f"The 'shape' parameter asks for a dense {m} x {n} matrix ({m * n:.2e} entries, "
            f"at most {_MAX_DENSE:.0e}). Got {shape!r}."
        )
    exponent = check_float(exponent, "exponent", low=0.0, low_open=True)
    noise = check_float(noise, "noise", low=0.0)
    rng = check_random_state(random_state)
    k = min(m, n)
    s = np.arange(1, k + 1, dtype=np.float64) ** (-exponent)
    truth = (_haar_columns(m, k, rng) * s) @ _haar_columns(n, k, rng).T
    truth *= np.sqrt(m * n) / np.linalg.norm(truth)
    X = truth + noise * rng.standard_normal(truth.shape) if noise > 0 else truth.copy()
    return X, truth


def sample_entries(
    shape: tuple[int, int],
    *,
    fraction: float | None = None,
    oversampling: float | None = None,
    rank: int | None = None,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of entries drawn uniformly without replacement.

    Give either ``fraction`` (of the m n entries) or ``oversampling`` ρ with
    ``rank`` r, for ``ρ r (m + n − r)`` entries. Returns ``(rows, cols)`` sorted
    row-major. Costs O(|Ω| log |Ω|) time and memory, never O(m n).
    """
    m, n = _check_shape(shape)
    if (fraction is None) == (oversampling is None):
        raise ValueError(
            "Exactly one of the 'fraction' and 'oversampling' parameters must be given. "
            f"Got fraction={fraction!r} and oversampling={oversampling!r}."
        )
    if fraction is not None:
        fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_open=True)
        size = int(round(fraction * m * n))
    else:
        if rank is None:
            raise ValueError("The 'rank' parameter is required with 'oversampling'. Got None.")
        rank = check_int(rank, "rank", low=1, high=min(m, n))
        oversampling = check_float(oversampling, "oversampling", low=0.0, low_open=True)
        size = int(round(oversampling * rank * (m + n - rank)))
        if size > m * n:
            raise ValueError(
                f"The 'oversampling' parameter asks for {size} entries, more than the "
                f"{m * n} of a {m} x {n} matrix. Got {oversampling} instead."
            )
    size = max(size, 1)
    rng = check_random_state(random_state)
    total = m * n
    if size > total // 4:
        flat = np.sort(rng.permutation(total)[:size])
    else:  # draw with replacement, keep distinct ones, top up: O(size)
        flat = np.unique(rng.integers(0, total, size=size))
        while flat.size < size:
            extra = rng.integers(0, total, size=size - flat.size)
            flat = np.unique(np.concatenate([flat, extra]))
        # the draw is uniform over subsets of each size; trim at random, not by order
        flat = np.sort(rng.choice(flat, size=size, replace=False))
    return flat // n, flat % n


def make_problem(
    shape: tuple[int, int],
    rank: int,
    *,
    fraction: float | None = None,
    oversampling: float | None = None,
    condition_number: float | None = None,
    noise: float = 0.0,
    random_state: Any = None,
) -> Problem:
    """A low-rank matrix, a uniform sample of its entries, optional Gaussian noise.

    ``noise`` is the standard deviation of the noise added to each observed
    entry; noise that takes an entry beyond what :func:`dmc.complete` accepts
    in float64 (about 1.76e305 in magnitude) is refused. The truth is kept in
    factored form.

    Examples
    --------
    >>> from dmc.data.synthetic import make_problem
    >>> p = make_problem((100, 80), 3, fraction=0.3, random_state=0)
    >>> p.observations.shape, p.observations.n_observed
    ((100, 80), 2400)
    """
    rng = check_random_state(random_state)
    noise = check_float(noise, "noise", low=0.0)
    truth = low_rank_matrix(shape, rank, condition_number=condition_number, random_state=rng)
    rows, cols = sample_entries(
        truth.shape, fraction=fraction, oversampling=oversampling, rank=rank, random_state=rng
    )
    values = truth.entries(rows, cols)
    if noise > 0:
        with np.errstate(over="ignore"):
            values = values + noise * rng.standard_normal(values.shape)
        if not (np.abs(values) <= FLOAT64_LIMIT).all():
            raise ValueError(
                f"The 'noise' parameter must keep the observed entries within "
                f"{FLOAT64_LIMIT:.3g} in magnitude (what dmc.complete accepts in float64). "
                f"Got {noise!r}, which makes entries as large as {np.abs(values).max():.3g}."
            )
    obs = Observations.from_triplets(rows, cols, values, shape=truth.shape)
    return Problem(observations=obs, truth=truth, noise=noise)


def _haar_columns(n, r, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, r)))
    return Q * np.sign(np.diag(R))
