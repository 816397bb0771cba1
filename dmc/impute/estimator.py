"""The scikit-learn estimator: deep matrix completion as an imputing transformer.

``DeepMatrixCompletion`` is a thin front door: it validates, calls
:func:`dmc.complete` on the training matrix, keeps the fitted column space as
numpy arrays, and fills new rows by *fold-in* against it. Nothing of torch
survives ``fit``, so a fitted estimator pickles, clones and transforms on any
machine.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from .._validation import all_or_nothing, check_float
from ..core.complete import DEGENERATE_WARNING, complete
from ..io import load, save, storable
from . import filling, state
from .heldout import DEFAULT_SCORING_SEED, heldout_score
from .params import (
    auto_rank,
    check_bounds,
    check_flag,
    check_missing_values,
    check_rank,
    check_standardize,
    check_verbose,
    is_auto,
    is_nan_marker,
    name_estimator,
    named,
)
from .scaling import fit_scaled
from .spectral import MAX_COMPONENTS, check_refine_rounds, refine_fit

__all__ = ["DeepMatrixCompletion"]

logger = logging.getLogger(__name__)


@storable("DeepMatrixCompletion")
class DeepMatrixCompletion(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Impute missing entries with a deep (compressed) low-rank factorization.

    ``fit`` completes the training matrix with :func:`dmc.complete` and keeps
    its column space; ``transform`` fills the missing entries of any rows,
    seen or unseen, by folding each row into that column space. Observed
    entries come back unchanged, bit for bit.

    Parameters
    ----------
    rank : int or "auto", default "auto"
        Rank estimate r̂, at least 1; r̂ at or above the true rank is fine (early
        stopping picks how many of the r̂ components the fit keeps). "auto":
        10, or a quarter of ``min(n_samples, n_features)`` of the training rows
        when that is more, at most 50 (:func:`dmc.impute.params.auto_rank`). A
        rank above
        ``min(n_samples, n_features)`` is lowered to it, with a warning (see
        ``rank_``). For the original and narrow networks it bounds only the
        plateau move.
    depth : int, default 3
        Number of factors L, in [2, 100] (of cores, for the compressed network).
    method : {"compressed", "original", "narrow", "burer-monteiro"}, default "compressed"
        The factorization (see :data:`dmc.METHODS` and :func:`dmc.complete`).
    init_scale : float or None, default None
        ε of the ε-scaled orthogonal initialisation, per factor; None: 1e-3 up
        to depth 3, 10^(−9/L) deeper (see :func:`dmc.complete`).
    step_size : "auto" or float, default "auto"
        "auto": backtracking step search; a number: fixed-step gradient descent.
    gamma : float or None, default None
        Step ratio of the compressed network's outer factors (None: the
        default of :func:`dmc.complete` for the step rule).
    max_iter : int, default 1000
        Iteration budget; reaching it issues a ``ConvergenceWarning``.
    tol : float, default 1e-8
        Stop when the relative training residual ``‖P_Ω(W − X)‖ / ‖P_Ω(X)‖``
        reaches ``tol``. For noisy data use a ``tol`` near the relative noise
        level, or ``n_iter_no_change``.
    n_iter_no_change : int or None, default None
        Also stop when the loss stops improving over this many iterations
        (for noisy data, which never reaches ``tol``).
    escape_plateaus : bool or None, default None
        Leave plateaus of the training loss by bringing the residual's top
        direction into the model (see :func:`dmc.complete`); None: on with
        ``step_size="auto"`` and no ``weight_decay``.
    weight_decay : float, default 0.0
        λ of a ``(λ/2) Σ ‖θ‖²`` penalty on the trained parameters.
    standardize : bool or "auto", default "auto"
        True: centre each column on its observed mean and scale it to unit
        variance before the fit (and undo it on output): columns in different
        units weigh alike. The observed means differ from the true ones by a
        rank-one error, so the fit takes ``rank + 1`` components (an exactly
        low-rank matrix of rank ``rank`` is still recovered to ``tol``).
        "auto": fit both ways on the same held-out entries and keep the raw fit
        when it predicts them clearly better (by 1%) in units of each column's
        standard deviation (``standardize_``; twice the time, and ``callback``
        sees both fits). Without early stopping, or with a fixed
        ``fold_in_alpha``, "auto" standardizes.
    early_stopping : bool, default True
        Noise-aware stopping that needs no noise level (see
        :func:`dmc.complete`): ``validation_fraction`` of the observed entries
        are held out, every 10 iterations the training rows are folded in from
        the other entries and scored on them, training stops after ``patience``
        iterations without a better score, and the best parameters are kept
        (``best_iteration_``). Data with fewer than ``1 / validation_fraction``
        observed entries trains without it. An exactly low-rank matrix still
        stops at ``tol``.
    validation_fraction : float in (0, 0.5], default 0.1
        Share of the observed entries held out by ``early_stopping``.
    patience : int, default 200
        Iterations without a better held-out score before training stops.
    fold_in_alpha : "auto" or float, default "auto"
        Ridge penalty of the fold-in, relative to the squared largest
        singular value of the fitted matrix (see Notes); positive. "auto":
        the value of :data:`dmc.impute.validation.ALPHA_GRID` with the best
        held-out score under ``early_stopping`` (1e-6 without it); the value
        used is ``fold_in_alpha_``.
    refine_rounds : int, default 3
        After the fit, up to this many rounds of: complete the training matrix
        by fold-in, soft-threshold its singular values and fold in on them, the
        threshold and ridge chosen on the held-out entries of ``early_stopping``;
        a round is kept only if it predicts them better (``refine_rounds_``; see
        :mod:`dmc.impute.spectral`). 0, no early stopping or a fixed
        ``fold_in_alpha``: the fit's own components.
    missing_values : float, default np.nan
        The placeholder of a missing entry, as in scikit-learn's imputers: NaN,
        or a number such as -1 or 0 (every entry equal to it is missing);
        ``pandas.NA`` reads as NaN. With a number, NaN in ``X`` is refused (a
        ``ValueError``), as scikit-learn refuses it.
    add_indicator : bool, default False
        Append scikit-learn's :class:`~sklearn.impute.MissingIndicator` columns
        to the output of ``transform``: one 0/1 column per feature that had a
        missing entry in ``fit`` (``indicator_``), as scikit-learn's imputers do.
    keep_empty_features : bool, default False
        A feature with no observed entry in ``fit`` is left out of the training
        and, by default, dropped from the output of ``transform`` (as
        ``SimpleImputer`` drops it); True keeps it, filled with 0 (scikit-learn's
        value) within ``min_value`` and ``max_value``.
    min_value, max_value : float or array-like of shape (n_features,), default -inf, inf
        Bounds of the filled-in values (never of the observed ones), one number
        for every feature or one per feature, as in scikit-learn's
        ``IterativeImputer``; ``min_value < max_value`` for every feature.
    clip : (float or None, float or None) or None, default None
        Deprecated (a ``FutureWarning``): bounds ``(low, high)`` of the filled-in
        values, None on either side leaving it open. Use ``min_value`` and
        ``max_value``, which also bound each feature on its own; giving both is
        an error.
    dtype : "float64", "float32" or None, default "float64"
        Precision of the training. None follows the input (float32 input
        trains in float32). Whatever it is, the output of ``transform`` has
        the dtype of its input: float32 stays float32, everything else
        becomes float64.
    device : "cpu", "cuda" or "auto", default "cpu"
        Where training runs; the fitted attributes are numpy arrays.
    random_state : int, numpy Generator, RandomState or None, default None
        Seeds the initialisation; an int makes ``fit`` reproducible.
    verbose : int or bool, default 0
        0 (or False): silent; 1 (or True): a tqdm progress bar during training;
        2 or more: also one line per stage of ``fit`` and ``transform`` on
        standard error (the lines logged at INFO and DEBUG by
        ``logging.getLogger("dmc.impute.estimator")`` whatever ``verbose``).
    callback : callable or None, default None
        ``callback(iteration, state)`` after each training iteration; return
        True to stop.

    Attributes
    ----------
    standardize_ : bool
        Whether the columns were standardized (the choice of ``standardize="auto"``).
    rank_ : int
        The rank used: ``min(rank, n_samples, n_features)`` of the training rows,
        or what ``rank="auto"`` selected.
    components_ : ndarray of shape (n_components_, n_features_in_)
        Column side of the fitted matrix, ``S Vᵀ`` from its thin SVD
        ``U S Vᵀ`` (computed from ``CompletionResult.factors()``); the fitted
        training rows are ``U @ components_``. Components below
        ``√eps · s_max`` of the training dtype are dropped. After a kept
        ``refine_rounds`` round: the thresholded ``S Vᵀ`` of the completed matrix.
    singular_values_ : ndarray of shape (n_components_,)
        Singular values of the fitted matrix (or the refined ones), largest first.
    n_components_ : int
        Number of kept components (at most the factorization's width, or
        ``max(100, 2 rank_)`` refined).
    completed_ : ndarray of shape (n_samples, n_features_in_)
        The training matrix completed by the trained model (by the refined fold-in
        after a kept ``refine_rounds`` round; observed entries
        kept), every feature included; rows without observed entries hold
        ``column_means_``, features without observed entries 0 (within the
        bounds).
    column_means_ : ndarray of shape (n_features_in_,)
        Column means of ``completed_`` over the rows that had observed
        entries: the fill for rows with no observed entry.
    indicator_ : sklearn.impute.MissingIndicator or None
        The indicator whose columns ``transform`` appends (``add_indicator``).
    n_iter_ : int
        Training iterations.
    best_iteration_ : int or None
        The iteration whose parameters were kept (``early_stopping``), else None.
    fold_in_alpha_ : float
        The fold-in's ridge penalty used by ``transform``.
    refine_rounds_ : int
        The rounds of ``refine_rounds`` kept (0: the fit's own components).
    converged_ : bool
        Whether training stopped by a rule other than ``max_iter``.
    stop_reason_ : str
        Why training stopped (see :class:`dmc.CompletionResult`).
    history_ : dict of ndarray
        Per-iteration ``iteration``, ``loss``, ``residual``, ``step_size``, ``time``.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    dmc.complete : the function behind ``fit``; also takes sparse observations.
    dmc.impute.model_selection.search_rank : choose ``rank`` by cross-validation.

    Notes
    -----
    **Fold-in.** With ``components_ = C`` (k x n), each row ``x`` of ``X`` with
    observed columns ``J`` gets the latent vector
    ``a = argmin ‖x_J − C_Jᵀ a‖² + λ‖a‖²`` with
    ``λ = fold_in_alpha · s_max²``, and its missing entries become
    ``C_missingᵀ a``. Every row is treated alike, training rows included, so
    ``fit_transform(X)`` equals ``fit(X).transform(X)``; on training rows the
    result matches ``completed_`` to about the training tolerance when the row
    has at least ``rank_`` observed entries. A row with no observed entry is
    filled with ``column_means_``, with a warning. The cost is
    ``O(n_features k²)`` per row with missing entries; fully observed rows
    cost nothing. ``fit`` costs what :func:`dmc.complete` costs:
    ``O(|Ω| r̂ + (n_samples + n_features) r̂²)`` per iteration for the
    compressed network.

    **Sparse input is refused.** scikit-learn reads the unstored entries of a
    ``scipy.sparse`` matrix as zeros, dmc as missing; to avoid the ambiguity
    the estimator takes dense data with NaN for missing entries and raises a
    ``TypeError`` for sparse input. Complete a sparse matrix of observations
    with ``dmc.complete(X, rank=...)`` (``dmc.Observations.from_sparse``).

    **Empty rows and columns.** Nothing is dropped silently. Training rows
    and columns with no observed entry are left out of the training, with a
    warning. An empty training row is filled with ``column_means_``. An empty
    training column is dropped from the output of every ``transform``, as
    scikit-learn's imputers drop it; with ``keep_empty_features=True`` it is
    kept and filled with 0, within the bounds (its entry of ``column_means_``;
    nothing is known about it). A fully
    observed training matrix is fine (nothing to fill; ``fit`` learns the
    column space for new rows). A failed ``fit`` leaves a fitted estimator as
    it was. docs/input-validation.md lists every refused input.

    ``score(X)`` hides 20% of the observed entries of ``X`` (a fixed seed, so
    every candidate of a search sees the same ones), fills them by fold-in
    and returns minus their RMSE: ``GridSearchCV`` over ``rank`` works
    without a ``scoring`` argument (see :mod:`dmc.impute.model_selection`).

    References
    ----------
    S. Arora, N. Cohen, W. Hu, Y. Luo. Implicit regularization in deep matrix
    factorization. NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> import dmc
    >>> from dmc.impute.estimator import DeepMatrixCompletion
    >>> M = dmc.low_rank_matrix((120, 40), 2, random_state=0).to_dense()
    >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.6, M, np.nan)
    >>> imputer = DeepMatrixCompletion(rank=2, random_state=0).fit(X[:110])
    >>> X_new = imputer.transform(X[110:])  # 10 rows not seen in fit
    >>> observed = ~np.isnan(X[110:])
    >>> bool(np.array_equal(X_new[observed], X[110:][observed]))
    True
    >>> bool(np.linalg.norm(X_new - M[110:]) / np.linalg.norm(M[110:]) < 1e-4)
    True
    """

    def __init__(
        self,
        rank: int | str = "auto",
        *,
        depth: int = 3,
        method: str = "compressed",
        init_scale: float | None = None,
        step_size: float | str = "auto",
        gamma: float | None = None,
        max_iter: int = 1000,
        tol: float = 1e-8,
        n_iter_no_change: int | None = None,
        escape_plateaus: bool | None = None,
        weight_decay: float = 0.0,
        standardize: bool | str = "auto",
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 200,
        fold_in_alpha: float | str = "auto",
        refine_rounds: int = 3,
        missing_values: float = np.nan,
        add_indicator: bool = False,
        keep_empty_features: bool = False,
        min_value: ArrayLike = -np.inf,
        max_value: ArrayLike = np.inf,
        clip: tuple[float | None, float | None] | None = None,
        dtype: str | None = "float64",
        device: str = "cpu",
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        verbose: int | bool = 0,
        callback: Callable[[int, Any], bool | None] | None = None,
    ) -> None:
        self.rank = rank
        self.depth = depth
        self.method = method
        self.init_scale = init_scale
        self.step_size = step_size
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.escape_plateaus = escape_plateaus
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.fold_in_alpha = fold_in_alpha
        self.refine_rounds = refine_rounds
        self.missing_values = missing_values
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.min_value = min_value
        self.max_value = max_value
        self.clip = clip
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    # -- scikit-learn protocol ----------------------------------------------------

    def fit(self, X: ArrayLike, y: None = None) -> DeepMatrixCompletion:
        """Complete ``X`` and keep its column space for fold-in.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense data with NaN (or ``missing_values``) for missing entries
            (ndarray or DataFrame); ``inf`` and sparse matrices are refused.
        y : None
            Ignored.

        Returns
        -------
        self : DeepMatrixCompletion
        """
        with all_or_nothing(self):
            return self._fit(X)

    def _fit(self, X):
        missing_values = check_missing_values(self.missing_values)
        X = filling.validate_input(self, X, reset=True)
        rank = check_rank(self.rank)
        if isinstance(self.fold_in_alpha, str) and not is_auto(self.fold_in_alpha):
            raise TypeError(
                "The 'fold_in_alpha' parameter of DeepMatrixCompletion must be 'auto' or a "
                f"positive float. Got {self.fold_in_alpha!r} instead."
            )
        if not is_auto(self.fold_in_alpha):
            named(check_float, self.fold_in_alpha, "fold_in_alpha", low=0.0, low_open=True)
        check_standardize(self.standardize)
        refine_rounds = check_refine_rounds(self.refine_rounds)
        for name in ("early_stopping", "add_indicator", "keep_empty_features"):
            check_flag(getattr(self, name), name)
        verbosity = check_verbose(self.verbose)
        m, n = X.shape
        self._min_value, self._max_value = check_bounds(
            self.min_value, self.max_value, self.clip, n
        )
        X = filling.as_nan(X, missing_values)

        observed = ~np.isnan(X)
        if not observed.any():
            raise ValueError(
                f"The 'X' parameter must have at least one observed (not missing) entry. Got "
                f"an array of shape {X.shape} with none."
            )
        keep_rows, keep_cols = filling.warn_empty(observed, self.keep_empty_features)
        self._is_empty_feature = ~keep_cols
        empty_cols = np.flatnonzero(~keep_cols)
        n_empty = int(m - keep_rows.sum())
        X_fit = X[keep_rows] if n_empty else X
        X_fit = X_fit[:, keep_cols] if empty_cols.size else X_fit
        # one memory order for every input type: the column statistics sum alike
        X_fit = np.ascontiguousarray(X_fit)
        self.rank_ = auto_rank(X_fit.shape) if rank == "auto" else min(rank, *X_fit.shape)
        if rank != "auto" and self.rank_ < rank:
            warnings.warn(
                f"The 'rank' parameter of DeepMatrixCompletion ({rank}) exceeds "
                f"min(n_samples, n_features) = {self.rank_} of the training rows; using "
                f"rank {self.rank_}.",
                UserWarning,
                stacklevel=3,
            )

        self._report(
            verbosity,
            logging.INFO,
            "DeepMatrixCompletion: training on %d x %d (%d observed; %d empty row(s) and %d "
            "empty column(s) left out) at rank %d",
            *X_fit.shape,
            int((~np.isnan(X_fit)).sum()),
            n_empty,
            empty_cols.size,
            self.rank_,
        )

        def train(obs, standardized, early, score):
            with warnings.catch_warnings():
                # a fully observed training matrix is normal use here (see Notes)
                warnings.filterwarnings("ignore", DEGENERATE_WARNING, UserWarning)
                return self._complete(obs, X.dtype, early, score, verbosity, standardized)

        # the columns centred and scaled to unit variance, or not, or the better of both
        chosen = fit_scaled(self, X_fit, train)
        self.standardize_ = chosen.standardized
        self._shift, self._scale = np.zeros(n), np.ones(n)
        self._shift[keep_cols], self._scale[keep_cols] = chosen.shift, chosen.scale
        result = chosen.result
        self.best_iteration_ = result.best_iteration
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.stop_reason_ = result.stop_reason
        self.history_ = {key: np.asarray(values) for key, values in result.history.items()}

        # the fit's components, refined on the completed matrix (dmc/impute/spectral.py)
        refined = refine_fit(X_fit, chosen, refine_rounds, max(MAX_COMPONENTS, 2 * self.rank_))
        self.refine_rounds_, self.singular_values_ = refined.rounds, refined.singular_values
        # an empty training column gets no component: transform fills it with its mean
        self.components_ = np.zeros((refined.singular_values.size, n))
        self.components_[:, keep_cols] = refined.components
        self.n_components_ = int(refined.singular_values.size)
        # the fold-in's ridge α s_max², as α in units of s_max² (s_max² overflows above 1e154)
        if not is_auto(self.fold_in_alpha):
            self.fold_in_alpha_ = float(self.fold_in_alpha)
        else:  # the α of the best held-out score (refined), or the smallest of the grid
            self.fold_in_alpha_ = refined.alpha
        self._penalty, self._penalty_unit = self.fold_in_alpha_, refined.unit

        W = result.to_dense() if refined.completed is None else refined.completed
        W = W.astype(np.float64, copy=False) * self._scale[keep_cols] + self._shift[keep_cols]
        completed = np.empty((m, n), dtype=np.float64)
        bounds = (self._min_value, self._max_value)
        completed[np.ix_(keep_rows, keep_cols)] = filling.clipped(
            W, *(bound[keep_cols] for bound in bounds)
        )
        # nothing is known of an empty column: scikit-learn's 0 (keep_empty_features)
        completed[:, ~keep_cols] = filling.clipped(
            np.zeros(n)[~keep_cols], *(bound[~keep_cols] for bound in bounds)
        )
        completed[keep_rows] = np.where(observed[keep_rows], X[keep_rows], completed[keep_rows])
        self.column_means_ = completed[keep_rows].mean(axis=0)
        completed[~keep_rows] = filling.clipped(self.column_means_, *bounds)
        self.completed_ = completed.astype(X.dtype, copy=False)
        # scikit-learn's indicator, fitted on the missing entries as _BaseImputer fits it
        self.indicator_ = filling.fit_indicator(~observed, self.missing_values, self.add_indicator)
        self._report(
            verbosity,
            logging.INFO,
            "DeepMatrixCompletion: fitted %d x %d (%d observed) at rank %d in %d iterations "
            "(%s); %d components kept, fold_in_alpha_ = %g",
            m,
            n,
            int(observed.sum()),
            self.rank_,
            self.n_iter_,
            self.stop_reason_,
            self.n_components_,
            self.fold_in_alpha_,
        )
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Fill the missing entries of ``X`` by fold-in; observed entries are returned unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Dense data with NaN (or ``missing_values``) for missing entries; any
            rows, seen or not.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features_out)
            float32 for float32 input, float64 otherwise. The features of
            ``X`` without those that had no observed entry in ``fit`` (unless
            ``keep_empty_features``), then the 0/1 columns of ``indicator_``
            (``add_indicator``); :meth:`get_feature_names_out` names them.
        """
        check_is_fitted(self)
        X = filling.validate_input(self, X, reset=False)
        missing_values = check_missing_values(self.missing_values)
        X_nan = filling.as_nan(X, missing_values)
        keep = self.keep_empty_features
        # files of dmc before issue 15 hold neither: every feature kept, no indicator
        dropped = None if keep else getattr(self, "_is_empty_feature", None)
        indicator = getattr(self, "indicator_", None)
        return filling.output(self._fill(X_nan), np.isnan(X_nan), dropped, indicator)

    def _fill(self, X):
        """Every feature of the validated ``X`` (NaN for missing), its missing entries filled."""
        out = filling.fill(X, self)
        self._report(
            check_verbose(self.verbose),
            logging.DEBUG,
            "DeepMatrixCompletion: filled %d row(s) with missing entries, of %d",
            int(np.isnan(X).any(axis=1).sum()),
            X.shape[0],
        )
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the columns of :meth:`transform`'s output.

        The input features (``feature_names_in_``, or ``x0``, ``x1``, ...)
        without those dropped as empty, then ``missingindicator_<name>`` for
        each feature of ``indicator_``, as scikit-learn's imputers name them.

        Parameters
        ----------
        input_features : array-like of str or None, default None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "n_features_in_")
        names = super().get_feature_names_out(input_features)  # checked against fit's
        dropped = None if self.keep_empty_features else getattr(self, "_is_empty_feature", None)
        return filling.output_names(names, dropped, getattr(self, "indicator_", None))

    def score(self, X: ArrayLike, y: None = None) -> float:
        """Minus the RMSE of the fold-in on 20% of the observed entries of ``X``.

        The entries are hidden with :func:`dmc.impute.model_selection.mask_observed`
        at a fixed seed (every row keeps at least one observed entry), the
        rows filled by :meth:`transform`, and the hidden values compared.
        Greater is better, as ``GridSearchCV`` expects.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Dense data with NaN (or ``missing_values``) for missing entries.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = filling.validate_input(self, X, reset=False)
        X = filling.as_nan(X, check_missing_values(self.missing_values))
        return heldout_score(self._fill, X, 0.2, DEFAULT_SCORING_SEED)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted estimator to ``path``, in a file that runs no code when loaded.

        A zip of ``.npy`` arrays and JSON, checksummed and written atomically
        (see :mod:`dmc.io.persistence`). Every parameter is kept except
        ``callback`` and a ``random_state`` that is a numpy Generator or
        RandomState: both are stored as None.

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
        >>> import dmc
        >>> M = dmc.low_rank_matrix((30, 20), 2, random_state=0).to_dense()
        >>> X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
        >>> imputer = dmc.DeepMatrixCompletion(rank=2, random_state=0).fit(X)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = imputer.save(os.path.join(folder, "imputer.dmc"))
        ...     restored = dmc.DeepMatrixCompletion.load(path)
        >>> bool(np.array_equal(restored.transform(X), imputer.transform(X)))
        True
        """
        return save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DeepMatrixCompletion:
        """Read an estimator written by :meth:`save`; it comes back on the CPU.

        A file of another kind (a ``RatingsModel``), a truncated or damaged
        file raises :class:`dmc.FileFormatError`; nothing in the file is
        executed. ``transform`` needs no GPU, so an estimator fitted with
        ``device="cuda"`` loads and transforms on a CPU-only machine (``device``
        keeps its value; refit there with ``set_params(device="cpu")``).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        DeepMatrixCompletion
            See :meth:`save` for an example.
        """
        return load(path, cls)

    def _get_state(self) -> dict:
        """What a file keeps (see :mod:`dmc.io` and :func:`dmc.impute.state.get_state`)."""
        return state.get_state(self)

    def _set_state(self, saved: dict) -> None:
        """Restore what :meth:`_get_state` returned (:func:`dmc.impute.state.set_state`)."""
        state.set_state(self, saved)

    def _check_loaded(self) -> None:
        """Check the parameters as ``fit`` does (:func:`dmc.impute.state.check_loaded`)."""
        state.check_loaded(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # as scikit-learn's _BaseImputer: NaN is allowed when it is the missing value
        missing = self.missing_values
        tags.input_tags.allow_nan = is_nan_marker(missing)
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        allow_nan = is_nan_marker(self.missing_values)
        return {"allow_nan": allow_nan, "preserves_dtype": [np.float64, np.float32]}

    # -- helpers ----------------------------------------------------------------------

    def _complete(self, obs, input_dtype, early_stopping, score, verbosity, standardized):
        params = self.get_params()
        try:
            return complete(
                obs,
                # centring on observed means leaves a rank-one error of those means
                # in an exactly low-rank matrix: one more component takes it
                rank=min(self.rank_ + 1, *obs.shape) if standardized else self.rank_,
                depth=self.depth,
                method=self.method,
                init_scale=self.init_scale,
                gamma=self.gamma,
                step_size=self.step_size,
                weight_decay=self.weight_decay,
                max_iter=self.max_iter,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                escape_plateaus=self.escape_plateaus,
                early_stopping=bool(early_stopping),
                validation_fraction=self.validation_fraction,
                patience=self.patience,
                scoring=score,
                dtype=input_dtype.name if self.dtype is None else self.dtype,
                device=self.device,
                random_state=self.random_state,
                callback=self.callback,
                verbose=verbosity >= 1,
            )
        except (TypeError, ValueError) as exc:
            name_estimator(exc, params)
            raise

    def _report(self, verbosity: int, level: int, message: str, *args: Any) -> None:
        """Log ``message``; with ``verbose >= 2`` also write it to standard error (through
        tqdm, which keeps a progress bar intact)."""
        logger.log(level, message, *args)
        if verbosity >= 2:
            tqdm.write(message % args, file=sys.stderr)
