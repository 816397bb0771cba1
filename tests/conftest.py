import numpy as np
import pytest

import dmc


@pytest.fixture(scope="session")
def small_problem():
    """60 x 50, rank 2, half observed: recovers to 1e-8 in well under a second."""
    return dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
