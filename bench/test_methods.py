"""Every method on every problem, one pytest-benchmark group per problem.

Each benchmark fits once per round (``benchmark.pedantic``: a fit is not
repeatable in place) and records iterations, recovery error and stop reason
in ``extra_info``. Wall-clock ratios between methods come from one run's
table (medians), never from timed unit tests.
"""

import warnings

import numpy as np
import pytest

import dmc
from dmc.reproduce.experiments import machine

# name: (shape, true rank, r̂, observed fraction, condition number)
PROBLEMS = {
    "full": {
        "reference-1000": ((1000, 1000), 5, 5, 0.2, None),
        "tall-2000x500-r10": ((2000, 500), 10, 10, 0.3, None),
        "ill-conditioned-500x1200": ((500, 1200), 5, 5, 0.1, 10.0),
    },
    "smoke": {
        "reference-small": ((120, 100), 3, 3, 0.4, None),
        "ill-conditioned-small": ((80, 150), 2, 2, 0.4, 5.0),
    },
}

_cache = {}


def _problem(mode, name):
    if (mode, name) not in _cache:
        shape, rank, _, fraction, kappa = PROBLEMS[mode][name]
        _cache[mode, name] = dmc.make_problem(
            shape, rank, fraction=fraction, condition_number=kappa, random_state=0
        )
    return _cache[mode, name]


def pytest_generate_tests(metafunc):
    if "problem_name" in metafunc.fixturenames:
        mode = metafunc.config.getoption("--bench-mode")
        metafunc.parametrize("problem_name", list(PROBLEMS[mode]))


@pytest.mark.parametrize("method", dmc.METHODS)
def test_method(benchmark, bench_mode, problem_name, method):
    shape, _, rank_hat, _, _ = PROBLEMS[bench_mode][problem_name]
    if method == "original" and bench_mode == "full" and max(shape) > 1000:
        pytest.skip("the wide network at this size takes many minutes per fit")
    problem = _problem(bench_mode, problem_name)
    kwargs = dict(init="spectral") if method == "burer-monteiro" else {}
    benchmark.group = problem_name
    benchmark.extra_info["machine"] = machine()

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dmc.ConvergenceWarning)
            return dmc.complete(
                problem.observations, rank=rank_hat, method=method, random_state=0, **kwargs
            )

    result = benchmark.pedantic(fit, rounds=1 if bench_mode == "full" else 3, iterations=1)
    err = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    benchmark.extra_info.update(
        n_iter=result.n_iter,
        recovery_error=err,
        stop_reason=result.stop_reason,
        n_parameters=result.n_parameters,
    )
    assert np.isfinite(err)  # quality is read from the table, not asserted in a benchmark
