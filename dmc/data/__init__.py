"""Data in: rating files, the MovieLens fetcher and synthetic low-rank problems."""

from .readers import (
    FORMATS,
    MOVIELENS,
    MovieLensArchive,
    fetch_movielens,
    get_data_home,
    read_ratings,
)
from .synthetic import LowRankMatrix, Problem, low_rank_matrix, make_problem, sample_entries

__all__ = [
    "FORMATS",
    "MOVIELENS",
    "LowRankMatrix",
    "MovieLensArchive",
    "Problem",
    "fetch_movielens",
    "get_data_home",
    "low_rank_matrix",
    "make_problem",
    "read_ratings",
    "sample_entries",
]
