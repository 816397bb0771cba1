"""What a fitted ratings model holds, for the parts of its interface kept in other modules.

:class:`~dmc.recommend.model.RatingsModel` fits; the queries on a fitted
model live in their own modules as bases of it, as implicit keeps
``recommend`` and ``similar_items`` in ``MatrixFactorizationBase``:
:mod:`.recommending` (top-k lists), :mod:`.neighbours` (similar items and
users) and :mod:`.foldin` (many users or items at once). This class names the
fitted attributes they read and the check that the model is fitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

from .ids import IdIndex
from .seen import SeenItems
from .shrinkage import ShrinkagePrior

__all__ = ["FittedRatings"]


class FittedRatings:
    """The fitted attributes of a ratings model (set by ``fit``; see ``RatingsModel``)."""

    _user_index: IdIndex
    _item_index: IdIndex
    _seen: SeenItems
    _prior: ShrinkagePrior
    _opts: dict[str, Any]
    global_mean_: float
    user_bias_: np.ndarray
    item_bias_: np.ndarray
    user_factors_: np.ndarray
    item_factors_: np.ndarray
    shrinkage_: float
    rating_range_: tuple[float, float]

    @property
    def users_(self) -> np.ndarray:
        self._check_fitted()
        return self._user_index.ids

    @property
    def items_(self) -> np.ndarray:
        self._check_fitted()
        return self._item_index.ids

    def _check_fitted(self) -> None:
        if not hasattr(self, "user_factors_"):
            # NotFittedError is a ValueError and an AttributeError
            raise NotFittedError(
                "This RatingsModel is not fitted yet. Call 'fit' with ratings first."
            )
