"""The one training loop: full-batch gradient descent for any model.

Minimises ``ℓ = ½ Σ_Ω (W_ij − Φ_ij)²`` with the residual evaluated only at the
observed entries. Each parameter group moves along its negative gradient
scaled by its step multiplier (``γ`` for the compressed network's outer
factors). The base step is either

* ``"auto"`` (default): each iteration tries the Barzilai–Borwein step of the
  last move (or the last step, times ``grow`` if it needed no backtracking),
  bounded so that no tensor moves by more than ``max_change`` of its norm,
  and halves it until the loss decreases enough (Armijo). Near the small
  initialisation the curvature is tiny, so the step grows geometrically and
  the long plateau of the fixed-step recipe disappears; after it, the search
  keeps the step stable;
* a number: the published fixed-step recipe (plain GD at that step).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field

import torch

from ..exceptions import ConvergenceWarning, DivergenceError
from .models import Factorization
from .sampled import SampledPattern

logger = logging.getLogger("dmc")

__all__ = ["TrainingOutcome", "train"]

_ARMIJO = 1e-4  # sufficient-decrease constant
_SHRINK = 0.5
_MAX_BACKTRACKS = 60


@dataclass
class TrainingOutcome:
    """What the loop reports: iterations, stop reason and the per-iteration history."""

    n_iter: int
    converged: bool
    stop_reason: str
    history: dict = field(default_factory=dict)


def train(
    model: Factorization,
    pattern: SampledPattern,
    *,
    step_size="auto",
    grow: float = 2.0,
    step_rule: str = "bb",
    max_change: float | None = 3.0,
    weight_decay: float = 0.0,
    max_iter: int = 1000,
    tol: float = 1e-8,
    n_iter_no_change: int | None = None,
    stall_tol: float = 1e-7,
    evaluate=None,
    eval_every: int = 1,
    callback=None,
    verbose: bool = False,
    checkpoint=None,
) -> TrainingOutcome:
    """Train ``model`` in place on the observed entries of ``pattern``.

    Parameters
    ----------
    model : Factorization
        Any dmc model; its ``param_groups`` give the step multipliers.
    pattern : SampledPattern
        Observed indices and values on the model's device and dtype.
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
    evaluate : callable or None
        ``evaluate(model) -> float``, e.g. the recovery error against a known
        matrix, recorded every ``eval_every`` iterations; its time is not
        counted in the history's ``time``.
    callback : callable or None
        ``callback(iteration, state)`` after each iteration, ``state`` a dict
        with ``loss``, ``residual``, ``step_size`` and ``time``; return True to stop.
    verbose : bool
        Show a tqdm progress bar.
    checkpoint : dmc.checkpoint.Checkpoint or None
        Save the loop's state every ``checkpoint.every`` iterations and when
        training stops; if the checkpoint file exists, resume from it (the
        parameters in ``model`` are replaced by the saved ones).

    Notes
    -----
    One iteration costs one forward and backward pass plus one forward pass
    per backtrack; with the cores' ``O(k³)`` products, ``O(|Ω| k + (m + n) k²)``
    for the compressed network.
    """
    groups = model.param_groups()
    params = [p for g in groups for p in g.params]
    multipliers = [g.step_multiplier for g in groups for _ in g.params]
    decayed = [p for g in groups if g.decay for p in g.params]
    fixed = step_size != "auto"
    eta = float(step_size) if fixed else _initial_step(pattern)
    scale = float(torch.linalg.vector_norm(pattern.values, dtype=torch.float64))
    scale = scale if scale > 0 else 1.0

    history = {"iteration": [], "loss": [], "residual": [], "step_size": [], "time": []}
    if evaluate is not None:
        history["recovery_error"] = []

    fit_term = [0.0]  # the data part ½‖P_Ω(W − Φ)‖² of the last loss evaluated

    def loss_fn():
        r = (model.predict(pattern) - pattern.values).double()  # sum in float64
        data = 0.5 * torch.dot(r, r)
        fit_term[0] = data.detach()
        if weight_decay == 0:
            return data
        penalty = sum(torch.sum(p.double() ** 2) for p in decayed)
        return data + 0.5 * weight_decay * penalty

    # Rounding noise of the loss: below it, a predicted decrease cannot be seen
    # (float32 near a small initialisation); such steps are accepted, bounded
    # by ``max_change``.
    unit = torch.finfo(pattern.values.dtype).eps

    def record(it, loss_value, eta_value, elapsed):
        history["iteration"].append(it)
        history["loss"].append(loss_value)
        history["residual"].append(math.sqrt(2.0 * float(fit_term[0])) / scale)
        history["step_size"].append(eta_value)
        history["time"].append(elapsed)
        if evaluate is not None:
            due = it % eval_every == 0
            history["recovery_error"].append(float(evaluate(model)) if due else math.nan)

    saved_state = checkpoint.load() if checkpoint is not None else None
    if saved_state is not None:
        resumed = _resume(saved_state, params, history)
        loss_value, loss0, eta, previous, clock, first = resumed
        if first > max_iter or saved_state[0]["stop_reason"] not in ("", "max_iter", "callback"):
            # the saved fit had finished: nothing left to do
            _check_finite(params)
            meta = saved_state[0]
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
        loss = loss_fn()
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise DivergenceError(
                "The loss at the initial point is not finite; check the observed values "
                "and 'init_scale'."
            )
        _zero_grad(params)
        loss.backward()
        clock += time.perf_counter() - start
        record(0, loss_value, 0.0, clock)
        loss0 = loss_value
        previous, first = None, 1

    def save_state(iteration, stop_reason="", converged=False):
        _save(
            checkpoint,
            params,
            previous,
            history,
            iteration,
            stop_reason,
            converged,
            loss_value=loss_value,
            loss0=loss0,
            eta=eta,
            clock=clock,
        )

    bar = _progress(max_iter, verbose)
    bar.update(first - 1)
    converged, reason, it = False, "max_iter", first - 1
    for it in range(first, max_iter + 1):
        start = time.perf_counter()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        saved = [p.detach().clone() for p in params]
        slope = _inner(multipliers, grads, grads)
        if step_rule == "bb" and previous is not None and not fixed:
            eta = _barzilai_borwein(multipliers, previous, grads, eta)
        if fixed:
            trial = _step_to(params, saved, grads, multipliers, eta, loss_fn)
            trial_value = trial.item()
            if not math.isfinite(trial_value):
                _restore(params, saved)
                raise DivergenceError(
                    f"Training diverged at iteration {it} with the fixed step_size={eta:g} "
                    "(the loss became non-finite). Use a smaller 'step_size' or "
                    "step_size='auto', which backs off automatically."
                )
        else:
            if max_change is not None:
                eta = min(eta, _largest_step(params, grads, multipliers, max_change))
            backtracked = False
            for _ in range(_MAX_BACKTRACKS):
                trial = _step_to(params, saved, grads, multipliers, eta, loss_fn)
                trial_value = trial.item()
                decrease = _ARMIJO * eta * slope
                noise = 4 * unit * scale * math.sqrt(2 * loss_value)
                if math.isfinite(trial_value) and (
                    trial_value <= loss_value - decrease
                    or (decrease <= noise and trial_value <= loss_value + noise)
                ):
                    break
                eta *= _SHRINK
                backtracked = True
            else:
                _restore(params, saved)
                clock += time.perf_counter() - start
                converged, reason = _no_descent(history["residual"][-1], loss_value, loss0, tol)
                it -= 1
                break
        previous = (grads, eta)
        _zero_grad(params)
        trial.backward()
        loss, loss_value = trial, trial_value
        clock += time.perf_counter() - start
        record(it, loss_value, eta, clock)
        residual = history["residual"][-1]
        bar.update(1)
        if it % 10 == 0 or it == 1:
            bar.set_postfix(residual=f"{residual:.2e}", step=f"{eta:.1e}")
        logger.debug("iter %d loss %.6e residual %.3e step %.3e", it, loss_value, residual, eta)
        if not fixed and not backtracked:
            eta *= grow  # the next trial step
        if residual <= tol:
            converged, reason = True, "tol"
            break
        if _stalled(history["loss"], loss0, n_iter_no_change, stall_tol):
            converged, reason = True, "stalled"
            break
        if callback is not None and callback(it, _state(history)):
            reason = "callback"
            break
        if checkpoint is not None and checkpoint.due(it):
            save_state(it)
    bar.close()
    if checkpoint is not None:
        save_state(it, reason, converged)

    if reason == "max_iter":
        residual = history["residual"][-1]
        advice = (
            "The fit never left the small initialisation: use a larger 'init_scale' "
            "(or a larger 'max_iter')."
            if residual > 0.99 and weight_decay == 0
            else "Increase 'max_iter', or loosen 'tol'."
        )
        warnings.warn(
            f"Training stopped at max_iter={max_iter} before reaching tol={tol:g} "
            f"(relative training residual {residual:.3g}). {advice}",
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
    return TrainingOutcome(n_iter=it, converged=converged, stop_reason=reason, history=history)


def _save(checkpoint, params, previous, history, iteration, stop_reason, converged, **scalars):
    """Write what the loop carries into the next iteration to ``checkpoint``."""
    arrays = {}
    for k, p in enumerate(params):
        arrays[f"param_{k}"] = p.detach().cpu().numpy()
        arrays[f"grad_{k}"] = p.grad.detach().cpu().numpy()
    if previous is not None:
        for k, g in enumerate(previous[0]):
            arrays[f"previous_grad_{k}"] = g.detach().cpu().numpy()
    meta = dict(
        scalars,
        n_iter=iteration,
        stop_reason=stop_reason,
        converged=converged,
        previous_eta=None if previous is None else previous[1],
        history=history,
    )
    checkpoint.save(meta, arrays)


def _resume(saved, params, history):
    """Load a checkpoint's state into ``params`` and ``history``; return the loop's scalars."""
    meta, arrays = saved
    with torch.no_grad():
        for k, p in enumerate(params):
            value = arrays.get(f"param_{k}")
            if value is None or tuple(value.shape) != tuple(p.shape):
                raise ValueError(
                    "The checkpoint does not match the model: parameter "
                    f"{k} has shape {None if value is None else value.shape}, expected "
                    f"{tuple(p.shape)}."
                )
            p.copy_(torch.from_numpy(value))
            p.grad = torch.from_numpy(arrays[f"grad_{k}"]).to(device=p.device, dtype=p.dtype)
    previous = None
    if meta["previous_eta"] is not None:
        grads = [
            torch.from_numpy(arrays[f"previous_grad_{k}"]).to(device=p.device, dtype=p.dtype)
            for k, p in enumerate(params)
        ]
        previous = (grads, meta["previous_eta"])
    saved_history = meta["history"]
    length = len(saved_history["iteration"])
    for key in history:
        history[key].extend(saved_history.get(key, [math.nan] * length))
    first = meta["n_iter"] + 1
    return meta["loss_value"], meta["loss0"], meta["eta"], previous, meta["clock"], first


def _inner(multipliers, a, b) -> float:
    """``Σ μ ⟨a, b⟩`` over parameter tensors: the metric of the step multipliers."""
    return sum(
        mu * float(torch.dot(x.flatten(), y.flatten())) for mu, x, y in zip(multipliers, a, b)
    )


def _barzilai_borwein(multipliers, previous, grads, eta):
    """The Barzilai–Borwein step ``⟨s, s⟩ / ⟨s, y⟩`` for the last move ``s = −η M g_prev``.

    ``y = g − g_prev``; in the metric of the multipliers ``M`` this is
    ``η ⟨g_prev, g_prev⟩_M / ⟨g_prev, g_prev − g⟩_M``. Where the curvature along
    the last move is not positive, the current step is kept.
    """
    g_prev, eta_prev = previous
    diff = [gp - g for gp, g in zip(g_prev, grads)]
    sy = _inner(multipliers, g_prev, diff)
    if sy <= 0:
        return eta
    return eta_prev * _inner(multipliers, g_prev, g_prev) / sy


def _step_to(params, saved, directions, multipliers, eta, loss_fn):
    with torch.no_grad():
        for p, p0, g, mu in zip(params, saved, directions, multipliers):
            torch.add(p0, g, alpha=-eta * mu, out=p)
    return loss_fn()


def _largest_step(params, directions, multipliers, max_change):
    """Largest step moving no parameter tensor by more than ``max_change`` of its norm.

    A tensor that is exactly zero has no scale to be relative to and sets no bound.
    """
    cap = math.inf
    for p, d, mu in zip(params, directions, multipliers):
        size = mu * float(torch.linalg.vector_norm(d))
        norm = float(torch.linalg.vector_norm(p.detach()))
        if size > 0 and norm > 0:
            cap = min(cap, max_change * norm / size)
    return cap


def _restore(params, saved):
    with torch.no_grad():
        for p, p0 in zip(params, saved):
            p.copy_(p0)


def _zero_grad(params):
    for p in params:
        p.grad = None


def _initial_step(pattern: SampledPattern) -> float:
    """A first trial step; the search adapts it within a few iterations."""
    norm = float(torch.linalg.vector_norm(pattern.values, dtype=torch.float64))
    return 1.0 / norm if norm > 0 else 1.0


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
