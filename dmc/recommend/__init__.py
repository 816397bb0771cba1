"""Recommenders: (user, item, rating) in, predictions and top-k out."""

from . import evaluation
from .model import RATINGS_DEFAULTS, RatingsModel, Recommendations

__all__ = ["RATINGS_DEFAULTS", "RatingsModel", "Recommendations", "evaluation"]
