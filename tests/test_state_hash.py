"""The state hash of the malformed-input tests sees every change (tests/malformed.py)."""

from __future__ import annotations

import pytest
from malformed import (
    I,
    R,
    U,
    X,
    state_hash,
)

from dmc import DeepMatrixCompletion, RatingsModel

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def est():
    return DeepMatrixCompletion(rank=2, max_iter=30, random_state=0).fit(X)


@pytest.fixture(scope="module")
def rm():
    return RatingsModel(rank=2, max_iter=20, random_state=0).fit(U, I, R)


def test_state_hash_sees_a_change(est, rm):
    import copy

    for model, name in ((est, "components_"), (rm, "item_factors_")):
        twin = copy.deepcopy(model)
        assert state_hash(twin) == state_hash(model)
        getattr(twin, name)[0, 0] += 1e-12
        assert state_hash(twin) != state_hash(model)
    twin = copy.deepcopy(rm)
    twin.completion_.model.cores[0].data[0, 0] += 1.0
    assert state_hash(twin) != state_hash(rm)
