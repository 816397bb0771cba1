"""The plateau move of the original and narrow networks (issue 12: depth 4 and 5)."""

import warnings

import numpy as np
import pytest
import torch

import dmc
from dmc.core.complete import CompletionResult, default_init_scale
from dmc.core.models import BurerMonteiro, NarrowNetwork, OriginalNetwork
from dmc.core.sampled import SampledPattern


@pytest.fixture(scope="module")
def problem():
    return dmc.make_problem((150, 150), 5, fraction=4000 / 150**2, random_state=0)


def _fit(problem, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return dmc.complete(problem.observations, rank=5, random_state=0, **options)


@pytest.mark.parametrize("method", ["original", "narrow"])
def test_depth_five_recovers_with_the_move_and_not_without(problem, method):
    new = _fit(problem, depth=5, method=method)
    old = _fit(problem, depth=5, method=method, escape_plateaus=False, max_iter=new.n_iter)
    error = lambda r: dmc.recovery_error(r.to_dense(), problem.truth, problem.observations)  # noqa: E731
    assert sum(new.history["escape"]) >= 1
    assert error(new) <= 1e-6
    assert error(old) > 100 * error(new)  # the same number of iterations without the move


def test_original_network_default_start_is_the_reference_scale():
    assert default_init_scale(5, "original") == OriginalNetwork.default_init_scale(5) == 1e-3
    assert default_init_scale(5, "narrow") == pytest.approx(10 ** (-9 / 5))
    assert default_init_scale(3, "compressed") == 1e-3


def _learned(model):
    s = torch.linalg.svdvals(model.to_dense().detach())
    return int((s > 1e-3 * s[0]).sum())


@pytest.fixture
def on_plateau(problem):
    """A depth-4 original network trained without the move: 2 of 5 components learned."""
    result = _fit(problem, depth=4, method="original", escape_plateaus=False, max_iter=40)
    pattern = SampledPattern(problem.observations, dtype=torch.float64, device="cpu")
    assert _learned(result.model) == 2
    return result.model, pattern


def test_move_adds_one_direction_and_lowers_the_loss(on_plateau):
    model, pattern = on_plateau

    def loss():
        with torch.no_grad():
            return float(((pattern.values - model.predict(pattern)) ** 2).sum())

    before = loss()
    assert model.escape_plateau(pattern, seed=0, min_share=0.0)
    assert loss() < 0.95 * before
    assert _learned(model) == 3


def test_move_is_refused_at_the_rank_estimate_and_for_burer_monteiro(on_plateau):
    model, pattern = on_plateau
    weights = [w.detach().clone() for w in model.weights]
    model.rank = 2  # 2 = r̂ directions learned already
    assert not model.escape_plateau(pattern, seed=0, min_share=0.0)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.weights))
    model.rank = None
    assert not model.escape_plateau(pattern, seed=0, min_share=0.0)
    assert BurerMonteiro.plateau_move is False and NarrowNetwork.plateau_move is True
    bm = BurerMonteiro([w.detach().clone() for w in (weights[0], weights[-1])], rank=5)
    assert not bm.escape_plateau(pattern, seed=0, min_share=0.0)


def test_move_is_undone_unless_the_loss_falls(on_plateau, monkeypatch):
    model, pattern = on_plateau
    weights = [w.detach().clone() for w in model.weights]
    # a direction the data does not want: the move makes the loss worse and is undone
    from dmc.core import moves

    found = moves.residual_direction(model, pattern, 0)
    found.residual = -found.residual  # the least-squares size now points the wrong way
    monkeypatch.setattr(moves, "residual_direction", lambda *a: found)
    assert not model.escape_plateau(pattern, seed=0, min_share=0.0)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.weights))


def test_rank_survives_save_and_load(problem):
    result = _fit(problem, depth=3, method="narrow", max_iter=5)
    assert result.model.get_config()["rank"] == 5
    loaded = CompletionResult._from_state(result._get_state())
    assert loaded.model.rank == 5
    np.testing.assert_array_equal(loaded.to_dense(), result.to_dense())
