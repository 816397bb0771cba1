"""The public entry point: ``dmc.complete``."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from .._validation import (
    MAX_DEPTH,
    check_choice,
    check_float,
    check_int,
    check_random_state,
    resolve_device,
    resolve_dtype,
)
from ..io import storable
from . import distributed as dd
from .checkpoint import Checkpoint, fingerprint
from .memory import check_dense_fits_in_memory
from .metrics import recovery_evaluator
from .models import METHODS, Factorization, get_method
from .observations import Observations, _as_index_array
from .residual import ESCAPE_MIN_SHARE
from .sampled import SampledPattern
from .training import TrainingOutcome, train

__all__ = [
    "METHODS",
    "CompletionResult",
    "complete",
    "training_scale",
]  # METHODS: from dmc.core.models

#: outer-factor step ratio γ of the compressed network, by step rule: the
#: published fixed-step recipe uses 0.01; under the step search the base step
#: follows the cores' curvature, and 0.3 reached the reference case's tolerance
#: in the fewest iterations among the γ tried (docs/method.md)
DEFAULT_GAMMA = {"fixed": 0.01, "auto": 0.3}


@storable("CompletionResult")
class CompletionResult:
    """A trained completion model, with numpy in and out.

    Attributes
    ----------
    method : str
    shape : (int, int)
    n_iter : int
        Iterations taken.
    converged : bool
        Whether a stopping rule other than ``max_iter`` ended training.
    stop_reason : str
        "tol", "stalled", "precision", "max_iter", "no_descent" or "callback".
    history : dict of lists
        ``iteration``, ``loss``, ``residual`` (relative training residual),
        ``step_size``, ``time`` (seconds, cumulative), and ``recovery_error``
        when ``truth`` was given; ``pandas.DataFrame(result.history)`` works.
    n_parameters : int
    best_iteration : int or None
        With ``early_stopping``: the iteration whose parameters were kept.
    model : torch.nn.Module
        The trained factorization (for advanced use).
    """

    def __init__(self, model: Factorization, method: str, outcome: TrainingOutcome) -> None:
        self.model = model
        self.method = method
        self.shape = model.shape
        self.n_iter = outcome.n_iter
        self.converged = outcome.converged
        self.stop_reason = outcome.stop_reason
        self.history = outcome.history
        self.n_parameters = model.n_parameters
        self.best_iteration = outcome.best_iteration

    def _get_state(self) -> dict:
        """What a file keeps (see :mod:`dmc.io`): the model's tensors and the outcome."""
        params = dict(self.model.named_parameters())
        return {
            "method": self.method,
            "model_class": self.model.method,
            "config": self.model.get_config(),
            "tensors": {k: t.detach().cpu() for k, t in self.model.state_dict().items()},
            "requires_grad": {k: bool(p.requires_grad) for k, p in params.items()},
            "n_iter": self.n_iter,
            "converged": self.converged,
            "stop_reason": self.stop_reason,
            "history": self.history,
        }

    @classmethod
    def _from_state(cls, state: dict) -> CompletionResult:
        if state["model_class"] not in METHODS:
            raise ValueError(
                f"the file holds a model of an unknown method {state['model_class']!r}"
            )
        tensors = {k: torch.as_tensor(v) for k, v in state["tensors"].items()}
        model = get_method(state["model_class"]).from_state(tensors, state["config"])
        for name, p in model.named_parameters():
            p.requires_grad_(bool(state["requires_grad"].get(name, True)))
        outcome = TrainingOutcome(
            state["n_iter"], state["converged"], state["stop_reason"], state["history"]
        )
        return cls(model, state["method"], outcome)

    def factors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)`` with ``W = A @ B.T``: the row side (m x k) and column side (n x k).

        For the compressed network ``A = U W̃_L ⋯ W̃_1`` and ``B = V``. Fold-in of a
        new row solves for its ``a`` against ``B`` restricted to its observed columns.
        """
        with torch.no_grad():
            A, B = self.model._left_right()
            return A.cpu().numpy(), B.cpu().numpy()

    def to_dense(self) -> np.ndarray:
        """The completed ``m x n`` matrix as a numpy array.

        A shape too large for memory raises ``ProblemTooLargeError`` before
        anything is allocated; :meth:`predict` gives entries in any number.
        """
        p = next(self.model.parameters())
        what = "CompletionResult.to_dense()"
        m, n = self.shape
        check_dense_fits_in_memory(m, n, p.element_size(), p.device, what)
        with torch.no_grad():
            return self.model.to_dense().cpu().numpy()

    def predict(self, rows: ArrayLike, cols: ArrayLike) -> np.ndarray:
        """Completed entries at ``(rows, cols)``; O(len(rows) k), no m x n matrix."""
        rows = _as_index_array(rows, "rows")
        cols = _as_index_array(cols, "cols")
        if rows.shape != cols.shape:
            raise ValueError(
                "The 'rows' and 'cols' parameters must have the same length. "
                f"Got {rows.shape[0]} and {cols.shape[0]} instead."
            )
        for name, idx, size in (("rows", rows, self.shape[0]), ("cols", cols, self.shape[1])):
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                raise ValueError(
                    f"The {name!r} parameter must hold indices in [0, {size - 1}]. "
                    f"Got values in [{idx.min()}, {idx.max()}] instead."
                )
        device = next(self.model.parameters()).device
        r = torch.tensor(rows, device=device)  # a copy: the arrays may be read-only
        c = torch.tensor(cols, device=device)
        with torch.no_grad():
            return self.model.predict(None, r, c).cpu().numpy()

    def __repr__(self) -> str:
        return (
            f"CompletionResult(method={self.method!r}, shape={self.shape}, "
            f"n_iter={self.n_iter}, stop_reason={self.stop_reason!r}, "
            f"residual={self.history['residual'][-1]:.3g})"
        )


def complete(
    X: Any,
    *,
    rank: int,
    depth: int = 3,
    method: str = "compressed",
    init_scale: float | None = None,
    gamma: float | None = None,
    width: int | None = None,
    init: str = "random",
    step_size: float | str = "auto",
    max_change: float | None = 3.0,
    step_bits: int | None = None,
    optimizer: Callable[..., torch.optim.Optimizer] | None = None,
    escape_plateaus: bool | None = None,
    weight_decay: float = 0.0,
    max_iter: int = 1000,
    tol: float = 1e-8,
    n_iter_no_change: int | None = None,
    early_stopping: bool = False,
    validation_fraction: float = 0.1,
    patience: int = 200,
    scoring: Callable[[Any, Observations, Observations], float] | None = None,
    dtype: str | torch.dtype = "float64",
    device: str | torch.device = "cpu",
    random_state: Any = None,
    truth: Any = None,
    eval_every: int = 1,
    callback: Callable[[int, Any], bool | None] | None = None,
    verbose: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 100,
    distributed: bool = False,
) -> CompletionResult:
    """Complete a partially observed matrix with a deep (compressed) factorization.

    Parameters
    ----------
    X : array, scipy.sparse matrix, (rows, cols, values[, shape]) or Observations
        A dense array with NaN for missing entries, or the observed entries.
        For a sparse matrix the *stored* entries are the observations.
    rank : int
        Rank estimate r̂, in [1, min(m, n)]; r̂ ≥ the true rank is fine.
    depth : int, default 3
        Number of factors L, in [2, 100] (of cores, for the compressed network).
    method : {"compressed", "original", "narrow", "burer-monteiro"}
        "compressed": ``2r̂ x 2r̂`` cores plus outer factors (default).
        "original": the wide network of width ``width`` (default max(m, n)).
        "narrow": a deep network of width ``2r̂``.
        "burer-monteiro": ``U Vᵀ`` with ``r̂`` columns (``depth`` is ignored).
    init_scale : float or None, default None
        ε of the ε-scaled (semi-)orthogonal initialisation, per factor. None:
        1e-3 (the reference experiments) up to depth 3; a deeper network starts
        at the same end-to-end scale as depth 3, ε^L = 1e-9, so ε = 10^(−9/L)
        (a per-factor 1e-3 would start the product at 1e-12 at depth 4 and
        stall). The original network keeps 1e-3 at every depth: its unused
        directions would grow into spurious components of the size of the
        start. Larger values shorten the plateaus but leave an error floor of
        about ε^L relative to the entries and weaken the low-rank bias.
    gamma : float or None
        Step ratio γ of the compressed network's outer factors (0 freezes them).
        None: 0.3 with ``step_size="auto"``, 0.01 (the published recipe) with a
        fixed step.
    width : int or None
        Width of the original network; None for max(m, n).
    init : {"random", "spectral"}
        Burer–Monteiro initialisation (ignored by the other methods).
    step_size : "auto" or float, default "auto"
        "auto": backtracking step search (no plateau). A number: the published
        fixed-step recipe, plain GD on the sum-form loss at that step.
    max_change : float or None, default 3.0
        Under ``step_size="auto"``, the largest relative change of any parameter
        tensor in one step; None removes the bound.
    step_bits : int or None, default None
        Under ``step_size="auto"``, keep only the leading ``step_bits`` bits of
        each trial step (it shrinks by less than ``2**-step_bits``); None keeps
        all. On noisy data the Barzilai–Borwein step amplifies rounding, so two
        fits whose sums run in different orders (a distributed fit and a single
        process, or different thread counts) drift apart; with ``step_bits=8``
        they agree to rounding. :class:`dmc.RatingsModel` uses 8.
    optimizer : callable or None, default None
        None: dmc's :class:`~dmc.core.optim.GradientDescent` with ``step_size`` and
        ``max_change``. For experiments, a callable that takes the model's
        parameter groups (dicts with ``params``, ``name`` and ``step_multiplier``)
        and returns any ``torch.optim.Optimizer``, e.g.
        ``functools.partial(torch.optim.Adam, lr=1e-2)``.
    escape_plateaus : bool or None, default None
        Whether a plateau of the training loss is left by a move of the model's
        own: for the compressed network, the top singular direction of the
        residual enters its subspace at its least-squares size (a greedy
        rank-one step; see :meth:`dmc.core.models.CompressedNetwork.escape_plateau`).
        This is what lets ill-conditioned and deeper problems finish. None: on
        with ``step_size="auto"`` and no ``weight_decay`` (the move fits the data
        term only), off with a fixed step (the published recipe).
        False gives the previous release's training exactly. The original and
        narrow networks enter the direction through every layer
        (:meth:`dmc.core.models.DeepNetwork.escape_plateau`); Burer–Monteiro,
        the classical baseline, has no move; frozen outer factors (``gamma=0``)
        are never changed.
    weight_decay : float, default 0
        λ of a penalty ``(λ/2) Σ ‖θ‖²`` (for noisy data such as ratings), over
        every factor, except the compressed network's outer factors: these hold
        directions and the cores hold the scale.
    max_iter : int, default 1000
    tol : float, default 1e-8
        Stop when ``‖P_Ω(W − Φ)‖ / ‖P_Ω(Φ)‖ ≤ tol``.
    n_iter_no_change : int or None, default None
        Also stop when the loss improved by less than a relative 1e-7 over this
        many iterations: for noisy data, which never reaches ``tol``. Off by
        default because deep factorizations learn one component after another,
        with flat stretches between them that such a rule would mistake for
        convergence.
    early_stopping : bool, default False
        Noise-aware stopping that needs no noise level: hold out a seeded
        ``validation_fraction`` of the observed entries, train on the rest,
        score the held-out entries every 10 iterations, stop ("early_stopping")
        after ``patience`` iterations without a better score and return the
        parameters of the best one (``best_iteration``). Plateau moves are then
        allowed at every plateau (the score, not the residual's shape, decides
        how far the fit goes). For noisy data and data of full rank with a
        decaying spectrum; an exactly low-rank fit still stops at ``tol``, but
        trains on fewer entries. Not with ``checkpoint``.
    validation_fraction : float in (0, 0.5], default 0.1
        Share of the observed entries held out by ``early_stopping``.
    patience : int, default 200
        Iterations without a better held-out score before ``early_stopping``
        stops; long enough to cross the plateaus between components.
    scoring : callable or None
        ``scoring(model, fit, held_out) -> float`` (lower is better; ``fit`` and
        ``held_out`` are :class:`Observations` in the units the model is trained
        in). None: the relative error ``‖W_H − Φ_H‖ / ‖Φ_H‖`` on the held-out
        entries ``H``.
    dtype : "float64" or "float32"
    device : "cpu", "cuda" or "auto"
    random_state : int, numpy Generator or None
        Seeds every random choice; two CPU runs with the same int are identical.
    truth : array of shape (m, n) or None
        If given, the recovery error on the unobserved entries is recorded in
        ``history["recovery_error"]`` every ``eval_every`` iterations.
    callback : callable or None
        ``callback(iteration, state)``; return True to stop.
    verbose : bool
        Show a progress bar.
    checkpoint : str, os.PathLike or None
        A file where the state of training is saved every ``checkpoint_every``
        iterations and when it stops. If the file already holds a checkpoint of
        the same data and options, training resumes from it, so re-running a
        killed call finishes it; on CPU the result is bitwise that of an
        uninterrupted run. A checkpoint of another fit is never overwritten (a
        ValueError says what differs). ``max_iter``, ``tol`` and the other
        stopping options may change between runs.
    checkpoint_every : int, default 100
        Iterations between checkpoints.
    distributed : bool or torch.distributed.ProcessGroup, default False
        Data-parallel training: call ``complete`` on every process of an
        initialised ``torch.distributed`` process group (True: the default
        group), each with its own shard of the observed entries in ``X``, all
        with the global shape and the same other arguments. Losses and gradients
        are summed over the ranks (gloo on CPU, NCCL on GPU), so every rank ends
        with the same model, equal to a single-process fit on all the entries up
        to rounding. ``random_state`` must be an int or None; only rank 0 writes
        ``checkpoint`` (every rank reads it to resume: use a shared file system);
        not with ``early_stopping`` or ``truth``. See docs/distributed.md.

    Returns
    -------
    CompletionResult

    Warns
    -----
    UserWarning
        When ``X`` has rows or columns with no observed entry (their entries
        are left at what the initialisation gives, not estimated), or is fully
        observed (nothing to complete). docs/input-validation.md lists every
        refused input.

    Notes
    -----
    The compressed network has ``L (2r̂)² + (m + n) 2r̂`` parameters and costs
    ``O(|Ω| r̂ + (m + n) r̂²)`` per iteration; the original network has
    ``O(L d²)`` parameters and costs ``O(L d³)``. Distributed, each rank computes
    ``O(|Ω_rank| r̂ + (m + n) r̂²)`` per iteration and exchanges the gradients,
    ``(m + n) 2r̂ + L (2r̂)²`` numbers.

    Examples
    --------
    >>> import dmc
    >>> problem = dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0)
    >>> result = dmc.complete(problem.observations, rank=2, random_state=0)
    >>> err = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    >>> bool(err < 1e-6)
    True
    """
    comm = dd.communicator(distributed, "complete")
    obs = dd.on_every_rank(comm, lambda: Observations.from_any(X), "complete")
    m, n = obs.shape
    if comm.distributed:
        dd.check_complete_arguments(comm, obs, locals())
        random_state = dd.agreed_seed(comm, random_state)
    method = check_choice(method, "method", METHODS)
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    depth = check_int(depth, "depth", low=2, high=MAX_DEPTH)
    if init_scale is None:
        init_scale = default_init_scale(depth, method)
    init_scale = check_float(init_scale, "init_scale", low=0.0, low_open=True)
    if gamma is None:
        gamma = DEFAULT_GAMMA["auto" if step_size == "auto" else "fixed"]
    gamma = check_float(gamma, "gamma", low=0.0)
    init = check_choice(init, "init", ("random", "spectral"))
    if width is not None:
        width = check_int(width, "width", low=1)
    if not (isinstance(step_size, str) and step_size == "auto"):
        if isinstance(step_size, str):
            raise ValueError(
                "The 'step_size' parameter must be 'auto' or a positive float. "
                f"Got {step_size!r} instead."
            )
        step_size = check_float(step_size, "step_size", low=0.0, low_open=True)
    max_change = (
        None
        if max_change is None
        else check_float(max_change, "max_change", low=0.0, low_open=True)
    )
    step_bits = None if step_bits is None else check_int(step_bits, "step_bits", low=1, high=52)
    weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
    if escape_plateaus is None:
        escape_plateaus = step_size == "auto" and weight_decay == 0
    elif not isinstance(escape_plateaus, (bool, np.bool_)):
        raise TypeError(
            "The 'escape_plateaus' parameter must be True, False or None. "
            f"Got {escape_plateaus!r} instead."
        )
    escape_plateaus = bool(escape_plateaus)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_float(tol, "tol", low=0.0)
    if n_iter_no_change is not None:
        n_iter_no_change = check_int(n_iter_no_change, "n_iter_no_change", low=1)
    if not isinstance(early_stopping, (bool, np.bool_)):
        raise TypeError(
            f"The 'early_stopping' parameter must be True or False. Got {early_stopping!r} instead."
        )
    validation_fraction = check_float(
        validation_fraction, "validation_fraction", low=0.0, high=0.5, low_open=True
    )
    patience = check_int(patience, "patience", low=1)
    if scoring is not None and not callable(scoring):
        raise TypeError(f"The 'scoring' parameter must be callable or None. Got {scoring!r}.")
    if early_stopping and checkpoint is not None:
        raise ValueError(
            "The 'checkpoint' parameter cannot be combined with early_stopping=True (the "
            "best parameters so far are not saved in a checkpoint). Got "
            f"checkpoint={checkpoint!r}."
        )
    eval_every = check_int(eval_every, "eval_every", low=1)
    if optimizer is not None and not callable(optimizer):
        raise TypeError(
            "The 'optimizer' parameter must be None or a callable that takes parameter "
            f"groups and returns a torch optimizer. Got {type(optimizer).__name__} instead."
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"The 'callback' parameter must be callable or None. Got {callback!r}.")
    torch_dtype = resolve_dtype(dtype)
    torch_device = resolve_device(device)
    rng = check_random_state(random_state)
    _check_range(obs, torch_dtype, comm)
    value_scale = _value_scale(obs, comm)
    evaluate = recovery_evaluator(truth, obs, value_scale) if truth is not None else None
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", low=1)
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)):
            raise TypeError(
                "The 'checkpoint' parameter must be a path (str or os.PathLike) or None. "
                f"Got {type(checkpoint).__name__} instead."
            )
        options = dict(
            method=method,
            rank=rank,
            depth=depth,
            init_scale=init_scale,
            gamma=gamma,
            width=width,
            init=init,
            step_size=step_size,
            max_change=max_change,
            step_bits=step_bits,
            weight_decay=weight_decay,
            optimizer=None if optimizer is None else repr(optimizer),
            escape_plateaus=escape_plateaus,
            dtype=str(torch_dtype),
            random_state=_seed_fingerprint(random_state),
        )
        digest = dd.global_fingerprint(comm, fingerprint(obs, options))
        checkpoint = Checkpoint(checkpoint, checkpoint_every, digest, options)

    if value_scale != 1.0:  # exact: a power of two
        obs = Observations(obs.rows, obs.cols, obs.values / value_scale, obs.shape)
    monitor = None
    if early_stopping:
        obs, held_out = _hold_out(obs, validation_fraction, rng)
        score = scoring or heldout_error
        monitor = lambda model: score(model, obs, held_out)  # noqa: E731
    # a distributed fit's observations: duck-typed Observations summed over ranks
    built_on: Any = dd.SummedObservations(obs, comm) if comm.distributed else obs
    model = get_method(method).build(
        built_on,
        rank=rank,
        depth=depth,
        init_scale=init_scale,
        gamma=gamma,
        width=width,
        init=init,
        rng=rng,
        dtype=torch_dtype,
        device=torch_device,
    )
    _warn_degenerate(obs, rank, comm)  # once the model is built: a refused call does not warn
    pattern = SampledPattern(obs, dtype=torch_dtype, device=torch_device)
    outcome = train(
        model,
        pattern,
        optimizer=optimizer,
        escape_plateaus=escape_plateaus,
        escape_min_share=0.0 if early_stopping else ESCAPE_MIN_SHARE,
        monitor=monitor,
        patience=patience if early_stopping else None,
        step_size=step_size,
        max_change=max_change,
        step_bits=step_bits,
        weight_decay=weight_decay,
        max_iter=max_iter,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        evaluate=evaluate,
        eval_every=eval_every,
        callback=callback,
        verbose=verbose,
        checkpoint=checkpoint,
        comm=comm,
    )
    dd.check_models_agree(comm, model)
    if value_scale != 1.0:
        _rescale(model, value_scale)
        # in the data's units (inf beyond float64's range, for values above ~1e154)
        with np.errstate(over="ignore"):
            loss = np.asarray(outcome.history["loss"]) * value_scale * value_scale
        outcome.history["loss"] = loss.tolist()
    return CompletionResult(model, method, outcome)


def heldout_error(model, fit, held_out) -> float:
    """``‖W_H − Φ_H‖ / ‖Φ_H‖`` on the held-out entries: ``early_stopping``'s default score."""
    like = next(model.parameters())
    rows = torch.as_tensor(held_out.rows, device=like.device)
    cols = torch.as_tensor(held_out.cols, device=like.device)
    with torch.no_grad():
        predicted = model.predict(None, rows, cols).double().cpu().numpy()
    norm = float(np.linalg.norm(held_out.values))
    return float(np.linalg.norm(predicted - held_out.values)) / (norm if norm > 0 else 1.0)


def _hold_out(obs, fraction, rng):
    """Split ``obs`` into the entries to fit and a seeded ``fraction`` held out."""
    n_held = int(round(fraction * obs.n_observed))
    if n_held < 1 or obs.n_observed - n_held < 1:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of the "
            f"{obs.n_observed} observed entries of 'X', which leaves no entry to "
            "hold out or none to fit. Observe more entries or set early_stopping=False."
        )
    held = np.zeros(obs.n_observed, dtype=bool)
    held[rng.choice(obs.n_observed, size=n_held, replace=False)] = True
    part = lambda keep: Observations(  # noqa: E731
        obs.rows[keep], obs.cols[keep], obs.values[keep], obs.shape
    )
    return part(~held), part(held)


def default_init_scale(depth: int, method: str = "compressed") -> float:
    """The per-factor ε that ``init_scale=None`` selects for ``method`` at ``depth``.

    1e-3, or 10^(−9/L) beyond depth 3; the original network keeps 1e-3 at every
    depth (:meth:`dmc.core.models.OriginalNetwork.default_init_scale`).

    >>> default_init_scale(3), round(default_init_scale(4), 5), default_init_scale(4, "original")
    (0.001, 0.00562, 0.001)
    """
    return get_method(method).default_init_scale(depth)


def _check_range(obs, dtype, comm=dd.SINGLE):
    """Refuse values too close to the largest number of the training dtype.

    Completed entries and intermediate products can exceed the largest observed
    value, so 2¹⁰ of headroom is kept.
    """
    big = comm.max(float(np.abs(obs.values).max()) if obs.n_observed else 0.0)
    limit = float(torch.finfo(dtype).max) / 2.0**10
    if big > limit:
        raise ValueError(
            f"The 'X' parameter holds values up to {big:.3g}, too close to the largest "
            f"number of dtype={str(dtype).removeprefix('torch.')!r} (dmc accepts up to "
            f"{limit:.3g}). Use dtype='float64', or rescale X."
        )


def training_scale(obs: Observations) -> float:
    """The power of two that :func:`complete` divides the observed values by (1 for
    values of RMS in [2⁻⁸, 2⁸]): a ``scoring`` callable sees its entries in these units.

    >>> import numpy as np
    >>> obs = Observations.from_dense(np.array([[1e6, np.nan], [np.nan, 2e6]]))
    >>> training_scale(obs) == 2.0**21, training_scale(Observations.from_dense(np.eye(2)))
    (True, 1.0)
    """
    return _value_scale(obs)


def _value_scale(obs, comm=dd.SINGLE) -> float:
    """A power of two near the RMS of the observed values, when that is far from 1.

    Data whose RMS lies outside [2⁻⁸, 2⁸] is trained divided by this scale (exact: a
    power of two), so that ``init_scale``, the step search and the loss see entries of
    order 1 whatever the units; the trained factors are scaled back. Data in the usual
    range is left as it is (scale 1).
    """
    v = obs.values
    big = comm.max(float(np.abs(v).max()) if v.size else 0.0)
    if big == 0.0:
        return 1.0
    if comm.distributed:  # over every rank's entries
        rms = big * np.sqrt(comm.sum(float(np.sum((v / big) ** 2))) / comm.sum(v.size))
    else:
        rms = big * float(np.sqrt(np.mean((v / big) ** 2)))
    if 2.0**-8 <= rms <= 2.0**8:
        return 1.0
    return 2.0 ** round(np.log2(rms))


def _rescale(model: Factorization, value_scale):
    """Multiply the model's end-to-end matrix by ``value_scale``, spread over its factors."""
    factors = model.scale_factors()
    root = value_scale ** (1.0 / len(factors))
    with torch.no_grad():
        for f in factors:
            f.mul_(root)


def _seed_fingerprint(random_state):
    """A JSON-able stand-in for ``random_state`` in a checkpoint's fingerprint."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return None if random_state is None else int(random_state)
    raise TypeError(
        "With a 'checkpoint', the 'random_state' parameter must be an int (or None), so "
        "that a resumed fit starts from the same initialisation. "
        f"Got {type(random_state).__name__} instead."
    )


#: start of the warnings of :func:`complete` about degenerate observations, for
#: the front doors that handle these cases themselves to filter
DEGENERATE_WARNING = r"The 'X' parameter of complete (has \d+ row|is fully observed)"


def _warn_degenerate(obs: Observations, rank: int, comm=dd.SINGLE) -> None:
    """Name rows or columns with no observed entry, and a fully observed matrix."""
    m, n = obs.shape
    if comm.sum(obs.n_observed) == m * n:
        warnings.warn(
            f"The 'X' parameter of complete is fully observed (all {m} x {n} entries): "
            f"there is nothing to complete. The result is a rank-{rank} fit of X; its "
            "entries are fitted values, not copies of the observed ones.",
            UserWarning,
            stacklevel=3,
        )
        return
    # O(|Ω| log |Ω|) and nothing of size m or n: the shape may be huge
    if comm.distributed:
        seen_rows, seen_cols = dd.global_seen(comm, obs)
    else:
        seen_rows, seen_cols = np.unique(obs.rows), np.unique(obs.cols)
    n_rows, n_cols = m - seen_rows.size, n - seen_cols.size
    if n_rows or n_cols:
        first = ", ".join(
            f"the first {what} is {_first_missing(seen)}"
            for what, seen, count in (("row", seen_rows, n_rows), ("column", seen_cols, n_cols))
            if count
        )
        warnings.warn(
            f"The 'X' parameter of complete has {n_rows} row(s) and "
            f"{n_cols} column(s) with no observed entry ({first}). Nothing in the "
            "data determines their entries: they come back as what the random "
            "initialisation leaves there (small values, not estimates). Fill them from "
            "means or biases (DeepMatrixCompletion and RatingsModel do), or leave them out.",
            UserWarning,
            stacklevel=3,
        )


def _first_missing(seen: np.ndarray) -> int:
    """Smallest index absent from the sorted distinct indices ``seen``."""
    gaps = np.flatnonzero(seen != np.arange(seen.size))
    return int(gaps[0]) if gaps.size else int(seen.size)
