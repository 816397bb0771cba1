"""dmc's step rule as a ``torch.optim.Optimizer``: gradient descent with a step search.

:class:`GradientDescent` moves each parameter group along its negative
gradient scaled by the group's ``step_multiplier`` (``γ`` for the compressed
network's outer factors). The base step is either

* searched (``search=True``, the default): each step tries the
  Barzilai–Borwein step of the last move (``rule="bb"``) or the last step,
  enlarged by ``grow`` when it needed no backtracking (``rule="armijo"``),
  bounded so that no tensor moves by more than ``max_change`` of its norm,
  and halves it until the loss decreases enough (Armijo). Near a small
  initialisation the curvature is tiny, so the step grows geometrically and
  the long plateau of the fixed-step recipe disappears;
* fixed (``search=False``): plain gradient descent at ``lr``, the published
  recipe.

Like :class:`torch.optim.LBFGS`, it needs a closure, but one that only
evaluates the loss and returns it with its autograd graph: the step search
tries several points and differentiates only the one it accepts, so a rejected
trial costs a forward pass and no backward pass. :meth:`GradientDescent.step`
returns the loss at the *new* point, and on return the parameters' ``.grad``
hold the gradient there, so a training loop needs one forward and one backward
pass per iteration, plus one forward pass per backtrack.
Everything carried from one step to the next lives in ``self.state``, so
``state_dict()`` and ``load_state_dict()`` checkpoint and resume it exactly.
"""

from __future__ import annotations

import math

import torch

from .._validation import check_int
from ..exceptions import DivergenceError

__all__ = ["GradientDescent"]

_ARMIJO = 1e-4  # sufficient-decrease constant
_SHRINK = 0.5
_MAX_BACKTRACKS = 60


class GradientDescent(torch.optim.Optimizer):
    """Full-batch gradient descent with per-group step multipliers and a step search.

    Parameters
    ----------
    params : iterable of tensors or of dicts
        Parameters, or parameter groups; a group's ``step_multiplier``
        (default 1) scales the base step for its tensors.
    lr : float
        The fixed step (``search=False``), or the first trial step.
    search : bool, default True
        Search the step (Barzilai–Borwein or grown trial, Armijo backtracking).
    rule : {"bb", "armijo"}, default "bb"
        The trial step of the search (see the module docstring).
    grow : float, default 2.0
        Factor by which a step accepted without backtracking is enlarged for the
        next trial.
    max_change : float or None, default 3.0
        Under the search, the largest relative change of any tensor in one step.
    data_norm : float, default 1.0
        ``‖P_Ω(Φ)‖``, the scale of the loss's rounding noise: a predicted decrease
        below that noise cannot be seen, and such steps are accepted.
    step_bits : int or None, default None
        Under the search, keep only the leading ``step_bits`` bits of each trial
        step (rounded down: the step shrinks by less than ``2**-step_bits``).
        None keeps every bit. The Barzilai–Borwein step is a ratio of gradient
        differences; on a nearly flat loss it turns rounding-level differences
        (sums in another order: another thread count, or the ``all_reduce`` of a
        distributed fit) into different steps, and two fits of the same data
        then drift apart by ~1.5× an iteration. With a few bits they take the
        same steps and agree to rounding (bench/README.md, "Many processes").

    Notes
    -----
    Each step costs one closure call (a forward pass) per trial, one backward
    pass, and ``O(n_parameters)`` for the vector operations.

    Examples
    --------
    >>> import torch
    >>> from dmc.core.optim import GradientDescent
    >>> x = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    >>> opt = GradientDescent([x], lr=0.1)
    >>> def closure():  # the loss only: the optimizer differentiates what it accepts
    ...     return 0.5 * (x**2).sum()
    >>> for _ in range(20):
    ...     loss = opt.step(closure)
    >>> bool(loss.item() < 1e-12)
    True
    """

    def __init__(
        self,
        params,
        lr: float,
        *,
        search: bool = True,
        rule: str = "bb",
        grow: float = 2.0,
        max_change: float | None = 3.0,
        data_norm: float = 1.0,
        step_bits: int | None = None,
    ):
        if not lr > 0:
            raise ValueError(f"The 'lr' parameter must be a positive float. Got {lr!r} instead.")
        if rule not in ("bb", "armijo"):
            raise ValueError(
                f"The 'rule' parameter must be 'bb' or 'armijo'. Got {rule!r} instead."
            )
        if step_bits is not None:
            step_bits = check_int(step_bits, "step_bits", low=1, high=52)
        defaults = dict(
            lr=lr,
            step_multiplier=1.0,
            search=search,
            rule=rule,
            grow=grow,
            max_change=max_change,
            data_norm=data_norm,
            step_bits=step_bits,
        )
        super().__init__(params, defaults)
        self._params = [p for group in self.param_groups for p in group["params"]]

    @property
    def step_size(self) -> float | None:
        """The base step of the last accepted step (None before the first)."""
        return self.state[self._params[0]].get("step_size")

    def restart(self) -> None:
        """Forget the memory of past steps (after the parameters were changed from outside).

        The next step evaluates the loss afresh and takes a plain gradient step
        from the current step size (no Barzilai–Borwein step across the change).
        """
        state = self.state[self._params[0]]
        eta, n_steps = state.get("eta", self.defaults["lr"]), state.get("n_steps", 0)
        self.state.clear()
        if n_steps:
            self.state[self._params[0]].update(eta=eta, n_steps=n_steps)

    @torch.no_grad()
    def step(self, closure):
        """One step; returns the loss at the new point, or None when no step decreases it.

        ``closure()`` evaluates the loss at the current parameters and returns it
        with its autograd graph (it does not call ``backward``). On None (the
        search halved the step ``60`` times without a decrease) the parameters and
        their gradients are left as they were.
        """
        closure = torch.enable_grad()(closure)
        hp = self.defaults
        params = self._params
        multipliers = [g["step_multiplier"] for g in self.param_groups for _ in g["params"]]
        state = self.state[params[0]]
        if "loss" not in state:  # first step, or after a restart
            state["loss"] = self._differentiate(closure()).item()
            state.setdefault("eta", float(hp["lr"]))
            state.setdefault("n_steps", 0)
        loss_value, eta = state["loss"], state["eta"]
        search = hp["search"]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        saved = [p.detach().clone() for p in params]
        slope = _inner(multipliers, grads, grads)
        previous = [self.state[p].get("previous_grad") for p in params]
        if search and hp["rule"] == "bb" and "previous_eta" in state:
            eta = _barzilai_borwein(multipliers, previous, state["previous_eta"], grads, eta)
        backtracked = False
        if not search:
            trial = _step_to(params, saved, grads, multipliers, eta, closure)
            trial_value = trial.item()
            if not math.isfinite(trial_value):
                _restore(params, saved, grads)
                raise DivergenceError(
                    f"Training diverged at iteration {state['n_steps'] + 1} with the fixed "
                    f"step_size={eta:g} (the loss became non-finite). Use a smaller "
                    "'step_size' or step_size='auto', which backs off automatically."
                )
        else:
            if hp["max_change"] is not None:
                eta = min(eta, _largest_step(params, grads, multipliers, hp["max_change"]))
            if hp["step_bits"] is not None:
                eta = _leading_bits(eta, hp["step_bits"])
            # rounding noise of the loss (float32 near a small initialisation)
            unit = torch.finfo(params[0].dtype).eps
            noise = 4 * unit * hp["data_norm"] * math.sqrt(2 * loss_value)
            for _ in range(_MAX_BACKTRACKS):
                trial = _step_to(params, saved, grads, multipliers, eta, closure)
                trial_value = trial.item()
                decrease = _ARMIJO * eta * slope
                if math.isfinite(trial_value) and (
                    trial_value <= loss_value - decrease
                    or (decrease <= noise and trial_value <= loss_value + noise)
                ):
                    break
                eta *= _SHRINK
                backtracked = True
            else:
                _restore(params, saved, grads)
                state["eta"] = eta
                return None
        self._differentiate(trial)
        for p, g in zip(params, grads):
            self.state[p]["previous_grad"] = g
        state["previous_eta"] = eta
        state["step_size"] = eta
        state["eta"] = eta * hp["grow"] if search and not backtracked else eta
        state["loss"] = trial_value
        state["n_steps"] += 1
        return trial

    def _differentiate(self, loss: torch.Tensor) -> torch.Tensor:
        """Replace the parameters' gradients by those of ``loss``."""
        self.zero_grad()
        with torch.enable_grad():
            loss.backward()
        return loss


def _inner(multipliers, a, b) -> float:
    """``Σ μ ⟨a, b⟩`` over parameter tensors: the metric of the step multipliers."""
    return sum(
        mu * float(torch.dot(x.flatten(), y.flatten())) for mu, x, y in zip(multipliers, a, b)
    )


def _barzilai_borwein(multipliers, g_prev, eta_prev, grads, eta):
    """The Barzilai–Borwein step ``⟨s, s⟩ / ⟨s, y⟩`` for the last move ``s = −η M g_prev``.

    ``y = g − g_prev``; in the metric of the multipliers ``M`` this is
    ``η ⟨g_prev, g_prev⟩_M / ⟨g_prev, g_prev − g⟩_M``. Where the curvature along
    the last move is not positive, the current step is kept.
    """
    diff = [gp - g for gp, g in zip(g_prev, grads)]
    sy = _inner(multipliers, g_prev, diff)
    if sy <= 0:
        return eta
    return eta_prev * _inner(multipliers, g_prev, g_prev) / sy


def _leading_bits(x: float, bits: int) -> float:
    """``x > 0`` with its mantissa cut to its leading ``bits`` bits (halving keeps them)."""
    if not (math.isfinite(x) and x > 0):
        return x
    mantissa, exponent = math.frexp(x)
    return math.ldexp(math.floor(mantissa * 2.0**bits) / 2.0**bits, exponent)


def _step_to(params, saved, directions, multipliers, eta, closure):
    for p, p0, g, mu in zip(params, saved, directions, multipliers):
        torch.add(p0, g, alpha=-eta * mu, out=p)
    return closure()


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


def _restore(params, saved, grads):
    for p, p0, g in zip(params, saved, grads):
        p.copy_(p0)
        p.grad = g
