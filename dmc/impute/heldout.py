"""Held-out entries: hide some observed entries of a dense matrix and score on them.

The lowest layer of :mod:`dmc.impute`: the estimator's ``score`` and the
scorers of :mod:`dmc.impute.model_selection` both use it.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_dense_matrix, check_float, check_random_state
from ..core.metrics import root_mean_square

__all__ = ["DEFAULT_SCORING_SEED", "heldout_score", "mask_observed"]

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
    >>> from dmc.impute.model_selection import mask_observed
    >>> X = np.arange(12.0).reshape(3, 4)
    >>> X_train, held_out = mask_observed(X, 0.25, random_state=0)
    >>> int(held_out.sum()), int(np.isnan(X_train).sum())
    (3, 3)
    >>> bool(np.all(np.isnan(X_train[held_out])))
    True
    """
    X = as_dense_matrix(X, "X")
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


def heldout_score(transform, X, fraction, random_state) -> float:
    """``-RMSE`` of ``transform`` on a random ``fraction`` of the observed entries of ``X``."""
    X = as_dense_matrix(X, "X")
    X_train, held_out = mask_observed(X, fraction, random_state=random_state)
    if not held_out.any():
        raise ValueError(
            "The 'X' parameter has no observed entry that can be held out for scoring: "
            "every row keeps one observed entry, and no row has two. Got "
            f"{int((~np.isnan(X)).sum())} observed entries in {X.shape[0]} rows."
        )
    filled = np.asarray(transform(X_train), dtype=np.float64)
    # the arithmetic of dmc.core.metrics.rmse (no overflow in the squares of data near
    # 1e300), without its check that the values are finite: a transformer that leaves
    # NaN or overflows gets a NaN or -inf score
    diff = filled[held_out] - X[held_out].astype(np.float64)
    return -root_mean_square(diff)
