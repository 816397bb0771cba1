"""The scikit-learn estimator: deep matrix completion as an imputing transformer.

``DeepMatrixCompletion`` is a thin front door: it validates, calls
:func:`dmc.complete` on the training matrix, keeps the fitted column space as
numpy arrays, and fills new rows by *fold-in* against it. Nothing of torch
survives ``fit``, so a fitted estimator pickles, clones and transforms on any
machine.
"""

from __future__ import annotations

import inspect
import logging
import math
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from .._validation import (
    MAX_DEPTH,
    all_or_nothing,
    as_plain_input,
    check_choice,
    check_float,
    check_int,
)
from ..core.complete import DEGENERATE_WARNING, METHODS, complete
from ..core.linalg import column_space, ridge_fold_in
from ..core.observations import Observations
from ..io import load, save, storable
from .heldout import DEFAULT_SCORING_SEED, heldout_score
from .params import check_clip, check_dense_X, is_auto, name_estimator, named
from .validation import ALPHA_GRID, FoldInScore

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

__all__ = ["DeepMatrixCompletion"]

logger = logging.getLogger(__name__)

# scikit-learn 1.6 renamed check_array's force_all_finite to ensure_all_finite
_FINITE_KW = (
    "ensure_all_finite"
    if "ensure_all_finite" in inspect.signature(check_array).parameters
    else "force_all_finite"
)


@storable("DeepMatrixCompletion")
class DeepMatrixCompletion(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Impute missing entries with a deep (compressed) low-rank factorization.

    ``fit`` completes the training matrix with :func:`dmc.complete` and keeps
    its column space; ``transform`` fills the missing entries of any rows,
    seen or unseen, by folding each row into that column space. Observed
    entries come back unchanged, bit for bit.

    Parameters
    ----------
    rank : int, default 10
        Rank estimate r̂, at least 1; r̂ at or above the true rank is fine. A
        rank above ``min(n_samples, n_features)`` of the training data is
        lowered to it, with a warning (see ``rank_``). The wide network
        (``method="original"``) has no rank constraint and ignores it.
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
    standardize : bool, default True
        Centre each column on its observed mean and scale it to unit variance
        before the fit (and undo it on output): columns in different units
        weigh alike. The observed means differ from the true ones by a
        rank-one error, so the fit takes ``rank + 1`` components (an exactly
        low-rank matrix of rank ``rank`` is still recovered to ``tol``).
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
    clip : (float or None, float or None) or None, default None
        Bounds ``(low, high)`` applied to the filled-in values (never to the
        observed ones); None on either side leaves it open.
    dtype : "float64", "float32" or None, default "float64"
        Precision of the training. None follows the input (float32 input
        trains in float32). Whatever it is, the output of ``transform`` has
        the dtype of its input: float32 stays float32, everything else
        becomes float64.
    device : "cpu", "cuda" or "auto", default "cpu"
        Where training runs; the fitted attributes are numpy arrays.
    random_state : int, numpy Generator, RandomState or None, default None
        Seeds the initialisation; an int makes ``fit`` reproducible.
    verbose : bool, default False
        Show a tqdm progress bar during training.
    callback : callable or None, default None
        ``callback(iteration, state)`` after each training iteration; return
        True to stop.

    Attributes
    ----------
    rank_ : int
        The rank used: ``min(rank, n_samples, n_features)`` of the training rows.
    components_ : ndarray of shape (n_components_, n_features_in_)
        Column side of the fitted matrix, ``S Vᵀ`` from its thin SVD
        ``U S Vᵀ`` (computed from ``CompletionResult.factors()``); the fitted
        training rows are ``U @ components_``. Components below
        ``√eps · s_max`` of the training dtype are dropped.
    singular_values_ : ndarray of shape (n_components_,)
        Singular values of the fitted matrix, largest first.
    n_components_ : int
        Number of kept components (at most the factorization's width).
    completed_ : ndarray of shape (n_samples, n_features_in_)
        The training matrix completed by the trained model (observed entries
        kept); rows without observed entries hold ``column_means_``.
    column_means_ : ndarray of shape (n_features_in_,)
        Column means of ``completed_`` over the rows that had observed
        entries: the fill for rows with no observed entry. For a column with
        no observed entry in ``fit``, the mean of all observed entries.
    n_iter_ : int
        Training iterations.
    best_iteration_ : int or None
        The iteration whose parameters were kept (``early_stopping``), else None.
    fold_in_alpha_ : float
        The fold-in's ridge penalty used by ``transform``.
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
    warning, and kept in the output: an empty training row is filled with
    ``column_means_``; an empty training column, in ``fit`` and in every
    later ``transform``, with the mean of all observed training entries (its
    entry of ``column_means_``; nothing else is known about it). A fully
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
        rank=10,
        *,
        depth=3,
        method="compressed",
        init_scale=None,
        step_size="auto",
        gamma=None,
        max_iter=1000,
        tol=1e-8,
        n_iter_no_change=None,
        escape_plateaus=None,
        weight_decay=0.0,
        standardize=True,
        early_stopping=True,
        validation_fraction=0.1,
        patience=200,
        fold_in_alpha="auto",
        clip=None,
        dtype="float64",
        device="cpu",
        random_state=None,
        verbose=False,
        callback=None,
    ):
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
        self.clip = clip
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    # -- scikit-learn protocol ----------------------------------------------------

    def fit(self, X, y=None):
        """Complete ``X`` and keep its column space for fold-in.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense data with NaN for missing entries (ndarray or DataFrame);
            ``inf`` and sparse matrices are refused.
        y : None
            Ignored.

        Returns
        -------
        self : DeepMatrixCompletion
        """
        with all_or_nothing(self):
            return self._fit(X)

    def _fit(self, X):
        X = self._validate_X(X, reset=True)
        rank = named(check_int, self.rank, "rank", low=1)
        if isinstance(self.fold_in_alpha, str) and not is_auto(self.fold_in_alpha):
            raise TypeError(
                "The 'fold_in_alpha' parameter of DeepMatrixCompletion must be 'auto' or a "
                f"positive float. Got {self.fold_in_alpha!r} instead."
            )
        if not is_auto(self.fold_in_alpha):
            named(check_float, self.fold_in_alpha, "fold_in_alpha", low=0.0, low_open=True)
        for name in ("standardize", "early_stopping"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(
                    f"The {name!r} parameter of DeepMatrixCompletion must be True or False. "
                    f"Got {getattr(self, name)!r} instead."
                )
        self._clip = check_clip(self.clip)

        observed = ~np.isnan(X)
        m, n = X.shape
        if not observed.any():
            raise ValueError(
                f"The 'X' parameter must have at least one observed (non-NaN) entry. Got an "
                f"array of shape {X.shape} with none."
            )
        keep_cols = observed.any(axis=0)
        fill = float(X[observed].astype(np.float64).mean())
        empty_cols = np.flatnonzero(~keep_cols)
        if empty_cols.size:
            warnings.warn(
                f"{empty_cols.size} column(s) of 'X' have no observed entry (starting with "
                f"{empty_cols[:5].tolist()}); they are left out of the training and filled "
                f"with the mean of all observed entries ({fill:.6g}), here and in transform.",
                UserWarning,
                stacklevel=3,
            )
        keep_rows = observed.any(axis=1)
        n_empty = int(m - keep_rows.sum())
        if n_empty:
            warnings.warn(
                f"{n_empty} row(s) of 'X' have no observed entry (the first is row "
                f"{int(np.flatnonzero(~keep_rows)[0])}); they are left out of the training "
                "and filled with the column means.",
                UserWarning,
                stacklevel=3,
            )
        X_fit = X[keep_rows] if n_empty else X
        X_fit = X_fit[:, keep_cols] if empty_cols.size else X_fit
        # one memory order for every input type: the column statistics sum alike
        X_fit = np.ascontiguousarray(X_fit)
        self.rank_ = min(rank, *X_fit.shape)
        if self.rank_ < rank:
            warnings.warn(
                f"The 'rank' parameter of DeepMatrixCompletion ({rank}) exceeds "
                f"min(n_samples, n_features) = {self.rank_} of the training rows; using "
                f"rank {self.rank_}.",
                UserWarning,
                stacklevel=3,
            )

        # the columns centred and scaled to unit variance (standardize=True), or not
        self._shift, self._scale = np.zeros(n), np.ones(n)
        if self.standardize:
            # divided by a power of two near each column's size: no overflow or
            # underflow in the squares, and no rounding in the division
            size = np.nanmax(np.abs(X_fit), axis=0)
            unit = np.exp2(np.round(np.log2(np.where(size > 0, size, 1.0))))
            self._shift[keep_cols] = np.nanmean(X_fit / unit, axis=0) * unit
            spread = np.nanstd(X_fit / unit, axis=0) * unit
            self._scale[keep_cols] = np.where(spread > 0, spread, 1.0)
        Z_fit = (X_fit - self._shift[keep_cols]) / self._scale[keep_cols]
        obs = Observations.from_dense(Z_fit)
        # early stopping needs an entry to hold out and one to fit
        early = self.early_stopping and obs.n_observed * self.validation_fraction >= 1
        score = FoldInScore() if early and is_auto(self.fold_in_alpha) else None
        with warnings.catch_warnings():
            # a fully observed training matrix is normal use here (see Notes)
            warnings.filterwarnings("ignore", DEGENERATE_WARNING, UserWarning)
            result = self._complete(obs, X.dtype, early, score)
        self.best_iteration_ = result.best_iteration
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.stop_reason_ = result.stop_reason
        self.history_ = {key: np.asarray(values) for key, values in result.history.items()}

        A, B = result.factors()
        s, Vt = column_space(A, B)
        cutoff = math.sqrt(np.finfo(A.dtype).eps) * (s[0] if s.size else 0.0)
        kept = s > cutoff
        self.singular_values_ = s[kept]
        # an empty training column gets no component: transform fills it with its mean
        self.components_ = np.zeros((int(kept.sum()), n))
        self.components_[:, keep_cols] = s[kept, None] * Vt[kept]
        self.n_components_ = int(kept.sum())
        s_max = float(s[0]) if s.size else 0.0
        # the fold-in's ridge α s_max², as α in units of s_max² (s_max² overflows above 1e154)
        if not is_auto(self.fold_in_alpha):
            self.fold_in_alpha_ = float(self.fold_in_alpha)
        else:  # the α of the best held-out score, or the smallest of the grid
            self.fold_in_alpha_ = score.best_alpha if score is not None else ALPHA_GRID[0]
        self._penalty, self._penalty_unit = self.fold_in_alpha_, (s_max if s_max > 0 else 1.0)

        W = result.to_dense().astype(np.float64, copy=False)
        W = W * self._scale[keep_cols] + self._shift[keep_cols]
        completed = np.empty((m, n), dtype=np.float64)
        completed[np.ix_(keep_rows, keep_cols)] = self._clipped(W)
        completed[:, ~keep_cols] = self._clipped(fill)
        completed[keep_rows] = np.where(observed[keep_rows], X[keep_rows], completed[keep_rows])
        self.column_means_ = completed[keep_rows].mean(axis=0)
        completed[~keep_rows] = self._clipped(self.column_means_)
        self.completed_ = completed.astype(X.dtype, copy=False)
        logger.info(
            "DeepMatrixCompletion: fitted %d x %d (%d observed) at rank %d in %d iterations "
            "(%s); %d components kept",
            m,
            n,
            int(observed.sum()),
            self.rank_,
            self.n_iter_,
            self.stop_reason_,
            self.n_components_,
        )
        return self

    def transform(self, X):
        """Fill the missing entries of ``X`` by fold-in; observed entries are returned unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Dense data with NaN for missing entries; any rows, seen or not.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features_in_)
            float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        return self._transform(self._validate_X(X, reset=False))

    def _transform(self, X):
        """``transform`` of an already validated array."""
        out = np.array(X, dtype=X.dtype, copy=True)
        observed = ~np.isnan(X)
        has_missing = ~observed.all(axis=1)
        if not has_missing.any():
            return out
        # columns with no observed entry in fit have no component (see fit): their
        # entries are filled with their mean, and carry nothing to fold in
        unseen = ~self.components_.any(axis=0) if self.n_components_ else np.zeros(X.shape[1], bool)
        empty = ~(observed & ~unseen).any(axis=1)
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} row(s) of 'X' have no observed entry (the first is row "
                f"{int(np.flatnonzero(empty)[0])})"
                f"{' in a column observed in fit' if unseen.any() else ''}; they are filled "
                "with the column means of the fitted matrix (column_means_).",
                UserWarning,
                stacklevel=3,
            )
            out[empty] = np.where(observed[empty], X[empty], self._clipped(self.column_means_))
        rows = np.flatnonzero(has_missing & ~empty)
        if rows.size:
            filled = self._clipped(self._fold_in(X[rows], observed[rows]))
            filled[:, unseen] = self._clipped(self.column_means_[unseen])
            out[rows] = np.where(observed[rows], X[rows], filled)
        logger.debug(
            "DeepMatrixCompletion: folded in %d row(s), %d empty", rows.size, int(empty.sum())
        )
        return out

    def score(self, X, y=None):
        """Minus the RMSE of the fold-in on 20% of the observed entries of ``X``.

        The entries are hidden with :func:`dmc.impute.model_selection.mask_observed`
        at a fixed seed (every row keeps at least one observed entry), the
        rows filled by :meth:`transform`, and the hidden values compared.
        Greater is better, as ``GridSearchCV`` expects.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Dense data with NaN for missing entries.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return heldout_score(self._transform, X, 0.2, DEFAULT_SCORING_SEED)

    def save(self, path):
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
    def load(cls, path):
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
        """What a file keeps (see :mod:`dmc.io`): every attribute that is not a parameter.

        That is what ``fit`` set (``components_``, ``completed_``, ``history_``,
        the private ``_penalty``, ``_shift``, ``_scale`` and ``_clip``, ...), and the
        configuration of ``set_output`` if it was called.
        """
        params = self.get_params(deep=False)
        return {name: value for name, value in vars(self).items() if name not in params}

    def _set_state(self, state: dict) -> None:
        """Restore what :meth:`_get_state` returned, on an estimator built from the parameters."""
        params = self.get_params(deep=False)
        for name in state:
            if not isinstance(name, str) or name in params or name.startswith("__"):
                raise ValueError(f"the state names an invalid attribute {name!r}")
        vars(self).update(state)

    def _check_loaded(self) -> None:
        """Check the parameters as ``fit`` does, without data (:func:`dmc.io.load` calls it;
        ``dtype``, ``device`` and ``random_state`` are checked there)."""
        p = self.get_params(deep=False)
        for name, low in (("rank", 1), ("max_iter", 1), ("n_iter_no_change", 1)):
            if p[name] is not None or name != "n_iter_no_change":
                named(check_int, p[name], name, low=low)
        named(check_int, p["depth"], "depth", low=2, high=MAX_DEPTH)
        named(check_choice, p["method"], "method", choices=METHODS)
        named(check_int, p["patience"], "patience", low=1)
        named(check_float, p["validation_fraction"], "validation_fraction", low=0.0, high=0.5)
        for name in ("standardize", "early_stopping"):
            if not isinstance(p[name], (bool, np.bool_)):
                raise TypeError(f"The {name!r} parameter must be True or False. Got {p[name]!r}.")
        for name in ("init_scale", "gamma", "step_size", "tol", "weight_decay", "fold_in_alpha"):
            auto = name in ("step_size", "fold_in_alpha") and is_auto(p[name])
            if p[name] is not None and not auto:
                low_open = name in ("init_scale", "step_size", "fold_in_alpha")
                named(check_float, p[name], name, low=0.0, low_open=low_open)
        if p["escape_plateaus"] not in (None, True, False):
            raise TypeError(
                "The 'escape_plateaus' parameter must be True, False or None. "
                f"Got {p['escape_plateaus']!r} instead."
            )
        check_clip(p["clip"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"allow_nan": True, "preserves_dtype": [np.float64, np.float32]}

    # -- helpers ----------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        X = as_plain_input(X)  # masked entries missing, tensors detached, pd.NA as NaN
        if sp.issparse(X):
            raise TypeError(
                "DeepMatrixCompletion does not accept scipy.sparse input for 'X': "
                "scikit-learn reads unstored sparse entries as zeros, dmc as missing. Pass "
                "a dense array with NaN for missing entries, or complete the sparse "
                "observations with dmc.complete(X, rank=...) (dmc.Observations.from_sparse)."
            )
        check_dense_X(X)
        kwargs = {"dtype": [np.float64, np.float32], _FINITE_KW: "allow-nan", "reset": reset}
        if _sk_validate_data is not None:
            return _sk_validate_data(self, X, **kwargs)
        return self._validate_data(X, **kwargs)  # pragma: no cover - older scikit-learn

    def _complete(self, obs, input_dtype, early_stopping, score):
        params = self.get_params()
        try:
            return complete(
                obs,
                # centring on observed means leaves a rank-one error of those means
                # in an exactly low-rank matrix: one more component takes it
                rank=min(self.rank_ + 1, *obs.shape) if self.standardize else self.rank_,
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
                verbose=self.verbose,
            )
        except (TypeError, ValueError) as exc:
            name_estimator(exc, params)
            raise

    def _clipped(self, values):
        low, high = self._clip
        if low is None and high is None:
            return values
        return np.clip(values, low, high)

    def _fold_in(self, X, observed):
        """Ridge fold-in of rows ``X`` (each with an observed entry) against ``components_``."""
        C = self.components_.T.astype(np.float64)  # n x k
        if C.shape[1] == 0:
            return np.zeros(X.shape)
        rows, cols = np.nonzero(observed)
        # files of dmc before issue 14 hold neither (no standardisation)
        shift = getattr(self, "_shift", np.zeros(X.shape[1]))
        scale = getattr(self, "_scale", np.ones(X.shape[1]))
        latent = ridge_fold_in(
            C,
            self._penalty,
            rows,
            cols,
            (X[rows, cols] - shift[cols]) / scale[cols],
            X.shape[0],
            accumulate="mask",
            unit=getattr(self, "_penalty_unit", 1.0),  # older files: _penalty = α s_max²
        )
        return (latent @ C.T) * scale + shift
