"""The scikit-learn imputer and its model selection (held-out scoring, rank search)."""

from . import model_selection
from .estimator import DeepMatrixCompletion

__all__ = ["DeepMatrixCompletion", "model_selection"]
