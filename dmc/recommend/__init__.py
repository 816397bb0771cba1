"""Recommenders: (user, item, rating) in, predictions and top-k out."""

from . import evaluation
from .config import RATINGS_DEFAULTS
from .model import RatingsModel
from .ranking import Recommendations

__all__ = ["RATINGS_DEFAULTS", "RatingsModel", "Recommendations", "evaluation"]
