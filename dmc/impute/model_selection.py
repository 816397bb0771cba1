"""Model selection for matrix completion: score on held-out observed entries.

Cross-validation for completion hides some of the *observed* entries, fills
them in, and compares. :func:`mask_observed` does the hiding,
:func:`make_heldout_scorer` turns it into a scorer for scikit-learn's
``GridSearchCV`` / ``cross_val_score``, and :func:`search_rank` runs the usual
search over the rank.

The scorer works with any transformer that fills NaN entries (a
:class:`~dmc.impute.estimator.DeepMatrixCompletion`, scikit-learn's ``KNNImputer``,
a ``Pipeline`` ending in one), so that different imputers can be compared on
the same held-out entries.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_float, check_int, check_random_state
from .estimator import DeepMatrixCompletion
from .heldout import DEFAULT_SCORING_SEED, heldout_score, mask_observed

__all__ = [
    "heldout_entries_scorer",
    "make_heldout_scorer",
    "mask_observed",
    "make_rank_selector",
    "search_rank",
]


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
    entries (for :class:`~dmc.impute.estimator.DeepMatrixCompletion`, by fold-in
    against the fitted column factors). The score therefore measures how well
    the learned column space generalises to new rows, which is what the rank
    controls.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from dmc.impute.model_selection import make_heldout_scorer
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
        return heldout_score(estimator.transform, X, fraction, random_state)

    heldout_entries_scorer.fraction = fraction
    heldout_entries_scorer.random_state = random_state
    return heldout_entries_scorer


#: the default scorer: 20% of the observed entries of each test fold, seed 0
heldout_entries_scorer = make_heldout_scorer()


def make_rank_selector(rtol=0.01, n_se=1.0):
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
    rtol : float, default 0.01
        Relative margin: with the held-out scorer, a larger rank must lower
        the held-out RMSE by more than this fraction to be preferred. (It was
        0.1, which on digits with 30% missing chose rank 5 where rank 20 scored
        best, and on a decaying spectrum the smallest rank tried.)
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
    >>> from dmc.impute.model_selection import make_rank_selector
    >>> results = {
    ...     "params": [{"rank": 2}, {"rank": 5}, {"rank": 10}],
    ...     "mean_test_score": [-0.8, -1.0e-6, -0.99e-6],
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
    rtol=0.01,
    random_state=None,
    n_jobs=None,
    estimator=None,
    **params,
):
    """Choose the rank of a :class:`~dmc.impute.estimator.DeepMatrixCompletion` by cross-validation.

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
    rtol : float, default 0.01
        A larger rank is chosen only if it lowers the held-out RMSE by more
        than this fraction, and by more than a standard error (see
        :func:`make_rank_selector`).
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
    >>> from dmc.impute.model_selection import search_rank
    >>> M = dmc.low_rank_matrix((60, 90), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.6, M, np.nan)
    >>> with warnings.catch_warnings():  # short runs: some stop at max_iter
    ...     warnings.simplefilter("ignore", dmc.ConvergenceWarning)
    ...     search = search_rank(X, ranks=(1, 2, 4), cv=3, random_state=0, max_iter=100)
    >>> search.best_params_
    {'rank': 2}
    """
    from sklearn.model_selection import GridSearchCV, KFold

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
