"""The same random_state gives the same bits, whatever the global RNG state and what ran before.

Thread-count dependence is measured, not asserted: ``python bench/determinism.py``.
"""

import random
import warnings

import numpy as np
import pytest
import torch

import dmc


def _disturb(seed):
    """Change every global random state a careless library could read, and run other fits."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.rand(seed + 1)
    np.random.rand(seed + 1)
    other = dmc.make_problem((30, 20), 2, fraction=0.5, random_state=seed)
    dmc.complete(other.observations, rank=2, max_iter=5 + seed, method="narrow")


def _twice(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        _disturb(1)
        first = fit()
        _disturb(2)
        second = fit()
    return first, second


@pytest.mark.parametrize("method", dmc.METHODS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_complete(small_problem, method, dtype):
    def fit():
        result = dmc.complete(
            small_problem.observations, rank=2, method=method, dtype=dtype, random_state=11,
            max_iter=40,
        )  # fmt: skip
        return result.to_dense(), result.history["loss"], result.history["step_size"]

    (a, loss_a, step_a), (b, loss_b, step_b) = _twice(fit)
    assert a.dtype == np.dtype(dtype)
    assert np.array_equal(a, b) and loss_a == loss_b and step_a == step_b


def test_estimator(small_problem):
    X = small_problem.observations.to_dense()

    def fit():
        est = dmc.DeepMatrixCompletion(rank=2, random_state=5, max_iter=40).fit(X[:50])
        return est.transform(X[50:]), est.components_

    (a, ca), (b, cb) = _twice(fit)
    assert np.array_equal(a, b) and np.array_equal(ca, cb)


def test_ratings_model():
    rng = np.random.default_rng(0)
    users = rng.integers(0, 40, 600)
    items = rng.integers(0, 30, 600)
    keep = np.unique(users * 100 + items, return_index=True)[1]
    users, items = users[keep], items[keep]
    ratings = np.clip(np.round(3 + rng.normal(size=users.size)), 1, 5)

    def fit():
        model = dmc.RatingsModel(rank=2, random_state=4, max_iter=40).fit(users, items, ratings)
        return model.predict(users, items), model.recommend(users[0], k=5)[0]

    (a, ra), (b, rb) = _twice(fit)
    assert np.array_equal(a, b) and np.array_equal(ra, rb)


def test_unseeded_fits_do_not_touch_the_global_state(small_problem):
    np.random.seed(0)
    torch.manual_seed(0)
    expected = (np.random.rand(), torch.rand(1).item())
    np.random.seed(0)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        dmc.complete(small_problem.observations, rank=2, max_iter=5)
    assert (np.random.rand(), torch.rand(1).item()) == expected
