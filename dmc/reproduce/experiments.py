"""Side-by-side comparisons and reproductions of the published claims.

Each function returns plain data (dicts of numpy arrays and numbers); the
figures are drawn by :mod:`dmc.reproduce.plots` and the command line is :mod:`dmc.cli`.
Every run is seeded and every figure names its machine (:func:`machine`).
"""

from __future__ import annotations

import platform
import time
import warnings
from typing import Any

import numpy as np
import torch

from .._validation import check_choice, check_float, check_int
from ..core import models
from ..core.complete import METHODS, complete
from ..core.metrics import recovery_error, recovery_evaluator
from ..core.observations import Observations
from ..core.sampled import SampledPattern
from ..core.training import train
from ..data.synthetic import LowRankMatrix, Problem, low_rank_matrix, make_problem, sample_entries
from ..exceptions import ConvergenceWarning, DivergenceError
from .summaries import effective_rank

__all__ = [
    "machine",
    "compare_methods",
    "compare_peers",
    "fixed_step_trajectories",
    "rank_sweep",
    "parsimony",
    "reference_step_size",
    "phase_transition",
    "depth_experiment",
]

F64: dict[str, Any] = dict(dtype=torch.float64, device=torch.device("cpu"))


def machine() -> str:
    """One line naming the machine, for every table and figure: processor, threads,
    torch and Python versions, and the system (``platform.platform()``)."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def reference_step_size(shape) -> float:
    """The published step, scaled to the problem size.

    At 1000 x 1000 the published η = 5e3 on the mean-form loss is 5e-3 on the
    sum form. After the plateau the stable step scales like ``σ^(-4/3)`` (depth
    3), and the singular values of a truncated Gaussian grow like ``√(mn)^½``,
    so other sizes use ``η = 5e-3 · (10⁶ / (m n))^(1/3)``, which keeps the same
    margin of stability.
    """
    return 5e-3 * (1e6 / (shape[0] * shape[1])) ** (1 / 3)


def compare_methods(
    problem: Problem, *, rank: int, methods=METHODS, seed: int = 0, **options
) -> list[dict]:
    """Fit every method on one problem with the same options; one row per method.

    Rows hold method, parameters, iterations, seconds (wall clock of the whole
    call), final recovery error, stop reason and the history (with the
    recovery error every ``eval_every`` iterations).
    """
    truth = problem.truth.to_dense()
    _warm_up()
    rows = []
    for method in methods:
        kwargs = dict(options)
        if method == "burer-monteiro":
            kwargs.setdefault("init", "spectral")
        result, wall = _fit(problem, truth, method=method, rank=rank, seed=seed, **kwargs)
        rows.append(
            dict(
                method=method,
                n_parameters=result.n_parameters,
                n_iter=result.n_iter,
                seconds=wall,
                error=recovery_error(result.to_dense(), truth, problem.observations),
                stop_reason=result.stop_reason,
                history={k: np.asarray(v) for k, v in result.history.items()},
            )
        )
    return rows


def compare_peers(problem: Problem, *, seed: int = 0) -> list[dict]:
    """scikit-learn's imputers on the same problem: error and seconds, one row each.

    IterativeImputer (BayesianRidge, 10 rounds, each feature regressed on its
    50 nearest features: with all of them, 1000 features take about an hour on
    2 cores), KNNImputer (5 neighbours) and SimpleImputer (column means), on the
    dense matrix with NaN for missing entries.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    X = problem.observations.to_dense()
    truth = problem.truth.to_dense()
    peers = {
        "IterativeImputer": IterativeImputer(
            n_nearest_features=min(50, X.shape[1] - 1), random_state=seed
        ),
        "KNNImputer": KNNImputer(),
        "SimpleImputer(mean)": SimpleImputer(),
    }
    rows = []
    for name, imputer in peers.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            filled = imputer.fit_transform(X)
        wall = time.perf_counter() - start
        err = recovery_error(filled, truth, problem.observations)
        rows.append(dict(method=name, seconds=wall, error=err))
    return rows


def fixed_step_trajectories(
    problem: Problem,
    *,
    rank: int,
    depth: int = 3,
    init_scale: float = 1e-3,
    gammas=(0.01, 0.0),
    max_iter: int = 20000,
    tol: float = 1e-7,
    eval_every: int = 10,
    seed: int = 0,
) -> dict:
    """The published recipe: plain GD at a fixed step, original and compressed.

    The step is :func:`reference_step_size` (5e-3 at 1000 x 1000, as published).

    The compressed network starts from the wide network's own initialisation
    (:meth:`CompressedNetwork.from_wide`), so the two trajectories can be
    compared point by point. One compressed run per ``gamma`` (0.01 as
    published; 0 freezes the outer factors).
    """
    obs = problem.observations
    truth = problem.truth.to_dense()
    eta = reference_step_size(obs.shape)
    evaluate = recovery_evaluator(truth, obs)
    out = {"step_size": eta, "runs": {}}

    def run(name, model):
        pattern = SampledPattern(obs, **F64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            outcome = train(
                model,
                pattern,
                step_size=eta,
                max_iter=max_iter,
                tol=tol,
                evaluate=evaluate,
                eval_every=eval_every,
            )
        h = {k: np.asarray(v) for k, v in outcome.history.items()}
        out["runs"][name] = dict(history=h, n_iter=outcome.n_iter, error=evaluate(model))

    def wide():
        rng = np.random.default_rng(seed)
        return models.original_network(
            obs, depth=depth, width=None, init_scale=init_scale, rng=rng, **F64
        )

    run("original", wide())
    for gamma in gammas:
        run(f"compressed γ={gamma:g}", models.CompressedNetwork.from_wide(wide(), obs, rank, gamma))
    return out


def rank_sweep(
    problem: Problem,
    *,
    ranks=(5, 8, 11, 14, 17, 20),
    methods=("compressed", "narrow"),
    target: float = 1e-6,
    seed: int = 0,
    **options,
) -> list[dict]:
    """Iterations and seconds to reach ``target`` recovery error, per r̂ and method."""
    truth = problem.truth.to_dense()
    rows = []
    for rank in ranks:
        for method in methods:
            hit = {}
            result, wall = _fit(problem, truth, method=method, rank=rank, seed=seed, **options)
            err = np.asarray(result.history["recovery_error"])
            reached = np.flatnonzero(err <= target)
            if reached.size:
                i = int(reached[0])
                hit = dict(
                    iterations=int(result.history["iteration"][i]),
                    seconds=float(result.history["time"][i]),
                )
            rows.append(
                dict(
                    rank=rank,
                    method=method,
                    iterations_to_target=hit.get("iterations"),
                    seconds_to_target=hit.get("seconds"),
                    final_error=float(err[np.isfinite(err)][-1]),
                    wall=wall,
                )
            )
    return rows


def parsimony(
    shape=(60, 60),
    rank: int = 2,
    *,
    fraction: float = 1.0,
    depth: int = 3,
    init_scale: float = 1e-3,
    step_size: float | None = None,
    max_iter: int = 1000,
    record_every: int = 10,
    seed: int = 0,
) -> dict:
    """Singular values of each weight of the wide network over training.

    The law of parsimony: with all entries observed (``fraction=1``) the
    ``d − 2r`` smallest singular values of every ``W_l`` stay equal to one
    another, learning happens in a ``2r``-dimensional subspace. Under partial
    observation this holds only approximately; ``spread`` measures how far:
    for each layer and snapshot, the tightest group of ``d − 2r`` singular
    values has a relative spread ``(max − min) / max``; ``spread`` is the
    largest of these over layers and iterations.
    """
    problem = make_problem(shape, rank, fraction=fraction, random_state=seed)
    obs = problem.observations
    rng = np.random.default_rng(seed)
    model = models.original_network(
        obs, depth=depth, width=None, init_scale=init_scale, rng=rng, **F64
    )
    eta = "auto" if step_size is None else step_size  # every accepted step is a GD step
    iterations, values = [], []

    def snapshot(it):
        with torch.no_grad():
            values.append([torch.linalg.svdvals(w).numpy() for w in model.weights])
        iterations.append(it)

    snapshot(0)

    def callback(it, state):
        if it % record_every == 0:
            snapshot(it)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        outcome = train(
            model,
            SampledPattern(obs, **F64),
            step_size=eta,
            max_iter=max_iter,
            tol=1e-10,
            callback=callback,
        )
    sv = np.asarray(values)  # (snapshots, layers, d), each row sorted descending
    spread = float(max(_cluster_spread(s, s.size - 2 * rank) for s in sv.reshape(-1, sv.shape[2])))
    err = (
        recovery_error(model.to_dense().detach().numpy(), problem.truth, obs)
        if fraction < 1
        else None
    )
    return dict(
        iterations=np.asarray(iterations),
        singular_values=sv,
        spread=spread,
        rank=rank,
        fraction=fraction,
        n_iter=outcome.n_iter,
        residual=outcome.history["residual"][-1],
        recovery_error=err,
        step_size=eta,
    )


def phase_transition(
    shape=(500, 500),
    rank: int = 5,
    *,
    condition_numbers=(1.0, 10.0),
    rank_factors=(1, 2),
    oversampling=(1.5, 2.0, 2.5, 3.0, 4.0, 6.0),
    seeds=(0, 1, 2),
    method: str = "compressed",
    success: float = 1e-4,
    progress=None,
    **options,
) -> list[dict]:
    """The recovery phase transition in the oversampling ratio ρ = |Ω| / (r (m + n − r)).

    For every condition number κ, rank estimate r̂ = factor · ``rank``,
    oversampling ratio ρ and seed: a rank-``rank`` matrix with singular values
    spaced geometrically from κ to 1 (entries of unit RMS,
    :func:`dmc.low_rank_matrix`), ρ r (m + n − r) entries drawn uniformly,
    completed by :func:`dmc.complete` with ``method`` and its default options
    (``options`` are passed on: none by default, so that the command follows
    the library's defaults as they improve). A fit succeeds when its recovery
    error (relative, on the unobserved entries) is at most ``success``; a fit
    that diverges counts as a failure with an infinite error.

    The problem depends on (κ, ρ, seed) only: the r̂ of a grid are compared on
    the same matrices and samples, and the ρ of a seed on the same matrix.
    Every argument is checked before the first fit.

    Parameters
    ----------
    progress : callable or None
        ``progress(done, total, row)`` after each fit, for a progress bar.

    Returns
    -------
    list of dict
        One row per fit, ordered by κ, r̂, ρ, seed: ``condition_number``,
        ``rank``, ``rank_estimate``, ``oversampling``, ``seed``, ``n_observed``,
        ``method``, ``error``, ``success``, ``seconds`` (wall clock of the fit),
        ``n_iter`` and ``stop_reason``. :mod:`dmc.reproduce.summaries` turns
        them into success counts and thresholds ρ*.
    """
    m, n = _check_pair(shape)
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    kappas = _check_values(condition_numbers, "condition_numbers", check_float, low=1.0)
    factors = _check_values(rank_factors, "rank_factors", check_int, low=1, high=min(m, n) // rank)
    rhos = _check_values(
        oversampling,
        "oversampling",
        check_float,
        low=0.0,
        low_open=True,
        high=m * n / (rank * (m + n - rank)),
    )
    seeds = _check_values(seeds, "seeds", check_int, low=0)
    success = check_float(success, "success", low=0.0)
    method = check_choice(method, "method", METHODS)
    grid = [(k, f, rho, s) for k in kappas for f in factors for rho in rhos for s in seeds]
    _warm_up()
    rows = []
    for done, (kappa, factor, rho, seed) in enumerate(grid, start=1):
        problem = make_problem(
            (m, n), rank, oversampling=rho, condition_number=kappa, random_state=seed
        )
        row = dict(
            condition_number=kappa,
            rank=rank,
            rank_estimate=factor * rank,
            oversampling=rho,
            seed=seed,
            n_observed=problem.observations.n_observed,
            method=method,
        )
        row.update(_scored_fit(problem, method=method, rank=factor * rank, seed=seed, **options))
        row["success"] = bool(row["error"] <= success)
        rows.append(row)
        if progress is not None:
            progress(done, len(grid), row)
    return rows


def depth_experiment(
    shape=(100, 100),
    rank: int = 5,
    *,
    n_observed=(2000, 5000),
    depths=(2, 3, 4, 5),
    methods=("original", "compressed"),
    seeds=(0, 1, 2),
    rank_estimate: int | None = None,
    progress=None,
    **options,
) -> list[dict]:
    """Arora, Cohen, Hu and Luo (2019)'s experiment: recovery against depth and |Ω|.

    A standard Gaussian matrix cut to rank ``rank`` by its SVD and scaled to
    entries of unit root-mean-square (per seed), ``n_observed`` entries drawn
    uniformly (a sample per seed and count), completed by :func:`dmc.complete`
    at every depth with every method and its default options otherwise
    (``options`` are passed on). The original network is full width; the
    compressed one gets r̂ = ``rank_estimate`` (default: the true rank).

    Parameters
    ----------
    progress : callable or None
        ``progress(done, total, row)`` after each fit.

    Returns
    -------
    list of dict
        One row per fit, ordered by seed, |Ω|, depth, method: ``method``,
        ``depth``, ``n_observed``, ``oversampling``, ``seed``, ``rank``,
        ``rank_estimate``, ``n_parameters``, ``error`` (relative Frobenius on the
        unobserved entries), ``mse`` (mean squared error over all entries, the
        measure the paper quotes), ``effective_rank`` of the estimate
        (:func:`dmc.reproduce.summaries.effective_rank`), ``n_iter``,
        ``stop_reason`` and ``seconds``.
    """
    m, n = _check_pair(shape)
    rank = check_int(rank, "rank", low=1, high=min(m, n))
    rank_hat = rank if rank_estimate is None else rank_estimate
    rank_hat = check_int(rank_hat, "rank_estimate", low=1, high=min(m, n))
    counts = _check_values(n_observed, "n_observed", check_int, low=1, high=m * n - 1)
    depths = _check_values(depths, "depths", check_int, low=2)
    methods = [check_choice(x, "methods", METHODS) for x in _check_values(methods, "methods")]
    seeds = _check_values(seeds, "seeds", check_int, low=0)
    grid = [(s, c, d, x) for s in seeds for c in counts for d in depths for x in methods]
    _warm_up()
    rows, problems = [], {}
    for done, (seed, count, depth, method) in enumerate(grid, start=1):
        if (seed, count) not in problems:
            problems[seed, count] = _unit_rms_problem((m, n), rank, count, seed)
        problem = problems[seed, count]
        row = dict(
            method=method,
            depth=depth,
            n_observed=count,
            oversampling=count / (rank * (m + n - rank)),
            seed=seed,
            rank=rank,
            rank_estimate=None if method == "original" else rank_hat,
        )
        row.update(
            _scored_fit(problem, method=method, rank=rank_hat, seed=seed, depth=depth, **options)
        )
        rows.append(row)
        if progress is not None:
            progress(done, len(grid), row)
    return rows


def _unit_rms_problem(shape, rank, count, seed) -> Problem:
    """The truth of ``seed`` scaled to unit RMS, and ``count`` entries of it."""
    M = low_rank_matrix(shape, rank, random_state=seed)
    scale = np.sqrt(np.sqrt(np.mean(M.to_dense() ** 2)))
    truth = LowRankMatrix(M.left / scale, M.right / scale)
    m, n = shape
    rows, cols = sample_entries(
        shape, fraction=count / (m * n), random_state=np.random.default_rng([seed, count])
    )
    obs = Observations.from_triplets(rows, cols, truth.entries(rows, cols), shape=shape)
    return Problem(observations=obs, truth=truth)


def _scored_fit(problem: Problem, *, method, rank, seed, **options) -> dict:
    """One fit without the truth in the loop (its seconds are the fit's own), then scored."""
    start = time.perf_counter()
    try:
        result, wall = _fit(problem, None, method=method, rank=rank, seed=seed, **options)
    except DivergenceError:
        return dict(
            n_parameters=None,
            error=np.inf,
            mse=np.inf,
            effective_rank=np.nan,
            n_iter=None,
            stop_reason="diverged",
            seconds=time.perf_counter() - start,
        )
    estimate = result.to_dense()
    truth = problem.truth.to_dense()
    return dict(
        n_parameters=result.n_parameters,
        error=recovery_error(estimate, truth, problem.observations),
        mse=float(np.mean((estimate - truth) ** 2)),
        effective_rank=effective_rank(estimate),
        n_iter=result.n_iter,
        stop_reason=result.stop_reason,
        seconds=wall,
    )


def _check_pair(shape) -> tuple[int, int]:
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
        raise ValueError(f"The 'shape' parameter must be a pair of ints. Got {shape!r} instead.")
    return check_int(shape[0], "shape", low=1), check_int(shape[1], "shape", low=1)


def _check_values(values, name, check=None, **bounds) -> list:
    """A non-empty list of distinct values, each checked by ``check(value, name, **bounds)``."""
    values = list(values) if isinstance(values, (list, tuple, np.ndarray, range)) else [values]
    if not values:
        raise ValueError(f"The {name!r} parameter must hold at least one value. Got none.")
    if check is not None:
        values = [check(v, name, **bounds) for v in values]
    if len(set(values)) != len(values):
        raise ValueError(f"The {name!r} parameter must not repeat a value. Got {values}.")
    return values


def _fit(problem: Problem, truth: np.ndarray | None, *, method, rank, seed, **options):
    """``complete`` with the truth recorded in the history; (result, wall seconds)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = complete(
            problem.observations,
            rank=rank,
            method=method,
            random_state=seed,
            truth=truth,
            **options,
        )
    return result, time.perf_counter() - start


def _cluster_spread(values: np.ndarray, size: int) -> float:
    """Relative spread of the tightest group of ``size`` values."""
    s = np.sort(values)
    if size <= 1:
        return 0.0
    lo, hi = s[: s.size - size + 1], s[size - 1 :]
    return float(np.min((hi - lo) / hi))


def _warm_up() -> None:
    """Pay torch's one-off costs before any method is timed.

    The first ``torch.optim.Optimizer`` built in a process imports
    ``torch._dynamo`` (about 1 s on the project's 2-core machine); without this
    the first method compared would be charged for it.
    """
    x = torch.zeros(1, requires_grad=True)
    torch.optim.SGD([x], lr=1.0)
