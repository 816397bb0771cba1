"""The one training loop: full-batch training of any model with any optimizer.

Minimises ``ℓ = ½ Σ_Ω (W_ij − Φ_ij)²`` (plus an optional weight decay) with the
residual evaluated only at the observed entries. The default optimizer is
:class:`dmc.core.optim.GradientDescent`: each parameter group moves along its
negative gradient scaled by its step multiplier (``γ`` for the compressed
network's outer factors), with a Barzilai–Borwein step, Armijo backtracking and
a ``max_change`` bound (``step_size="auto"``), or at a fixed step (the published
recipe). Any other ``torch.optim.Optimizer`` can be passed for experiments.

The loop owns what is not a step: the history, the stopping rules, the
callback, the progress bar and checkpoints.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from ..exceptions import ConvergenceWarning, DivergenceError
from .distributed import SINGLE, Communicator, GatheredPattern, residual_share
from .models import Factorization
from .optim import GradientDescent
from .residual import ESCAPE_MIN_SHARE, residual_direction
from .sampled import SampledPattern

logger = logging.getLogger(__name__)

#: below this relative residual no component counts as missing (the rest of the
#: residual is the last digits of learned ones)
_MISSING_ABOVE = 1e-3

#: a plateau: the loss fell by less than this fraction over this many iterations
_PLATEAU_DROP = 0.01
_PLATEAU_WINDOW = 10
#: after a refused move the next attempt waits twice as long, up to this many steps
_MAX_ATTEMPT_GAP = 160

__all__ = ["TrainingOutcome", "default_optimizer", "train"]


@dataclass
class TrainingOutcome:
    """What the loop reports: iterations, stop reason and the per-iteration history."""

    n_iter: int
    converged: bool
    stop_reason: str
    history: dict = field(default_factory=dict)
    best_iteration: int | None = None


def default_optimizer(
    model: Factorization,
    pattern: SampledPattern,
    *,
    step_size="auto",
    step_rule: str = "bb",
    grow: float = 2.0,
    max_change: float | None = 3.0,
    step_bits: int | None = None,
    comm: Communicator = SINGLE,
) -> GradientDescent:
    """dmc's optimizer for ``model``: its parameter groups with their step multipliers.

    ``step_size="auto"`` searches the step from ``1 / ‖P_Ω(Φ)‖``; a number is the
    fixed step of the published recipe. ``comm``: the ranks of a distributed fit,
    whose entries together make ``P_Ω(Φ)``.
    """
    search = step_size == "auto"
    norm = _data_norm(pattern, comm)
    return GradientDescent(
        _torch_groups(model),
        lr=1.0 / norm if search else float(step_size),  # the search adapts it
        search=search,
        rule=step_rule,
        grow=grow,
        max_change=max_change,
        data_norm=norm,
        step_bits=step_bits,
    )


def train(
    model: Factorization,
    pattern: SampledPattern,
    *,
    optimizer=None,
    step_size="auto",
    grow: float = 2.0,
    step_rule: str = "bb",
    max_change: float | None = 3.0,
    step_bits: int | None = None,
    weight_decay: float = 0.0,
    max_iter: int = 1000,
    tol: float = 1e-8,
    n_iter_no_change: int | None = None,
    stall_tol: float = 1e-7,
    escape_plateaus: bool = False,
    escape_min_share: float = ESCAPE_MIN_SHARE,
    monitor=None,
    monitor_every: int = 10,
    patience: int | None = None,
    evaluate=None,
    eval_every: int = 1,
    callback=None,
    verbose: bool = False,
    checkpoint=None,
    comm: Communicator = SINGLE,
) -> TrainingOutcome:
    """Train ``model`` in place on the observed entries of ``pattern``.

    Parameters
    ----------
    model : Factorization
        Any dmc model; its ``param_groups`` give the step multipliers.
    pattern : SampledPattern
        Observed indices and values on the model's device and dtype.
    optimizer : torch.optim.Optimizer, callable or None
        None: :func:`default_optimizer` with ``step_size``, ``step_rule``, ``grow``,
        ``max_change`` and ``step_bits``. A callable is called with the model's parameter groups
        (a list of dicts with ``params``, ``name`` and ``step_multiplier``) and
        returns an optimizer, e.g. ``functools.partial(torch.optim.Adam, lr=1e-2)``;
        an optimizer instance is used as it is. Other optimizers ignore the step
        multipliers unless they read them.
    step_size : "auto" or float
        Backtracking search, or a fixed base step (the published recipe).
    step_rule : {"bb", "armijo"}
        Under ``step_size="auto"``, the trial step: Barzilai–Borwein ("bb") or
        the last step, doubled after a step without backtracking ("armijo";
        kept for ablations).
    grow : float
        Factor by which the accepted step is enlarged before the next search.
    max_iter : int
        Iteration budget; reaching it issues a ``ConvergenceWarning``.
    max_change : float or None
        Under the step search, no parameter tensor moves by more than this
        fraction of its norm in one step (None: no bound).
    step_bits : int or None
        Under the step search, the leading bits kept of each trial step (None:
        all); see :class:`~dmc.core.optim.GradientDescent`.
    weight_decay : float
        λ of an added ``(λ/2) Σ ‖θ‖²`` over the parameter groups that allow it
        (all but the compressed network's outer factors); 0: none.
    tol : float
        Stop when the relative training residual ``‖P_Ω(W − Φ)‖ / ‖P_Ω(Φ)‖``
        falls to ``tol`` or below.
    n_iter_no_change, stall_tol : int or None, float
        Stop when the loss fell by less than a fraction ``stall_tol`` over the
        last ``n_iter_no_change`` iterations (checked only once the loss is
        below half its starting value, so the initial plateau never triggers it).
    escape_plateaus : bool
        At a plateau (the loss fell by less than 1% over the last 10 iterations)
        let the model leave it by a move of its own
        (:meth:`~dmc.core.models.Factorization.escape_plateau`: for the compressed
        network, the residual's top singular direction enters its subspace at its
        least-squares size), then restart the optimizer's memory. At most one
        attempt per 10 iterations; after a refused attempt the next waits twice
        as long (up to 160), after a move 10 again. Moves are recorded in
        ``history["escape"]``.
    escape_min_share : float
        A plateau move needs the residual's top direction to explain at least
        this share of the residual (0.2: a missing component of an exactly
        low-rank matrix; 0: any plateau, for data with a decaying spectrum, where
        ``monitor`` decides how far the fit goes).
    monitor : callable or None
        ``monitor(model) -> float``, lower is better (e.g. the error on held-out
        entries), evaluated every ``monitor_every`` iterations and recorded in
        ``history["validation_error"]`` (NaN in between). The loop keeps the
        parameters of the best evaluation and restores them when training stops
        with a worse one (``outcome.best_iteration``).
    monitor_every, patience : int, int or None
        Evaluate ``monitor`` every ``monitor_every`` iterations; stop
        ("early_stopping") once ``patience`` iterations passed without a better
        value (None: never stop on it).
    evaluate : callable or None
        ``evaluate(model) -> float``, e.g. the recovery error against a known
        matrix, recorded every ``eval_every`` iterations; its time is not
        counted in the history's ``time``.
    callback : callable or None
        ``callback(iteration, state)`` after each iteration, ``state`` a dict
        with ``loss``, ``residual``, ``step_size`` and ``time``; return True to stop.
    verbose : bool
        Show a tqdm progress bar.
    checkpoint : dmc.core.checkpoint.Checkpoint or None
        Save the loop's state (the model's and the optimizer's ``state_dict``, the
        gradients and the history) every ``checkpoint.every`` iterations and when
        training stops; if the checkpoint file exists, resume from it (the
        parameters in ``model`` are replaced by the saved ones).
    comm : dmc.core.distributed.Communicator
        The ranks of a data-parallel fit (see :mod:`dmc.core.distributed`): each
        holds its shard of Ω in ``pattern``; losses and gradients are summed over
        ranks, so every decision and every step is the same on all of them.
        Only rank 0 writes the checkpoint, and only it shows the progress bar.
        ``monitor`` and ``evaluate`` see only the rank's own model and are
        evaluated on every rank. Default: a single process.

    Notes
    -----
    One iteration of the default optimizer costs one forward and backward pass
    plus one forward pass per backtrack; with the cores' ``O(k³)`` products,
    ``O(|Ω| k + (m + n) k²)`` for the compressed network. A ``torch.optim.LBFGS``
    gets the usual closure (it calls ``backward``); other optimizers step on the
    gradient the loop computed. In a distributed fit one iteration exchanges the
    gradients, ``(m + n) k + L k²`` numbers for the compressed network, and one
    number per loss evaluation.
    """
    groups = model.param_groups()
    with comm.sum_gradients([p for g in groups for p in g.params]):  # no-op in one process
        decayed = [p for g in groups if g.decay for p in g.params]
        if optimizer is None:
            optimizer = default_optimizer(
                model,
                pattern,
                step_size=step_size,
                step_rule=step_rule,
                grow=grow,
                max_change=max_change,
                step_bits=step_bits,
                comm=comm,
            )
        elif not isinstance(optimizer, torch.optim.Optimizer):
            optimizer = optimizer(_torch_groups(model))
        params = [p for g in optimizer.param_groups for p in g["params"]]
        scale = _data_norm(pattern, comm)

        history: dict[str, list] = {
            "iteration": [],
            "loss": [],
            "residual": [],
            "step_size": [],
            "time": [],
        }
        if evaluate is not None:
            history["recovery_error"] = []
        if escape_plateaus:
            history["escape"] = []
        if monitor is not None:
            history["validation_error"] = []
        best = _Best()

        fit_term = 0.0  # the data part ½‖P_Ω(W − Φ)‖² of the last loss evaluated

        def loss_fn():
            nonlocal fit_term
            r = (model.predict(pattern) - pattern.values).double()  # sum in float64
            data = comm.total(0.5 * torch.dot(r, r))  # summed over ranks
            fit_term = data.detach()
            if weight_decay == 0:
                return data
            penalty = comm.replicated(sum(torch.sum(p.double() ** 2) for p in decayed))
            return data + 0.5 * weight_decay * penalty

        def closure():  # the usual torch closure
            optimizer.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        def record(it, loss_value, eta_value, elapsed):
            history["iteration"].append(it)
            history["loss"].append(loss_value)
            history["residual"].append(math.sqrt(2.0 * float(fit_term)) / scale)
            history["step_size"].append(eta_value)
            history["time"].append(elapsed)
            if escape_plateaus:
                history["escape"].append(escaped)
            if evaluate is not None:
                due = it % eval_every == 0
                history["recovery_error"].append(float(evaluate(model)) if due else math.nan)
            if monitor is not None:
                value = float(monitor(model)) if it % monitor_every == 0 else math.nan
                history["validation_error"].append(value)
                best.offer(it, value, model)

        meta = _load(checkpoint, model, optimizer, max_iter, comm)
        if meta is not None:
            length = len(meta["history"]["iteration"])
            for key in history:
                history[key].extend(meta["history"].get(key, [math.nan] * length))
            loss_value, loss0, clock = meta["loss_value"], meta["loss0"], meta["clock"]
            first = meta["n_iter"] + 1
            last_attempt, gap = meta["last_attempt"], meta["attempt_gap"]
            if first > max_iter or meta["stop_reason"] not in ("", "max_iter", "callback"):
                # the saved fit had finished: nothing left to do
                _check_finite(params)
                return TrainingOutcome(
                    n_iter=meta["n_iter"],
                    converged=meta["converged"],
                    stop_reason=meta["stop_reason"] or "max_iter",
                    history=history,
                )
            logger.info("resuming from %s at iteration %d", checkpoint.path, first)
        else:
            clock = 0.0
            start = time.perf_counter()
            loss_value = closure().item()
            if not math.isfinite(loss_value):
                raise DivergenceError(
                    "The loss at the initial point is not finite; check the observed values "
                    "and 'init_scale'."
                )
            clock += time.perf_counter() - start
            escaped = False
            record(0, loss_value, 0.0, clock)
            loss0 = loss_value
            first = 1
            last_attempt, gap = 0, _PLATEAU_WINDOW

        def save_state(iteration, stop_reason="", converged=False):
            if not comm.is_root:
                return
            checkpoint.save(
                model,
                optimizer,
                dict(
                    n_iter=iteration,
                    stop_reason=stop_reason,
                    converged=converged,
                    loss_value=loss_value,
                    loss0=loss0,
                    clock=clock,
                    last_attempt=last_attempt,
                    attempt_gap=gap,
                    history=history,
                ),
            )

        # a plateau move reads the whole residual: every rank's entries, gathered once
        whole: Any = GatheredPattern(pattern, comm) if comm.distributed else pattern
        bar = _progress(max_iter, verbose and comm.is_root)
        bar.update(first - 1)
        converged, reason, it = False, "max_iter", first - 1
        for it in range(first, max_iter + 1):
            start = time.perf_counter()
            if isinstance(optimizer, GradientDescent):  # it differentiates what it accepts
                trial = optimizer.step(loss_fn)
                if trial is None:  # no decreasing step
                    clock += time.perf_counter() - start
                    converged, reason = _no_descent(history["residual"][-1], loss_value, loss0, tol)
                    it -= 1
                    break
                eta = optimizer.step_size
            else:
                if isinstance(optimizer, torch.optim.LBFGS):
                    optimizer.step(closure)
                else:
                    optimizer.step()
                trial = closure()
                eta = optimizer.param_groups[0].get("lr", math.nan)
            loss_value = trial.item()
            if not math.isfinite(loss_value):
                raise DivergenceError(
                    f"Training diverged at iteration {it} with {type(optimizer).__name__} "
                    "(the loss became non-finite). Use a smaller learning rate."
                )
            escaped = False
            if (
                escape_plateaus
                and it - last_attempt >= gap
                and _plateau(history["loss"], loss_value)
            ):
                last_attempt = it
                escaped = model.escape_plateau(whole, seed=it, min_share=escape_min_share)
                gap = _PLATEAU_WINDOW if escaped else min(2 * gap, _MAX_ATTEMPT_GAP)
                if escaped:
                    _restart(optimizer)
                    with torch.no_grad():
                        loss_value = loss_fn().item()
            clock += time.perf_counter() - start
            record(it, loss_value, eta, clock)
            residual = history["residual"][-1]
            bar.update(1)
            if it % 10 == 0 or it == 1:
                bar.set_postfix(residual=f"{residual:.2e}", step=f"{eta:.1e}")
            logger.debug("iter %d loss %.6e residual %.3e step %.3e", it, loss_value, residual, eta)
            if residual <= tol:
                converged, reason = True, "tol"
                break
            if _stalled(history["loss"], loss0, n_iter_no_change, stall_tol):
                converged, reason = True, "stalled"
                break
            if monitor is not None and patience is not None and it - best.iteration >= patience:
                converged, reason = True, "early_stopping"
                break
            if callback is not None and callback(it, _state(history)):
                reason = "callback"
                break
            if checkpoint is not None and checkpoint.due(it):
                save_state(it)
        bar.close()
        if checkpoint is not None:
            save_state(it, reason, converged)

        missing = ""
        if reason in ("max_iter", "stalled") and history["residual"][-1] > max(tol, _MISSING_ABOVE):
            if comm.distributed:
                share = residual_share(model, pattern, it, comm)
            else:
                share = residual_direction(model, pattern, seed=it).share
            if share >= ESCAPE_MIN_SHARE:
                missing = (
                    f" The residual still holds a component the fit has not learned (one "
                    f"rank-one direction explains {share:.0%} of it)"
                )
        if reason == "max_iter":
            residual = history["residual"][-1]
            advice = (
                "The fit never left the small initialisation: use a larger 'init_scale' "
                "(or a larger 'max_iter')."
                if residual > 0.99 and weight_decay == 0
                else "Increase 'max_iter', or loosen 'tol'."
            )
            if missing and not escape_plateaus:
                advice += missing + ": leave 'escape_plateaus' on (the default)."
            elif missing:
                advice += missing + "."
            warnings.warn(
                f"Training stopped at max_iter={max_iter} before reaching tol={tol:g} "
                f"(relative training residual {residual:.3g}). {advice}",
                ConvergenceWarning,
                stacklevel=3,
            )
        if reason == "stalled" and missing:
            warnings.warn(
                f"Training stopped on n_iter_no_change={n_iter_no_change} at a relative "
                f"training residual of {history['residual'][-1]:.3g}, on a plateau, not at the "
                f"end.{missing}: raise 'n_iter_no_change' or 'max_iter'.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if weight_decay > 0 and history["residual"][-1] > 0.99:
            warnings.warn(
                f"With weight_decay={weight_decay:g} the fit stayed at or collapsed to zero "
                f"(relative training residual {history['residual'][-1]:.3g}): from a small "
                "initialisation the penalty outweighs the data. Use a smaller 'weight_decay' "
                "or a larger 'init_scale'.",
                ConvergenceWarning,
                stacklevel=3,
            )
        _check_finite(params)
        logger.info(
            "stopped after %d iterations (%s), residual %.3e", it, reason, history["residual"][-1]
        )
        best_iteration = best.restore(model) if monitor is not None else None
        return TrainingOutcome(
            n_iter=it,
            converged=converged,
            stop_reason=reason,
            history=history,
            best_iteration=best_iteration,
        )


class _Best:
    """The parameters at the best value of the monitor so far."""

    def __init__(self):
        self.value, self.iteration, self.state = math.inf, 0, None

    def offer(self, iteration, value, model) -> None:
        if value < self.value:  # NaN (not due, or a failed evaluation) never is
            self.value, self.iteration = value, iteration
            self.state = {k: t.detach().clone() for k, t in model.state_dict().items()}

    def restore(self, model) -> int:
        """Put the best parameters back into ``model``; return their iteration."""
        if self.state is not None:
            model.load_state_dict(self.state)
        return self.iteration


def _plateau(losses, loss_value) -> bool:
    """The loss fell by less than ``_PLATEAU_DROP`` over the last ``_PLATEAU_WINDOW`` steps."""
    window = _PLATEAU_WINDOW
    if len(losses) < window:
        return False
    before = losses[-window]
    return before - loss_value < _PLATEAU_DROP * before


def _restart(optimizer) -> None:
    """Forget the optimizer's memory of steps taken before the parameters moved."""
    if isinstance(optimizer, GradientDescent):
        optimizer.restart()
    else:
        optimizer.state.clear()


def _torch_groups(model: Factorization) -> list[dict]:
    """The model's parameter groups as ``torch.optim`` parameter groups."""
    return [
        {"params": g.params, "name": g.name, "step_multiplier": g.step_multiplier}
        for g in model.param_groups()
    ]


def _data_norm(pattern: SampledPattern, comm: Communicator = SINGLE) -> float:
    """``‖P_Ω(Φ)‖`` in float64 (1 when all observed values are zero), over every rank."""
    if comm.distributed:
        norm = math.sqrt(comm.sum(float(torch.sum(pattern.values.double() ** 2))))
    else:
        norm = float(torch.linalg.vector_norm(pattern.values, dtype=torch.float64))
    return norm if norm > 0 else 1.0


def _load(checkpoint, model, optimizer, max_iter, comm):
    """The saved state, if any; in a distributed fit every rank must read the same file."""
    meta = checkpoint.load(model, optimizer, max_iter) if checkpoint is not None else None
    if comm.distributed and checkpoint is not None:
        seen = comm.gather_objects(None if meta is None else meta["n_iter"])
        if any(n != seen[0] for n in seen):
            raise RuntimeError(
                f"The 'checkpoint' parameter {str(checkpoint.path)!r} is not the same file on "
                f"every rank (saved iterations by rank: {seen}): put it on a file system "
                "that every rank reads (only rank 0 writes it)."
            )
    return meta


def _no_descent(residual, loss_value, loss0, tol):
    """The search found no decreasing step: converged at precision, or stuck."""
    if residual <= max(tol, 1e-6) or loss_value <= 1e-20 * loss0:
        return True, "precision"
    warnings.warn(
        "The step-size search found no decreasing step (relative training residual "
        f"{residual:.3g}); training stopped. Try a larger 'init_scale' or another 'rank'.",
        ConvergenceWarning,
        stacklevel=4,
    )
    return False, "no_descent"


def _stalled(losses, loss0, window, stall_tol) -> bool:
    if window is None or len(losses) <= window or losses[-1] > 0.5 * loss0:
        return False
    before = losses[-1 - window]
    return before - losses[-1] <= stall_tol * before


def _state(history):
    return {key: values[-1] for key, values in history.items()}


def _check_finite(params):
    for p in params:
        if not torch.isfinite(p).all():
            raise DivergenceError(
                "Training produced non-finite parameters. Use step_size='auto' or a "
                "smaller 'step_size'."
            )


def _progress(total, verbose):
    if not verbose:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="dmc", unit="it", leave=False)


class _NoBar:
    def update(self, n):
        pass

    def set_postfix(self, **kwargs):
        pass

    def close(self):
        pass
