"""The core layer: observations, models, the optimizer and the training loop.

Data flows one way through it: :mod:`~dmc.core.observations` (what the user
observed) → :mod:`~dmc.core.models` (the factorizations) →
:mod:`~dmc.core.training` (one loop for every model) →
:func:`~dmc.core.complete.complete` (the function every front door calls).
Nothing here knows about scikit-learn estimators, ratings or files of models.
"""

from .complete import METHODS, CompletionResult, complete
from .metrics import mae, recovery_error, rmse
from .observations import Observations

__all__ = [
    "METHODS",
    "CompletionResult",
    "Observations",
    "complete",
    "mae",
    "recovery_error",
    "rmse",
]
