"""The tables made from the rows of the threshold experiments: plain rows in, no fitting."""

import numpy as np
import pytest

from dmc.reproduce import summaries


def _rows(outcomes, kappa=1.0, rank_hat=5):
    """Per-fit rows from ``{ρ: [success of each seed]}``."""
    return [
        dict(
            condition_number=kappa,
            rank_estimate=rank_hat,
            oversampling=rho,
            seed=seed,
            n_observed=int(rho * 100),
            success=ok,
            error=1e-9 if ok else 0.5,
            seconds=float(seed + 1),
        )
        for rho, oks in outcomes.items()
        for seed, ok in enumerate(oks)
    ]


def _threshold(outcomes):
    (t,) = summaries.recovery_thresholds(_rows(outcomes))
    return t["threshold"]


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        ({1.5: [0, 0, 0], 2: [1, 1, 1], 3: [1, 1, 1]}, 2),
        ({1.5: [1, 1, 1], 2: [1, 1, 1], 3: [1, 1, 1]}, 1.5),  # the smallest ρ of the grid
        ({1.5: [1, 1, 1], 2: [0, 1, 1], 3: [1, 1, 1]}, 3),  # a success below a failure is luck
        ({1.5: [0, 0, 0], 2: [1, 1, 1], 3: [1, 1, 0]}, None),  # the largest ρ failed once: > max
        ({2: [1, 1, 1], 4: [1, 1, 1], 3: [0, 0, 1]}, 4),  # the order of the rows does not matter
        ({6: [1]}, 6),
        ({6: [0]}, None),
    ],
)
def test_threshold_is_the_smallest_rho_from_which_every_larger_rho_succeeds(outcomes, expected):
    outcomes = {rho: [bool(x) for x in oks] for rho, oks in outcomes.items()}
    assert _threshold(outcomes) == expected


def test_thresholds_per_kappa_and_rank_estimate():
    rows = (
        _rows({2: [True, True], 3: [True, True]}, kappa=10.0, rank_hat=10)
        + _rows({2: [False, True], 3: [True, True]}, kappa=1.0, rank_hat=5)
        + _rows({2: [False, False], 3: [False, True]}, kappa=10.0, rank_hat=5)
    )
    out = summaries.recovery_thresholds(rows)
    assert [(t["condition_number"], t["rank_estimate"], t["threshold"]) for t in out] == [
        (1.0, 5, 3),
        (10.0, 5, None),
        (10.0, 10, 2),
    ]
    assert all(t["largest"] == 3 and t["n_seeds"] == 2 for t in out)


def test_phase_transition_summary_counts_successes_and_takes_medians():
    rows = _rows({4: [True, False, True], 2: [False, False, False]})
    summary = summaries.phase_transition_summary(rows)
    assert [(r["oversampling"], r["successes"], r["n_seeds"]) for r in summary] == [
        (2, 0, 3),
        (4, 2, 3),
    ]
    assert summary[1]["median_error"] == 1e-9 and summary[0]["median_error"] == 0.5
    assert summary[0]["median_seconds"] == 2.0 and summary[0]["n_observed"] == 200
    rhos, fractions = summaries.success_fractions(rows, 1.0, 5)
    np.testing.assert_allclose(rhos, [2, 4])
    np.testing.assert_allclose(fractions, [0, 2 / 3])


def test_effective_rank():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((20, 20)))[0]
    assert summaries.effective_rank(Q[:, :5] @ Q[:5] * 3.0) == pytest.approx(5.0)
    assert summaries.effective_rank(np.diag([1.0, 1e-12])) == pytest.approx(1.0, abs=1e-9)
    assert 1 < summaries.effective_rank(np.diag([2.0, 1.0])) < 2
    assert summaries.effective_rank(np.zeros((3, 3))) == 0.0


def test_depth_summary_medians_and_mse_range():
    rows = [
        dict(
            method=m,
            n_observed=c,
            depth=d,
            seed=s,
            n_parameters=10 * d,
            error=e * (s + 1),
            mse=e * (s + 1) ** 2,
            effective_rank=5.0,
            n_iter=100 * (s + 1),
            seconds=0.1,
        )
        for m, e in (("original", 1e-3), ("compressed", 1e-6))
        for c in (5000, 2000)
        for d in (3, 2)
        for s in range(3)
    ]
    out = summaries.depth_summary(rows)
    assert [(r["method"], r["n_observed"], r["depth"]) for r in out] == [
        (m, c, d) for m in ("original", "compressed") for c in (2000, 5000) for d in (2, 3)
    ]
    first = out[0]
    assert first["n_seeds"] == 3 and first["median_error"] == pytest.approx(2e-3)
    assert (first["min_mse"], first["median_mse"], first["max_mse"]) == pytest.approx(
        (1e-3, 4e-3, 9e-3)
    )
    assert first["median_n_iter"] == 200 and first["n_parameters"] == 20


def test_anchors_are_the_documented_thresholds():
    published = {
        a["solver"]: a["rho"] for a in summaries.THRESHOLD_ANCHORS if a["source"] == "published"
    }
    assert published == {
        "R2RILS": 1.5,
        "MatrixIRLS": 1.5,
        "R3MC": 2.1,
        "RTRMC": 2.3,
        "LMaFit": 2.7,
        "ScaledGD": 2.9,
    }
    (measured,) = [a for a in summaries.THRESHOLD_ANCHORS if a["source"] == "measured"]
    assert (measured["solver"], measured["rho"], measured["kappas"]) == ("R2RILS", 2.0, (1.0, 10.0))
