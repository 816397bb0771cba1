"""The scikit-learn imputer and its model selection (held-out scoring, rank search)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

#: public name -> (module, attribute; None: the module itself), imported on first use
_EXPORTS = {
    "DeepMatrixCompletion": (".estimator", "DeepMatrixCompletion"),
    "model_selection": (".model_selection", None),
}

__all__ = ["DeepMatrixCompletion", "model_selection"]

if TYPE_CHECKING:  # what the first use imports (for type checkers and tests/test_layout.py)
    from . import model_selection
    from .estimator import DeepMatrixCompletion


# import a public name, or a module of this package, on first use (PEP 562)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
