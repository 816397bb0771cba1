"""Measuring recommenders: rating errors, top-k quality, and data splits.

Rating errors (:func:`rmse`, :func:`mse`, :func:`mae`) compare predicted with
true ratings; :func:`fcp` (Surprise's fraction of concordant pairs) compares
their order, user by user.
Top-k measures (:func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`)
compare, user by user, a ranked list of items with the items that are relevant
to that user; :func:`rank_heldout` builds both from held-out ratings.
:func:`kfold_split` and :func:`user_holdout_split` return index arrays into the
ratings, reproducible through ``random_state``.

Everything here is numpy in, numpy out, and knows nothing about the models.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Hashable, Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice, check_float, check_int, check_random_state
from ..core.metrics import _as_float_vector, _check_pair, mae, rmse

__all__ = [
    "fcp",
    "kfold_split",
    "mae",
    "mse",
    "ndcg_at_k",
    "precision_at_k",
    "rank_heldout",
    "recall_at_k",
    "rmse",
    "user_holdout_split",
]

#: one ranked list of item ids per user, best first (a 2-D array: one row per user)
RankedLists = Sequence[Sequence[Hashable]] | Sequence[np.ndarray] | np.ndarray
#: per user, the relevant item ids, or a mapping item -> gain
Relevance = Sequence[Collection[Hashable] | Mapping[Hashable, float]]


# -- rating errors ---------------------------------------------------------------


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error ``mean((y_true - y_pred)²)`` (Surprise's ``accuracy.mse``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True and predicted ratings, finite, of the same length (n ≥ 1).

    Returns
    -------
    float

    Examples
    --------
    >>> from dmc.recommend.evaluation import mse
    >>> mse([4.0, 3.0, 5.0], [4.0, 2.0, 4.0])
    0.6666666666666666
    """
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean((a - b) ** 2))


def fcp(users: ArrayLike, y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of concordant pairs, as Surprise's ``accuracy.fcp`` computes it.

    For each user ``u``, over the ordered pairs ``(a, b)`` of that user's
    ratings, ``nc_u`` counts those with ``pred_a > pred_b`` and ``true_a > true_b``
    (concordant) and ``nd_u`` those with ``pred_a ≥ pred_b`` and ``true_a <
    true_b`` (discordant). ``FCP = nc / (nc + nd)``, where ``nc`` is the mean of
    ``nc_u`` over the users with at least one concordant pair and ``nd`` the mean
    of ``nd_u`` over those with at least one discordant pair (Surprise's
    averages; Koren and Sill, "Collaborative filtering on ordinal user
    feedback", IJCAI 2013, section 5.2, sum over all users instead).

    Parameters
    ----------
    users : array-like of shape (n,)
        The user of each rating (any ids numpy can compare for equality).
    y_true, y_pred : array-like of shape (n,)
        True and predicted ratings.

    Returns
    -------
    float
        In [0, 1]; 1 when every user's predictions order their ratings.

    Notes
    -----
    ``O(Σ_u n_u²)`` for ``n_u`` ratings of user ``u``.

    Examples
    --------
    >>> from dmc.recommend.evaluation import fcp
    >>> fcp(["a", "a", "a", "b", "b"], [5, 3, 1, 4, 2], [4.5, 3.2, 3.9, 3.0, 2.0])
    0.6
    """
    a, b = _check_pair(y_true, y_pred)
    users = np.asarray(users)
    if users.ndim != 1 or users.size != a.size:
        raise ValueError(
            f"The 'users' parameter must be 1-D with the length of 'y_true' ({a.size}). "
            f"Got shape {users.shape} instead."
        )
    _, codes = np.unique(users, return_inverse=True)
    codes = codes.ravel()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    concordant, discordant = [], []
    for group in np.split(order, bounds):
        t, p = a[group], b[group]
        higher = t[:, None] > t[None, :]
        nc = int(np.count_nonzero((p[:, None] > p[None, :]) & higher))
        nd = int(np.count_nonzero((p[:, None] >= p[None, :]) & higher.T))
        if nc:
            concordant.append(nc)
        if nd:
            discordant.append(nd)
    nc = float(np.mean(concordant)) if concordant else 0.0
    nd = float(np.mean(discordant)) if discordant else 0.0
    if nc + nd == 0:
        raise ValueError(
            "The 'users' parameter must give some user two ratings that differ: the fraction "
            "of concordant pairs is undefined. Got no pair of different ratings of one user."
        )
    return nc / (nc + nd)


# -- top-k quality ---------------------------------------------------------------


def precision_at_k(recommended: RankedLists, relevant: Relevance, k: int = 10) -> float:
    """Mean over users of (relevant items among the first ``k`` recommended) / ``k``.

    Parameters
    ----------
    recommended : sequence of sequences, or 2-D array
        One ranked list of item ids per user, best first. Lists shorter than
        ``k`` are allowed (the missing places count as misses).
    relevant : sequence of collections or of mappings
        One entry per user, aligned with ``recommended``: the relevant item ids
        (a set, list or array), or a mapping ``{item: gain}`` whose items with
        a positive gain are relevant.
    k : int, default 10
        Cut-off, ≥ 1.

    Returns
    -------
    float
        The mean over the users that have at least one relevant item; users
        without any are left out (their recall and NDCG are undefined, and
        precision follows the same rule so that the three are averaged over the
        same users).

    Examples
    --------
    >>> from dmc.recommend.evaluation import precision_at_k
    >>> precision_at_k([["a", "b", "c"], ["x", "y"]], [{"a", "c"}, {"z"}], k=2)
    0.25
    """
    k = check_int(k, "k", low=1)
    scores = [len(_hits(rec, rel, k)) / k for rec, rel in _users(recommended, relevant)]
    return _mean(scores)


def recall_at_k(recommended: RankedLists, relevant: Relevance, k: int = 10) -> float:
    """Mean over users of (relevant items among the first ``k``) / (relevant items).

    Parameters are those of :func:`precision_at_k`.

    Returns
    -------
    float
        The mean over the users that have at least one relevant item.

    Examples
    --------
    >>> from dmc.recommend.evaluation import recall_at_k
    >>> recall_at_k([["a", "b", "c"], ["x", "y"]], [{"a", "c"}, {"z"}], k=2)
    0.25
    """
    k = check_int(k, "k", low=1)
    scores = [len(_hits(rec, rel, k)) / len(rel) for rec, rel in _users(recommended, relevant)]
    return _mean(scores)


def ndcg_at_k(
    recommended: RankedLists, relevant: Relevance, k: int = 10, *, gain: str = "linear"
) -> float:
    """Mean over users of the normalised discounted cumulative gain of the first ``k``.

    ``DCG@k = Σ_{p=1..k} g(rel_p) / log2(p + 1)`` over the recommended list and
    ``NDCG@k = DCG@k / IDCG@k``, IDCG being the DCG of the ``k`` largest gains
    of the user's relevant items in decreasing order.

    Parameters
    ----------
    recommended : sequence of sequences, or 2-D array
        One ranked list of item ids per user, best first.
    relevant : sequence of collections or of mappings
        Per user: the relevant item ids (each of gain 1), or ``{item: gain}``
        with non-negative gains (e.g. the held-out ratings); items with gain 0
        count as not relevant.
    k : int, default 10
    gain : {"linear", "exponential"}, default "linear"
        ``g(r) = r`` (as scikit-learn's ``ndcg_score``), or ``g(r) = 2^r − 1``.

    Returns
    -------
    float
        The mean over the users that have at least one item of positive gain.

    Notes
    -----
    Cost ``O(Σ_u (k + |relevant_u| log |relevant_u|))``.

    Examples
    --------
    >>> from dmc.recommend.evaluation import ndcg_at_k
    >>> ndcg_at_k([["a", "b"]], [{"a"}], k=2)
    1.0
    >>> round(ndcg_at_k([["b", "a"]], [{"a"}], k=2), 4)
    0.6309
    >>> round(ndcg_at_k([["b", "a"]], [{"a": 5.0, "b": 3.0}], k=2), 4)
    0.8929
    """
    k = check_int(k, "k", low=1)
    gain = check_choice(gain, "gain", ("linear", "exponential"))
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for rec, rel in _users(recommended, relevant):
        top = _top(rec, k)
        g = np.array([rel.get(item, 0.0) for item in top], dtype=np.float64)
        ideal = np.sort(np.fromiter(rel.values(), dtype=np.float64))[::-1][:k]
        if gain == "exponential":
            g, ideal = np.exp2(g) - 1.0, np.exp2(ideal) - 1.0
        idcg = float(ideal @ discounts[: ideal.size])
        scores.append(float(g @ discounts[: g.size]) / idcg)
    return _mean(scores)


def rank_heldout(
    users: ArrayLike, items: ArrayLike, y_true: ArrayLike, y_score: ArrayLike
) -> tuple[list[np.ndarray], list[dict[Hashable, float]]]:
    """Per user, the held-out items ranked by predicted score, and their true ratings.

    The "rank the held-out items" protocol: for every user in the test set,
    the recommended list is that user's test items sorted by ``y_score``
    (ties broken by input order) and the relevance is ``{item: true rating}``,
    ready for :func:`ndcg_at_k`. For precision and recall, keep the items above
    a threshold: ``[{i for i, r in rel.items() if r >= 4} for rel in relevance]``.

    Parameters
    ----------
    users, items : array-like of shape (n,)
        The held-out (user, item) pairs.
    y_true, y_score : array-like of shape (n,)
        True ratings and predicted scores.

    Returns
    -------
    recommended : list of ndarray
        One ranked item array per distinct user (users in order of first appearance).
    relevance : list of dict
        ``{item: true rating}`` per user, aligned with ``recommended``.

    Examples
    --------
    >>> from dmc.recommend.evaluation import ndcg_at_k, rank_heldout
    >>> rec, rel = rank_heldout([1, 1, 2], ["a", "b", "a"], [5, 1, 3], [4.2, 4.5, 3.0])
    >>> [r.tolist() for r in rec]
    [['b', 'a'], ['a']]
    >>> rel[0]
    {'b': 1.0, 'a': 5.0}
    """
    users = np.asarray(users)
    items = np.asarray(items)
    y_true = _as_float_vector(y_true, "y_true")
    y_score = _as_float_vector(y_score, "y_score")
    n = y_true.size
    for name, arr in (("users", users), ("items", items), ("y_score", y_score)):
        if arr.ndim != 1 or arr.size != n:
            raise ValueError(
                f"The {name!r} parameter must be 1-D with the length of 'y_true' ({n}). "
                f"Got shape {arr.shape} instead."
            )
    _, first, codes = np.unique(users, return_index=True, return_inverse=True)
    codes = codes.ravel()
    rank_of_code = np.argsort(np.argsort(first))  # users in order of first appearance
    codes = rank_of_code[codes]
    order = np.lexsort((np.arange(n), -y_score, codes))
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    recommended, relevance = [], []
    for group in np.split(order, bounds):
        recommended.append(items[group])
        relevance.append(dict(zip(items[group].tolist(), y_true[group].tolist())))
    return recommended, relevance


def _users(recommended, relevant):
    """Pairs (ranked list, relevance mapping) for users with something relevant."""
    if isinstance(recommended, np.ndarray) and recommended.ndim != 2:
        raise ValueError(
            "The 'recommended' parameter must be a 2-D array or a sequence of ranked "
            f"lists. Got an array of shape {recommended.shape} instead."
        )
    try:
        n_rec, n_rel = len(recommended), len(relevant)
    except TypeError:
        raise TypeError(
            "The 'recommended' and 'relevant' parameters must be sequences with one entry "
            f"per user. Got {type(recommended).__name__} and {type(relevant).__name__} instead."
        ) from None
    if n_rec != n_rel:
        raise ValueError(
            "The 'recommended' and 'relevant' parameters must have one entry per user each. "
            f"Got {n_rec} and {n_rel} entries instead."
        )
    for rec, rel in zip(recommended, relevant):
        gains = _as_gains(rel)
        if gains:
            yield rec, gains


def _as_gains(rel) -> dict:
    if isinstance(rel, Mapping):
        gains = {}
        for item, g in rel.items():
            if not isinstance(g, numbers.Real) or isinstance(g, bool) or not math.isfinite(g):
                raise TypeError(
                    "The 'relevant' parameter's gains must be finite real numbers. "
                    f"Got {g!r} for item {item!r} instead."
                )
            if g < 0:
                raise ValueError(
                    f"The 'relevant' parameter's gains must be ≥ 0. Got {g!r} for item {item!r}."
                )
            # typeshed's numbers.Real lacks __gt__ (Python falls back to Real.__lt__)
            if g > 0:  # type: ignore[operator]
                gains[item] = float(g)
        return gains
    if isinstance(rel, (str, bytes)) or not hasattr(rel, "__iter__"):
        raise TypeError(
            "The 'relevant' parameter must hold, per user, a collection of item ids or a "
            f"mapping item -> gain. Got {type(rel).__name__} instead."
        )
    items = rel.tolist() if isinstance(rel, np.ndarray) else rel
    return dict.fromkeys(items, 1.0)


def _top(rec, k):
    top = rec[:k]
    return top.tolist() if isinstance(top, np.ndarray) else list(top)


def _hits(rec, rel, k):
    return [item for item in dict.fromkeys(_top(rec, k)) if item in rel]


def _mean(scores) -> float:
    if not scores:
        raise ValueError(
            "The 'relevant' parameter holds no relevant item for any user: the measure is "
            "undefined. Got only empty collections (or zero gains)."
        )
    return float(np.mean(scores))


# -- splits ----------------------------------------------------------------------


def kfold_split(
    n_ratings: int, n_splits: int = 5, *, random_state: int | np.random.Generator | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-fold cross-validation over ratings: shuffle, cut into ``n_splits`` folds.

    Each rating is in exactly one test fold. The folds are random over ratings
    (as Surprise's ``KFold``), so a test fold may hold users or items that its
    training part lacks; a model's cold-start policy then applies.

    Parameters
    ----------
    n_ratings : int
        Number of ratings (≥ ``n_splits``).
    n_splits : int, default 5
        Number of folds, ≥ 2.
    random_state : int, numpy Generator or None
        Seeds the shuffle.

    Yields
    ------
    train, test : ndarray of int64
        Sorted indices into the ratings.

    Examples
    --------
    >>> from dmc.recommend.evaluation import kfold_split
    >>> [(len(tr), len(te)) for tr, te in kfold_split(10, 3, random_state=0)]
    [(6, 4), (7, 3), (7, 3)]
    """
    n_ratings = check_int(n_ratings, "n_ratings", low=1)
    n_splits = check_int(n_splits, "n_splits", low=2, high=max(n_ratings, 2))
    rng = check_random_state(random_state)
    perm = rng.permutation(n_ratings)
    folds = np.array_split(perm, n_splits)
    for f in range(n_splits):
        test = np.sort(folds[f])
        train = np.sort(np.concatenate([folds[g] for g in range(n_splits) if g != f]))
        yield train, test


def user_holdout_split(
    users: ArrayLike,
    *,
    test_fraction: float = 0.2,
    min_train: int = 1,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a fraction of each user's ratings, keeping at least ``min_train``.

    User ``u`` with ``n_u`` ratings puts ``min(round(test_fraction · n_u),
    n_u − min_train)`` of them (never fewer than 0), chosen at random, in the test
    set. Every test user therefore also has training ratings: the split for
    measuring top-k lists without cold-start users.

    Parameters
    ----------
    users : array-like of shape (n,)
        The user id of each rating (any hashable ids numpy can sort).
    test_fraction : float in (0, 1), default 0.2
    min_train : int, default 1
        Ratings each user keeps in the training set, ≥ 1.
    random_state : int, numpy Generator or None

    Returns
    -------
    train, test : ndarray of int64
        Sorted indices into the ratings.

    Examples
    --------
    >>> from dmc.recommend.evaluation import user_holdout_split
    >>> users = ["a"] * 10 + ["b"] * 2
    >>> train, test = user_holdout_split(users, test_fraction=0.3, random_state=0)
    >>> len(train), len(test)
    (8, 4)
    """
    users = np.asarray(users)
    if users.ndim != 1 or users.size == 0:
        raise ValueError(
            f"The 'users' parameter must be a non-empty 1-D array. Got shape {users.shape} instead."
        )
    test_fraction = check_float(test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True)
    if test_fraction == 1.0:
        raise ValueError(
            "The 'test_fraction' parameter must be a finite real number in (0, 1). Got 1.0 instead."
        )
    min_train = check_int(min_train, "min_train", low=1)
    rng = check_random_state(random_state)
    _, codes, counts = np.unique(users, return_inverse=True, return_counts=True)
    codes = codes.ravel()
    n_test = np.minimum(np.rint(test_fraction * counts).astype(np.int64), counts - min_train)
    n_test = np.maximum(n_test, 0)
    # random order inside each user: shuffle, then stable-sort by user
    perm = rng.permutation(users.size)
    order = perm[np.argsort(codes[perm], kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(users.size) - starts[codes[order]]
    is_test = position < n_test[codes[order]]
    return np.sort(order[~is_test]), np.sort(order[is_test])
