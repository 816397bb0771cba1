"""K-fold evaluation of a ratings model in one call, as Surprise's ``cross_validate``.

Surprise (``surprise/model_selection/validation.py``) fits a copy of the
algorithm on each training part, predicts the test part and reports, per fold,
each accuracy measure and the fit and test times. :func:`cross_validate` does
the same for :class:`~dmc.recommend.model.RatingsModel` (or any estimator with
``fit(users, items, ratings)`` and ``predict(users, items)``), with Surprise's
folds (:func:`~.evaluation.kfold_split`: shuffled ratings cut into ``cv``
nearly equal parts, as Surprise's ``KFold``), and returns a table.
"""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone

from .._validation import check_bool, check_int
from .evaluation import fcp, kfold_split, mae, mse, rmse
from .inputs import triplets

logger = logging.getLogger(__name__)

__all__ = ["MEASURES", "cross_validate"]

#: the measures by name (Surprise's ``accuracy`` module): ``f(users, y_true, y_pred)``
MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "rmse": lambda users, y_true, y_pred: rmse(y_true, y_pred),
    "mse": lambda users, y_true, y_pred: mse(y_true, y_pred),
    "mae": lambda users, y_true, y_pred: mae(y_true, y_pred),
    "fcp": fcp,
}


def cross_validate(
    model: Any,
    users: ArrayLike,
    items: ArrayLike | None = None,
    ratings: ArrayLike | None = None,
    *,
    measures: Sequence[str] = ("rmse", "mae"),
    cv: int | Any = 5,
    return_train_measures: bool = False,
    random_state: int | np.random.Generator | None = None,
    as_frame: bool = True,
) -> Any:
    """Fit and score copies of ``model`` on ``cv`` folds of the ratings (Surprise's function).

    For each fold, a copy of ``model`` (:func:`sklearn.base.clone`: the same
    parameters, unfitted) is fitted on the other folds and predicts the
    ratings of this one. ``model`` itself is left as it was.

    Parameters
    ----------
    model : RatingsModel
        Or any scikit-learn-style estimator with ``fit(users, items, ratings)``
        and ``predict(users, items)``. Test ratings of users or items that its
        training part lacks follow the model's ``cold_start`` policy (with
        ``cold_start="raise"`` the call fails on the first such fold).
    users, items, ratings
        As :meth:`RatingsModel.fit <dmc.recommend.model.RatingsModel.fit>`: a
        table with columns ``user``, ``item``, ``rating``, or three arrays.
    measures : sequence of str, default ("rmse", "mae")
        Names of :data:`MEASURES`, in any case: "rmse", "mse", "mae", "fcp".
    cv : int, splitter or iterable of (train, test), default 5
        An int is the number of folds, in [2, n_ratings], made by
        :func:`~.evaluation.kfold_split` seeded by ``random_state``; an object
        with a ``split`` method (a scikit-learn splitter such as ``KFold``) is
        asked for ``split(ratings)``; otherwise, pairs of index arrays into the
        ratings (e.g. ``list(kfold_split(n, 5))``).
    return_train_measures : bool, default False
        Also score each fold's model on its own training ratings.
    random_state : int, numpy Generator or None
        Seeds the folds when ``cv`` is an int (the model keeps its own).
    as_frame : bool, default True
        Return a pandas DataFrame (needs pandas, the ``ratings`` extra); False:
        the dict of arrays Surprise returns.

    Returns
    -------
    pandas.DataFrame or dict
        One row per fold (index ``fold``), columns ``test_<measure>`` for each
        measure, ``train_<measure>`` with ``return_train_measures``, then
        ``fit_time`` and ``test_time`` (seconds, ``time.perf_counter``; the test
        time is that of ``predict``). As a dict: the same keys, one array of a
        value per fold each (Surprise's result). ``.mean()`` and ``.std()`` of
        the table give the summary Surprise prints with ``verbose``.

    Notes
    -----
    ``cv`` fits of the model on ``(cv − 1) / cv`` of the ratings.

    Examples
    --------
    >>> import numpy as np
    >>> from dmc.recommend import RatingsModel, cross_validate
    >>> rng = np.random.default_rng(0)
    >>> pairs = rng.permutation(30 * 20)[:300]
    >>> ratings = np.clip(np.round(3 + pairs % 3 + rng.normal(0, 0.5, 300)), 1, 5)
    >>> table = cross_validate(
    ...     RatingsModel(rank=2, random_state=0), pairs // 20, pairs % 20, ratings,
    ...     cv=3, random_state=0,
    ... )
    >>> list(table.columns), len(table)
    (['test_rmse', 'test_mae', 'fit_time', 'test_time'], 3)
    >>> bool((table["test_rmse"] >= table["test_mae"]).all())
    True
    """
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise TypeError(
            "The 'model' parameter must be an estimator with fit(users, items, ratings) and "
            f"predict(users, items), such as a RatingsModel. Got {type(model).__name__} instead."
        )
    users, items, ratings = triplets(users, items, ratings)
    names = _check_measures(measures)
    return_train_measures = check_bool(return_train_measures, "return_train_measures")
    as_frame = check_bool(as_frame, "as_frame")
    folds = _folds(cv, ratings.size, random_state)

    results: dict[str, list[float]] = {f"test_{m}": [] for m in names}
    if return_train_measures:
        results.update({f"train_{m}": [] for m in names})
    results.update(fit_time=[], test_time=[])
    for f, (train, test) in enumerate(folds):
        fold_model = clone(model)
        start = time.perf_counter()
        fold_model.fit(users[train], items[train], ratings[train])
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        pred = np.asarray(fold_model.predict(users[test], items[test]), dtype=np.float64)
        test_time = time.perf_counter() - start
        for m in names:
            results[f"test_{m}"].append(MEASURES[m](users[test], ratings[test], pred))
        if return_train_measures:
            train_pred = np.asarray(fold_model.predict(users[train], items[train]), np.float64)
            for m in names:
                results[f"train_{m}"].append(MEASURES[m](users[train], ratings[train], train_pred))
        results["fit_time"].append(fit_time)
        results["test_time"].append(test_time)
        logger.info(
            "fold %d: %s, fit %.2f s",
            f,
            ", ".join(f"{m} {results[f'test_{m}'][-1]:.4f}" for m in names),
            fit_time,
        )
    arrays = {key: np.asarray(values, dtype=np.float64) for key, values in results.items()}
    if not as_frame:
        return arrays
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "as_frame=True needs pandas: pip install 'dmc[ratings]' (or pandas), or pass "
            "as_frame=False for a dict of numpy arrays."
        ) from None
    table = pd.DataFrame(arrays)
    table.index.name = "fold"
    return table


def _check_measures(measures) -> list[str]:
    if isinstance(measures, (str, bytes)) or not isinstance(measures, Iterable):
        raise TypeError(
            "The 'measures' parameter must be a sequence of measure names such as "
            f"('rmse', 'mae'). Got {measures!r} instead."
        )
    names = []
    for m in measures:
        name = m.lower() if isinstance(m, str) else m
        if name not in MEASURES:
            raise ValueError(
                f"The 'measures' parameter must name measures among {sorted(MEASURES)} "
                f"(any case). Got {m!r} instead."
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("The 'measures' parameter must name at least one measure. Got none.")
    return names


def _folds(cv, n: int, random_state) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of ``cv``, checked."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = check_int(cv, "cv", low=2, high=n)  # at most one fold per rating
        return list(kfold_split(n, cv, random_state=random_state))
    if callable(getattr(cv, "split", None)) and not isinstance(cv, str):
        pairs = cv.split(np.zeros((n, 1)))
    elif isinstance(cv, Iterable) and not isinstance(cv, (str, bytes, bool)):
        pairs = cv
    else:
        raise TypeError(
            "The 'cv' parameter must be an int, a splitter with a 'split' method or an "
            f"iterable of (train, test) index arrays. Got {type(cv).__name__} instead."
        )
    folds = []
    for f, pair in enumerate(pairs):
        try:
            train, test = (np.asarray(part) for part in pair)
        except (TypeError, ValueError):
            raise TypeError(
                "The 'cv' parameter must yield (train, test) pairs of index arrays. "
                f"Got {type(pair).__name__} for fold {f} instead."
            ) from None
        for name, part in (("train", train), ("test", test)):
            if part.ndim != 1 or part.size == 0 or part.dtype.kind not in "iu":
                raise ValueError(
                    f"The 'cv' parameter must yield non-empty 1-D integer {name} indices. "
                    f"Got {part.dtype} of shape {part.shape} for fold {f} instead."
                )
            if part.min() < 0 or part.max() >= n:
                raise ValueError(
                    f"The 'cv' parameter must yield {name} indices in [0, {n - 1}] (the "
                    f"ratings). Got {int(part.min())}..{int(part.max())} for fold {f} instead."
                )
        folds.append((train.astype(np.int64), test.astype(np.int64)))
    if not folds:
        raise ValueError("The 'cv' parameter must yield at least one (train, test) pair. Got none.")
    return folds
