"""The ``dmc`` command line. Thin: parse, call the library, print, plot."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .. import __version__
from ..core.complete import METHODS
from ..data.synthetic import make_problem
from ..reproduce import experiments, summaries
from .recommend import add_recommend_parser

#: the claims of ``dmc reproduce all``, and the two grids that it leaves out (minutes each)
_CLAIMS = ("fixed-step", "rank-sweep", "parsimony")
_GRID_CLAIMS = ("phase-transition", "depth")

#: the grids of the two grid claims: full size, and --quick (a smoke test, seconds);
#: an option given on the command line overrides either
_GRIDS = {
    "phase-transition": dict(
        full=dict(
            size=500,
            rank=5,
            seeds=3,
            kappas=[1.0, 10.0],
            rank_factors=[1, 2],
            rhos=[1.5, 2.0, 2.5, 3.0, 4.0, 6.0],
        ),
        quick=dict(
            size=60, rank=2, seeds=1, kappas=[1.0, 10.0], rank_factors=[1, 2], rhos=[2.0, 4.0]
        ),
    ),
    "depth": dict(
        full=dict(
            size=100,
            rank=5,
            seeds=3,
            samples=[2000, 5000],
            depths=[2, 3, 4, 5],
            methods=["original", "compressed"],
        ),
        quick=dict(
            size=30,
            rank=2,
            seeds=1,
            samples=[200, 450],
            depths=[2, 3],
            methods=["original", "compressed"],
        ),
    ),
}
_GRID_OPTIONS = ("seeds", "rank", "max_iter", "quick", "json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dmc", description="Efficient deep matrix completion.")
    parser.add_argument("--version", action="version", version=f"dmc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="fit the original and the compressed networks on a synthetic problem",
        description=(
            "Build a random low-rank matrix, observe a uniform fraction of its entries, "
            "complete it with the original (wide) and the compressed deep networks, print "
            "a table and write a figure of recovery error against iterations and seconds."
        ),
    )
    demo.add_argument("--size", type=int, default=600, help="rows = columns (default 600)")
    _problem_arguments(demo, rank=5, fraction=0.2)
    demo.add_argument("--output", default="dmc-demo.png", help="figure path (dmc-demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="skip the figure")
    demo.set_defaults(func=_demo)

    compare = sub.add_parser(
        "compare",
        help="all four methods (and scikit-learn's imputers) side by side",
        description=(
            "Complete one synthetic problem with the original, compressed and narrow deep "
            "networks and with Burer-Monteiro, all with the same optimizer and stopping "
            "rule, and with scikit-learn's imputers; print a table and write figures of "
            "recovery error against iterations and seconds. Defaults: the reference case "
            "of docs/method.md (1000 x 1000, rank 5, 20%% observed, L = 3)."
        ),
    )
    compare.add_argument("--shape", type=int, nargs=2, default=[1000, 1000], metavar=("M", "N"))
    _problem_arguments(compare, rank=5, fraction=0.2)
    compare.add_argument("--rank-estimate", type=int, default=None, help="r̂ (default: rank)")
    compare.add_argument("--condition-number", type=float, default=None)
    compare.add_argument("--noise", type=float, default=0.0)
    compare.add_argument(
        "--methods", nargs="+", choices=METHODS, default=list(METHODS), help="(all four)"
    )
    compare.add_argument("--no-peers", action="store_true", help="skip scikit-learn's imputers")
    compare.add_argument(
        "--n-iter-no-change",
        type=int,
        default=50,
        help="every method also stops when its loss stalls for this many iterations (50)",
    )
    compare.add_argument("--output-dir", default=".", help="where figures and JSON go")
    compare.set_defaults(func=_compare)

    reproduce = sub.add_parser(
        "reproduce",
        help="figures reproducing the published claims",
        description=(
            "fixed-step: original and compressed trajectories under plain GD at the "
            "published step (and γ = 0); rank-sweep: iterations and seconds to 1e-6 "
            "against r̂ for compressed and narrow; parsimony: singular values of the "
            "wide network's weights under full and partial observation; all: these three. "
            "phase-transition: the fraction of seeds recovered (error ≤ 1e-4) against the "
            "oversampling ratio ρ, per condition number κ and rank estimate r̂, and the "
            "threshold ρ*, with dmc.complete's default options; depth: Arora, Cohen, Hu and "
            "Luo (2019)'s recovery against depth at 2,000 and 5,000 observed entries. The "
            "last two run a grid of fits (minutes), show progress, and take the grid "
            "options below; --quick runs a tiny grid."
        ),
    )
    reproduce.add_argument("claim", choices=[*_CLAIMS, "all", *_GRID_CLAIMS])
    reproduce.add_argument(
        "--size",
        type=int,
        default=None,
        help="rows = columns (fixed-step 300, rank-sweep 1000, parsimony 60, "
        "phase-transition 500, depth 100)",
    )
    reproduce.add_argument("--seed", type=int, default=0, help="the (first) seed (0)")
    reproduce.add_argument("--output-dir", default=".")
    grid = reproduce.add_argument_group("phase-transition and depth")
    grid.add_argument(
        "--seeds", type=int, default=None, help="number of seeds, from --seed (3; --quick 1)"
    )
    grid.add_argument("--rank", type=int, default=None, help="true rank r (5; --quick 2)")
    grid.add_argument("--max-iter", type=int, default=None, help="(dmc.complete's default)")
    grid.add_argument(
        "--quick",
        action="store_true",
        help="a tiny grid for a smoke test (seconds): phase-transition 60x60, ρ 2 4; "
        "depth 30x30, |Ω| 200 450, L 2 3",
    )
    grid.add_argument("--json", action="store_true", help="also write the rows to dmc-<claim>.json")
    grid.add_argument(
        "--rhos", type=float, nargs="+", default=None, help="phase-transition: ρ (1.5 2 2.5 3 4 6)"
    )
    grid.add_argument(
        "--kappas", type=float, nargs="+", default=None, help="phase-transition: κ (1 10)"
    )
    grid.add_argument(
        "--rank-factors",
        type=int,
        nargs="+",
        default=None,
        help="phase-transition: r̂ = factor x r (1 2)",
    )
    grid.add_argument("--samples", type=int, nargs="+", default=None, help="depth: |Ω| (2000 5000)")
    grid.add_argument("--depths", type=int, nargs="+", default=None, help="depth: L (2 3 4 5)")
    grid.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="METHOD",
        help="depth: (original compressed)",
    )
    reproduce.set_defaults(func=_reproduce)

    add_recommend_parser(sub)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:  # bad arguments, unwritable output
        print(f"dmc: error: {exc}", file=sys.stderr)
        return 2


def _problem_arguments(p, *, rank, fraction):
    p.add_argument("--rank", type=int, default=rank, help=f"true rank ({rank})")
    p.add_argument("--fraction", type=float, default=fraction, help=f"observed ({fraction})")
    p.add_argument("--depth", type=int, default=3, help="depth L (3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")


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


def _demo(args) -> int:
    n = args.size
    print(
        f"dmc demo: {n} x {n} matrix of rank {args.rank}, {args.fraction:.0%} of entries "
        f"observed, depth {args.depth}, seed {args.seed}, float64, stop at a training "
        f"residual of 1e-6\nmachine: {experiments.machine()}"
    )
    problem = make_problem((n, n), args.rank, fraction=args.fraction, random_state=args.seed)
    rows = experiments.compare_methods(
        problem,
        rank=args.rank,
        methods=("original", "compressed"),
        seed=args.seed,
        depth=args.depth,
        # both stop at a training residual of 1e-6: below it the wide network's
        # ε-sized bulk makes it crawl for hundreds of iterations
        tol=1e-6,
    )
    _print_table(rows)
    print(
        f"compressed is {rows[0]['seconds'] / rows[1]['seconds']:.0f}x faster in wall clock "
        "(same optimizer, same stopping rule)"
    )
    if not args.no_plot:
        title = (
            f"{n}x{n}, rank {args.rank}, {args.fraction:.0%} observed, L={args.depth}, "
            f"seed {args.seed} — {experiments.machine()}"
        )
        _figure("error_curves", _runs(rows), args.output, title)
    return 0


def _compare(args) -> int:
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
    desc = (
        f"{shape[0]}x{shape[1]}, rank {args.rank}, r̂ {rank_hat}, {args.fraction:.0%} observed, "
        f"κ {args.condition_number or 'gaussian'}, noise {args.noise}, L={args.depth}, "
        f"seed {args.seed}, float64, stall rule {args.n_iter_no_change} iterations"
    )
    print(f"dmc compare: {desc}\nmachine: {experiments.machine()}")
    rows = experiments.compare_methods(
        problem,
        rank=rank_hat,
        methods=args.methods,
        seed=args.seed,
        depth=args.depth,
        n_iter_no_change=args.n_iter_no_change,
    )
    if not args.no_peers:
        rows += experiments.compare_peers(problem, seed=args.seed)
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


def _reproduce(args) -> int:
    _check_grid_options(args)
    if args.claim in _GRID_CLAIMS:
        os.makedirs(args.output_dir, exist_ok=True)
        print(f"machine: {experiments.machine()}")
        grid = _grid(args)
        if args.claim == "phase-transition":
            return _phase_transition(args, grid)
        return _depth(args, grid)
    claims = list(_CLAIMS) if args.claim == "all" else [args.claim]
    os.makedirs(args.output_dir, exist_ok=True)
    print(f"machine: {experiments.machine()}")
    for claim in claims:
        path = os.path.join(args.output_dir, f"dmc-{claim}.png")
        if claim == "fixed-step":
            n = args.size or 300
            problem = make_problem((n, n), 5, fraction=0.2, random_state=args.seed)
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
            n = args.size or 1000
            problem = make_problem((n, n), 5, fraction=0.2, random_state=args.seed)
            rows = experiments.rank_sweep(problem, seed=args.seed)
            print(f"rank sweep, {n}x{n}, rank 5, 20%, target 1e-6, step search")
            for r in rows:
                print(
                    f"  r̂={r['rank']:>2} {r['method']:<11} iterations {r['iterations_to_target']}"
                    f"  seconds {r['seconds_to_target']}"
                )
            title = f"{n}x{n}, rank 5, 20% observed, seed {args.seed} — {experiments.machine()}"
            _figure("rank_sweep_figure", rows, path, title)
        else:
            n = args.size or 60
            results = [
                experiments.parsimony((n, n), 2, fraction=f, seed=args.seed) for f in (1.0, 0.3)
            ]
            for res in results:
                print(
                    f"law of parsimony, {n}x{n}, rank 2, {res['fraction']:.0%} observed: "
                    f"the d - 2r bulk singular values spread {res['spread']:.2e} (relative)"
                )
            title = f"wide network, {n}x{n}, L=3, seed {args.seed} — {experiments.machine()}"
            _figure("parsimony_figure", results, path, title)
    return 0


def _check_grid_options(args) -> None:
    """Refuse a grid option given to a claim that does not use it."""
    specific = {"rhos": "phase-transition", "kappas": "phase-transition"}
    specific.update(rank_factors="phase-transition", samples="depth", depths="depth")
    specific.update(methods="depth")
    for name in (*_GRID_OPTIONS, *specific):
        value = getattr(args, name)
        if value is None or value is False:
            continue
        allowed = specific.get(name)
        if args.claim not in ((allowed,) if allowed else _GRID_CLAIMS):
            where = allowed or " and ".join(_GRID_CLAIMS)
            option = "--" + name.replace("_", "-")
            raise ValueError(
                f"The '{option}' option applies to 'dmc reproduce {where}' only. "
                f"Got it with {args.claim!r}."
            )
    for name in ("seeds", "max_iter"):
        value = getattr(args, name)
        if value is not None and value < 1:
            option = "--" + name.replace("_", "-")
            raise ValueError(f"The '{option}' option must be an int ≥ 1. Got {value} instead.")


def _grid(args) -> dict:
    """The claim's grid, full or --quick, with the options given on the command line."""
    grid = dict(_GRIDS[args.claim]["quick" if args.quick else "full"])
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


if __name__ == "__main__":
    raise SystemExit(main())
