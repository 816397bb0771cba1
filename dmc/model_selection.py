"""Model selection for matrix completion: score on held-out observed entries.

Cross-validation for completion hides some of the *observed* entries, fills
them in, and compares. :func:`mask_observed` does the hiding,
:func:`make_heldout_scorer` turns it into a scorer for scikit-learn's
``GridSearchCV`` / ``cross_val_score``, and :func:`search_rank` runs the usual
search over the rank.

The scorer works with any transformer that fills NaN entries (a
:class:`~dmc.estimator.DeepMatrixCompletion`, scikit-learn's ``KNNImputer``,
a ``Pipeline`` ending in one), so that different imputers can be compared on
the same held-out entries.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ._validation import as_real_array, check_float, check_int, check_random_state

__all__ = [
    "heldout_entries_scorer",
    "make_heldout_scorer",
    "mask_observed",
    "make_rank_selector",
    "search_rank",
]

#: seed of the held-out entries chosen by the default scorer and by
#: ``DeepMatrixCompletion.score``: fixed, so that every candidate of a search
#: is scored on the same entries
DEFAULT_SCORING_SEED = 0


def mask_observed(X, fraction=0.2, *, random_state=None):
    """Hide a random fraction of the observed entries of ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense data with NaN for missing entries (a DataFrame is converted).
    fraction : float in (0, 1), default 0.2
        Fraction of the observed entries to hide.
    random_state : int, numpy Generator or None
        Seeds the choice of entries.

    Returns
    -------
    X_train : ndarray of shape (n_samples, n_features)
        A copy of ``X`` (float32 stays float32, anything else becomes float64)
        with the held-out entries set to NaN.
    held_out : ndarray of bool, shape (n_samples, n_features)
        True at the hidden entries; ``X[held_out]`` are their true values.

    Notes
    -----
    One observed entry of every row is never hidden (drawn at random), so
    that every row keeps something to fold in from; the number hidden is
    ``round(fraction * n_observed)``, or fewer if the rows cannot spare that
    many. Costs O(n_samples n_features).

    Examples
    --------
    >>> import numpy as np
    >>> from dmc.model_selection import mask_observed
    >>> X = np.arange(12.0).reshape(3, 4)
    >>> X_train, held_out = mask_observed(X, 0.25, random_state=0)
    >>> int(held_out.sum()), int(np.isnan(X_train).sum())
    (3, 3)
    >>> bool(np.all(np.isnan(X_train[held_out])))
    True
    """
    X = _dense_float(X, "X")
    fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    if fraction >= 1.0:
        raise ValueError(f"The 'fraction' parameter must be in (0, 1). Got {fraction!r} instead.")
    rng = check_random_state(random_state)
    observed = ~np.isnan(X)
    rows, cols = np.nonzero(observed)
    n_observed = rows.size
    # protect one random observed entry per row: the first of each row in a
    # random order of the observed entries
    order = rng.permutation(n_observed)
    _, first = np.unique(rows[order], return_index=True)
    protected = np.zeros(n_observed, dtype=bool)
    protected[order[first]] = True
    candidates = np.flatnonzero(~protected)
    n_hidden = min(int(round(fraction * n_observed)), candidates.size)
    chosen = rng.choice(candidates, size=n_hidden, replace=False)
    held_out = np.zeros(X.shape, dtype=bool)
    held_out[rows[chosen], cols[chosen]] = True
    X_train = X.copy()
    X_train[held_out] = np.nan
    return X_train, held_out


def make_heldout_scorer(fraction=0.2, *, random_state=DEFAULT_SCORING_SEED):
    """A scorer that hides observed entries, fills them in and returns minus their RMSE.

    ``scorer(estimator, X, y=None)`` hides ``fraction`` of the observed
    entries of ``X`` with :func:`mask_observed`, calls
    ``estimator.transform`` on the result, and returns
    ``-rmse(X[held_out], X_filled[held_out])`` (greater is better, as
    scikit-learn expects). Pass it as ``scoring=`` to ``GridSearchCV`` or
    ``cross_val_score``.

    Parameters
    ----------
    fraction : float in (0, 1), default 0.2
        Fraction of the observed entries of each test fold to hide.
    random_state : int, default 0
        Seeds the held-out entries. Keep it an int: every candidate of a
        search is then scored on the same entries.

    Returns
    -------
    callable

    Notes
    -----
    With ``GridSearchCV`` the folds are sets of rows: the estimator is fitted
    on the training rows, and each test row is filled from its own visible
    entries (for :class:`~dmc.estimator.DeepMatrixCompletion`, by fold-in
    against the fitted column factors). The score therefore measures how well
    the learned column space generalises to new rows, which is what the rank
    controls.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from dmc.model_selection import make_heldout_scorer
    >>> X = np.array([[1.0, 2.0, 5.0], [1.0, 2.0, 5.0], [1.0, np.nan, 5.0]])
    >>> scorer = make_heldout_scorer(0.25)
    >>> float(scorer(SimpleImputer().fit(X), X))  # column means are exact here
    -0.0
    """
    fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "The 'random_state' parameter of make_heldout_scorer must be an int (the same "
            f"held-out entries for every candidate). Got {random_state!r} instead."
        )

    def heldout_entries_scorer(estimator, X, y=None):
        return _heldout_score(estimator.transform, X, fraction, random_state)

    heldout_entries_scorer.fraction = fraction
    heldout_entries_scorer.random_state = random_state
    return heldout_entries_scorer


#: the default scorer: 20% of the observed entries of each test fold, seed 0
heldout_entries_scorer = make_heldout_scorer()


def make_rank_selector(rtol=0.1, n_se=1.0):
    """A ``GridSearchCV`` ``refit`` rule: the smallest rank that scores nearly as well as the best.

    ``GridSearchCV(..., refit=make_rank_selector())`` chooses, among the
    candidates whose mean test score is within a margin of the best one, the
    candidate of smallest ``rank`` (the better mean breaking ties). The
    margin is the larger of ``rtol`` times the best score's magnitude and
    ``n_se`` standard errors (``std_test_score / sqrt(n_splits)``) of the
    best candidate. ``best_estimator_`` and ``best_params_`` follow the
    choice; ``best_score_`` is not set (scikit-learn's rule for callables).

    Parameters
    ----------
    rtol : float, default 0.1
        Relative margin: with the held-out scorer, a larger rank must lower
        the held-out RMSE by more than this fraction to be preferred.
    n_se : float, default 1.0
        Margin in standard errors of the best candidate (the "one standard
        error rule").

    Returns
    -------
    callable
        ``select(cv_results) -> int``, the index of the chosen candidate.

    Notes
    -----
    Why not the best score: a deep factorization's implicit bias towards low
    rank makes a model of rank 10 fitted to rank-5 data nearly the same model
    as the rank-5 one, so the two score alike to many digits and the best raw
    score picks either. The margin sends such ties to the simpler model.
    See Hastie, Tibshirani and Friedman, The Elements of Statistical
    Learning (2009), section 7.10, for the one-standard-error rule.

    Examples
    --------
    >>> from dmc.model_selection import make_rank_selector
    >>> results = {
    ...     "params": [{"rank": 2}, {"rank": 5}, {"rank": 10}],
    ...     "mean_test_score": [-0.8, -1.0e-6, -0.95e-6],
    ...     "std_test_score": [0.1, 2e-8, 2e-8],
    ... }
    >>> make_rank_selector()(results)
    1
    """
    rtol = check_float(rtol, "rtol", low=0.0)
    n_se = check_float(n_se, "n_se", low=0.0)

    def select_rank(cv_results):
        params = cv_results["params"]
        if not params or any("rank" not in p for p in params):
            raise ValueError(
                "The 'cv_results' parameter must come from a search over 'rank': every "
                f"candidate needs a 'rank'. Got candidates {params!r} instead."
            )
        mean = np.asarray(cv_results["mean_test_score"], dtype=np.float64)
        std = np.asarray(cv_results["std_test_score"], dtype=np.float64)
        n_splits = sum(
            1 for key in cv_results if key.startswith("split") and key.endswith("_test_score")
        )
        finite = np.isfinite(mean)
        if not finite.any():
            raise ValueError("Every candidate of the search failed: no finite mean test score.")
        best = int(np.argmax(np.where(finite, mean, -np.inf)))
        margin = max(rtol * abs(mean[best]), n_se * std[best] / np.sqrt(max(n_splits, 1)))
        eligible = np.flatnonzero(finite & (mean >= mean[best] - margin))
        return int(min(eligible, key=lambda i: (params[i]["rank"], -mean[i])))

    return select_rank


def search_rank(
    X,
    ranks=(2, 5, 10, 20),
    *,
    cv=5,
    fraction=0.2,
    rtol=0.1,
    random_state=None,
    n_jobs=None,
    estimator=None,
    **params,
):
    """Choose the rank of a :class:`~dmc.estimator.DeepMatrixCompletion` by cross-validation.

    A ``GridSearchCV`` over ``rank`` with shuffled row folds and the
    held-out-entries scorer (:func:`make_heldout_scorer`), choosing the
    smallest rank that scores nearly as well as the best
    (:func:`make_rank_selector`), refitted on all of ``X``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Dense data with NaN for missing entries.
    ranks : sequence of int, default (2, 5, 10, 20)
        Candidate ranks.
    cv : int or cross-validation splitter, default 5
        An int gives ``KFold(cv, shuffle=True)`` seeded by ``random_state``.
    fraction : float, default 0.2
        Fraction of the observed entries of each test fold to hide.
    rtol : float, default 0.1
        A larger rank is chosen only if it lowers the held-out RMSE by more
        than this fraction (see :func:`make_rank_selector`).
    random_state : int or None
        Seeds the folds, and the estimator unless ``params`` has its own.
    n_jobs : int or None
        Passed to ``GridSearchCV``.
    estimator : DeepMatrixCompletion or None
        The estimator to tune; default ``DeepMatrixCompletion(**params)``.
    **params
        Further parameters of ``DeepMatrixCompletion`` (``max_iter``, ...).

    Returns
    -------
    sklearn.model_selection.GridSearchCV
        Fitted: ``best_params_["rank"]`` is the chosen rank, ``best_estimator_``
        the refitted estimator, ``cv_results_`` every score.

    Notes
    -----
    Costs ``len(ranks) * cv + 1`` fits. Each test row is filled from its own
    visible entries by fold-in, so the score measures how well the column
    space learned from the training rows generalises to new rows.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import dmc
    >>> from dmc.model_selection import search_rank
    >>> M = dmc.low_rank_matrix((60, 90), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.6, M, np.nan)
    >>> with warnings.catch_warnings():  # short runs: some stop at max_iter
    ...     warnings.simplefilter("ignore", dmc.ConvergenceWarning)
    ...     search = search_rank(X, ranks=(1, 2, 4), cv=3, random_state=0, max_iter=100)
    >>> search.best_params_
    {'rank': 2}
    """
    from sklearn.model_selection import GridSearchCV, KFold

    from .estimator import DeepMatrixCompletion

    if isinstance(ranks, (str, bytes)) or not hasattr(ranks, "__iter__"):
        raise TypeError(f"The 'ranks' parameter must be a sequence of ints. Got {ranks!r} instead.")
    ranks = [check_int(r, "ranks", low=1) for r in ranks]
    if not ranks:
        raise ValueError("The 'ranks' parameter must hold at least one rank. Got none.")
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = check_int(cv, "cv", low=2)

    if estimator is None:
        params.setdefault("random_state", random_state)
        estimator = DeepMatrixCompletion(**params)
    elif params:
        estimator = estimator.set_params(**params)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if random_state is None or isinstance(random_state, numbers.Integral):
            seed = random_state
        else:
            seed = int(check_random_state(random_state).integers(2**31 - 1))
        cv = KFold(int(cv), shuffle=True, random_state=seed)
    search = GridSearchCV(
        estimator,
        {"rank": list(ranks)},
        scoring=make_heldout_scorer(fraction),
        cv=cv,
        n_jobs=n_jobs,
        refit=make_rank_selector(rtol),
    )
    return search.fit(X)


# -- helpers ------------------------------------------------------------------


def _heldout_score(transform, X, fraction, random_state) -> float:
    """``-RMSE`` of ``transform`` on a random ``fraction`` of the observed entries of ``X``."""
    X = _dense_float(X, "X")
    X_train, held_out = mask_observed(X, fraction, random_state=random_state)
    if not held_out.any():
        raise ValueError(
            "The 'X' parameter has no observed entry that can be held out for scoring: "
            "every row keeps one observed entry, and no row has two. Got "
            f"{int((~np.isnan(X)).sum())} observed entries in {X.shape[0]} rows."
        )
    filled = np.asarray(transform(X_train), dtype=np.float64)
    diff = filled[held_out] - X[held_out].astype(np.float64)
    return -float(np.sqrt(np.mean(diff**2)))


def _dense_float(X, name: str) -> np.ndarray:
    if sp.issparse(X):
        raise TypeError(
            f"The {name!r} parameter must be a dense array with NaN for missing entries. "
            "Got a scipy.sparse matrix: its unstored entries would be ambiguous (zero or "
            "missing). Use X.toarray() after setting the missing entries to NaN."
        )
    if not (isinstance(X, np.ndarray) and X.dtype == np.float32):
        X = as_real_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"The {name!r} parameter must be a 2-D array. Got shape {X.shape} instead."
        )
    if X.size == 0:
        raise ValueError(
            f"The {name!r} parameter must have at least one row and one column. "
            f"Got shape {X.shape} instead."
        )
    if np.isinf(X).any():
        i, j = np.argwhere(np.isinf(X))[0]
        raise ValueError(
            f"The {name!r} parameter must hold finite values, with NaN for missing entries. "
            f"Got {X[i, j]} at row {i}, column {j} instead."
        )
    return X
