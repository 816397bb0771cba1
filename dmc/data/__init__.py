"""Data in: rating files, the MovieLens fetcher and synthetic low-rank problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

#: public name -> (module, attribute; None: the module itself), imported on first use
_EXPORTS = {
    "FORMATS": (".readers", "FORMATS"),
    "MOVIELENS": (".movielens", "MOVIELENS"),
    "MovieLensArchive": (".movielens", "MovieLensArchive"),
    "fetch_movielens": (".movielens", "fetch_movielens"),
    "get_data_home": (".movielens", "get_data_home"),
    "read_ratings": (".readers", "read_ratings"),
    "LowRankMatrix": (".synthetic", "LowRankMatrix"),
    "Problem": (".synthetic", "Problem"),
    "decaying_matrix": (".synthetic", "decaying_matrix"),
    "low_rank_matrix": (".synthetic", "low_rank_matrix"),
    "make_problem": (".synthetic", "make_problem"),
    "sample_entries": (".synthetic", "sample_entries"),
}

__all__ = [
    "FORMATS",
    "MOVIELENS",
    "LowRankMatrix",
    "MovieLensArchive",
    "Problem",
    "fetch_movielens",
    "decaying_matrix",
    "get_data_home",
    "low_rank_matrix",
    "make_problem",
    "read_ratings",
    "sample_entries",
]

if TYPE_CHECKING:  # what the first use imports (for type checkers and tests/test_layout.py)
    from .movielens import MOVIELENS, MovieLensArchive, fetch_movielens, get_data_home
    from .readers import FORMATS, read_ratings
    from .synthetic import (
        LowRankMatrix,
        Problem,
        decaying_matrix,
        low_rank_matrix,
        make_problem,
        sample_entries,
    )


# import a public name, or a module of this package, on first use (PEP 562)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
