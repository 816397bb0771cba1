"""Recommenders: (user, item, rating) in, predictions and top-k out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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


# import a public name, or a module of this package, on first use (PEP 562)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
