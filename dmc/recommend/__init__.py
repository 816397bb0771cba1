"""Recommenders: (user, item, rating) in, predictions and top-k out."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

#: public name -> (module, attribute; None: the module itself), imported on first use
_EXPORTS = {
    "cross_validate": (".crossval", "cross_validate"),
    "evaluation": (".evaluation", None),
    "RATINGS_DEFAULTS": (".config", "RATINGS_DEFAULTS"),
    "RatingsModel": (".model", "RatingsModel"),
    "Recommendations": (".ranking", "Recommendations"),
}

__all__ = ["RATINGS_DEFAULTS", "RatingsModel", "Recommendations", "cross_validate", "evaluation"]

if TYPE_CHECKING:  # what the first use imports (for type checkers and tests/test_layout.py)
    from . import evaluation
    from .config import RATINGS_DEFAULTS
    from .crossval import cross_validate
    from .model import RatingsModel
    from .ranking import Recommendations


def __getattr__(name: str):
    """Import a public name, or a module of this package, on first use (PEP 562)."""
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = importlib.import_module(module, __name__)
        value = value if attribute is None else getattr(value, attribute)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
