"""Figures for the comparisons (matplotlib, the ``plots`` extra). Data in, PNG out."""

from __future__ import annotations

import numpy as np

__all__ = ["error_curves", "rank_sweep_figure", "parsimony_figure"]

STYLES = {
    "original": dict(color="tab:blue", lw=2.5, alpha=0.6),
    "compressed": dict(color="tab:red", lw=1.5, ls="--"),
    "narrow": dict(color="tab:green", lw=1.5),
    "burer-monteiro": dict(color="tab:purple", lw=1.5, ls=":"),
}


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Figures need matplotlib: pip install 'dmc[plots]' (or pip install matplotlib)."
        ) from exc
    return plt


def _save(plt, fig, title: str, path: str) -> str:
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def error_curves(runs: dict, path: str, title: str, *, key: str = "recovery_error") -> str:
    """Recovery error against iterations (left) and seconds (right), one line per run.

    ``runs`` maps a label to a history dict with ``iteration``, ``time`` and ``key``.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for label, h in runs.items():
        err = np.asarray(h[key], dtype=float)
        ok = np.isfinite(err)
        style = dict(STYLES.get(label.split(" ")[0], {}))
        if label.endswith("γ=0"):  # the frozen-outer-factor ablation
            style.update(color="0.45", ls=":")
        t = np.asarray(h["time"])
        axes[0].semilogy(np.asarray(h["iteration"])[ok], err[ok], label=label, **style)
        axes[1].loglog(t[ok & (t > 0)], err[ok & (t > 0)], label=label, **style)
    axes[0].set_xlabel("iteration")
    axes[1].set_xlabel("seconds (training only, log scale)")
    axes[0].set_ylabel("relative recovery error (unobserved entries)")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(plt, fig, title, path)


def rank_sweep_figure(rows: list[dict], path: str, title: str) -> str:
    """Iterations and seconds to the target error against r̂, per method."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in sorted({r["method"] for r in rows}):
        sel = [r for r in rows if r["method"] == method]
        ranks = [r["rank"] for r in sel]
        its = [r["iterations_to_target"] or np.nan for r in sel]
        secs = [r["seconds_to_target"] or np.nan for r in sel]
        style = STYLES.get(method, {})
        axes[0].plot(ranks, its, marker="o", label=method, **style)
        axes[1].plot(ranks, secs, marker="o", label=method, **style)
    axes[0].set_ylabel("iterations to target error")
    axes[1].set_ylabel("seconds to target error")
    for ax in axes:
        ax.set_xlabel("rank estimate r̂")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _save(plt, fig, title, path)


def parsimony_figure(results: list[dict], path: str, title: str) -> str:
    """Singular values of W_1 over training, one panel per observed fraction."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4), squeeze=False)
    for ax, res in zip(axes[0], results):
        sv = res["singular_values"][:, 0, :]  # first layer
        r2 = 2 * res["rank"]
        ax.semilogy(res["iterations"], sv[:, r2:], color="0.6", lw=0.6)
        ax.semilogy(res["iterations"], sv[:, :r2], color="tab:red", lw=1.5)
        ax.set_xlabel("iteration")
        ax.set_ylabel("singular values of W_1")
        ax.set_title(
            f"{res['fraction']:.0%} observed: the d − 2r others spread "
            f"{res['spread']:.1e} (relative)",
            fontsize=9,
        )
        ax.grid(True, alpha=0.3)
    return _save(plt, fig, title, path)
