"""dmc: efficient deep matrix completion.

Fill in the missing entries of a partially observed matrix with a deep linear
factorization trained by gradient descent, compressed to the 2r̂-dimensional
subspace where learning happens.

>>> import dmc
>>> problem = dmc.make_problem((40, 30), 2, fraction=0.6, random_state=0)
>>> result = dmc.complete(problem.observations, rank=2, random_state=0)
>>> result.to_dense().shape
(40, 30)

``import dmc`` itself imports nothing heavy (PEP 562): the first use of any of
its names (``dmc.complete``, ``dmc.load``, ``dmc.io``, ...) imports them all at
once, torch and scikit-learn included, so that every class that
:func:`dmc.load` may find in a file is registered by then.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__: str  # read from the installed package's metadata on first use (pyproject.toml)

#: public name -> (module, attribute; None: the module itself)
_EXPORTS = {
    "METHODS": ("dmc.core", "METHODS"),
    "CompletionResult": ("dmc.core", "CompletionResult"),
    "ConvergenceWarning": ("dmc.exceptions", "ConvergenceWarning"),
    "DeepMatrixCompletion": ("dmc.impute", "DeepMatrixCompletion"),
    "DivergenceError": ("dmc.exceptions", "DivergenceError"),
    "FileFormatError": ("dmc.exceptions", "FileFormatError"),
    "LowRankMatrix": ("dmc.data", "LowRankMatrix"),
    "Observations": ("dmc.core", "Observations"),
    "Problem": ("dmc.data", "Problem"),
    "RatingsModel": ("dmc.recommend", "RatingsModel"),
    "ProblemTooLargeError": ("dmc.exceptions", "ProblemTooLargeError"),
    "complete": ("dmc.core", "complete"),
    "datasets": ("dmc.data", None),
    "evaluation": ("dmc.recommend.evaluation", None),
    "load": ("dmc.io", "load"),
    "low_rank_matrix": ("dmc.data", "low_rank_matrix"),
    "make_problem": ("dmc.data", "make_problem"),
    "model_selection": ("dmc.impute.model_selection", None),
    "recovery_error": ("dmc.core", "recovery_error"),
    "rmse": ("dmc.core", "rmse"),
    "sample_entries": ("dmc.data", "sample_entries"),
}

#: the sub-packages that are attributes of ``dmc`` once it is in use
_SUBPACKAGES = ("core", "data", "exceptions", "impute", "io", "recommend")

__all__ = [
    "METHODS",
    "CompletionResult",
    "ConvergenceWarning",
    "DeepMatrixCompletion",
    "DivergenceError",
    "FileFormatError",
    "LowRankMatrix",
    "Observations",
    "Problem",
    "RatingsModel",
    "ProblemTooLargeError",
    "complete",
    "datasets",
    "evaluation",
    "load",
    "low_rank_matrix",
    "make_problem",
    "model_selection",
    "recovery_error",
    "rmse",
    "sample_entries",
]

if TYPE_CHECKING:  # what the first use imports (for type checkers and tests/test_layout.py)
    from . import data as datasets
    from .core import METHODS, CompletionResult, Observations, complete, recovery_error, rmse
    from .data import LowRankMatrix, Problem, low_rank_matrix, make_problem, sample_entries
    from .exceptions import (
        ConvergenceWarning,
        DivergenceError,
        FileFormatError,
        ProblemTooLargeError,
    )
    from .impute import DeepMatrixCompletion, model_selection
    from .io import load
    from .recommend import RatingsModel, evaluation


def __getattr__(name: str):
    if name == "__version__":
        globals()[name] = _version()
        return globals()[name]
    if name in _EXPORTS or name in _SUBPACKAGES:
        _import_all()
        return globals()[name]
    raise AttributeError(f"module 'dmc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "__version__", *_EXPORTS, *_SUBPACKAGES})


def _version() -> str:
    """The version of the installed distribution: pyproject.toml's, the one true version."""
    import importlib.metadata

    try:
        return importlib.metadata.version("dmc")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "0+unknown"


def _import_all() -> None:
    """Import every public name (and so every storable class), once."""
    for package in _SUBPACKAGES:
        importlib.import_module(f"dmc.{package}")  # binds dmc.<package>
    for name, (module, attribute) in _EXPORTS.items():
        value = importlib.import_module(module)
        globals()[name] = value if attribute is None else getattr(value, attribute)
