"""Benchmark suite configuration: ``--bench-mode smoke`` (CI, tiny sizes) or ``full`` (by hand).

pytest bench --bench-mode full --benchmark-autosave        # save a run
pytest bench --bench-mode full --benchmark-compare         # compare with the last saved run
pytest bench --benchmark-json bench/results/run.json       # JSON of one run
"""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--bench-mode",
        choices=("smoke", "full"),
        default="smoke",
        help="smoke: tiny problems in seconds (CI); full: the published sizes (minutes)",
    )


@pytest.fixture(scope="session")
def bench_mode(request):
    return request.config.getoption("--bench-mode")
