"""Early stopping on held-out entries (issue 14): the loop's monitor and complete()."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dmc
from dmc.core.models import get_method
from dmc.core.sampled import SampledPattern
from dmc.core.training import train


def _noisy(seed=0, noise=0.3, shape=(120, 100), rank=3, fraction=0.4):
    problem = dmc.make_problem(shape, rank, fraction=fraction, random_state=seed)
    obs = problem.observations
    rng = np.random.default_rng(seed)
    rms = float(np.sqrt(np.mean(obs.values**2)))
    values = obs.values + noise * rms * rng.standard_normal(obs.n_observed)
    return dmc.Observations(obs.rows, obs.cols, values, obs.shape), problem.truth.to_dense()


def _model(obs, seed=0):
    import torch

    model = get_method("compressed").build(
        obs,
        rank=3,
        depth=3,
        init_scale=1e-3,
        gamma=0.3,
        width=None,
        init="random",
        rng=np.random.default_rng(seed),
        dtype=torch.float64,
        device=torch.device("cpu"),
    )
    return model, SampledPattern(obs, dtype=torch.float64, device=torch.device("cpu"))


def test_the_loop_keeps_the_parameters_of_the_best_monitored_value():
    obs, _ = _noisy()
    model, pattern = _model(obs)
    seen = {}

    def monitor(m):  # best at iteration 30, worse afterwards
        it = len(seen) * 5
        seen[it] = {k: t.detach().clone() for k, t in m.state_dict().items()}
        return abs(it - 30) + 1.0

    outcome = train(model, pattern, monitor=monitor, monitor_every=5, patience=40, max_iter=500)
    assert outcome.stop_reason == "early_stopping" and outcome.n_iter == 70
    assert outcome.best_iteration == 30
    for key, tensor in model.state_dict().items():
        assert np.array_equal(tensor.numpy(), seen[30][key].numpy())
    values = outcome.history["validation_error"]
    assert len(values) == outcome.n_iter + 1
    assert values[30] == 1.0 and math.isnan(values[31])


def test_no_patience_never_stops_on_the_monitor_but_still_keeps_the_best():
    obs, _ = _noisy()
    model, pattern = _model(obs)
    outcome = train(model, pattern, monitor=lambda m: 1.0, patience=None, max_iter=30)
    assert outcome.stop_reason == "max_iter" and outcome.best_iteration == 0


def test_complete_with_early_stopping_stops_early_near_the_error_of_a_full_run():
    """Noisy rank 3, r̂ = 6: the full run's low-rank bias already limits overfitting
    (measured 0.122 after 1,500 iterations); early stopping gets close in far fewer."""
    obs, truth = _noisy()
    errors, iterations = {}, {}
    for early in (False, True):
        with pytest.warns(dmc.ConvergenceWarning) if not early else _no_warning():
            result = dmc.complete(
                obs, rank=6, early_stopping=early, max_iter=1500, tol=1e-12, random_state=0
            )
        errors[early] = np.linalg.norm(result.to_dense() - truth) / np.linalg.norm(truth)
        iterations[early] = result.n_iter
        if early:
            assert result.stop_reason == "early_stopping"
            assert result.best_iteration < result.n_iter
            assert not math.isnan(result.history["validation_error"][result.best_iteration])
    assert errors[True] < 1.25 * errors[False], errors  # measured 0.132 against 0.122
    assert iterations[True] < iterations[False] / 2, iterations


def test_exact_low_rank_still_stops_at_tol_with_early_stopping():
    problem = dmc.make_problem((80, 60), 2, fraction=0.5, random_state=1)
    result = dmc.complete(problem.observations, rank=2, early_stopping=True, random_state=1)
    assert result.stop_reason == "tol"
    err = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    assert err < 1e-5


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"validation_fraction": 0.0}, ValueError, "'validation_fraction'"),
        ({"validation_fraction": 0.9}, ValueError, "'validation_fraction'"),
        ({"patience": 0}, ValueError, "'patience'"),
        ({"early_stopping": "yes"}, TypeError, "'early_stopping'"),
        ({"early_stopping": True, "scoring": 3}, TypeError, "'scoring'"),
    ],
)
def test_bad_early_stopping_arguments_are_named(kwargs, exc, match):
    obs, _ = _noisy()
    with pytest.raises(exc, match=match):
        dmc.complete(obs, rank=2, **kwargs)


def test_early_stopping_with_a_checkpoint_is_refused(tmp_path):
    obs, _ = _noisy()
    with pytest.raises(ValueError, match="'checkpoint'.*early_stopping"):
        dmc.complete(obs, rank=2, early_stopping=True, checkpoint=tmp_path / "c.dmc")
    assert not (tmp_path / "c.dmc").exists()


def test_too_few_entries_to_hold_out_are_named():
    obs = dmc.Observations(np.array([0, 1]), np.array([0, 1]), np.array([1.0, 2.0]), (3, 3))
    with pytest.raises(ValueError, match="validation_fraction"):
        dmc.complete(obs, rank=1, early_stopping=True)


class _no_warning:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error", dmc.ConvergenceWarning)

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        return False
