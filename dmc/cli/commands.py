"""The work of ``dmc demo``, ``compare``, ``reproduce`` and ``recommend``: make the problem
or read the file, call the library, print the tables, write the figures and files.
:mod:`dmc.cli.main` and :mod:`dmc.cli.recommend` parse and check the command line and
import this module only to run a command (it imports torch)."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from typing import Any

import numpy as np

from ..data.readers import read_ratings
from ..data.synthetic import make_problem
from ..recommend.evaluation import (
    mae,
    ndcg_at_k,
    precision_at_k,
    rank_heldout,
    recall_at_k,
    rmse,
    user_holdout_split,
)
from ..recommend.model import RatingsModel
from ..reproduce import experiments, summaries
from .options import CLAIMS, DEFAULT_SIZES, GRID_CLAIMS, GRIDS

__all__ = ["run_compare", "run_demo", "run_recommend", "run_reproduce"]

#: the rank estimates r̂ of ``dmc reproduce rank-sweep``
RANK_SWEEP = (5, 8, 11, 14, 17, 20)


def _print_table(rows):
    header = (
        f"{'method':<22}{'parameters':>12}{'iterations':>12}{'seconds':>10}{'recovery error':>17}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        params = f"{r['n_parameters']:,}" if "n_parameters" in r else "-"
        iters = r.get("n_iter", "-")
        print(f"{r['method']:<22}{params:>12}{iters:>12}{r['seconds']:>10.2f}{r['error']:>17.2e}")


def run_demo(args) -> int:
    n = args.size
    print(
        f"dmc demo: {n} x {n} matrix of rank {args.rank}, {args.fraction:.0%} of entries "
        f"observed, depth {args.depth}, seed {args.seed}, float64, stop at a training "
        f"residual of 1e-6\nmachine: {experiments.machine()}"
    )
    problem = make_problem((n, n), args.rank, fraction=args.fraction, random_state=args.seed)
    rows = _fit_methods(
        problem,
        ("original", "compressed"),
        rank=args.rank,
        seed=args.seed,
        depth=args.depth,
        # both stop at a training residual of 1e-6: below it the wide network's
        # ε-sized bulk makes it crawl for hundreds of iterations
        tol=1e-6,
    )
    _print_table(rows)
    print(
        f"compressed is {rows[0]['seconds'] / rows[1]['seconds']:.2f}x faster in wall clock "
        "(same optimizer, same stopping rule)"
    )
    if not args.no_plot:
        title = (
            f"{n}x{n}, rank {args.rank}, {args.fraction:.0%} observed, L={args.depth}, "
            f"seed {args.seed} — {experiments.machine()}"
        )
        _figure("error_curves", _runs(rows), args.output, title)
    return 0


def run_compare(args) -> int:
    shape = tuple(args.shape)
    rank_hat = args.rank if args.rank_estimate is None else args.rank_estimate
    problem = make_problem(
        shape,
        args.rank,
        fraction=args.fraction,
        condition_number=args.condition_number,
        noise=args.noise,
        random_state=args.seed,
    )
    kappa = "gaussian" if args.condition_number is None else f"{args.condition_number:g}"
    desc = (
        f"{shape[0]}x{shape[1]}, rank {args.rank}, r̂ {rank_hat}, {args.fraction:.0%} observed, "
        f"κ {kappa}, noise {args.noise:g}, L={args.depth}, "
        f"seed {args.seed}, float64, stall rule {args.n_iter_no_change} iterations"
    )
    print(f"dmc compare: {desc}\nmachine: {experiments.machine()}", flush=True)
    methods = list(args.methods or experiments.METHODS)
    rows = _fit_methods(
        problem,
        methods,
        rank=rank_hat,
        seed=args.seed,
        depth=args.depth,
        n_iter_no_change=args.n_iter_no_change,
        also=0 if args.no_peers else 1,
    )
    if not args.no_peers:
        step = f"[{len(methods) + 1}/{len(methods) + 1}] scikit-learn's imputers"
        _say(f"{step}: IterativeImputer, KNNImputer, SimpleImputer...")
        peers = experiments.compare_peers(problem, seed=args.seed)
        _say(f"{step}: " + ", ".join(f"{r['method']} {r['seconds']:.1f} s" for r in peers))
        rows += peers
    _print_table(rows)
    os.makedirs(args.output_dir, exist_ok=True)
    stem = os.path.join(args.output_dir, "dmc-compare")
    with open(stem + ".json", "w") as fh:
        json.dump(
            dict(problem=desc, machine=experiments.machine(), rows=_jsonable(rows)), fh, indent=1
        )
    print(f"table written to {stem}.json")
    _figure("error_curves", _runs(rows), stem + ".png", f"{desc}\n{experiments.machine()}")
    return 0


def _say(line: str) -> None:
    """A progress line on stderr (stdout keeps the tables)."""
    print(line, file=sys.stderr, flush=True)


def _fit_methods(problem, methods, *, also=0, **options) -> list[dict]:
    """``experiments.compare_methods``, one method at a time, with a progress line before
    and after each fit, and the fit's own progress bar when stderr is a terminal."""
    rows, total = [], len(methods) + also
    for t, method in enumerate(methods, 1):
        _say(f"[{t}/{total}] {method}: fitting...")
        (row,) = experiments.compare_methods(
            problem, methods=(method,), verbose=sys.stderr.isatty(), **options
        )
        _say(f"[{t}/{total}] {method}: {_fit_line(row)}")
        rows.append(row)
    return rows


def run_reproduce(args) -> int:
    if args.claim in GRID_CLAIMS:
        os.makedirs(args.output_dir, exist_ok=True)
        print(f"machine: {experiments.machine()}")
        grid = _grid(args)
        if args.claim == "phase-transition":
            return _phase_transition(args, grid)
        return _depth(args, grid)
    claims = list(CLAIMS) if args.claim == "all" else [args.claim]
    os.makedirs(args.output_dir, exist_ok=True)
    print(f"machine: {experiments.machine()}", flush=True)
    for claim in claims:
        path = os.path.join(args.output_dir, f"dmc-{claim}.png")
        n = DEFAULT_SIZES[claim] if args.size is None else args.size
        if claim == "fixed-step":
            problem = make_problem((n, n), 5, fraction=0.2, random_state=args.seed)
            _say(
                f"fixed-step: plain GD at the published step, {n}x{n}: the original network, "
                "then the compressed one with γ = 0.01 and 0 (up to 20,000 iterations each)..."
            )
            out = experiments.fixed_step_trajectories(problem, rank=5, seed=args.seed)
            print(
                f"fixed-step recipe, {n}x{n}, rank 5, 20%, step {out['step_size']:.3g}, γ = 0.01, 0"
            )
            for name, run in out["runs"].items():
                print(f"  {name:<22} {run['n_iter']:>6} iterations, final error {run['error']:.2e}")
            runs = {name: run["history"] for name, run in out["runs"].items()}
            title = f"plain GD at the published step, {n}x{n}, seed {args.seed} — " + (
                experiments.machine()
            )
            _figure("error_curves", runs, path, title)
        elif claim == "rank-sweep":
            problem = make_problem((n, n), 5, fraction=0.2, random_state=args.seed)
            ranks = RANK_SWEEP
            rows = []
            for t, rank in enumerate(ranks, 1):
                _say(
                    f"[{t}/{len(ranks)}] rank sweep, {n}x{n}: r̂ = {rank}, compressed and narrow..."
                )
                rows += experiments.rank_sweep(
                    problem, ranks=(rank,), seed=args.seed, verbose=sys.stderr.isatty()
                )
            print(f"rank sweep, {n}x{n}, rank 5, 20%, target 1e-6, step search")
            for r in rows:
                print(
                    f"  r̂={r['rank']:>2} {r['method']:<11} iterations {r['iterations_to_target']}"
                    f"  seconds {r['seconds_to_target']}"
                )
            title = f"{n}x{n}, rank 5, 20% observed, seed {args.seed} — {experiments.machine()}"
            _figure("rank_sweep_figure", rows, path, title)
        else:
            results = []
            for t, fraction in enumerate((1.0, 0.3), 1):
                _say(f"[{t}/2] law of parsimony, {n}x{n}, {fraction:.0%} observed...")
                results.append(experiments.parsimony((n, n), 2, fraction=fraction, seed=args.seed))
            for res in results:
                print(
                    f"law of parsimony, {n}x{n}, rank 2, {res['fraction']:.0%} observed: "
                    f"the d - 2r bulk singular values spread {res['spread']:.2e} (relative)"
                )
            title = f"wide network, {n}x{n}, L=3, seed {args.seed} — {experiments.machine()}"
            _figure("parsimony_figure", results, path, title)
    return 0


def _grid(args) -> dict:
    """The claim's grid, full or --quick, with the options given on the command line."""
    grid = dict(GRIDS[args.claim]["quick" if args.quick else "full"])
    for name in (*grid, "max_iter"):
        value = getattr(args, name, None)
        if value is not None:
            grid[name] = value
    grid["seeds"] = list(range(args.seed, args.seed + grid["seeds"]))
    grid["options"] = {} if grid.get("max_iter") is None else dict(max_iter=grid["max_iter"])
    return grid


def _progress(describe):
    """``progress(done, total, row)``: a tqdm bar on a terminal, else one line per fit."""
    state = {}

    def progress(done, total, row):
        if sys.stderr.isatty():
            if "bar" not in state:
                from tqdm.auto import tqdm

                state["bar"] = tqdm(total=total, unit="fit", file=sys.stderr)
            state["bar"].set_postfix_str(describe(row), refresh=False)
            state["bar"].update(1)
            if done == total:
                state["bar"].close()
        else:
            print(f"[{done}/{total}] {describe(row)}", file=sys.stderr, flush=True)

    return progress


def _fit_line(row) -> str:
    return f"error {row['error']:.1e}, {row['seconds']:.1f} s, {row['n_iter']} iterations"


def _phase_transition(args, grid) -> int:
    n, rank = grid["size"], grid["rank"]
    rank_hats = _list("r" if f == 1 else f"{f}r" for f in grid["rank_factors"])
    lines = (
        f"phase transition: {n}x{n}, rank r = {rank}, κ {_list(grid['kappas'])}, r̂ = "
        f"{rank_hats}, ρ {_list(grid['rhos'])}, seeds {_list(grid['seeds'])}",
        "compressed, dmc.complete's defaults"
        + (f" but max_iter {grid['max_iter']}" if grid.get("max_iter") else "")
        + ", success: recovery error ≤ 1e-4",
    )
    desc = ", ".join(lines)
    print(desc, flush=True)
    rows = experiments.phase_transition(
        (n, n),
        rank,
        condition_numbers=grid["kappas"],
        rank_factors=grid["rank_factors"],
        oversampling=grid["rhos"],
        seeds=grid["seeds"],
        progress=_progress(
            lambda r: (
                f"κ {r['condition_number']:g}, r̂ {r['rank_estimate']}, "
                f"ρ {r['oversampling']:g}, seed {r['seed']}: {_fit_line(r)}"
            )
        ),
        **grid["options"],
    )
    summary = summaries.phase_transition_summary(rows)
    thresholds = summaries.recovery_thresholds(rows)
    header = (  # "r̂" is two code points for one column
        f"{'κ':>5}{'r̂':>6}{'ρ':>6}{'|Ω|':>8}{'successes':>11}"
        f"{'median error':>14}{'median seconds':>16}"
    )
    print(header)
    print("-" * len(header))
    for r in summary:
        print(
            f"{r['condition_number']:>5g}{r['rank_estimate']:>5}{r['oversampling']:>6g}"
            f"{r['n_observed']:>8}{str(r['successes']) + '/' + str(r['n_seeds']):>11}"
            f"{r['median_error']:>14.2e}{r['median_seconds']:>16.2f}"
        )
    print("threshold ρ* (the smallest ρ from which every larger ρ succeeds on every seed):")
    for t in thresholds:
        star = _threshold(t)
        print(f"  κ {t['condition_number']:g}, r̂ {t['rank_estimate']}: ρ* {star}")
    anchors = summaries.THRESHOLD_ANCHORS
    print(
        "published at 1000x1000, rank 5, κ 10: "
        + ", ".join(f"{a['solver']} {a['rho']:g}" for a in anchors if a["source"] == "published")
        + "; measured at 500x500, rank 5, κ 1 and 10, 3 seeds: "
        + ", ".join(
            f"{a['solver']} (public Python code, true rank) {a['rho']:g}"
            for a in anchors
            if a["source"] == "measured"
        )
    )
    stem = os.path.join(args.output_dir, "dmc-phase-transition")
    if args.json:
        _write_json(stem, desc, rows, summary=summary, thresholds=thresholds)
    title = "\n".join((*lines, experiments.machine()))
    kappas = sorted(set(grid["kappas"]))
    _figure("phase_transition_figure", rows, stem + ".png", title, n_panels=len(kappas))
    return 0


def _depth(args, grid) -> int:
    n, rank = grid["size"], grid["rank"]
    lines = (
        f"depth (Arora, Cohen, Hu, Luo 2019): {n}x{n}, rank {rank}, entries of unit RMS, "
        f"|Ω| {_list(grid['samples'])}, depths {_list(grid['depths'])}",
        f"{_list(grid['methods'])} (compressed: r̂ = {rank}), seeds {_list(grid['seeds'])}, "
        "dmc.complete's defaults"
        + (f" but max_iter {grid['max_iter']}" if grid.get("max_iter") else ""),
    )
    desc = ", ".join(lines)
    print(desc, flush=True)
    rows = experiments.depth_experiment(
        (n, n),
        rank,
        n_observed=grid["samples"],
        depths=grid["depths"],
        methods=grid["methods"],
        seeds=grid["seeds"],
        progress=_progress(
            lambda r: (
                f"{r['method']}, |Ω| {r['n_observed']}, L {r['depth']}, seed {r['seed']}: "
                + _fit_line(r)
            )
        ),
        **grid["options"],
    )
    summary = summaries.depth_summary(rows)
    header = (
        f"{'method':<11}{'|Ω|':>6}{'ρ':>6}{'L':>3}{'params':>9}{'rec. error':>12}"
        f"{'MSE':>10}{'MSE min..max':>20}{'erank':>7}{'iters':>7}{'s':>7}"
    )
    print(
        f"medians over {len(grid['seeds'])} seed(s): rec. error on the unobserved entries "
        "(relative), MSE over all entries, erank the estimate's effective rank"
    )
    print(header)
    print("-" * len(header))
    for r in summary:
        rho = r["n_observed"] / (rank * (2 * n - rank))
        params = "-" if r["n_parameters"] is None else f"{r['n_parameters']:,}"
        print(
            f"{r['method']:<11}{r['n_observed']:>6}{rho:>6.2f}{r['depth']:>3}{params:>9}"
            f"{r['median_error']:>12.2e}{r['median_mse']:>10.1e}"
            f"{r['min_mse']:>11.1e}..{r['max_mse']:<7.1e}"
            f"{r['median_effective_rank']:>7.2f}{r['median_n_iter']:>7.0f}"
            f"{r['median_seconds']:>7.2f}"
        )
    stem = os.path.join(args.output_dir, "dmc-depth")
    if args.json:
        _write_json(stem, desc, rows, summary=summary)
    _figure("depth_figure", rows, stem + ".png", "\n".join((*lines, experiments.machine())))
    return 0


def _threshold(t) -> str:
    return f"{t['threshold']:g}" if t["threshold"] is not None else f"> {t['largest']:g}"


def _list(values) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _write_json(stem, desc, rows, **tables) -> None:
    with open(stem + ".json", "w") as fh:
        content = dict(problem=desc, machine=experiments.machine(), rows=rows, **tables)
        json.dump(content, fh, indent=1)
    print(f"rows written to {stem}.json")


def _runs(rows):
    return {r["method"]: r["history"] for r in rows if "history" in r}


def _figure(name, data, path, title, n_panels=None):
    """Draw ``data`` with ``dmc.reproduce.plots.<name>`` and write it to ``path``.

    ``n_panels``: for the figures of one panel per item, when not ``len(data)``.

    The figure is a bare ``matplotlib.figure.Figure``: no pyplot, so no backend
    is chosen or needed. Without matplotlib, say so and go on.
    """
    try:
        from ..reproduce import plots

        fig, axes = plots.new_figure(name, len(data) if n_panels is None else n_panels)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        print(f"no figure: {exc}")
        return
    getattr(plots, name)(data, axes)
    print(f"figure written to {plots.save(fig, path, title)}")


def _jsonable(rows):
    out = []
    for r in rows:
        r = dict(r)
        if "history" in r:
            r["history"] = {k: [float(x) for x in v] for k, v in r["history"].items()}
        out.append(r)
    return out


def run_recommend(args) -> int:
    """``dmc recommend`` with options checked by :func:`dmc.cli.recommend.run_recommend`."""
    data = read_ratings(args.ratings_file, format=args.format, sep=args.sep, as_frame=False)
    users, items, ratings = data["user"], data["item"], data["rating"]
    n_users, n_items = np.unique(users).size, np.unique(items).size
    print(
        f"dmc recommend: {ratings.size:,} ratings, {n_users:,} users, {n_items:,} items "
        f"from {args.ratings_file}"
    )
    if args.test_fraction > 0:
        train, test = user_holdout_split(
            users, test_fraction=args.test_fraction, random_state=args.seed
        )
        print(
            f"held out {args.test_fraction:.0%} of each user's ratings (seed {args.seed}): "
            f"{train.size:,} to fit, {test.size:,} to test"
        )
    else:
        train, test = np.arange(ratings.size), np.zeros(0, dtype=np.int64)

    model = RatingsModel(
        method=args.method,
        rank=args.rank,
        duplicates=args.duplicates,
        random_state=args.seed,
        verbose=not args.no_progress,
    )
    start = time.perf_counter()
    model.fit(users[train], items[train], ratings[train])
    seconds = time.perf_counter() - start
    print(
        f"fitted {args.method} (rank {model.rank_}, "
        f"{model.completion_.n_parameters:,} deep parameters, "
        f"shrinkage {model.shrinkage_:g}) in {seconds:.1f} s"
    )
    k = min(args.top_k, model.items_.size)

    # (nothing held out: no predictions, and a predictions file holds only its header)
    pred, cold = np.empty(0), np.empty(0, dtype=bool)
    if test.size:
        pred, cold = model.predict(users[test], items[test], return_cold=True)
        y = ratings[test]
        print(f"held-out RMSE {rmse(y, pred):.4f}   MAE {mae(y, pred):.4f}")
        test_users = np.unique(users[test])
        rec = model.recommend_many(test_users, k)
        recommended = _lists(rec, test_users)
        relevant: dict[Any, dict[Any, float]] = {}
        for user, item, rating in zip(users[test].tolist(), items[test].tolist(), y.tolist()):
            if rating >= args.threshold:
                relevant.setdefault(user, {})[item] = 1.0
        rel_lists = [relevant.get(user, {}) for user in test_users.tolist()]
        if any(rel_lists):
            print(
                f"top-{k} among unseen items, relevant = held-out rating ≥ {args.threshold:g}: "
                f"precision {precision_at_k(recommended, rel_lists, k):.4f}   "
                f"recall {recall_at_k(recommended, rel_lists, k):.4f}   "
                f"NDCG {ndcg_at_k(recommended, rel_lists, k):.4f}"
            )
        ranked, gains = rank_heldout(users[test], items[test], y, pred)
        if any(gains):
            value = ndcg_at_k(ranked, gains, k)
            print(f"NDCG@{k} of the held-out items ranked by prediction: {value:.4f}")

    if args.output is not None:
        with open(args.output, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if args.write == "predictions":
                writer.writerow(["user", "item", "rating", "prediction", "cold_start"])
                for row in zip(
                    users[test].tolist(),
                    items[test].tolist(),
                    ratings[test].tolist(),
                    pred.round(4).tolist(),
                    cold.tolist(),
                ):
                    writer.writerow(row)
                what = f"{test.size:,} held-out predictions"
            else:
                all_users = model.users_
                rec = model.recommend_many(all_users, k)
                writer.writerow(["user", "item", "rank", "score"])
                for line in zip(
                    rec.user.tolist(),
                    rec.item.tolist(),
                    rec.rank.tolist(),
                    rec.score.round(4).tolist(),
                ):
                    writer.writerow(line)
                what = f"top-{k} lists of {all_users.size:,} users"
        print(f"wrote {what} to {args.output}")
    return 0


def _lists(rec, users):
    """Per user (in ``users`` order), the recommended items of a long-form result."""
    out = {}
    for user, item in zip(rec.user.tolist(), rec.item.tolist()):
        out.setdefault(user, []).append(item)
    return [out.get(user, []) for user in users.tolist()]
