"""Recommender-style imputation: ratings in, predicted ratings and top-k lists out.

:class:`RatingsModel` predicts a rating as

    r̂_ui = μ + b_u + b_i + a_u · b̃_i

with μ the global mean, ``b_u``, ``b_i`` regularised user and item biases, and
``a_u · b̃_i`` an entry of ``W = A B̃ᵀ`` fitted by :func:`dmc.complete` to what
the biases leave over. The ids of users and items can be any hashable values;
they are mapped to contiguous indices here and never reach the solver.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import NotFittedError

from .._validation import (
    all_or_nothing,
    as_real_array,
    check_choice,
    check_float,
    check_int,
    check_random_state,
)
from ..core.complete import DEGENERATE_WARNING, METHODS, complete
from ..exceptions import ConvergenceWarning

logger = logging.getLogger("dmc")

__all__ = ["RATINGS_DEFAULTS", "RatingsModel", "Recommendations"]

#: settings of the deep fit that ``None`` selects, per method, chosen on an internal
#: validation split of the MovieLens-100k training folds (docs/ratings.md)
RATINGS_DEFAULTS = {
    "compressed": dict(rank=5, init_scale=1.0, gamma=0.0, weight_decay=0.0, max_iter=100),
    "original": dict(rank=5, init_scale=0.1, gamma=None, weight_decay=1.0, max_iter=40),
    "narrow": dict(rank=5, init_scale=0.3, gamma=None, weight_decay=1.0, max_iter=100),
    "burer-monteiro": dict(rank=10, init_scale=0.1, gamma=None, weight_decay=10.0, max_iter=100),
}

#: multipliers α of the empirical-Bayes ridge tried when ``shrinkage="auto"``
SHRINKAGE_GRID = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

_DUPLICATES = ("raise", "mean", "first", "last")
_COLD_START = ("bias", "mean", "raise")
_MAX_BLOCK = 1 << 16  # ratings per block of the batched ridge solves


class Recommendations(NamedTuple):
    """Top-k lists of many users in long form: one row per (user, recommended item).

    All fields are 1-D arrays of equal length, ordered by the input users and,
    within a user, by ``rank`` (1 = best). ``pandas.DataFrame(rec._asdict())``
    gives a table.
    """

    user: np.ndarray
    item: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    cold: np.ndarray


class RatingsModel:
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
       user's again, is re-solved by ridge regression against the other side,
       with the empirical-Bayes prior that the deep fit implies (second moment
       of its factors, variance of its residuals) scaled by ``shrinkage``. The
       fewer ratings a user or item has, the more the prior pulls its bias and
       vector towards 0, i.e. its predictions towards the biases: 3 ratings of
       5 stars do not make a user predicted at 5. With ``shrinkage="auto"`` the
       scale is the one of :data:`SHRINKAGE_GRID` that predicts the internal
       validation ratings best; the validation ratings are then put back and
       the final solves use all ratings. The same solve folds in new users
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
        :data:`RATINGS_DEFAULTS` (for "compressed": rank 5, init_scale 1,
        gamma 0 i.e. outer factors frozen at the spectral initialisation,
        weight_decay 0, max_iter 100).
    depth : int, default 3
    tol : float, default 1e-4
        Relative training residual at which the deep fit stops.
    n_iter_no_change : int or None, default 20
        Stop the deep fit when its loss stalls this many iterations.
    shrinkage : "auto" or float, default "auto"
        Multiplier α ≥ 0 of the ridge prior of step 3 (0: plain least squares).
    validation_fraction : float, default 0.1
        Share of the ratings held out, when ``shrinkage="auto"``, to choose α.
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
        Progress bar of the deep fit.

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
        method="compressed",
        rank=None,
        depth=3,
        init_scale=None,
        gamma=None,
        weight_decay=None,
        max_iter=None,
        tol=1e-4,
        n_iter_no_change=20,
        shrinkage="auto",
        validation_fraction=0.1,
        user_bias_reg=15.0,
        item_bias_reg=10.0,
        duplicates="raise",
        cold_start="bias",
        rating_range=None,
        dtype="float64",
        device="cpu",
        random_state=None,
        verbose=False,
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
        self.user_bias_reg = user_bias_reg
        self.item_bias_reg = item_bias_reg
        self.duplicates = duplicates
        self.cold_start = cold_start
        self.rating_range = rating_range
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------

    def fit(self, users, items=None, ratings=None):
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
        users, items, ratings = _triplets(users, items, ratings)
        opts = self._resolved_options()
        rng = check_random_state(self.random_state)

        user_index, u = _IdIndex.build(users, "users")
        item_index, i = _IdIndex.build(items, "items")
        u, i, r, n_dup = _merge_duplicates(
            u, i, ratings, user_index, item_index, opts["duplicates"]
        )
        m, n = len(user_index), len(item_index)
        if opts["rank"] > min(m, n):
            raise ValueError(
                f"The 'rank' parameter must be an int in [1, min(n_users, n_items)] = "
                f"[1, {min(m, n)}]. Got {opts['rank']} instead."
            )
        self._user_index, self._item_index = user_index, item_index
        self.n_duplicates_ = n_dup
        self.rating_range_ = _rating_range(self.rating_range, r)

        # internal validation part, for choosing the shrinkage
        auto = opts["shrinkage"] == "auto"
        n_val = int(round(opts["validation_fraction"] * r.size)) if auto else 0
        if auto and (n_val < 10 or r.size - n_val < 10):
            logger.info("too few ratings (%d) for a validation split: shrinkage 1.0", r.size)
            auto, n_val = False, 0
        perm = rng.permutation(r.size)
        fit_part, val_part = np.sort(perm[n_val:]), np.sort(perm[:n_val])

        mu = float(r[fit_part].mean())
        bu, bi = _fit_biases(
            u[fit_part],
            i[fit_part],
            r[fit_part] - mu,
            m,
            n,
            opts["user_bias_reg"],
            opts["item_bias_reg"],
        )
        residual = r[fit_part] - mu - bu[u[fit_part]] - bi[i[fit_part]]
        result = self._deep_fit(u[fit_part], i[fit_part], residual, (m, n), opts, rng)
        A, B = _at_most(result.factors(), 2 * opts["rank"])
        # rows without a rating in the fitted part hold only their initial values
        A[np.bincount(u[fit_part], minlength=m) == 0] = 0.0
        B[np.bincount(i[fit_part], minlength=n) == 0] = 0.0
        fitted = result.predict(u[fit_part], i[fit_part])
        noise = float(np.mean((residual - fitted) ** 2))
        prior = _Prior(
            user_cov=_active_cov(A, u[fit_part], m),
            item_cov=_active_cov(B, i[fit_part], n),
            noise=max(noise, 1e-12),
        )

        self.validation_rmse_ = {}
        if auto:
            y_val = r[val_part]
            for alpha in SHRINKAGE_GRID:
                state = _shrink(
                    u[fit_part], i[fit_part], r[fit_part], mu, bi, A, B, prior, alpha, opts
                )
                pred = state.predict(u[val_part], i[val_part], mu)
                pred = np.clip(pred, *self.rating_range_)
                self.validation_rmse_[alpha] = float(np.sqrt(np.mean((pred - y_val) ** 2)))
            alpha = min(self.validation_rmse_, key=self.validation_rmse_.get)
            logger.info(
                "shrinkage: validation RMSE %s, chose %g",
                {a: round(v, 4) for a, v in self.validation_rmse_.items()},
                alpha,
            )
        else:
            alpha = 1.0 if opts["shrinkage"] == "auto" else opts["shrinkage"]

        mu = float(r.mean())
        state = _shrink(u, i, r, mu, bi, A, B, prior, alpha, opts)
        self.global_mean_ = mu
        self.user_bias_, self.item_bias_ = state.user_bias, state.item_bias
        self.user_factors_, self.item_factors_ = state.A, state.B
        self.shrinkage_ = alpha
        self.rank_ = opts["rank"]
        self.completion_ = result
        self._prior = prior
        self._opts = opts
        self._seen = _Seen.build(u, i, m)
        self.fit_seconds_ = time.perf_counter() - start
        logger.info(
            "fitted %d ratings of %d users and %d items in %.2f s", r.size, m, n, self.fit_seconds_
        )
        return self

    def _resolved_options(self) -> dict:
        method = check_choice(self.method, "method", METHODS)
        defaults = RATINGS_DEFAULTS[method]
        pick = lambda name: defaults[name] if getattr(self, name) is None else getattr(self, name)  # noqa: E731
        opts = dict(method=method)
        opts["rank"] = check_int(pick("rank"), "rank", low=1)
        opts["depth"] = check_int(self.depth, "depth", low=2)
        opts["init_scale"] = check_float(pick("init_scale"), "init_scale", low=0.0, low_open=True)
        gamma = pick("gamma")
        opts["gamma"] = None if gamma is None else check_float(gamma, "gamma", low=0.0)
        opts["weight_decay"] = check_float(pick("weight_decay"), "weight_decay", low=0.0)
        opts["max_iter"] = check_int(pick("max_iter"), "max_iter", low=1)
        opts["tol"] = check_float(self.tol, "tol", low=0.0)
        opts["n_iter_no_change"] = (
            None
            if self.n_iter_no_change is None
            else check_int(self.n_iter_no_change, "n_iter_no_change", low=1)
        )
        if isinstance(self.shrinkage, str):
            if self.shrinkage != "auto":
                raise ValueError(
                    "The 'shrinkage' parameter must be 'auto' or a finite real number in "
                    f"[0, inf]. Got {self.shrinkage!r} instead."
                )
            opts["shrinkage"] = "auto"
        else:
            opts["shrinkage"] = check_float(self.shrinkage, "shrinkage", low=0.0)
        opts["validation_fraction"] = check_float(
            self.validation_fraction, "validation_fraction", low=0.0, high=0.5, low_open=True
        )
        opts["user_bias_reg"] = check_float(self.user_bias_reg, "user_bias_reg", low=0.0)
        opts["item_bias_reg"] = check_float(self.item_bias_reg, "item_bias_reg", low=0.0)
        opts["duplicates"] = check_choice(self.duplicates, "duplicates", _DUPLICATES)
        opts["cold_start"] = check_choice(self.cold_start, "cold_start", _COLD_START)
        return opts

    def _deep_fit(self, u, i, residual, shape, opts, rng):
        seed = int(rng.integers(2**31 - 1))
        with warnings.catch_warnings():
            # a budget of iterations is the point here, not a failure to converge
            warnings.simplefilter("ignore", ConvergenceWarning)
            # users or items whose ratings all went to the validation part are handled
            # in fit (their factors are zeroed)
            warnings.filterwarnings("ignore", DEGENERATE_WARNING, UserWarning)
            return complete(
                (u, i, residual, shape),
                rank=opts["rank"],
                depth=opts["depth"],
                method=opts["method"],
                init_scale=opts["init_scale"],
                gamma=opts["gamma"],
                weight_decay=opts["weight_decay"],
                max_iter=opts["max_iter"],
                tol=opts["tol"],
                n_iter_no_change=opts["n_iter_no_change"],
                dtype=self.dtype,
                device=self.device,
                random_state=seed,
                verbose=self.verbose,
            )

    # -- prediction ----------------------------------------------------------------

    def predict(self, users, items, *, return_cold=False):
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
        users = _as_id_vector(users, "users")
        items = _as_id_vector(items, "items")
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
                f"Got unknown id {_py(value)!r} at position {t} instead."
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

    def recommend(self, user, k=10, *, exclude_seen=True):
        """The ``k`` items with the highest predicted rating for one user.

        Parameters
        ----------
        user : hashable
            A user id. An unknown user follows the ``cold_start`` policy: with
            "bias" or "mean" the items are ranked by ``μ + b_i`` (their bias).
        k : int, default 10
            In [1, n_items]. Fewer items come back when ``exclude_seen`` leaves
            fewer than ``k``.
        exclude_seen : bool, default True
            Leave out the items the user rated in ``fit`` (or in :meth:`fold_in`).

        Returns
        -------
        items : ndarray
            Item ids, best first.
        scores : ndarray of float64
            Their predicted ratings *before* clipping to the rating range (so
            that ranks stay distinct above the top of the scale).
        """
        _check_hashable_id(user, "user")
        rec = self.recommend_many(_object_array([user]), k, exclude_seen=exclude_seen)
        return rec.item, rec.score

    def recommend_many(self, users, k=10, *, exclude_seen=True) -> Recommendations:
        """Top-k lists of many users, scored in blocks.

        Parameters
        ----------
        users : array-like of shape (n_users,)
        k : int, default 10
            In [1, n_items].
        exclude_seen : bool, default True

        Returns
        -------
        Recommendations
            Long form ``(user, item, score, rank, cold)``: ``min(k, available)``
            rows per user, ``cold`` True for users not seen in ``fit``.

        Notes
        -----
        ``O(n_users n_items k)`` time; blocks of users keep the dense score
        block below about 4 million entries.
        """
        self._check_fitted()
        users = _as_id_vector(users, "users")
        n_items = len(self._item_index)
        k = check_int(k, "k", low=1, high=n_items)
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise TypeError(
                f"The 'exclude_seen' parameter must be a bool. Got {exclude_seen!r} instead."
            )
        exclude_seen = bool(exclude_seen)
        if users.size == 0:
            return Recommendations(
                users[:0],
                self._item_index.ids[:0],
                np.zeros(0),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=bool),
            )
        u = self._user_index.lookup(users)
        if self._opts["cold_start"] == "raise" and (u < 0).any():
            t = int(np.flatnonzero(u < 0)[0])
            raise ValueError(
                "The 'users' parameter must hold ids seen in fit (cold_start='raise'). "
                f"Got unknown id {_py(users[t])!r} at position {t} instead."
            )
        item_base = self.global_mean_ + (
            self.item_bias_ if self._opts["cold_start"] == "bias" else 0.0
        )
        out_u, out_i, out_s, out_r = [], [], [], []
        block = max(1, (1 << 22) // n_items)
        for s in range(0, users.size, block):
            idx = u[s : s + block]
            known = idx >= 0
            scores = np.tile(item_base, (idx.size, 1))
            if known.any():
                scores[known] = (
                    self.global_mean_
                    + self.item_bias_
                    + self.user_bias_[idx[known], None]
                    + self.user_factors_[idx[known]] @ self.item_factors_.T
                )
            if exclude_seen:
                for row in np.flatnonzero(known):
                    scores[row, self._seen.items_of(idx[row])] = -np.inf
            kk = min(k, n_items)
            top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.lexsort((top, -top_scores), axis=1)
            top = np.take_along_axis(top, order, axis=1)
            top_scores = np.take_along_axis(top_scores, order, axis=1)
            valid = np.isfinite(top_scores)
            rows = np.repeat(np.arange(s, s + idx.size), valid.sum(axis=1))
            out_u.append(rows)
            out_i.append(top[valid])
            out_s.append(top_scores[valid])
            out_r.append(np.broadcast_to(np.arange(1, kk + 1), top.shape)[valid])
        rows = np.concatenate(out_u)
        return Recommendations(
            user=users[rows],
            item=self._item_index.ids[np.concatenate(out_i)],
            score=np.concatenate(out_s),
            rank=np.concatenate(out_r).astype(np.int64),
            cold=u[rows] < 0,
        )

    # -- fold-in -------------------------------------------------------------------

    def fold_in(self, user, items, ratings):
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
        items = _as_id_vector(items, "items")
        ratings = _as_ratings(ratings)
        if items.size != ratings.size:
            raise ValueError(
                "The 'items' and 'ratings' parameters must have the same length. "
                f"Got {items.size} and {ratings.size} instead."
            )
        _check_hashable_id(user, "user")
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
        i, r, _ = _dedupe(
            i[known],
            ratings[known],
            self._opts["duplicates"],
            lambda key, count: f"item {_py(ids[key])!r} rated {count} times by user {user!r}",
        )
        target = r - self.global_mean_ - self.item_bias_[i]
        b, a = _ridge_rows(
            np.zeros(i.size, dtype=np.int64),
            i,
            target,
            1,
            self.item_factors_,
            self._prior.user_cov,
            self._prior.noise * self.shrinkage_,
            self._opts["user_bias_reg"],
        )
        idx = self._user_index.lookup(_object_array([user]))[0]
        if idx < 0:
            idx = self._user_index.add(user)
            self.user_bias_ = np.append(self.user_bias_, 0.0)
            self.user_factors_ = np.vstack([self.user_factors_, np.zeros((1, a.shape[1]))])
        self.user_bias_[idx] = b[0]
        self.user_factors_[idx] = a[0]
        self._seen.set(idx, np.unique(i))
        return self

    # -- files ---------------------------------------------------------------------

    def save(self, path):
        """Write the fitted model to ``path``, in a file that runs no code when loaded.

        A zip of ``.npy`` arrays and JSON, checksummed and written atomically
        (see :mod:`dmc.persistence`). Users folded in so far are kept; the ids
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
        from ..io.persistence import save

        return save(self, path)

    @classmethod
    def load(cls, path):
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
        from ..io.persistence import load

        return load(path, cls)

    # -- views ---------------------------------------------------------------------

    @property
    def users_(self) -> np.ndarray:
        self._check_fitted()
        return self._user_index.ids

    @property
    def items_(self) -> np.ndarray:
        self._check_fitted()
        return self._item_index.ids

    def _check_fitted(self):
        if not hasattr(self, "user_factors_"):
            # NotFittedError is a ValueError and an AttributeError
            raise NotFittedError(
                "This RatingsModel is not fitted yet. Call 'fit' with ratings first."
            )

    def __repr__(self) -> str:
        params = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("method", "rank", "shrinkage", "duplicates", "cold_start")
        )
        return f"RatingsModel({params})"


# -- input handling -------------------------------------------------------------------


def _triplets(users, items, ratings):
    if items is None and ratings is None:
        table = users
        columns = _columns_of(table)
        if columns is None:
            raise TypeError(
                "The 'users' parameter must be a table (DataFrame or mapping) with columns "
                "'user', 'item' and 'rating' when 'items' and 'ratings' are not given. "
                f"Got {type(table).__name__} instead."
            )
        missing = [c for c in ("user", "item", "rating") if c not in columns]
        if missing:
            raise ValueError(
                "The 'users' parameter, given as a table, must have columns 'user', 'item' "
                f"and 'rating'. Got columns {list(columns)} instead (missing {missing}); "
                "rename them or pass three arrays."
            )
        users, items, ratings = table["user"], table["item"], table["rating"]
    elif items is None or ratings is None:
        raise TypeError(
            "The 'items' and 'ratings' parameters must be given together (or neither, with "
            f"a table as 'users'). Got items={'None' if items is None else 'an array'} and "
            f"ratings={'None' if ratings is None else 'an array'}."
        )
    users = _as_id_vector(users, "users")
    items = _as_id_vector(items, "items")
    ratings = _as_ratings(ratings)
    if not (users.size == items.size == ratings.size):
        raise ValueError(
            "The 'users', 'items' and 'ratings' parameters must have the same length. "
            f"Got {users.size}, {items.size} and {ratings.size} instead."
        )
    if ratings.size == 0:
        raise ValueError("The 'ratings' parameter must hold at least one rating. Got none.")
    return users, items, ratings


def _columns_of(table):
    if isinstance(table, Mapping):
        return list(table.keys())
    columns = getattr(table, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def _as_id_vector(values, name) -> np.ndarray:
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):  # pandas
        values = values.to_numpy()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"The {name!r} parameter must be a 1-D array-like of ids. "
            f"Got {type(values).__name__} instead."
        )
    arr = np.asarray(values) if isinstance(values, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(values)
        except ValueError:  # ragged
            arr = None
        if arr is None or arr.ndim != 1:  # e.g. tuples as ids: keep each element whole
            arr = _object_array(list(values))
        elif arr.dtype.kind in "US" and not all(isinstance(v, (str, bytes)) for v in values):
            arr = _object_array(list(values))  # numpy would turn 1 into "1"
    if arr.ndim != 1:
        raise ValueError(f"The {name!r} parameter must be 1-D. Got shape {arr.shape} instead.")
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        raise ValueError(
            f"The {name!r} parameter must not contain missing ids (NaN or inf). "
            f"Got {arr[~np.isfinite(arr)][0]} instead."
        )
    if arr.dtype.kind == "c":
        raise TypeError(f"The {name!r} parameter must hold ids, not complex numbers.")
    if arr.dtype == object:
        for value in arr:
            _check_hashable_id(value, name)
    return arr


def _py(value):
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _object_array(values) -> np.ndarray:
    """A 1-D object array of ``values`` (tuples stay elements, not rows)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _check_hashable_id(value, name):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(
            f"The {name!r} parameter must not contain missing ids (None or NaN). "
            f"Got {value!r} instead."
        )
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"The {name!r} parameter must hold hashable ids. Got {type(value).__name__} "
            f"{value!r} instead."
        ) from None


def _as_ratings(values) -> np.ndarray:
    arr = as_real_array(values, "ratings", expected="be a 1-D array of real numbers")
    if arr.ndim != 1:
        raise ValueError(f"The 'ratings' parameter must be 1-D. Got shape {arr.shape} instead.")
    if not np.isfinite(arr).all():
        t = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(
            "The 'ratings' parameter must hold finite numbers. "
            f"Got {arr[t]} at position {t} instead."
        )
    return arr


def _rating_range(rating_range, r):
    if rating_range is None:
        return float(r.min()), float(r.max())
    ok = (
        isinstance(rating_range, (tuple, list))
        and len(rating_range) == 2
        and all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in rating_range)
    )
    if not ok or not (np.isfinite(rating_range).all() and rating_range[0] < rating_range[1]):
        raise ValueError(
            "The 'rating_range' parameter must be None or a pair (low, high) of finite "
            f"numbers with low < high. Got {rating_range!r} instead."
        )
    return float(rating_range[0]), float(rating_range[1])


class _IdIndex:
    """Ids of any hashable type ↔ contiguous indices 0..n-1.

    Ids that numpy can sort (ints, strings, ...) are kept sorted and looked up by
    binary search when the query has a compatible dtype; other ids (mixed types,
    tuples) in order of first appearance, looked up through a dict. Ids match
    by equality: 5 and "5" are different ids.
    """

    def __init__(self, ids: np.ndarray, sorted_: bool):
        self.ids = ids
        self._sorted = sorted_
        self._dict = None

    @classmethod
    def build(cls, values: np.ndarray, name: str):
        if values.dtype != object:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        try:
            ids, codes = np.unique(values, return_inverse=True)
            return cls(ids, True), codes.ravel().astype(np.int64)
        except TypeError:  # not mutually comparable: first appearance order
            mapping = {}
            codes = np.fromiter(
                (mapping.setdefault(v, len(mapping)) for v in values.tolist()),
                dtype=np.int64,
                count=values.size,
            )
            ids = np.empty(len(mapping), dtype=object)
            ids[:] = list(mapping)
            index = cls(ids, False)
            index._dict = mapping
            return index, codes

    def __len__(self) -> int:
        return self.ids.size

    def lookup(self, values: np.ndarray) -> np.ndarray:
        """Index of each value, -1 where unknown."""
        if (
            self._sorted
            and values.dtype != object
            and self.ids.dtype != object
            and np.can_cast(values.dtype, self.ids.dtype, "safe")
        ):
            q = values.astype(self.ids.dtype, copy=False)
            pos = np.searchsorted(self.ids, q)
            pos = np.minimum(pos, self.ids.size - 1)
            return np.where(self.ids[pos] == q, pos, -1).astype(np.int64)
        if self._dict is None:
            self._dict = {v: t for t, v in enumerate(self.ids.tolist())}
        get = self._dict.get
        return np.fromiter((get(v, -1) for v in values.tolist()), dtype=np.int64, count=values.size)

    def add(self, value) -> int:
        if self._dict is None:
            self._dict = {v: t for t, v in enumerate(self.ids.tolist())}
        idx = len(self._dict)
        self._dict[value] = idx
        try:
            grown = np.append(self.ids, np.asarray([value], dtype=self.ids.dtype))
            if grown[-1] != value:  # truncated string, overflow, ...
                raise ValueError
        except (ValueError, TypeError, OverflowError):
            grown = np.append(self.ids.astype(object), _object_array([value]))
        self.ids = grown
        self._sorted = False
        return idx


def _merge_duplicates(u, i, r, user_index, item_index, policy):
    """Apply the ``duplicates`` policy to (user, item) pairs; returns (u, i, r, n_merged)."""
    n_items = len(item_index)

    def describe(key, count):
        uu, ii = divmod(int(key), n_items)
        user, item = _py(user_index.ids[uu]), _py(item_index.ids[ii])
        return f"user {user!r} and item {item!r} rated {count} times"

    keys, values, n_dup = _dedupe(u * n_items + i, r, policy, describe)
    return keys // n_items, keys % n_items, values, n_dup


def _dedupe(key, r, policy, describe):
    """Merge ratings sharing a key by ``policy``; returns (sorted keys, values, n_merged)."""
    uniq, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    n_dup = int(r.size - uniq.size)
    if n_dup == 0:
        return uniq, r[first], 0
    if policy == "raise":
        t = int(np.flatnonzero(counts > 1)[0])
        raise ValueError(
            "The ratings must rate each (user, item) pair once, or the 'duplicates' "
            "parameter must say how to merge repeats ('mean', 'first' or 'last'). "
            f"Got {n_dup} repeated rating(s), e.g. {describe(uniq[t], int(counts[t]))}, "
            "with duplicates='raise'."
        )
    inverse = inverse.ravel()
    if policy == "mean":
        values = np.bincount(inverse, weights=r) / counts
    elif policy == "first":
        values = r[first]
    else:  # last
        last = np.zeros(uniq.size, dtype=np.int64)
        np.maximum.at(last, inverse, np.arange(r.size))
        values = r[last]
    logger.info("merged %d repeated ratings (duplicates=%r)", n_dup, policy)
    return uniq, values, n_dup


# -- the numerical steps ---------------------------------------------------------------


def _fit_biases(u, i, centred, m, n, reg_u, reg_i, sweeps=10):
    """Alternating ridge fits of user and item biases to centred ratings."""
    count_u = np.bincount(u, minlength=m)
    count_i = np.bincount(i, minlength=n)
    bu = np.zeros(m)
    bi = np.zeros(n)
    for _ in range(sweeps):
        bi = np.bincount(i, centred - bu[u], minlength=n) / (reg_i + count_i + 1e-12)
        bu = np.bincount(u, centred - bi[i], minlength=m) / (reg_u + count_u + 1e-12)
    return bu, bi


def _at_most(factors, k):
    """``(A, B)`` with at most ``k`` columns: the top-k singular part of ``A Bᵀ`` if wider.

    The wide network's factors have ``d = max(m, n)`` columns; the shrinkage step
    needs ``O(k²)`` per rating, so they are truncated to the ``2 r̂`` leading
    singular directions (what the compressed network keeps by construction).
    """
    A, B = (np.asarray(f, dtype=np.float64) for f in factors)
    if A.shape[1] <= k:
        return A, B
    Qa, Ra = np.linalg.qr(A)
    Qb, Rb = np.linalg.qr(B)
    Us, s, Vts = np.linalg.svd(Ra @ Rb.T, full_matrices=False)
    k = min(k, s.size)
    root = np.sqrt(s[:k])
    logger.info("deep factors truncated from %d to %d columns", A.shape[1], k)
    return Qa @ (Us[:, :k] * root), Qb @ (Vts[:k].T * root)


class _Prior(NamedTuple):
    user_cov: np.ndarray
    item_cov: np.ndarray
    noise: float


def _active_cov(F, idx, size):
    """Second moment of the rows of F that the fit saw (rows with observations)."""
    active = np.bincount(idx, minlength=size) > 0
    rows = F[active]
    return rows.T @ rows / max(rows.shape[0], 1)


class _State(NamedTuple):
    user_bias: np.ndarray
    item_bias: np.ndarray
    A: np.ndarray
    B: np.ndarray

    def predict(self, u, i, mu):
        return (
            mu + self.user_bias[u] + self.item_bias[i] + np.einsum("ij,ij->i", self.A[u], self.B[i])
        )


def _shrink(u, i, r, mu, bi, A, B, prior, alpha, opts) -> _State:
    """Users, then items, then users: ridge re-solves of (bias, latent vector).

    ``bi`` are the item biases of step 1, the starting point of the first sweep.
    """
    m, n = A.shape[0], B.shape[0]
    ridge = prior.noise * alpha
    bu, A = _ridge_rows(u, i, r - mu - bi[i], m, B, prior.user_cov, ridge, opts["user_bias_reg"])
    bi, B = _ridge_rows(i, u, r - mu - bu[u], n, A, prior.item_cov, ridge, opts["item_bias_reg"])
    bu, A = _ridge_rows(u, i, r - mu - bi[i], m, B, prior.user_cov, ridge, opts["user_bias_reg"])
    return _State(bu, bi, A, B)


def _ridge_rows(rows, cols, target, n_rows, F, cov, ridge, bias_reg):
    """Per row ``t``: ``(b_t, a_t)`` minimising

    ``Σ_{(t, j)} (target − b_t − F_j · a_t)² + bias_reg b_t² + ridge · a_tᵀ cov⁻¹ a_t``.

    The prior covariance is handled in its eigenbasis (``a = T z`` with
    ``T = E diag(√s)``), so directions it does not support get no weight.
    Solved in blocks of rows with batched ``(k + 1) x (k + 1)`` systems.
    """
    k = F.shape[1]
    s, E = np.linalg.eigh(cov)
    keep = s > 1e-10 * max(float(s.max()), 1e-300)
    T = E[:, keep] * np.sqrt(s[keep])
    X = np.hstack([np.ones((F.shape[0], 1)), F @ T])
    K = X.shape[1]
    D = np.full(K, ridge)
    D[0] = bias_reg
    D += 1e-12  # rows with a single rating and no penalty stay solvable

    order = np.argsort(rows, kind="stable")
    rows_s, cols_s, y_s = rows[order], cols[order], target[order]
    counts = np.bincount(rows_s, minlength=n_rows)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    Z = np.zeros((n_rows, K))
    active = np.flatnonzero(counts)
    start = 0
    while start < active.size:
        # block of active rows holding at most _MAX_BLOCK ratings (at least one row)
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
    b = Z[:, 0]
    a = Z[:, 1:] @ T.T if k else np.zeros((n_rows, 0))
    return b, a


class _Seen:
    """Items each user rated (CSR), for ``exclude_seen``; fold-in can replace a row."""

    def __init__(self, ptr, items, overrides):
        self.ptr, self.items, self.overrides = ptr, items, overrides

    @classmethod
    def build(cls, u, i, m):
        order = np.lexsort((i, u))
        ptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=m))])
        return cls(ptr, i[order], {})

    def items_of(self, user: int) -> np.ndarray:
        if user in self.overrides:
            return self.overrides[user]
        if user + 1 >= self.ptr.size:
            return np.zeros(0, dtype=np.int64)
        return self.items[self.ptr[user] : self.ptr[user + 1]]

    def set(self, user: int, items: np.ndarray):
        self.overrides[user] = items
