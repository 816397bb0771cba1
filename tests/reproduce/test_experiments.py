"""Reproductions of the published claims, at sizes that run in seconds."""

import numpy as np
import pytest

import dmc
from dmc.reproduce import experiments


def _first_below(history, level):
    err = history["recovery_error"]
    hit = np.flatnonzero(np.isfinite(err) & (err <= level))
    return history["iteration"][hit[0]] if hit.size else None


@pytest.fixture(scope="module")
def fixed_step():
    problem = dmc.make_problem((100, 100), 3, fraction=0.3, random_state=0)
    return experiments.fixed_step_trajectories(
        problem, rank=3, init_scale=1e-2, max_iter=1500, eval_every=10
    )


def test_fixed_step_original_and_compressed_trajectories_coincide(fixed_step):
    """Through the plateau and the escape. At this size (ρ ≈ 10) the tail differs:
    the wide network reaches 1e-2 about a third sooner (bench/README.md)."""
    runs = fixed_step["runs"]
    original, compressed = runs["original"]["history"], runs["compressed γ=0.01"]["history"]
    for level in (0.9, 0.5):
        a, b = _first_below(original, level), _first_below(compressed, level)
        assert a is not None and b is not None, level
        assert abs(a - b) <= 0.05 * a + 10, (level, a, b)
    # the plateau: hundreds of iterations with the error still near 1
    assert _first_below(original, 0.9) > 300


def test_frozen_outer_factors_stall(fixed_step):
    runs = fixed_step["runs"]
    assert runs["compressed γ=0"]["error"] > 10 * runs["compressed γ=0.01"]["error"]


def test_law_of_parsimony_under_full_observation():
    out = experiments.parsimony((40, 40), 2, fraction=1.0, seed=0)
    assert out["residual"] < 1e-6
    assert out["spread"] < 1e-8  # d - 2r singular values of every W_l stay equal


def test_law_of_parsimony_breaks_under_partial_observation():
    out = experiments.parsimony((40, 40), 2, fraction=0.5, seed=0)
    assert out["spread"] > 1e-3


def test_rank_sweep_rows():
    problem = dmc.make_problem((80, 80), 2, fraction=0.5, random_state=0)
    rows = experiments.rank_sweep(problem, ranks=(2, 4), target=1e-4, seed=0)
    assert [(r["rank"], r["method"]) for r in rows] == [
        (2, "compressed"),
        (2, "narrow"),
        (4, "compressed"),
        (4, "narrow"),
    ]
    for r in rows:
        assert r["iterations_to_target"] is not None and r["seconds_to_target"] >= 0


def test_compare_methods_and_peers_share_one_table():
    problem = dmc.make_problem((60, 40), 2, fraction=0.5, random_state=0)
    rows = experiments.compare_methods(problem, rank=2, max_iter=300)
    rows += experiments.compare_peers(problem)
    names = [r["method"] for r in rows]
    assert names[:4] == list(dmc.METHODS) and "KNNImputer" in names
    assert all(np.isfinite(r["error"]) and r["seconds"] > 0 for r in rows)


# -- the threshold experiments, on the --quick grids of `dmc reproduce` -----------------


@pytest.fixture(scope="module")
def phase_rows():
    progress = []
    rows = experiments.phase_transition(
        (60, 60),
        2,
        condition_numbers=(1, 10),
        rank_factors=(1, 2),
        oversampling=(2, 4),
        seeds=(0,),
        progress=lambda done, total, row: progress.append((done, total)),
        max_iter=200,  # a shape test: the default 1000 iterations take 4x longer
    )
    return rows, progress


def test_phase_transition_rows(phase_rows):
    rows, progress = phase_rows
    assert [(r["condition_number"], r["rank_estimate"], r["oversampling"]) for r in rows] == [
        (k, f * 2, rho) for k in (1, 10) for f in (1, 2) for rho in (2, 4)
    ]
    assert progress == [(i, 8) for i in range(1, 9)]
    for r in rows:
        # ρ r (m + n − r) entries
        assert r["n_observed"] == round(r["oversampling"] * 2 * (60 + 60 - 2))
        assert r["success"] == (r["error"] <= 1e-4) and r["seconds"] > 0
        assert r["n_iter"] <= 200 and r["method"] == "compressed" and r["seed"] == 0
    # the same problem for every r̂: the same observed entries
    assert rows[0]["n_observed"] == rows[2]["n_observed"]


def test_phase_transition_checks_the_grid_before_fitting():
    with pytest.raises(ValueError, match="'oversampling'"):
        experiments.phase_transition((20, 20), 2, oversampling=(2, 60))  # more than 400 entries
    with pytest.raises(ValueError, match="'condition_numbers'"):
        experiments.phase_transition((20, 20), 2, condition_numbers=(0.5,))
    with pytest.raises(ValueError, match="'seeds'"):
        experiments.phase_transition((20, 20), 2, oversampling=(2,), seeds=(0, 0))
    with pytest.raises(ValueError, match="'rank_factors'"):
        experiments.phase_transition((20, 20), 5, rank_factors=(1, 5))


def test_depth_experiment_rows():
    rows = experiments.depth_experiment(
        (30, 30), 2, n_observed=(200, 450), depths=(2, 3), seeds=(0,), max_iter=200
    )
    assert [(r["n_observed"], r["depth"], r["method"]) for r in rows] == [
        (c, d, m) for c in (200, 450) for d in (2, 3) for m in ("original", "compressed")
    ]
    problem = experiments._unit_rms_problem((30, 30), 2, 200, 0)
    assert np.sqrt(np.mean(problem.truth.to_dense() ** 2)) == pytest.approx(1.0)
    assert problem.observations.n_observed == 200
    for r in rows:
        assert np.isfinite([r["error"], r["mse"], r["effective_rank"]]).all()
        assert 1 <= r["effective_rank"] <= 30 and r["seconds"] > 0
        assert r["rank_estimate"] == (None if r["method"] == "original" else 2)
    wide = {(r["n_observed"], r["depth"]): r for r in rows if r["method"] == "original"}
    assert wide[200, 2]["n_parameters"] == 2 * 30 * 30
