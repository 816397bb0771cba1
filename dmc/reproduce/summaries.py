"""Tables made from the rows of the threshold experiments; numpy only, no fitting.

:func:`dmc.reproduce.experiments.phase_transition` and
:func:`~dmc.reproduce.experiments.depth_experiment` return one row (a dict) per
fit. The functions here condense those rows: success counts and the recovery
threshold ρ* per setting, medians over seeds. The command line prints them and
:mod:`dmc.reproduce.plots` draws them; neither needs torch for it, and rows read
back from a JSON file work the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "THRESHOLD_ANCHORS",
    "depth_summary",
    "effective_rank",
    "phase_transition_summary",
    "recovery_thresholds",
    "success_fractions",
]

#: Recovery thresholds ρ* of other solvers, for the phase-transition figure.
#: ``kappas``: the condition numbers each applies to. The published ones are
#: medians over instances at 1000 x 1000, rank 5, κ = 10, error ≤ 1e-4; the
#: measured one is R2RILS's public Python code given the true rank, at
#: 500 x 500, rank 5, κ = 1 and 10, 3 seeds (docs/method.md).
THRESHOLD_ANCHORS: tuple[dict[str, Any], ...] = (
    dict(solver="R2RILS", rho=1.5, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="MatrixIRLS", rho=1.5, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="R3MC", rho=2.1, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="RTRMC", rho=2.3, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="LMaFit", rho=2.7, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="ScaledGD", rho=2.9, kappas=(10.0,), shape=(1000, 1000), source="published"),
    dict(solver="R2RILS", rho=2.0, kappas=(1.0, 10.0), shape=(500, 500), source="measured"),
)


def _groups(rows, keys):
    """``{tuple of row[k] for k in keys: [rows]}``, in order of first appearance."""
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _median(values) -> float:
    values = np.asarray([np.inf if v is None else v for v in values], dtype=float)
    return float(np.median(values)) if values.size else float("nan")


# -- the phase transition ------------------------------------------------------------


def phase_transition_summary(rows: list[dict]) -> list[dict]:
    """One row per (κ, r̂, ρ): successes out of the seeds, median error and seconds.

    ``rows``: per-fit rows with ``condition_number``, ``rank_estimate``,
    ``oversampling``, ``success``, ``error`` and ``seconds`` (those of
    :func:`dmc.reproduce.experiments.phase_transition`). Sorted by κ, r̂, ρ.

    Examples
    --------
    >>> rows = [dict(condition_number=1, rank_estimate=2, oversampling=2.0, success=s,
    ...              error=e, seconds=1.0, n_observed=10) for s, e in [(True, 1e-9), (False, 0.3)]]
    >>> [(r["successes"], r["n_seeds"]) for r in phase_transition_summary(rows)]
    [(1, 2)]
    """
    out = []
    for (kappa, rank_hat, rho), sel in _groups(
        rows, ("condition_number", "rank_estimate", "oversampling")
    ).items():
        out.append(
            dict(
                condition_number=kappa,
                rank_estimate=rank_hat,
                oversampling=rho,
                n_observed=sel[0].get("n_observed"),
                successes=sum(bool(r["success"]) for r in sel),
                n_seeds=len(sel),
                median_error=_median([r["error"] for r in sel]),
                median_seconds=_median([r["seconds"] for r in sel]),
            )
        )
    return sorted(out, key=lambda r: (r["condition_number"], r["rank_estimate"], r["oversampling"]))


def success_fractions(rows: list[dict], condition_number, rank_estimate):
    """``(ρ values, fraction of seeds that succeeded at each)`` for one (κ, r̂), ρ ascending."""
    sel = [
        r
        for r in phase_transition_summary(rows)
        if r["condition_number"] == condition_number and r["rank_estimate"] == rank_estimate
    ]
    rhos = np.array([r["oversampling"] for r in sel], dtype=float)
    fractions = np.array([r["successes"] / r["n_seeds"] for r in sel], dtype=float)
    return rhos, fractions


def recovery_thresholds(rows: list[dict]) -> list[dict]:
    """The threshold ρ* per (κ, r̂): the smallest ρ from which every larger ρ succeeds.

    "Succeeds" means on every seed. ``threshold`` is None when even the largest
    ρ of the grid failed on some seed (print it as "> max", ``largest``). A
    success below a failure does not count: with successes at ρ = 2 and 4 and a
    failure at 3, ρ* = 4.

    ``rows``: per-fit rows with ``condition_number``, ``rank_estimate``,
    ``oversampling`` and ``success``. Returns one dict per (κ, r̂) with
    ``condition_number``, ``rank_estimate``, ``threshold``, ``largest`` (the
    largest ρ tried) and ``n_seeds`` (the fewest seeds of any ρ), sorted by κ, r̂.

    Examples
    --------
    >>> rows = [dict(condition_number=1, rank_estimate=5, oversampling=rho, success=ok)
    ...         for rho, ok in [(1.5, False), (2, True), (3, False), (4, True), (6, True)]]
    >>> recovery_thresholds(rows)[0]["threshold"]
    4
    """
    out = []
    for (kappa, rank_hat), sel in _groups(rows, ("condition_number", "rank_estimate")).items():
        by_rho = _groups(sel, ("oversampling",))
        threshold = None
        for (rho,) in sorted(by_rho, reverse=True):
            if not all(bool(r["success"]) for r in by_rho[(rho,)]):
                break
            threshold = rho
        out.append(
            dict(
                condition_number=kappa,
                rank_estimate=rank_hat,
                threshold=threshold,
                largest=max(rho for (rho,) in by_rho),
                n_seeds=min(len(v) for v in by_rho.values()),
            )
        )
    return sorted(out, key=lambda r: (r["condition_number"], r["rank_estimate"]))


# -- depth -----------------------------------------------------------------------------


def effective_rank(matrix) -> float:
    """Roy and Vetterli's effective rank, as in Arora, Cohen, Hu, Luo (2019).

    ``exp(−Σ p_i log p_i)`` with ``p_i = σ_i / Σ_j σ_j`` over the singular values
    σ of ``matrix``: between 1 and its rank, equal to k for k equal nonzero
    singular values. 0 for the zero matrix.

    Examples
    --------
    >>> round(effective_rank(np.diag([3.0, 3.0, 0.0])), 6)
    2.0
    """
    s = np.linalg.svd(np.asarray(matrix, dtype=float), compute_uv=False)
    total = s.sum()
    if total == 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def depth_summary(rows: list[dict]) -> list[dict]:
    """One row per (method, |Ω|, depth): medians over seeds, and the MSE's range.

    ``rows``: those of :func:`dmc.reproduce.experiments.depth_experiment`.
    Sorted by method (in order of first appearance), |Ω| and depth.
    """
    methods = list(dict.fromkeys(r["method"] for r in rows))
    out = []
    for (method, count, depth), sel in _groups(rows, ("method", "n_observed", "depth")).items():
        mse = [r["mse"] for r in sel]
        out.append(
            dict(
                method=method,
                n_observed=count,
                depth=depth,
                n_seeds=len(sel),
                n_parameters=sel[0]["n_parameters"],
                median_error=_median([r["error"] for r in sel]),
                median_mse=_median(mse),
                min_mse=float(np.min(mse)),
                max_mse=float(np.max(mse)),
                median_effective_rank=_median([r["effective_rank"] for r in sel]),
                median_n_iter=_median([r["n_iter"] for r in sel]),
                median_seconds=_median([r["seconds"] for r in sel]),
            )
        )
    return sorted(out, key=lambda r: (methods.index(r["method"]), r["n_observed"], r["depth"]))
