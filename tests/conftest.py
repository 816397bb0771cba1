import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import dmc

# Hypothesis profiles for the property tests (tests/test_properties.py).
#
# "ci" (the default): a few hundred examples over all properties together, under a
# minute on 2 cores. derandomize=True: every run draws the same examples, so CI is
# reproducible and a red build is never a lucky draw that the next run cannot
# repeat; new ground is covered by running the "thorough" profile by hand. With a
# fixed sequence there is nothing to replay, so no example database is written.
#
# "thorough" (by hand): twenty times the examples, randomized, with the example
# database in .hypothesis/ so that a failure found once is replayed first next time:
#
#     HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_properties.py
#
# Each property takes a share of ``max_examples`` (see tests/test_properties.py).
# deadline=None: a fit's time varies with the machine's load, not with the example.
_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def small_problem():
    """60 x 50, rank 2, half observed: recovers to 1e-8 in well under a second."""
    return dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of small fits (``pytestmark = pytest.mark.usefixtures(...)``): on a
    shared 2-core machine a second torch thread only waits."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
