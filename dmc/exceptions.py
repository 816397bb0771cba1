"""Exceptions and warnings raised by dmc."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["ConvergenceWarning", "DivergenceError", "ProblemTooLargeError"]


class DivergenceError(FloatingPointError):
    """Training produced non-finite numbers; the message says what to change."""


class ProblemTooLargeError(ValueError, MemoryError):
    """The requested model would not fit in memory; raised before allocating."""
