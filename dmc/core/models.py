"""The model layer: every method is a product of factors behind one interface.

A model represents ``W = F_K ⋯ F_2 F_1`` with ``F_1`` of shape ``(k, n)`` and
``F_K`` of shape ``(m, k)``. It can

* predict entries at index pairs (``predict``), evaluated at the observed
  set only, without forming ``W`` (except for the wide network, whose
  ``d x d`` weights already dominate);
* build the dense matrix on request (``to_dense``);
* list its parameter groups with their step multipliers (``param_groups``);
* count its parameters (``n_parameters``).

The training loop (:mod:`dmc.core.training`) sees nothing else.

Every method is one :class:`Factorization` subclass registered under its name
with :func:`register_method`; :data:`METHODS` maps names to classes, and
:func:`dmc.complete`, the estimator, the recommender, the command line and
save/load all find methods there. A new method is one class with a ``build``
class method and one ``@register_method("name")`` line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla
import torch

from .memory import check_factors_fit_in_memory, check_wide_network_fits_in_memory
from .moves import compressed_move, deep_move
from .observations import Observations
from .residual import ESCAPE_MIN_SHARE
from .sampled import SampledPattern, sampled_dot

__all__ = [
    "METHODS",
    "get_method",
    "register_method",
    "Factorization",
    "OriginalNetwork",
    "NarrowNetwork",
    "BurerMonteiro",
    "DeepNetwork",
    "CompressedNetwork",
    "ParamGroup",
    "original_network",
    "narrow_network",
    "burer_monteiro",
    "compressed_network",
]


@dataclass
class ParamGroup:
    """Parameters trained together at ``step_multiplier`` times the base step.

    ``decay``: whether a weight-decay penalty applies to them.
    """

    name: str
    params: list
    step_multiplier: float = 1.0
    decay: bool = True


_REGISTRY: dict[str, type[Factorization]] = {}


class _MethodNames(Sequence):
    """The names of the registered methods, in the order they were registered (live)."""

    def __getitem__(self, index):
        return tuple(_REGISTRY)[index]

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __contains__(self, name) -> bool:
        return name in _REGISTRY

    def __repr__(self) -> str:
        return repr(tuple(_REGISTRY))


#: the names of the registered methods (see :func:`register_method`)
METHODS = _MethodNames()


def get_method(name: str) -> type[Factorization]:
    """The class registered as method ``name`` (a KeyError names the known ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"No method named {name!r}; registered: {', '.join(METHODS)}.") from None


def register_method(name: str):
    """Class decorator: register a :class:`Factorization` subclass as method ``name``.

    The class needs a ``build(obs, *, rank, depth, init_scale, gamma, width,
    init, rng, dtype, device)`` class method returning an initialised model
    (it may ignore the options it does not use) and, to be saved, whatever
    :meth:`Factorization.from_state` needs. ``ratings_defaults`` gives the
    settings :class:`dmc.RatingsModel` uses for the method's ``None`` options.

    Examples
    --------
    >>> from dmc.core.models import METHODS, get_method
    >>> tuple(METHODS)
    ('compressed', 'original', 'narrow', 'burer-monteiro')
    >>> get_method("compressed").__name__
    'CompressedNetwork'
    """

    def register(cls):
        if not (isinstance(cls, type) and issubclass(cls, Factorization)):
            raise TypeError(
                f"register_method({name!r}) needs a Factorization subclass. Got {cls!r}."
            )
        if _REGISTRY.get(name, cls) is not cls:
            raise ValueError(
                f"A method named {name!r} is already registered ({_REGISTRY[name].__name__})."
            )
        cls.method = name
        _REGISTRY[name] = cls
        return cls

    return register


class Factorization(torch.nn.Module):
    """Interface shared by all models: ``W = F_K ⋯ F_1`` of shape ``(m, n)``."""

    #: build the dense product to evaluate entries (only for wide networks)
    dense_predict: bool = False
    #: the name it is registered under (set by :func:`register_method`)
    method: str = ""
    #: settings of :class:`dmc.RatingsModel`'s ``None`` options for this method
    ratings_defaults: dict = dict(
        rank=5, init_scale=0.1, gamma=None, weight_decay=1.0, max_iter=100
    )

    @classmethod
    def build(cls, obs: Observations, **options) -> Factorization:
        """A model initialised for the observations ``obs`` (see :func:`register_method`)."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor options beyond the tensors (JSON-able), for :meth:`from_state`."""
        return {}

    @classmethod
    def from_state(cls, tensors: dict, config: dict) -> Factorization:
        """Rebuild a model from ``state_dict()`` tensors and :meth:`get_config`."""
        raise NotImplementedError

    @classmethod
    def default_init_scale(cls, depth: int) -> float:
        """The per-factor ε that ``init_scale=None`` selects for this method.

        1e-3 (the reference experiments) up to depth 3; a deeper network starts
        at the same end-to-end scale as depth 3, ε^L = 1e-9, so ε = 10^(−9/L): a
        per-factor 1e-3 would start the product at 1e-12 at depth 4, where the
        first component takes longer to emerge than the plateau move can help.
        """
        return 1e-3 if depth <= 3 else 10.0 ** (-9.0 / depth)

    def scale_factors(self) -> list[torch.Tensor]:
        """The factors that carry the scale of ``W``: scaling all of them by
        ``c^(1/len)`` scales ``W`` by ``c``."""
        return self.factors()

    def escape_plateau(
        self, pattern: SampledPattern, seed: int, min_share: float = ESCAPE_MIN_SHARE
    ) -> bool:
        """Leave a plateau of the training loss by a change of the model's own.

        Called by the training loop when the loss has stopped falling (see
        :func:`dmc.core.training.train`); returns True when the parameters were
        changed (the loop then restarts the optimizer's memory). Models without
        such a move return False. ``min_share``: the least share of the
        residual a new direction must explain.
        """
        return False

    def __init__(self, shape: tuple[int, int]):
        super().__init__()
        self.shape = tuple(shape)

    def factors(self) -> list[torch.Tensor]:
        """Factors ``[F_1, ..., F_K]``, rightmost first."""
        raise NotImplementedError

    def param_groups(self) -> list[ParamGroup]:
        raise NotImplementedError

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _left_right(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``A = F_K ⋯ F_2`` (m x k) and ``B = F_1ᵀ`` (n x k), so that ``W = A Bᵀ``."""
        fs = self.factors()
        left = fs[1:][::-1]
        A = left[0] if len(left) == 1 else torch.linalg.multi_dot(left)
        return A, fs[0].T

    def to_dense(self) -> torch.Tensor:
        """The end-to-end matrix ``W`` (allocates m x n)."""
        fs = self.factors()[::-1]
        return torch.linalg.multi_dot(fs) if len(fs) > 1 else fs[0]

    def predict(self, pattern: SampledPattern | None, rows=None, cols=None) -> torch.Tensor:
        """Entries of ``W`` at the observed set of ``pattern`` (or at ``rows, cols``)."""
        if self.dense_predict:
            W = self.to_dense()
            if rows is None:
                if pattern is None:
                    raise ValueError("predict needs a pattern or rows and cols")
                rows, cols = pattern.rows, pattern.cols
            return W[rows, cols]
        A, B = self._left_right()
        return sampled_dot(A, B, pattern, rows, cols)


class DeepNetwork(Factorization):
    """Deep linear network ``W_L ⋯ W_1`` of a given width.

    With width ``d = max(m, n)`` this is the original (wide) network of the
    reference experiments; with width ``2 r̂`` it is the narrow network; depth
    2 and width ``r̂`` is the Burer–Monteiro factorization ``U Vᵀ``.
    """

    #: whether :meth:`escape_plateau` may move (off for Burer–Monteiro, the baseline)
    plateau_move: bool = True

    def __init__(
        self, weights: list[torch.Tensor], *, dense_predict: bool = False, rank: int | None = None
    ):
        shape = (weights[-1].shape[0], weights[0].shape[1])
        super().__init__(shape)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(w) for w in weights])
        self.dense_predict = dense_predict
        #: the rank estimate r̂: the plateau move never takes the fit past it (None: no move)
        self.rank = rank

    def factors(self):
        return list(self.weights)

    def param_groups(self):
        return [ParamGroup("weights", list(self.weights), 1.0)]

    def get_config(self):
        return {"dense_predict": bool(self.dense_predict), "rank": self.rank}

    @classmethod
    def from_state(cls, tensors, config):
        weights = [tensors[f"weights.{k}"] for k in range(len(tensors))]
        rank = config.get("rank")
        return cls(
            weights,
            dense_predict=bool(config.get("dense_predict", cls.dense_predict)),
            rank=None if rank is None else int(rank),
        )

    def escape_plateau(self, pattern, seed, min_share=ESCAPE_MIN_SHARE):
        """Greedy rank-one step through every layer: the deep network's plateau move.

        The counterpart of :meth:`CompressedNetwork.escape_plateau` for a network
        of full weights (the original and the narrow network). The residual's top
        singular pair ``(u, v)``, made orthogonal to the learned directions of
        ``W`` (singular values above 1e-3 of the largest), enters at its
        least-squares size ``t`` as a balanced chain: with ``q_0 = v``,
        ``q_L = sign(t) u`` and ``q_j`` the network's own image ``W_j ⋯ W_1 v``
        made orthogonal to the image of the learned directions, each weight's
        value along ``q_j q_(j−1)ᵀ`` is set to ``|t|^(1/L)``. Away from the chain
        the weights keep their values, so learned components and the unused
        bulk are left as they are. The move is undone unless it lowers the loss,
        and skipped when ``u vᵀ`` explains less than ``min_share`` of the
        residual, once ``rank`` directions are learned, or when ``rank`` is None.

        Costs the SVD of the dense ``m x n`` product (which the wide network
        builds at every step anyway; for the narrow one from its ``2 r̂`` columns),
        one top singular pair of the sparse residual and ``O(L d²)``.
        """
        return deep_move(self, pattern, seed, min_share)


@register_method("compressed")
class CompressedNetwork(Factorization):
    """Compressed deep network ``U W̃_L ⋯ W̃_1 Vᵀ`` (docs/method.md).

    Cores ``W̃_l`` are ``k x k`` (``k = 2 r̂``) and train at the base step; the
    outer factors ``U`` (m x k) and ``V`` (n x k) train at ``gamma`` times it.
    Parameters: ``L k² + (m + n) k``. A step costs ``O(|Ω| k + (m + n) k²)``;
    no m x n or d x d matrix is built.
    """

    def __init__(
        self,
        U: torch.Tensor,
        cores: list[torch.Tensor],
        V: torch.Tensor,
        gamma: float,
        init_scale: float | None = None,
    ):
        super().__init__((U.shape[0], V.shape[0]))
        self.U = torch.nn.Parameter(U)
        self.cores = torch.nn.ParameterList([torch.nn.Parameter(c) for c in cores])
        self.V = torch.nn.Parameter(V)
        self.gamma = float(gamma)
        #: ε of the cores at t = 0 (None: read off cores that start at ε I);
        #: unused directions go back to it in :meth:`escape_plateau`
        self.init_scale = float(abs(cores[0][0, 0])) if init_scale is None else float(init_scale)

    ratings_defaults = dict(rank=5, init_scale=1.0, gamma=0.0, weight_decay=0.0, max_iter=100)

    @classmethod
    def build(cls, obs, *, rank, depth, init_scale, gamma, rng, dtype, device, **_):
        return compressed_network(
            obs,
            rank=rank,
            depth=depth,
            init_scale=init_scale,
            gamma=gamma,
            rng=rng,
            dtype=dtype,
            device=device,
        )

    def get_config(self):
        return {"gamma": self.gamma, "init_scale": self.init_scale}

    @classmethod
    def from_state(cls, tensors, config):
        cores = [tensors[f"cores.{k}"] for k in range(len(tensors) - 2)]
        model = cls(tensors["U"], cores, tensors["V"], config["gamma"], config.get("init_scale"))
        model.param_groups()  # freezes U and V when gamma = 0
        return model

    def scale_factors(self):
        return list(self.cores)

    def escape_plateau(self, pattern, seed, min_share=ESCAPE_MIN_SHARE):
        """Greedy rank-one step: bring the residual's top direction into the subspace.

        From a small initialisation the compressed network learns one component
        after another. With a condition number of 10 or more a weak component
        waits for hundreds or thousands of iterations: it grows at a rate
        proportional to its current (tiny) size, under a step held down by the
        curvature of the learned components, and its direction may lie mostly
        outside the span of ``U`` and ``V``. At such a plateau the residual
        ``P_Ω(Φ − W)`` is dominated by the missing components, so its top singular
        pair ``(u, v)`` points at the next one.

        The move: write ``W = Ũ diag(s) Ṽᵀ`` (exact, from QR decompositions of
        ``U``, ``V`` and the ``k x k`` product) with balanced diagonal cores
        ``s_i^(1/L)``; make ``(u, v)`` orthogonal to the learned directions
        (``s_i > 1e-3 s_1``); put it, at the least-squares magnitude
        ``t = ⟨P_Ω(u vᵀ), R⟩ / ‖P_Ω(u vᵀ)‖²``, into the unused slot it overlaps
        most (a component on its way, which it replaces) or else the weakest one;
        the other slots keep their values. The move is undone if it does not
        lower the loss. It is skipped (False) when ``u vᵀ``, before or after it
        is made orthogonal to the learned directions, would explain less than
        ``min_share`` (a fifth by default) of the residual's energy (then the
        plateau is slow convergence or noise, not a missing component), when
        r̂ = k / 2 directions are learned already (the move never takes the fit
        past the rank estimate), when the
        subspace is as wide as the matrix, or when the outer factors are frozen
        (``gamma = 0``).

        Costs one top singular pair of a sparse m x n matrix with |Ω| entries and
        ``O((m + n) k² + k³)``; the loop calls it at most once every few iterations.
        """
        return compressed_move(self, pattern, seed, min_share)

    def factors(self):
        return [self.V.T, *self.cores, self.U]

    def _left_right(self):
        cores = list(self.cores)[::-1]
        C = cores[0] if len(cores) == 1 else torch.linalg.multi_dot(cores)
        return self.U @ C, self.V

    def param_groups(self):
        groups = [ParamGroup("cores", list(self.cores), 1.0)]
        if self.gamma > 0:
            # the outer factors hold directions (orthonormal at t = 0), the cores the
            # scale: decaying U and V would pull the model to the saddle at zero
            groups.append(ParamGroup("outer", [self.U, self.V], self.gamma, decay=False))
        else:  # gamma = 0: outer factors frozen
            self.U.requires_grad_(False)
            self.V.requires_grad_(False)
        return groups

    @classmethod
    def from_wide(cls, wide: DeepNetwork, obs: Observations, rank: int, gamma: float):
        """The reference code's initialisation, from a wide network at t = 0.

        With ``G = ∇_{W_1} ℓ = U_G S V_Gᵀ``: ``V = orth[V_G[:, :r̂], W_1ᵀ U_G[:, :r̂] / ε]``,
        ``U = W_{L:1} V / ε^L`` and ``W̃_l = ε I``. Costs the wide network's
        gradient: use it to check the construction, not to train.
        """
        pattern = SampledPattern(obs, dtype=wide.weights[0].dtype, device=wide.weights[0].device)
        wide.zero_grad()
        residual = wide.predict(pattern) - pattern.values
        (0.5 * residual.pow(2).sum()).backward()
        W1 = wide.weights[0].detach()
        eps = float(torch.linalg.matrix_norm(W1, ord=2))
        G = wide.weights[0].grad.detach()
        wide.zero_grad()
        UG, _, VGt = torch.linalg.svd(G, full_matrices=False)
        basis = torch.cat([VGt[:rank].T, W1.T @ UG[:, :rank] / eps], dim=1)
        k = min(2 * rank, obs.shape[1])
        V = torch.linalg.svd(basis, full_matrices=False)[0][:, :k]
        depth = len(wide.weights)
        with torch.no_grad():
            U = wide.to_dense() @ V / eps**depth
        cores = [eps * torch.eye(k, dtype=V.dtype, device=V.device) for _ in range(depth)]
        return cls(U.contiguous(), cores, V.contiguous(), gamma)


@register_method("original")
class OriginalNetwork(DeepNetwork):
    """The original (wide) network of the reference experiments: width ``max(m, n)``."""

    ratings_defaults = dict(rank=5, init_scale=0.1, gamma=None, weight_decay=1.0, max_iter=40)

    @classmethod
    def default_init_scale(cls, depth):
        """1e-3 per factor at every depth, the reference experiments' scale.

        Its ``d − 2r`` unused directions start at ε and grow, with the data,
        into small spurious components whose size follows the end-to-end scale
        (150², rank 5, depth 4, seed 0: error 2.1e-4 from ε^L = 1e-9, 2.0e-5 from
        1e-10); the plateau move bridges the longer plateaus of the smaller start.
        """
        return 1e-3

    @classmethod
    def build(cls, obs, *, rank, depth, width, init_scale, rng, dtype, device, **_):
        return original_network(
            obs,
            rank=rank,
            depth=depth,
            width=width,
            init_scale=init_scale,
            rng=rng,
            dtype=dtype,
            device=device,
        )


@register_method("narrow")
class NarrowNetwork(DeepNetwork):
    """The narrow network: a deep network of width ``2 r̂``."""

    ratings_defaults = dict(rank=5, init_scale=0.3, gamma=None, weight_decay=1.0, max_iter=100)

    @classmethod
    def build(cls, obs, *, rank, depth, init_scale, rng, dtype, device, **_):
        return narrow_network(
            obs, rank=rank, depth=depth, init_scale=init_scale, rng=rng, dtype=dtype, device=device
        )


@register_method("burer-monteiro")
class BurerMonteiro(DeepNetwork):
    """Burer–Monteiro ``W = U Vᵀ`` with ``r̂`` columns (``depth`` is ignored)."""

    ratings_defaults = dict(rank=10, init_scale=0.1, gamma=None, weight_decay=10.0, max_iter=100)
    #: the classical baseline, trained as published: no plateau move
    plateau_move = False

    @classmethod
    def build(cls, obs, *, rank, init_scale, init, rng, dtype, device, **_):
        return burer_monteiro(
            obs, rank=rank, init_scale=init_scale, init=init, rng=rng, dtype=dtype, device=device
        )


# -- constructors -------------------------------------------------------------


def original_network(
    obs: Observations,
    *,
    rank: int | None = None,
    depth: int,
    width: int | None,
    init_scale: float,
    rng: np.random.Generator,
    dtype: torch.dtype,
    device: torch.device,
) -> DeepNetwork:
    """The wide network: width ``d`` (default ``max(m, n)``), ε-scaled orthogonal init."""
    m, n = obs.shape
    d = max(m, n) if width is None else width
    check_wide_network_fits_in_memory(m, n, d, depth, dtype, device)
    weights = _orthogonal_weights(m, n, d, depth, init_scale, rng, dtype, device)
    return OriginalNetwork(weights, dense_predict=True, rank=rank)


def narrow_network(obs, *, rank, depth, init_scale, rng, dtype, device) -> DeepNetwork:
    """The narrow network: width ``2 r̂``, ε-scaled (semi-)orthogonal init."""
    m, n = obs.shape
    k = min(2 * rank, m, n)
    check_factors_fit_in_memory(m, n, k, dtype, device, "narrow")
    weights = _orthogonal_weights(m, n, k, depth, init_scale, rng, dtype, device)
    return NarrowNetwork(weights, rank=rank)


def burer_monteiro(obs, *, rank, init_scale, init, rng, dtype, device) -> DeepNetwork:
    """``W = U Vᵀ`` with ``U`` (m x r̂), ``V`` (n x r̂).

    ``init="random"``: entries ``init_scale`` times a standard Gaussian.
    ``init="spectral"``: ``U = U_r̂ S^½``, ``V = V_r̂ S^½`` from the top singular
    triplets of the rescaled observed matrix ``P_Ω(Φ) / p``.
    """
    m, n = obs.shape
    check_factors_fit_in_memory(m, n, rank, dtype, device, "burer-monteiro")
    if init == "spectral":
        Ur, s, Vr = top_singular_triplets(obs, rank, rng)
        root = np.sqrt(s / obs.fraction)
        U, V = Ur * root, Vr * root
    else:
        U = init_scale * rng.standard_normal((m, rank))
        V = init_scale * rng.standard_normal((n, rank))
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)  # noqa: E731
    return BurerMonteiro([as_t(V.T), as_t(U)])


def compressed_network(
    obs: Observations,
    *,
    rank: int,
    depth: int,
    init_scale: float,
    gamma: float,
    rng: np.random.Generator,
    dtype: torch.dtype,
    device: torch.device,
) -> CompressedNetwork:
    """The compressed network, initialised without the wide network (docs/method.md).

    ``V = orth[V_r̂, Qᵀ U_r̂]``, ``U = Q V``, ``W̃_l = ε I``, where ``U_r̂, V_r̂`` are the
    top-r̂ singular vectors of ``P_Ω(Φ)`` and ``Q`` is a random semi-orthogonal
    m x n operator applied implicitly (it plays the part of ``W_{L:1}(0) / ε^L``).
    Costs one truncated SVD of a sparse matrix and ``O((m + n) r̂)`` for ``Q``.

    For a tall matrix (m > n) the same recipe is applied to the transpose,
    ``U = orth[U_r̂, Q V_r̂]`` and ``V = Qᵀ U``: ``Q`` then has orthonormal
    columns only, and ``U = Q V`` would confine ``U`` to a random n-dimensional
    subspace of R^m that misses ``U_r̂`` (measured: 200 x 60 stalled where its
    transpose converged).
    """
    m, n = obs.shape
    check_factors_fit_in_memory(m, n, 2 * rank, dtype, device, "compressed")
    Ur, _, Vr = top_singular_triplets(obs, rank, rng)
    Q = _ImplicitSemiOrthogonal(m, n, n_reflectors=2 * rank + 2, rng=rng)
    k = min(2 * rank, max(m, n))
    if m <= n:
        V = _orth(np.hstack([Vr, Q.rmatmat(Ur)]), k)
        U = Q.matmat(V)
    else:
        U = _orth(np.hstack([Ur, Q.matmat(Vr)]), k)
        V = Q.rmatmat(U)
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)  # noqa: E731
    cores = [init_scale * torch.eye(k, dtype=dtype, device=device) for _ in range(depth)]
    return CompressedNetwork(as_t(U), cores, as_t(V), gamma)


# -- helpers ---------------------------------------------------------------------


def top_singular_triplets(obs: Observations, rank: int, rng: np.random.Generator):
    """Top-``rank`` singular triplets of the sparse observed matrix ``P_Ω(Φ)``.

    Dense LAPACK for small matrices; ARPACK (scipy's ``svds``) with a seeded
    start vector otherwise, so the result is reproducible.
    """
    m, n = obs.shape
    S = obs.to_sparse()
    if m * n <= 250_000 or rank >= min(m, n) - 1:
        U, s, Vt = np.linalg.svd(S.toarray(), full_matrices=False)
        return U[:, :rank], s[:rank], Vt[:rank].T
    v0 = rng.standard_normal(min(m, n))
    U, s, Vt = spla.svds(S, k=rank, v0=v0)
    order = np.argsort(s)[::-1]
    return U[:, order], s[order], Vt[order].T


def _orth(M: np.ndarray, k: int) -> np.ndarray:
    """First ``k`` left singular vectors of ``M``: an orthonormal basis of its span."""
    return np.linalg.svd(M, full_matrices=False)[0][:, :k]


def _random_semi_orthogonal(rows: int, cols: int, rng) -> np.ndarray:
    """A Haar-random matrix with orthonormal rows or columns (whichever fits)."""
    big, small = max(rows, cols), min(rows, cols)
    Z = rng.standard_normal((big, small))
    Qz, R = np.linalg.qr(Z)
    Qz *= np.sign(np.diag(R))
    return Qz if rows >= cols else Qz.T


def _orthogonal_weights(m, n, d, depth, scale, rng, dtype, device):
    shapes = [(d, n)] + [(d, d)] * (depth - 2) + [(m, d)]
    return [
        torch.as_tensor(scale * _random_semi_orthogonal(r, c, rng), dtype=dtype, device=device)
        for r, c in shapes
    ]


class _ImplicitSemiOrthogonal:
    """A random semi-orthogonal m x n operator ``Q = E_m H P E_nᵀ`` stored in O(d r̂).

    ``P`` is a random signed permutation of ``R^d`` (``d = max(m, n)``), ``H`` a
    product of random Householder reflections and ``E_m`` keeps the first m
    coordinates. ``Q`` has orthonormal rows when m ≤ n, columns when m ≥ n,
    like the end-to-end matrix of an ε-orthogonal wide network divided by ε^L.
    """

    def __init__(self, m: int, n: int, n_reflectors: int, rng: np.random.Generator):
        self.m, self.n = m, n
        d = max(m, n)
        self.perm = rng.permutation(d)
        self.signs = rng.choice([-1.0, 1.0], size=d)
        H = rng.standard_normal((d, n_reflectors))
        self.reflectors = H / np.linalg.norm(H, axis=0)

    def _pad(self, X, size):
        out = np.zeros((len(self.perm), X.shape[1]))
        out[:size] = X
        return out

    def matmat(self, Y: np.ndarray) -> np.ndarray:
        """``Q @ Y`` for ``Y`` of shape (n, p)."""
        Z = self._pad(Y, self.n)
        Z = self.signs[:, None] * Z[self.perm]
        for h in self.reflectors.T[::-1]:
            Z -= 2.0 * np.outer(h, h @ Z)
        return Z[: self.m]

    def rmatmat(self, X: np.ndarray) -> np.ndarray:
        """``Qᵀ @ X`` for ``X`` of shape (m, p)."""
        Z = self._pad(X, self.m)
        for h in self.reflectors.T:
            Z -= 2.0 * np.outer(h, h @ Z)
        out = np.empty_like(Z)
        out[self.perm] = self.signs[:, None] * Z
        return out[: self.n]
