"""Parameter checks of :class:`~dmc.impute.estimator.DeepMatrixCompletion`.

Each check names the estimator and the parameter, as ``fit`` reports them.
"""

from __future__ import annotations

from .._validation import as_dense_matrix, check_float

__all__ = ["check_clip", "check_dense_X", "is_auto", "name_estimator", "named"]


def is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def check_dense_X(X):
    """Refuse, naming 'X', what scikit-learn's check_array refuses with less clear words."""
    try:
        as_dense_matrix(X, "X", owner=" of DeepMatrixCompletion")
    except TypeError as exc:
        if "complex" not in str(exc):
            raise
        # scikit-learn's contract: a ValueError that says so
        raise ValueError(f"{exc} Complex data not supported.") from None


def check_clip(clip):
    if clip is None:
        return (None, None)
    expected = "None or a pair (low, high) of real numbers or None with low <= high"
    try:
        low, high = clip
    except (TypeError, ValueError):
        raise TypeError(
            f"The 'clip' parameter of DeepMatrixCompletion must be {expected}. "
            f"Got {clip!r} instead."
        ) from None
    bounds = []
    for value in (low, high):
        if value is not None:
            value = named(check_float, value, "clip")
        bounds.append(value)
    if None not in bounds and bounds[0] > bounds[1]:
        raise ValueError(
            f"The 'clip' parameter of DeepMatrixCompletion must be {expected}. "
            f"Got {clip!r} instead."
        )
    return tuple(bounds)


def named(check, value, name, **kwargs):
    """Run a ``dmc._validation`` check, naming the estimator in its message."""
    try:
        return check(value, name, **kwargs)
    except (TypeError, ValueError) as exc:
        name_estimator(exc, [name])
        raise


def name_estimator(exc, names):
    """Rewrite "The 'p' parameter ..." into "The 'p' parameter of DeepMatrixCompletion ..."."""
    message = str(exc)
    for name in names:
        prefix = f"The {name!r} parameter "
        if message.startswith(prefix) and exc.args:
            exc.args = (
                f"The {name!r} parameter of DeepMatrixCompletion " + message[len(prefix) :],
                *exc.args[1:],
            )
            return
