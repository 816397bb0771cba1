"""Exceptions and warnings raised by dmc."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["ConvergenceWarning", "DivergenceError", "FileFormatError", "ProblemTooLargeError"]


class DivergenceError(FloatingPointError):
    """Training produced non-finite numbers; the message says what to change."""


class ProblemTooLargeError(ValueError, MemoryError):
    """The requested model would not fit in memory; raised before allocating."""


class FileFormatError(ValueError):
    """A file is not a dmc file, or is truncated, edited or of another kind."""
