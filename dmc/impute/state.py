"""What a file keeps of a fitted :class:`~dmc.impute.estimator.DeepMatrixCompletion`.

:func:`dmc.io.save` stores ``get_state(estimator)`` next to the parameters;
:func:`dmc.io.load` checks it against its schema (:mod:`dmc.io.schemas`), builds
an estimator from the parameters, hands it the state (``set_state``) and checks
the parameters as ``fit`` checks them (``check_loaded``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import MAX_DEPTH, check_choice, check_float, check_int
from ..core.complete import METHODS
from . import filling
from .params import (
    check_bounds,
    check_flag,
    check_missing_values,
    check_rank,
    check_standardize,
    check_verbose,
    is_auto,
    named,
)

__all__ = ["check_loaded", "get_state", "set_state"]


def get_state(estimator: Any) -> dict[str, Any]:
    """Every attribute that is not a parameter.

    That is what ``fit`` set (``components_``, ``completed_``, ``history_``,
    the private ``_penalty``, ``_shift``, ``_scale``, ``_min_value``, ...), and
    the configuration of ``set_output`` if it was called. ``indicator_``, a
    scikit-learn object, is kept as what it learned: its ``features_``.
    """
    params = estimator.get_params(deep=False)
    state = {name: value for name, value in vars(estimator).items() if name not in params}
    if state.get("indicator_") is not None:
        state["indicator_"] = np.asarray(state["indicator_"].features_, dtype=np.int64)
    return state


def set_state(estimator: Any, state: dict[str, Any]) -> None:
    """Restore what :func:`get_state` returned, on an estimator built from the parameters.

    Files of dmc before issue 15 hold the bounds as ``_clip``, a pair: they
    become the per-feature ``_min_value`` and ``_max_value``; they hold no
    ``indicator_`` (None) and no ``_is_empty_feature`` (none dropped: the
    columns empty in their ``fit`` stay filled with the mean they were given).
    """
    params = estimator.get_params(deep=False)
    for name in state:
        if not isinstance(name, str) or name in params or name.startswith("__"):
            raise ValueError(f"the state names an invalid attribute {name!r}")
    state = dict(state)
    n_features = int(state["n_features_in_"])  # the schema requires it
    if "_clip" in state:
        low, high = state.pop("_clip")
        state.setdefault("_min_value", np.full(n_features, -math.inf if low is None else low))
        state.setdefault("_max_value", np.full(n_features, math.inf if high is None else high))
    # files before issue 15: no indicator, and every feature kept (as dmc kept them then)
    state.setdefault("indicator_", None)
    state.setdefault("_is_empty_feature", np.zeros(n_features, dtype=bool))
    if state["indicator_"] is not None:
        missing_values = check_missing_values(estimator.missing_values)
        state["indicator_"] = filling.indicator_from_features(
            state["indicator_"], n_features, missing_values
        )
    vars(estimator).update(state)


def check_loaded(estimator: Any) -> None:
    """Check the parameters as ``fit`` does, without data (:func:`dmc.io.load` calls it;
    ``dtype``, ``device`` and ``random_state`` are checked there), and that
    ``add_indicator`` agrees with the fitted ``indicator_``."""
    p = estimator.get_params(deep=False)
    check_rank(p["rank"])
    for name, low in (("max_iter", 1), ("n_iter_no_change", 1)):
        if p[name] is not None or name != "n_iter_no_change":
            named(check_int, p[name], name, low=low)
    named(check_int, p["depth"], "depth", low=2, high=MAX_DEPTH)
    named(check_choice, p["method"], "method", choices=METHODS)
    named(check_int, p["patience"], "patience", low=1)
    named(check_int, p["refine_rounds"], "refine_rounds", low=0)
    named(check_float, p["validation_fraction"], "validation_fraction", low=0.0, high=0.5)
    check_standardize(p["standardize"])
    for name in ("early_stopping", "add_indicator", "keep_empty_features"):
        check_flag(p[name], name)
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
    check_missing_values(p["missing_values"])
    check_verbose(p["verbose"])
    n_features = estimator.n_features_in_
    check_bounds(p["min_value"], p["max_value"], p["clip"], n_features, warn=False)
    indicator = getattr(estimator, "indicator_", None)
    if p["add_indicator"] != (indicator is not None):
        raise ValueError(
            f"The 'add_indicator' parameter ({p['add_indicator']}) must agree with the "
            f"fitted indicator_. Got indicator_ = {indicator!r} instead."
        )
