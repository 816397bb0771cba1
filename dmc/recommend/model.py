"""Recommender-style imputation: ratings in, predicted ratings and top-k lists out.

:class:`RatingsModel` predicts a rating as

    r̂_ui = μ + b_u + b_i + a_u · b̃_i

with μ the global mean, ``b_u``, ``b_i`` regularised user and item biases, and
``a_u · b̃_i`` an entry of ``W = A B̃ᵀ`` fitted by :func:`dmc.complete` to what
the biases leave over. The ids of users and items can be any hashable values;
they are mapped to contiguous indices here and never reach the solver.

The steps live in their own modules: :mod:`.inputs` (what ``fit`` accepts),
:mod:`.ids` (ids ↔ indices), :mod:`.duplicates`, :mod:`.biases` (step 1),
:mod:`.deepfit` (step 2), :mod:`.shrinkage` (step 3 and fold-in),
:mod:`.ranking` (top-k lists), :mod:`.seen` (items left out of them) and
:mod:`.config` (defaults and parameter checks). The queries on a fitted model
are bases of :class:`RatingsModel`, each in its module, as implicit keeps them
in ``MatrixFactorizationBase``: :mod:`.recommending` (``recommend``,
``recommend_many``, ``recommend_batch``), :mod:`.neighbours`
(``similar_items``, ``similar_users``) and :mod:`.foldin` (``fold_in_users``,
``fold_in_items``).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Hashable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator

from .._validation import all_or_nothing, check_bool, check_random_state
from ..core.distributed import (
    agreed_seed,
    check_same_on_every_rank,
    communicator,
    on_every_rank,
)
from ..io import persistence, storable
from .biases import fit_biases
from .config import resolve_options, resolve_rating_range
from .deepfit import deep_fit, prior_from_deep_fit
from .duplicates import dedupe, merge_duplicate_ratings
from .foldin import FoldInMixin
from .ids import IdIndex
from .inputs import as_id_vector, as_ratings, check_hashable_id, object_array, py_value, triplets
from .neighbours import NeighboursMixin
from .recommending import RecommendMixin
from .seen import SeenItems
from .sharded import global_index, global_pairs, route_pairs, validation_mask
from .shrinkage import ShrinkagePrior, choose_shrinkage, shrink, solve_user

logger = logging.getLogger(__name__)

__all__ = ["RatingsModel"]

#: what ``fit`` sets (``fold_in`` updates some of them): the state a file keeps
_FITTED = (
    "_user_index",
    "_item_index",
    "n_duplicates_",
    "rating_range_",
    "validation_rmse_",
    "global_mean_",
    "user_bias_",
    "item_bias_",
    "user_factors_",
    "item_factors_",
    "shrinkage_",
    "rank_",
    "completion_",
    "_prior",
    "_opts",
    "_seen",
    "fit_seconds_",
)

#: the fitted attributes that must hold an object of the ratings code's own classes
_FITTED_TYPES = {
    "_user_index": IdIndex,
    "_item_index": IdIndex,
    "_prior": ShrinkagePrior,
    "_seen": SeenItems,
}


@storable("RatingsModel")
class RatingsModel(RecommendMixin, NeighboursMixin, FoldInMixin, BaseEstimator):
    """Rating prediction and top-k recommendation with a deep factorization.

    A rating is predicted as ``μ + b_u + b_i + a_u · b̃_i``. ``fit`` proceeds in
    three steps:

    1. **Biases.** μ is the mean rating; ``b_u`` and ``b_i`` are fitted by
       alternating ridge regressions (penalties ``user_bias_reg``,
       ``item_bias_reg``), as the baseline predictors of Koren (2008).
    2. **Deep factorization.** :func:`dmc.complete` with ``method`` fits a
       rank-``rank`` deep factorization ``W = A B̃ᵀ`` to the residuals
       ``r − μ − b_u − b_i``, on all ratings but an internal validation part.
       Its factors (for "original" the ``2 r̂`` leading singular directions of
       ``W``) give the latent space and, through their spread, the prior of step 3.
    3. **Shrinkage.** Each user's ``(b_u, a_u)``, then each item's, then each
       user's again (``shrinkage_sweeps`` item-user rounds in the final solve),
       is re-solved by ridge regression against the other side,
       with the empirical-Bayes prior that the deep fit implies (second moment
       of its factors, variance of its residuals) scaled by ``shrinkage``. The
       fewer ratings a user or item has, the more the prior pulls its bias and
       vector towards 0, i.e. its predictions towards the biases: 3 ratings of
       5 stars do not make a user predicted at 5. With ``shrinkage="auto"`` the
       scale is the one of :data:`~dmc.recommend.config.SHRINKAGE_GRID` that
       predicts the internal validation ratings best; the validation ratings
       are then put back and the final solves use all ratings. The same solve folds in new users
       (:meth:`fold_in`), so a folded-in user is treated exactly as a fitted one.

    The defaults (compressed network, rank 5, outer factors frozen at their
    spectral initialisation, 100 iterations, automatic shrinkage) were chosen on
    a validation split of a MovieLens-100k training fold; docs/ratings.md has
    what was tried. Early stopping on held-out ratings is not used: the deep
    fit with frozen outer factors has ``L (2 r̂)²`` trained parameters and does
    not overfit, and the shrinkage is what adapts to the noise.

    Parameters
    ----------
    method : {"compressed", "original", "narrow", "burer-monteiro"}, default "compressed"
        Deep factorization of :func:`dmc.complete`.
    rank, init_scale, gamma, weight_decay, max_iter : optional
        Passed to :func:`dmc.complete`; ``None`` takes the method's entry of
        :data:`~dmc.recommend.config.RATINGS_DEFAULTS` (for "compressed": rank
        5, init_scale 1, gamma 0 i.e. outer factors frozen at the spectral
        initialisation, weight_decay 0, max_iter 100).
    depth : int, default 3
        Number of factors, in [2, 100].
    tol : float, default 1e-4
        Relative training residual at which the deep fit stops.
    n_iter_no_change : int or None, default 20
        Stop the deep fit when its loss stalls this many iterations.
    shrinkage : "auto" or float, default "auto"
        Multiplier α ≥ 0 of the ridge prior of step 3 (0: plain least squares).
    validation_fraction : float, default 0.1
        Share of the ratings held out, when ``shrinkage="auto"``, to choose α.
    shrinkage_sweeps : int, default 6
        Item-then-user rounds of ridge solves after the first user solve, in
        the final shrinkage on all ratings (α is chosen with one). Each round
        lowers the same penalised objective. On MovieLens-100k (5-fold CV) 6
        gives RMSE 0.9094 and 1 gives 0.9146, but 1 ranks the top 10 of all
        unrated items better (NDCG@10 0.135 against 0.124): docs/ratings.md.
    user_bias_reg, item_bias_reg : float, default 15 and 10
        Ridge penalties of the biases (in rating units squared per rating).
    duplicates : {"raise", "mean", "first", "last"}, default "raise"
        Policy for a (user, item) pair rated more than once: refuse, average
        the ratings, or keep the first or the last in input order. Ratings are
        never summed.
    cold_start : {"bias", "mean", "raise"}, default "bias"
        Prediction for a user or item not seen in ``fit``: "bias" falls back
        to ``μ + b_i`` (unknown user), ``μ + b_u`` (unknown item) or ``μ``
        (both unknown); "mean" predicts ``μ``; "raise" raises ``ValueError``.
    rating_range : (float, float) or None
        Predictions are clipped to it; None: the smallest and largest rating
        seen in ``fit``.
    dtype, device : passed to :func:`dmc.complete`.
    random_state : int, numpy Generator or None
        Seeds the validation split and the deep fit.
    verbose : bool, default False
        Progress bars of the deep fit and of the choice of the shrinkage.
    distributed : bool or torch.distributed ProcessGroup, default False
        Data-parallel fit on every process (rank) of an initialised process
        group (True: the default group), each ``fit`` call given that rank's
        shard of the ratings: the ids, the mean, the biases, the sums of the
        deep fit and of the ridge systems, and the validation split (a seeded
        hash of each pair) are global, so every rank ends with the same model,
        equal to a single-process fit on all the ratings up to rounding. Each
        rating is sent to the rank a hash of its (user, item) pair names, so
        ``duplicates`` meets a pair's repeats on one rank, in rank order (for
        the slices of one file, the file's order). ``random_state`` must be an
        int or None. See docs/distributed.md.

    Attributes
    ----------
    users_, items_ : ndarray
        Known ids; position = internal index.
    global_mean_ : float
    user_bias_, item_bias_ : ndarray of shape (n_users,), (n_items,)
    user_factors_, item_factors_ : ndarray of shape (n_users, k), (n_items, k)
    rank_ : int
        The rank of the deep fit (``rank`` or the method's default).
    shrinkage_ : float
        The α used in step 3.
    validation_rmse_ : dict
        RMSE on the internal validation ratings for each α tried (empty unless
        ``shrinkage="auto"``).
    completion_ : CompletionResult
        The deep fit of step 2.
    rating_range_ : (float, float)
    n_duplicates_ : int
        Repeated (user, item) ratings merged by the ``duplicates`` policy.
    fit_seconds_ : float

    Notes
    -----
    Cost: the deep fit (``O(|Ω| r̂ + (m + n) r̂²)`` per iteration for
    "compressed") plus ``O(|Ω| k² + (m + n) k³)`` per ridge sweep, with
    ``k ≤ 2 r̂ + 1``. Predicting costs ``O(k)`` per pair; recommending
    ``O(n k)`` per user. Nothing of size ``m x n`` is built except by
    ``method="original"``.

    References
    ----------
    Y. Koren, "Factorization meets the neighborhood", KDD 2008 (biases).

    Examples
    --------
    >>> import numpy as np
    >>> from dmc.recommend.model import RatingsModel
    >>> rng = np.random.default_rng(0)
    >>> pairs = rng.permutation(30 * 20)[:300]  # 300 distinct (user, item) pairs
    >>> users, items = pairs // 20, pairs % 20
    >>> ratings = np.clip(np.round(3 + (users % 3) - (items % 2) + rng.normal(0, 0.5, 300)), 1, 5)
    >>> model = RatingsModel(rank=2, random_state=0).fit(users, items, ratings)
    >>> pred, cold = model.predict([0, 1, 999], [3, 4, 3], return_cold=True)
    >>> bool(((1 <= pred) & (pred <= 5)).all()), cold
    (True, array([False, False,  True]))
    >>> top_items, scores = model.recommend(0, k=3)
    >>> len(top_items), bool(np.all(np.diff(scores) <= 0))
    (3, True)
    """

    def __init__(
        self,
        *,
        method: str = "compressed",
        rank: int | None = None,
        depth: int = 3,
        init_scale: float | None = None,
        gamma: float | None = None,
        weight_decay: float | None = None,
        max_iter: int | None = None,
        tol: float = 1e-4,
        n_iter_no_change: int | None = 20,
        shrinkage: str | float = "auto",
        validation_fraction: float = 0.1,
        shrinkage_sweeps: int = 6,
        user_bias_reg: float = 15.0,
        item_bias_reg: float = 10.0,
        duplicates: str = "raise",
        cold_start: str = "bias",
        rating_range: tuple[float, float] | None = None,
        dtype: Any = "float64",
        device: Any = "cpu",
        random_state: int | np.random.Generator | None = None,
        verbose: bool = False,
        distributed: Any = False,
    ):
        self.method = method
        self.rank = rank
        self.depth = depth
        self.init_scale = init_scale
        self.gamma = gamma
        self.weight_decay = weight_decay
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shrinkage = shrinkage
        self.validation_fraction = validation_fraction
        self.shrinkage_sweeps = shrinkage_sweeps
        self.user_bias_reg = user_bias_reg
        self.item_bias_reg = item_bias_reg
        self.duplicates = duplicates
        self.cold_start = cold_start
        self.rating_range = rating_range
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.distributed = distributed

    # -- fitting -------------------------------------------------------------------

    def fit(
        self, users: Any, items: ArrayLike | None = None, ratings: ArrayLike | None = None
    ) -> RatingsModel:
        """Fit on rating triplets.

        Parameters
        ----------
        users : DataFrame, mapping or array-like
            Either a table (pandas DataFrame, or a mapping of arrays such as
            :func:`dmc.datasets.read_ratings` returns) with columns ``user``,
            ``item`` and ``rating`` (then ``items`` and ``ratings`` are None),
            or the user id of each rating.
        items : array-like or None
            The item id of each rating.
        ratings : array-like or None
            The ratings, finite numbers.

        Returns
        -------
        self
        """
        with all_or_nothing(self):
            return self._fit(users, items, ratings)

    def _fit(self, users, items, ratings):
        start = time.perf_counter()
        comm = communicator(self.distributed, "RatingsModel.fit")

        def parse():
            parsed = triplets(users, items, ratings)
            return parsed, resolve_options(self)

        (users, items, ratings), opts = on_every_rank(comm, parse, "RatingsModel.fit")
        check_same_on_every_rank(comm, _shared_settings(self), "RatingsModel.fit")
        rng = check_random_state(agreed_seed(comm, self.random_state))

        user_index, u = global_index(comm, users, "users")
        item_index, i = global_index(comm, items, "items")
        # the repeats of a pair meet on one rank (a no-op in one process)
        u, i, ratings = route_pairs(comm, u, i, ratings, len(item_index))
        u, i, r, n_dup = on_every_rank(
            comm,
            lambda: merge_duplicate_ratings(
                u, i, ratings, user_index, item_index, opts["duplicates"]
            ),
            "RatingsModel.fit",
        )
        m, n = len(user_index), len(item_index)
        if opts["rank"] > min(m, n):
            raise ValueError(
                f"The 'rank' parameter must be an int in [1, min(n_users, n_items)] = "
                f"[1, {min(m, n)}]. Got {opts['rank']} instead."
            )
        self._user_index, self._item_index = user_index, item_index
        self.n_duplicates_ = int(comm.sum(float(n_dup)))
        if self.rating_range is None and comm.distributed:
            self.rating_range_ = (-comm.max(-float(r.min())), comm.max(float(r.max())))
        else:
            self.rating_range_ = resolve_rating_range(self.rating_range, r)

        # internal validation part, for choosing the shrinkage: a seeded hash of
        # each (user, item) pair decides, whichever rank holds it
        auto = opts["shrinkage"] == "auto"
        split_seed = int(rng.integers(2**63 - 1))
        held = validation_mask(u, i, n, opts["validation_fraction"], split_seed)
        n_total, n_val = comm.sum(float(r.size)), comm.sum(float(held.sum())) if auto else 0.0
        if auto and (n_val < 10 or n_total - n_val < 10):
            logger.info("too few ratings (%d) for a validation split: shrinkage 1.0", n_total)
            auto, n_val = False, 0.0
        if not auto:
            held[:] = False
        # the fit part first, then the validation part, each in (user, item) order;
        # both are views of the reordered ratings (no copies at scale)
        n_fit = r.size - int(held.sum())
        if n_fit < r.size:
            order = np.concatenate([np.flatnonzero(~held), np.flatnonzero(held)])
            u, i, r = u[order], i[order], r[order]
            del order
        del held

        # step 1: biases
        u_fit, i_fit, r_fit = u[:n_fit], i[:n_fit], r[:n_fit]
        mu = comm.sum(float(r_fit.sum())) / comm.sum(float(n_fit))
        bu, bi = fit_biases(
            u_fit,
            i_fit,
            r_fit - mu,
            m,
            n,
            opts["user_bias_reg"],
            opts["item_bias_reg"],
            comm=comm,
        )
        # step 2: the deep fit of what the biases leave over, and the prior it implies
        residual = r_fit - mu - bu[u_fit] - bi[i_fit]
        obs = (u_fit, i_fit, residual, (m, n))
        result = deep_fit(
            obs, opts, rng, self.dtype, self.device, self.verbose, distributed=self.distributed
        )
        A, B, prior = prior_from_deep_fit(
            result, u_fit, i_fit, residual, m, n, 2 * opts["rank"], comm
        )
        del obs, residual

        # step 3: shrinkage, its scale chosen on the validation part
        self.validation_rmse_ = {}
        if auto:
            val = (u[n_fit:], i[n_fit:], r[n_fit:])
            alpha, self.validation_rmse_ = choose_shrinkage(
                (u_fit, i_fit, r_fit),
                val,
                mu,
                bi,
                A,
                B,
                prior,
                opts,
                self.rating_range_,
                comm,
                verbose=self.verbose and comm.is_root,
            )
        else:
            alpha = 1.0 if opts["shrinkage"] == "auto" else opts["shrinkage"]

        mu = comm.sum(float(r.sum())) / n_total
        sweeps, verbose = opts["shrinkage_sweeps"], self.verbose and comm.is_root
        state = shrink(
            u, i, r, mu, bi, A, B, prior, alpha, opts, comm, sweeps=sweeps, verbose=verbose
        )
        self.global_mean_ = mu
        self.user_bias_, self.item_bias_ = state.user_bias, state.item_bias
        self.user_factors_, self.item_factors_ = state.A, state.B
        self.shrinkage_ = alpha
        self.rank_ = opts["rank"]
        self.completion_ = result
        self._prior = prior
        self._opts = opts
        self._seen = SeenItems.build(*global_pairs(comm, u, i), m)
        self.fit_seconds_ = time.perf_counter() - start
        logger.info(
            "fitted %d ratings of %d users and %d items in %.2f s",
            n_total,
            m,
            n,
            self.fit_seconds_,
        )
        return self

    # -- prediction ----------------------------------------------------------------

    def predict(
        self, users: ArrayLike, items: ArrayLike, *, return_cold: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted ratings of ``(users[t], items[t])``, clipped to the rating range.

        Parameters
        ----------
        users, items : array-like of shape (n,)
            Ids; unknown ones follow the ``cold_start`` policy.
        return_cold : bool, default False
            Also return which predictions involved an unknown user or item.

        Returns
        -------
        predictions : ndarray of float64, shape (n,)
        cold : ndarray of bool, shape (n,)
            Only with ``return_cold=True``: True where the user, the item or
            both were not seen in ``fit`` (nor folded in).
        """
        self._check_fitted()
        return_cold = check_bool(return_cold, "return_cold")
        users = as_id_vector(users, "users")
        items = as_id_vector(items, "items")
        if users.size != items.size:
            raise ValueError(
                "The 'users' and 'items' parameters must have the same length. "
                f"Got {users.size} and {items.size} instead."
            )
        u = self._user_index.lookup(users)
        i = self._item_index.lookup(items)
        ku, ki = u >= 0, i >= 0
        cold = ~(ku & ki)
        policy = self._opts["cold_start"]
        if policy == "raise" and cold.any():
            t = int(np.flatnonzero(cold)[0])
            name, value = ("users", users[t]) if not ku[t] else ("items", items[t])
            raise ValueError(
                f"The {name!r} parameter must hold ids seen in fit (cold_start='raise'). "
                f"Got unknown id {py_value(value)!r} at position {t} instead."
            )
        pred = np.full(users.size, self.global_mean_)
        if policy == "bias":
            pred[ku] += self.user_bias_[u[ku]]
            pred[ki] += self.item_bias_[i[ki]]
        else:
            warm = ~cold
            pred[warm] += self.user_bias_[u[warm]] + self.item_bias_[i[warm]]
        warm = ~cold
        pred[warm] += np.einsum(
            "ij,ij->i", self.user_factors_[u[warm]], self.item_factors_[i[warm]]
        )
        np.clip(pred, *self.rating_range_, out=pred)
        return (pred, cold) if return_cold else pred

    # -- fold-in -------------------------------------------------------------------

    def fold_in(self, user: Hashable, items: ArrayLike, ratings: ArrayLike) -> RatingsModel:
        """Add (or update) one user from their ratings, without refitting.

        The user's bias and latent vector are the ridge solution of step 3 of
        ``fit`` against the learned item side (same prior, same shrinkage), so
        folding in a training user's own ratings gives back their fitted
        vector. Items unknown to the model are ignored (they carry no learned
        parameters). A known user's parameters and seen items are replaced.

        Parameters
        ----------
        user : hashable
        items : array-like of shape (n,)
        ratings : array-like of shape (n,)

        Returns
        -------
        self

        Notes
        -----
        ``O(n k² + k³)``.
        """
        self._check_fitted()
        items = as_id_vector(items, "items")
        ratings = as_ratings(ratings)
        if items.size != ratings.size:
            raise ValueError(
                "The 'items' and 'ratings' parameters must have the same length. "
                f"Got {items.size} and {ratings.size} instead."
            )
        check_hashable_id(user, "user")
        if ratings.size == 0:
            raise ValueError(
                "The 'ratings' parameter must hold at least one rating to fold in. Got none "
                f"for user {user!r}."
            )
        i = self._item_index.lookup(items)
        known = i >= 0
        if not known.any():
            warnings.warn(
                f"None of the {items.size} item(s) rated by user {user!r} in fold_in is known "
                "to the model; the user is added with bias 0 and latent vector 0 (predicted "
                "as the global mean plus the item bias).",
                UserWarning,
                stacklevel=2,
            )
        elif not known.all():
            logger.info("fold_in: %d ratings of unknown items ignored", int((~known).sum()))
        ids = self._item_index.ids
        i, r, _ = dedupe(
            i[known],
            ratings[known],
            self._opts["duplicates"],
            lambda key, count: f"item {py_value(ids[key])!r} rated {count} times by user {user!r}",
        )
        target = r - self.global_mean_ - self.item_bias_[i]
        b, a = solve_user(
            i, target, self.item_factors_, self._prior, self.shrinkage_, self._opts["user_bias_reg"]
        )
        idx = self._user_index.lookup(object_array([user]))[0]
        if idx < 0:
            idx = self._user_index.add(user)
            self.user_bias_ = np.append(self.user_bias_, 0.0)
            self.user_factors_ = np.vstack([self.user_factors_, np.zeros((1, a.size))])
        self.user_bias_[idx] = b
        self.user_factors_[idx] = a
        self._seen.set(idx, np.unique(i))
        return self

    # -- files ---------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path``, in a file that runs no code when loaded.

        A zip of ``.npy`` arrays and JSON, checksummed and written atomically
        (see :mod:`dmc.io.persistence`). Users folded in so far are kept; the ids
        come back equal and of the same type. A ``random_state`` that is a numpy
        Generator is stored as None.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        path : pathlib.Path

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from dmc.recommend.model import RatingsModel
        >>> rng = np.random.default_rng(0)
        >>> pairs = rng.permutation(30 * 20)[:300]
        >>> users, items = [f"u{p // 20}" for p in pairs], pairs % 20
        >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
        >>> model = RatingsModel(rank=2, random_state=0).fit(users, items, ratings)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = model.save(os.path.join(folder, "ratings.dmc"))
        ...     restored = RatingsModel.load(path)
        >>> restored.recommend("u3", k=2)[0].tolist() == model.recommend("u3", k=2)[0].tolist()
        True
        """
        return persistence.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RatingsModel:
        """Read a model written by :meth:`save`; it comes back on the CPU.

        A file of another kind (a ``DeepMatrixCompletion``), a truncated or
        damaged file raises :class:`dmc.FileFormatError`; nothing in the file is
        executed. Predicting, recommending and folding in need no GPU, so a
        model fitted with ``device="cuda"`` loads and predicts on a CPU-only
        machine (``device`` keeps its value; set it to "cpu" to refit there).
        ``completion_`` is rebuilt on the CPU from the saved factors.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        RatingsModel
            See :meth:`save` for an example.
        """
        return persistence.load(path, cls)

    # -- files (dmc.io) -------------------------------------------------------------

    def _get_state(self) -> dict:
        """The fitted attributes, for :func:`dmc.io.save` (the parameters are apart)."""
        self._check_fitted()
        return {name: getattr(self, name) for name in _FITTED}

    def _set_state(self, state: dict):
        """Set the fitted attributes that :meth:`_get_state` gave (:func:`dmc.io.load`)."""
        unknown = sorted(set(state) - set(_FITTED))
        missing = [name for name in _FITTED if name not in state]
        if unknown or missing:
            raise ValueError(
                "The state of a RatingsModel must hold its fitted attributes. Got "
                f"unknown {unknown} and missing {missing} instead."
            )
        for name, cls in _FITTED_TYPES.items():
            if not isinstance(state[name], cls):
                raise TypeError(
                    f"The {name!r} attribute of a RatingsModel must be of type {cls.__name__}. "
                    f"Got {type(state[name]).__name__} instead."
                )
        for name in _FITTED:
            setattr(self, name, state[name])

    def _check_loaded(self):
        """Check the parameters and the fitted options as ``fit`` makes them (:func:`dmc.io.load`
        calls it; ``dtype``, ``device`` and ``random_state`` are checked there)."""
        resolve_options(self)
        if self.rating_range is not None:
            resolve_rating_range(self.rating_range, None)
        if resolve_options(SimpleNamespace(**self._opts)) != self._opts:
            raise ValueError(
                "The '_opts' attribute of a RatingsModel must hold the options that fit "
                f"resolves. Got {self._opts!r:.200} instead."
            )


def _shared_settings(model: RatingsModel) -> dict:
    """The parameters that every rank of a data-parallel fit must share."""
    params = model.get_params(deep=False)
    for own in ("device", "verbose", "distributed"):  # each rank may have its own
        params.pop(own)
    return {"the parameters": repr(sorted(params.items()))}
