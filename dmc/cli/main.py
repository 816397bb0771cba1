"""The ``dmc`` command line. Thin: parse, call the library, print, plot."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .. import __version__
from ..core.complete import METHODS
from ..data.synthetic import make_problem
from ..reproduce import experiments
from .recommend import add_recommend_parser


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
            "wide network's weights under full and partial observation."
        ),
    )
    reproduce.add_argument("claim", choices=["fixed-step", "rank-sweep", "parsimony", "all"])
    reproduce.add_argument("--size", type=int, default=None, help="rows = columns")
    reproduce.add_argument("--seed", type=int, default=0)
    reproduce.add_argument("--output-dir", default=".")
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
    claims = ["fixed-step", "rank-sweep", "parsimony"] if args.claim == "all" else [args.claim]
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


def _runs(rows):
    return {r["method"]: r["history"] for r in rows if "history" in r}


def _figure(name, data, path, title):
    """Draw ``data`` with ``dmc.reproduce.plots.<name>`` and write it to ``path``.

    The figure is a bare ``matplotlib.figure.Figure``: no pyplot, so no backend
    is chosen or needed. Without matplotlib, say so and go on.
    """
    try:
        from ..reproduce import plots

        fig, axes = plots.new_figure(name, len(data))
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
