"""dmc: efficient deep matrix completion.

Fill in the missing entries of a partially observed matrix with a deep linear
factorization trained by gradient descent, compressed to the 2r̂-dimensional
subspace where learning happens.

>>> import dmc
>>> problem = dmc.make_problem((40, 30), 2, fraction=0.6, random_state=0)
>>> result = dmc.complete(problem.observations, rank=2, random_state=0)
>>> result.to_dense().shape
(40, 30)
"""

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

__version__ = "0.1.0"

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
