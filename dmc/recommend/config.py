"""Settings of the ratings model: defaults per method, and its parameters checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import MAX_DEPTH, check_choice, check_float, check_int, shown
from ..core.models import METHODS, get_method
from ..core.observations import DUPLICATES

__all__ = [
    "COLD_START",
    "RATINGS_DEFAULTS",
    "SHRINKAGE_GRID",
    "resolve_options",
    "resolve_rating_range",
]


class _RatingsDefaults(Mapping):
    """Per registered method, the settings its ``None`` options take (a live view).

    Each method's class holds its own (``ratings_defaults``, see
    :func:`dmc.core.models.register_method`); the four that ship were chosen on an
    internal validation split of the MovieLens-100k training folds (docs/ratings.md).
    """

    def __getitem__(self, method):
        if method not in METHODS:
            raise KeyError(method)
        return get_method(method).ratings_defaults

    def __iter__(self):
        return iter(METHODS)

    def __len__(self) -> int:
        return len(METHODS)

    def __repr__(self) -> str:
        return repr(dict(self))


#: settings of the deep fit that ``None`` selects, per method
RATINGS_DEFAULTS = _RatingsDefaults()

#: multipliers α of the empirical-Bayes ridge tried when ``shrinkage="auto"``
SHRINKAGE_GRID = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

#: policies for a user or item not seen in ``fit`` (the ``cold_start`` parameter)
COLD_START = ("bias", "mean", "raise")


def resolve_options(model: Any) -> dict[str, Any]:
    """The parameters of a :class:`~dmc.RatingsModel`, checked, with defaults filled in.

    ``None`` for ``rank``, ``init_scale``, ``gamma``, ``weight_decay`` or
    ``max_iter`` takes the method's entry of :data:`RATINGS_DEFAULTS`.
    """
    method = check_choice(model.method, "method", METHODS)
    defaults = RATINGS_DEFAULTS[method]
    pick = lambda name: defaults[name] if getattr(model, name) is None else getattr(model, name)  # noqa: E731
    opts: dict[str, Any] = dict(method=method)
    opts["rank"] = check_int(pick("rank"), "rank", low=1)
    opts["depth"] = check_int(model.depth, "depth", low=2, high=MAX_DEPTH)
    opts["init_scale"] = check_float(pick("init_scale"), "init_scale", low=0.0, low_open=True)
    gamma = pick("gamma")
    opts["gamma"] = None if gamma is None else check_float(gamma, "gamma", low=0.0)
    opts["weight_decay"] = check_float(pick("weight_decay"), "weight_decay", low=0.0)
    opts["max_iter"] = check_int(pick("max_iter"), "max_iter", low=1)
    opts["tol"] = check_float(model.tol, "tol", low=0.0)
    opts["n_iter_no_change"] = (
        None
        if model.n_iter_no_change is None
        else check_int(model.n_iter_no_change, "n_iter_no_change", low=1)
    )
    if isinstance(model.shrinkage, str):
        if model.shrinkage != "auto":
            raise ValueError(
                "The 'shrinkage' parameter must be 'auto' or a finite real number in "
                f"[0, inf]. Got {model.shrinkage!r} instead."
            )
        opts["shrinkage"] = "auto"
    else:
        opts["shrinkage"] = check_float(model.shrinkage, "shrinkage", low=0.0)
    opts["validation_fraction"] = check_float(
        model.validation_fraction, "validation_fraction", low=0.0, high=0.5, low_open=True
    )
    opts["shrinkage_sweeps"] = check_int(model.shrinkage_sweeps, "shrinkage_sweeps", low=1)
    opts["user_bias_reg"] = check_float(model.user_bias_reg, "user_bias_reg", low=0.0)
    opts["item_bias_reg"] = check_float(model.item_bias_reg, "item_bias_reg", low=0.0)
    opts["duplicates"] = check_choice(model.duplicates, "duplicates", DUPLICATES)
    opts["cold_start"] = check_choice(model.cold_start, "cold_start", COLD_START)
    return opts


def resolve_rating_range(rating_range: Any, r: np.ndarray | None) -> tuple[float, float]:
    """The ``rating_range`` parameter checked; None: the range of the ratings ``r``."""
    if rating_range is None:
        if r is None:
            raise ValueError("The ratings are needed to read 'rating_range=None' off them.")
        return float(r.min()), float(r.max())
    bounds = None
    if isinstance(rating_range, (tuple, list)) and len(rating_range) == 2:
        try:
            bounds = tuple(check_float(x, "rating_range") for x in rating_range)
        except (TypeError, ValueError):  # the message below names the whole pair
            bounds = None
    if bounds is None or not bounds[0] < bounds[1]:
        raise ValueError(
            "The 'rating_range' parameter must be None or a pair (low, high) of finite "
            f"numbers with low < high. Got {shown(rating_range)!r} instead."
        )
    return bounds[0], bounds[1]
