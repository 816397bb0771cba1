"""dmc's imputer against the imputers people already use, on real and synthetic data.

    python bench/imputation.py                      # everything, 3 seeds (about 30 min)
    python bench/imputation.py --datasets digits wine --seeds 1
    python bench/imputation.py --unrefined          # also dmc with refine_rounds=0

For each dataset and missing fraction (entries hidden uniformly at random, with
a seeded mask; one entry of every row kept), every imputer fills the same
matrix and is scored on the hidden entries:

* ``rmse``: root-mean-square error in the data's units;
* ``z``: the same after dividing each column by its standard deviation (columns
  in different units weigh alike; the headline for tabular data);
* ``seconds``: wall time of ``fit_transform``, in the same run.

Imputers: scikit-learn's SimpleImputer (mean), KNNImputer and IterativeImputer
(defaults; with ``n_nearest_features=50`` on matrices of more than 100 columns,
where the default takes hours), fancyimpute's SoftImpute on standardized columns
as its documentation advises (``pip install --no-deps fancyimpute knnimpute six``;
skipped when missing; a shim maps the ``force_all_finite`` argument that newer
scikit-learn renamed), a rank-10 hard-impute baseline, and
``dmc.DeepMatrixCompletion()`` with its defaults (``random_state`` = seed).

Datasets: scikit-learn's digits, breast cancer, wine and diabetes (raw units),
the decaying-spectrum generator (500 x 800, σ_j ∝ 1/j, with and without noise
of 0.1 x RMS) and, separately, issue 14's noisy low-rank case (500 x 500, rank 5,
κ = 5, 20% observed, noise 0.1 x RMS, error against the clean matrix).

Writes bench/results/imputation.json and bench/results/imputation.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

import dmc
from dmc.data.synthetic import decaying_matrix

RESULTS = Path(__file__).parent / "results"
TABULAR = ("digits", "breast_cancer", "wine", "diabetes")
SYNTHETIC = ("decaying", "decaying_noisy")


def load(name, seed):
    """``(X, truth)``: the data to hide entries of, and what the errors are measured against."""
    if name in TABULAR:
        loader = getattr(datasets, f"load_{name}")
        X = (loader(scaled=False) if name == "diabetes" else loader()).data.astype(float)
        return X, X
    noise = 0.1 if name == "decaying_noisy" else 0.0
    return decaying_matrix((500, 800), exponent=1.0, noise=noise, random_state=seed)


def hide(X, fraction, seed):
    rng = np.random.default_rng(1000 + seed)
    hidden = rng.random(X.shape) < fraction
    full = np.flatnonzero(hidden.all(axis=1))  # every row keeps one entry
    hidden[full, rng.integers(0, X.shape[1], full.size)] = False
    X_missing = X.copy()
    X_missing[hidden] = np.nan
    return X_missing, hidden


def scores(filled, truth, hidden):
    diff = (filled - truth)[hidden]
    spread = truth.std(axis=0)
    spread[spread == 0] = 1.0
    z = ((filled - truth) / spread)[hidden]
    return {
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "relative": float(np.linalg.norm(diff) / np.linalg.norm(truth[hidden])),
        "z": float(np.sqrt(np.mean(z**2))),
    }


class Standardized:
    """Fit an imputer on standardized columns and undo it (SoftImpute's advice)."""

    def __init__(self, imputer):
        self.imputer = imputer

    def fit_transform(self, X):
        mean, std = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
        std[~(std > 0)] = 1.0
        return self.imputer.fit_transform((X - mean) / std) * std + mean


class HardImpute:
    """Rank-k hard impute on centred columns: iterate ``fill missing by the rank-k SVD``."""

    def __init__(self, rank=10, n_iter=100):
        self.rank, self.n_iter = rank, n_iter

    def fit_transform(self, X):
        observed = ~np.isnan(X)
        mean = np.nanmean(X, axis=0)
        Z = np.where(observed, X - mean, 0.0)
        W = Z
        k = min(self.rank, *X.shape)
        for _ in range(self.n_iter):
            U, s, Vt = np.linalg.svd(np.where(observed, Z, W), full_matrices=False)
            W = (U[:, :k] * s[:k]) @ Vt[:k]
        return np.where(observed, X, W + mean)


def soft_impute():
    """fancyimpute's SoftImpute, with the shims newer scikit-learn needs; None if missing."""
    sys.modules.setdefault("cvxpy", types.ModuleType("cvxpy"))  # only its NNM solver needs it
    try:
        import fancyimpute.iterative_svd
        import fancyimpute.soft_impute
        import fancyimpute.solver
    except ImportError:
        return None
    from sklearn.utils import check_array

    def shim(*args, force_all_finite=None, **kwargs):
        if force_all_finite is not None:
            kwargs["ensure_all_finite"] = force_all_finite
        return check_array(*args, **kwargs)

    for module in (fancyimpute.solver, fancyimpute.soft_impute, fancyimpute.iterative_svd):
        module.check_array = shim
    return lambda: Standardized(fancyimpute.soft_impute.SoftImpute(verbose=False))


def imputers(n_features, seed, unrefined=False):
    out = {
        "SimpleImputer": lambda: SimpleImputer(),
        "KNNImputer": lambda: KNNImputer(),
        "IterativeImputer": lambda: IterativeImputer(
            random_state=seed, n_nearest_features=50 if n_features > 100 else None
        ),
        "HardImpute(10)": lambda: HardImpute(10),
    }
    soft = soft_impute()
    if soft is not None:
        out["SoftImpute"] = soft
    out["dmc"] = lambda: dmc.DeepMatrixCompletion(random_state=seed)
    if unrefined:  # the defaults before refine_rounds
        out["dmc unrefined"] = lambda: dmc.DeepMatrixCompletion(refine_rounds=0, random_state=seed)
    return out


def run_one(make, X_missing):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        imputer = make()
        filled = imputer.fit_transform(X_missing)
        seconds = time.perf_counter() - start
    stop = getattr(imputer, "stop_reason_", None)
    return filled, seconds, stop, sorted({type(w.message).__name__ for w in caught})


def noisy_low_rank(seed, unrefined=False):
    """Issue 14's case: error of the estimator's defaults against the clean matrix."""
    problem = dmc.make_problem((500, 500), 5, fraction=0.2, condition_number=5, random_state=seed)
    obs = problem.observations
    rng = np.random.default_rng(seed)
    rms = np.sqrt(np.mean(obs.values**2))
    X = np.full(obs.shape, np.nan)
    X[obs.rows, obs.cols] = obs.values + 0.1 * rms * rng.standard_normal(obs.n_observed)
    truth = problem.truth.to_dense()
    rows = []
    for name, make in (
        ("dmc", lambda: dmc.DeepMatrixCompletion(random_state=seed)),
        ("dmc unrefined", lambda: dmc.DeepMatrixCompletion(refine_rounds=0, random_state=seed)),
        ("SoftImpute", soft_impute()),
        ("KNNImputer", lambda: KNNImputer()),
    ):
        if make is None or (name == "dmc unrefined" and not unrefined):
            continue
        filled, seconds, stop, caught = run_one(make, X)
        error = float(np.linalg.norm(filled - truth) / np.linalg.norm(truth))
        rows.append(dict(seed=seed, imputer=name, error=error, seconds=seconds, stop=stop))
        print(
            f"noisy low rank  seed {seed}  {name:16s} error vs clean {error:.4f}  {seconds:6.1f} s"
        )
    return rows


def figure(rows, path):
    import matplotlib

    matplotlib.use("Agg")  # a script, not library code
    import matplotlib.pyplot as plt

    cases = sorted({(r["dataset"], r["fraction"]) for r in rows}, key=lambda c: (c[0], c[1]))
    names = [n for n in dict.fromkeys(r["imputer"] for r in rows) if n != "SimpleImputer"]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(cases)), 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ratios = []
        for dataset, fraction in cases:
            mine = [
                r["z"]
                for r in rows
                if (r["dataset"], r["fraction"], r["imputer"]) == (dataset, fraction, name)
            ]
            base = [
                r["z"]
                for r in rows
                if (r["dataset"], r["fraction"], r["imputer"])
                == (dataset, fraction, "SimpleImputer")
            ]
            ratios.append(np.mean(mine) / np.mean(base))
        ax.bar(np.arange(len(cases)) + i * width, ratios, width, label=name)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{d}\n{int(f * 100)}% missing" for d, f in cases], fontsize=7)
    ax.set_ylabel("error / SimpleImputer's (standardized RMSE)")
    ax.legend(fontsize=7, ncol=3)
    ax.set_title("Imputation error on hidden entries (mean over seeds; lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=[*TABULAR, *SYNTHETIC, "noisy_low_rank"])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.3, 0.7])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="imputers not to run")
    parser.add_argument(
        "--unrefined", action="store_true", help="also dmc with refine_rounds=0 (the old defaults)"
    )
    args = parser.parse_args(argv)
    print(f"# {platform.platform()}, Python {platform.python_version()}, dmc {dmc.__version__}")
    rows, noisy = [], []
    for name in args.datasets:
        if name == "noisy_low_rank":
            for seed in range(args.seeds):
                noisy.extend(noisy_low_rank(seed, args.unrefined))
            continue
        for fraction in args.fractions:
            for seed in range(args.seeds):
                X, truth = load(name, seed)
                X_missing, hidden = hide(X, fraction, seed)
                for imputer, make in imputers(X.shape[1], seed, args.unrefined).items():
                    if imputer in args.skip:
                        continue
                    filled, seconds, stop, caught = run_one(make, X_missing)
                    row = dict(dataset=name, fraction=fraction, seed=seed, imputer=imputer)
                    row.update(scores(filled, truth, hidden), seconds=seconds, stop=stop)
                    row["warnings"] = caught
                    rows.append(row)
                    print(
                        f"{name:15s} {fraction:.0%} seed {seed}  {imputer:16s} "
                        f"rmse {row['rmse']:9.4g}  z {row['z']:.4f}  {seconds:6.1f} s"
                        + (f"  ({stop})" if stop else ""),
                        flush=True,
                    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imputation.json").write_text(
        json.dumps({"rows": rows, "noisy_low_rank": noisy}, indent=1)
    )
    if rows:
        summary(rows)
        figure(rows, RESULTS / "imputation.png")


def summary(rows):
    print("\nmean over seeds: z (standardized RMSE) / rmse; seconds")
    names = list(dict.fromkeys(r["imputer"] for r in rows))
    print("| dataset | missing | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for dataset, fraction in dict.fromkeys((r["dataset"], r["fraction"]) for r in rows):
        cells = []
        for name in names:
            mine = [
                r
                for r in rows
                if (r["dataset"], r["fraction"], r["imputer"]) == (dataset, fraction, name)
            ]
            z = np.mean([r["z"] for r in mine])
            rmse = np.mean([r["rmse"] for r in mine])
            seconds = np.mean([r["seconds"] for r in mine])
            cells.append(f"{z:.3f} / {rmse:.4g}; {seconds:.1f} s")
        print(f"| {dataset} | {fraction:.0%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
