"""Figures for the comparisons (matplotlib, the ``plots`` extra). Data in, Axes out.

Every function draws into the Axes it is given (``ax``), or into a new pyplot
figure when ``ax`` is None, and returns what it drew on: the Axes for a
one-panel plot, the Figure for a figure of several panels (then ``ax`` is a
sequence of Axes, one per panel). Nothing here selects a matplotlib backend or
writes a file on its own: :func:`new_figure` builds a figure that needs no
backend at all (a :class:`matplotlib.figure.Figure`, unknown to pyplot), and
:func:`save` titles and writes one. This is how ``dmc demo``, ``dmc compare``
and ``dmc reproduce`` make their PNGs::

    fig, axes = plots.new_figure("error_curves")
    plots.error_curves(runs, axes)
    plots.save(fig, "dmc-demo.png", title)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .summaries import THRESHOLD_ANCHORS, depth_summary, recovery_thresholds, success_fractions

__all__ = [
    "STYLES",
    "depth_figure",
    "depth_panel",
    "error_curve",
    "error_curves",
    "new_figure",
    "parsimony_figure",
    "parsimony_panel",
    "phase_transition_figure",
    "phase_transition_panel",
    "rank_search_curve",
    "rank_sweep_curve",
    "rank_sweep_figure",
    "save",
    "training_curve",
]

STYLES = {
    "original": dict(color="tab:blue", lw=2.5, alpha=0.6),
    "compressed": dict(color="tab:red", lw=1.5, ls="--"),
    "narrow": dict(color="tab:green", lw=1.5),
    "burer-monteiro": dict(color="tab:purple", lw=1.5, ls=":"),
}

#: the panels of each figure: a row of ``ncols`` Axes (``None``: one per item drawn)
_LAYOUTS: dict[str, dict[str, Any]] = {
    "error_curves": dict(ncols=2, width=11.0, height=4.2, sharey=True),
    "rank_sweep_figure": dict(ncols=2, width=10.0, height=4.0, sharey=False),
    "parsimony_figure": dict(ncols=None, width=5.2, height=4.0, sharey=False),
    "phase_transition_figure": dict(ncols=None, width=5.6, height=4.4, sharey=True),
    "depth_figure": dict(ncols=2, width=11.0, height=4.2, sharey=False),
}

_MATPLOTLIB_NEEDED = (
    "Figures need matplotlib: pip install 'dmc[plots]' (or pip install matplotlib)."
)


# -- figures and files ----------------------------------------------------------------


def new_figure(name: str, n_panels: int = 1):
    """A blank figure laid out for the figure function ``name``, and its Axes.

    The figure is a :class:`matplotlib.figure.Figure` made without pyplot, so it
    needs no backend, opens no window and is freed when dropped. ``n_panels`` is
    the number of items for ``"parsimony_figure"`` (one panel each), the number
    of condition numbers for ``"phase_transition_figure"`` (one panel each), and
    is ignored by the two-panel figures.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MATPLOTLIB_NEEDED) from exc
    ncols, figsize, sharey = _layout(name, n_panels)
    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, ncols, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def save(fig, path: str, title: str | None = None, *, dpi: int = 110) -> str:
    """Title ``fig`` (small, above its panels), tighten its layout and write it to ``path``.

    Returns ``path``. Works for a figure of :func:`new_figure` and for a pyplot
    one alike (the file format follows the extension, PNG for ``.png``).
    """
    if title is not None:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def _layout(name: str, n_panels: int):
    if name not in _LAYOUTS:
        raise ValueError(
            f"The 'name' parameter of new_figure must be one of {sorted(_LAYOUTS)}. "
            f"Got {name!r} instead."
        )
    spec = _LAYOUTS[name]
    ncols = spec["ncols"] or int(n_panels)
    width = spec["width"] if spec["ncols"] else spec["width"] * ncols
    return ncols, (width, spec["height"]), spec["sharey"]


def _axes(ax, name: str, n_panels: int = 1):
    """``ax`` as a list of ``n`` Axes, or the Axes of a new pyplot figure."""
    ncols, figsize, sharey = _layout(name, n_panels)
    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(_MATPLOTLIB_NEEDED) from exc
        return list(plt.subplots(1, ncols, figsize=figsize, sharey=sharey, squeeze=False)[1][0])
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != ncols:
        raise ValueError(
            f"The 'ax' parameter of {name} must be None or a sequence of {ncols} Axes. "
            f"Got {len(axes)} Axes instead."
        )
    return axes


def _single_axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MATPLOTLIB_NEEDED) from exc
    return plt.subplots()[1]


# -- error against iterations and seconds -------------------------------------------


def error_curve(runs: dict, ax=None, *, against: str = "iteration", key: str = "recovery_error"):
    """Recovery error against ``against`` ("iteration" or "time"), one line per run.

    ``runs`` maps a label to a history dict with ``iteration``, ``time`` and
    ``key``. Against iterations the error axis is logarithmic; against time
    (training seconds) both axes are, and instants at 0 s are left out.

    Returns the Axes drawn on (``ax``, or a new one).
    """
    if against not in ("iteration", "time"):
        raise ValueError(
            "The 'against' parameter of error_curve must be 'iteration' or 'time'. "
            f"Got {against!r} instead."
        )
    ax = _single_axes(ax)
    for label, h in runs.items():
        err = np.asarray(h[key], dtype=float)
        ok = np.isfinite(err)
        style = dict(STYLES.get(label.split(" ")[0], {}))
        if label.endswith("γ=0"):  # the frozen-outer-factor ablation
            style.update(color="0.45", ls=":")
        if against == "iteration":
            ax.semilogy(np.asarray(h["iteration"])[ok], err[ok], label=label, **style)
        else:
            t = np.asarray(h["time"])
            ax.loglog(t[ok & (t > 0)], err[ok & (t > 0)], label=label, **style)
    ax.set_xlabel("iteration" if against == "iteration" else "seconds (training only, log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def error_curves(runs: dict, ax=None, *, key: str = "recovery_error"):
    """Recovery error against iterations (left) and seconds (right), one line per run.

    ``runs`` maps a label to a history dict with ``iteration``, ``time`` and ``key``.
    ``ax``: two Axes (left, right), or None for a new pyplot figure.

    Returns the Figure of the two panels.
    """
    left, right = _axes(ax, "error_curves")
    error_curve(runs, left, against="iteration", key=key)
    error_curve(runs, right, against="time", key=key)
    left.set_ylabel("relative recovery error (unobserved entries)")
    return left.figure


# -- the rank sweep ---------------------------------------------------------------------


def rank_sweep_curve(rows: list[dict], ax=None, *, measure: str = "iterations"):
    """Iterations (or seconds) to the target error against r̂, one line per method.

    ``rows`` are the dicts of :func:`dmc.reproduce.experiments.rank_sweep`
    (``rank``, ``method``, ``iterations_to_target``, ``seconds_to_target``; a
    target never reached is None and leaves a gap). ``measure``: "iterations"
    or "seconds". Returns the Axes drawn on.
    """
    if measure not in ("iterations", "seconds"):
        raise ValueError(
            "The 'measure' parameter of rank_sweep_curve must be 'iterations' or 'seconds'. "
            f"Got {measure!r} instead."
        )
    ax = _single_axes(ax)
    field = f"{measure}_to_target"
    for method in sorted({r["method"] for r in rows}):
        sel = [r for r in rows if r["method"] == method]
        ranks = [r["rank"] for r in sel]
        values = [r[field] or np.nan for r in sel]
        ax.plot(ranks, values, marker="o", label=method, **STYLES.get(method, {}))
    ax.set_ylabel(f"{measure} to target error")
    ax.set_xlabel("rank estimate r̂")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def rank_sweep_figure(rows: list[dict], ax=None):
    """Iterations (left) and seconds (right) to the target error against r̂, per method.

    ``ax``: two Axes, or None for a new pyplot figure. Returns the Figure.
    """
    left, right = _axes(ax, "rank_sweep_figure")
    rank_sweep_curve(rows, left, measure="iterations")
    rank_sweep_curve(rows, right, measure="seconds")
    return left.figure


# -- the law of parsimony -------------------------------------------------------------


def parsimony_panel(result: dict, ax=None):
    """Singular values of W_1 over training, for one result of ``experiments.parsimony``.

    The ``2 r`` that learn are drawn in red, the ``d − 2 r`` others in grey.
    Returns the Axes drawn on.
    """
    ax = _single_axes(ax)
    sv = result["singular_values"][:, 0, :]  # first layer
    r2 = 2 * result["rank"]
    ax.semilogy(result["iterations"], sv[:, r2:], color="0.6", lw=0.6)
    ax.semilogy(result["iterations"], sv[:, :r2], color="tab:red", lw=1.5)
    ax.set_xlabel("iteration")
    ax.set_ylabel("singular values of W_1")
    ax.set_title(
        f"{result['fraction']:.0%} observed: the d − 2r others spread "
        f"{result['spread']:.1e} (relative)",
        fontsize=9,
    )
    ax.grid(True, alpha=0.3)
    return ax


def parsimony_figure(results: list[dict], ax=None):
    """One :func:`parsimony_panel` per result, side by side.

    ``ax``: one Axes per result, or None for a new pyplot figure. Returns the Figure.
    """
    axes = _axes(ax, "parsimony_figure", len(results))
    for a, res in zip(axes, results):
        parsimony_panel(res, a)
    return axes[0].figure


# -- the recovery phase transition ------------------------------------------------------


def phase_transition_panel(rows: list[dict], ax=None, *, condition_number, anchors=None):
    """Fraction of seeds recovered against ρ at one κ, one line per r̂.

    ``rows``: the per-fit rows of :func:`dmc.reproduce.experiments.phase_transition`
    (those of other κ are ignored). Each line's label gives its threshold ρ*
    (:func:`dmc.reproduce.summaries.recovery_thresholds`). ``anchors``: other
    solvers' thresholds, drawn as vertical lines where their ``kappas`` include
    ``condition_number`` (None: :data:`~dmc.reproduce.summaries.THRESHOLD_ANCHORS`,
    published at 1000 x 1000 and measured for R2RILS at 500 x 500; ``()``: none).
    Returns the Axes drawn on.
    """
    ax = _single_axes(ax)
    anchors = THRESHOLD_ANCHORS if anchors is None else anchors
    rows = [r for r in rows if r["condition_number"] == condition_number]
    rank = rows[0]["rank"] if rows else None
    for i, t in enumerate(recovery_thresholds(rows)):
        rhos, fractions = success_fractions(rows, condition_number, t["rank_estimate"])
        star = f"{t['threshold']:g}" if t["threshold"] is not None else f"> {t['largest']:g}"
        factor = "r" if t["rank_estimate"] == rank else f"{t['rank_estimate'] / rank:g}r"
        seeds = f"{t['n_seeds']} seed" + ("s" if t["n_seeds"] > 1 else "")
        label = f"dmc, r̂ = {factor} = {t['rank_estimate']}: ρ* {star} ({seeds})"
        # distinct markers and dashes: lines that coincide stay visible
        style = dict(marker="os^D"[i % 4], ms=7 - 2 * (i % 3), ls=("-", "--", ":")[i % 3])
        ax.plot(rhos, fractions, label=label, **style)
    here = [a for a in anchors if condition_number in a["kappas"]]
    published = [a for a in here if a["source"] != "measured"]
    by_rho: dict[float, list[str]] = {}
    for a in published:
        by_rho.setdefault(a["rho"], []).append(a["solver"])
    for i, (rho, solvers) in enumerate(sorted(by_rho.items())):
        shape = "x".join(str(s) for s in published[0]["shape"])
        label = f"published ρ* ({shape}, κ = {condition_number:g})" if i == 0 else None
        ax.axvline(rho, color="0.5", ls=":", lw=1.2, label=label)
        ax.text(rho, 0.5, " " + ", ".join(solvers), rotation=90, va="center", fontsize=7)
    for a in here:
        if a["source"] == "measured":
            shape = "x".join(str(s) for s in a["shape"])
            label = f"{a['solver']} ρ* measured (public code, true rank, {shape})"
            ax.axvline(a["rho"], color="k", ls="--", lw=1.2, label=label)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("oversampling ratio ρ = |Ω| / (r (m + n − r))")
    ax.set_ylabel("fraction of seeds with error ≤ 1e-4")
    ax.set_title(f"κ = {condition_number:g}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def phase_transition_figure(rows: list[dict], ax=None, *, anchors=None):
    """One :func:`phase_transition_panel` per condition number κ in ``rows``, κ ascending.

    ``ax``: one Axes per κ, or None for a new pyplot figure. Returns the Figure.
    """
    kappas = sorted({r["condition_number"] for r in rows})
    axes = _axes(ax, "phase_transition_figure", len(kappas))
    for a, kappa in zip(axes, kappas):
        phase_transition_panel(rows, a, condition_number=kappa, anchors=anchors)
    lows, highs = zip(*(a.get_xlim() for a in axes))
    for a in axes:  # one ρ axis for every panel, whatever anchors each has
        a.set_xlim(min(lows), max(highs))
    return axes[0].figure


# -- depth ------------------------------------------------------------------------------

_DEPTH_MEASURES = {
    "error": ("median_error", "error", "relative recovery error (unobserved entries)"),
    "mse": ("median_mse", "mse", "mean squared error, all entries (unit RMS)"),
}


def depth_panel(rows: list[dict], ax=None, *, measure: str = "error"):
    """Error against depth, one line per method and |Ω|, log scale.

    ``rows``: the per-fit rows of :func:`dmc.reproduce.experiments.depth_experiment`.
    The line joins the medians over seeds; each seed is a faint dot. ``measure``:
    "error" (relative, on the unobserved entries) or "mse" (mean squared error
    over all entries). Returns the Axes drawn on.
    """
    if measure not in _DEPTH_MEASURES:
        raise ValueError(
            f"The 'measure' parameter of depth_panel must be one of {sorted(_DEPTH_MEASURES)}. "
            f"Got {measure!r} instead."
        )
    median_key, key, ylabel = _DEPTH_MEASURES[measure]
    ax = _single_axes(ax)
    summary = depth_summary(rows)
    counts = sorted({r["n_observed"] for r in summary})
    markers = "osD^v"
    for method in dict.fromkeys(r["method"] for r in summary):
        style = dict(STYLES.get(method, {}))
        style.pop("ls", None)
        for i, count in enumerate(counts):
            sel = [r for r in summary if r["method"] == method and r["n_observed"] == count]
            if not sel:
                continue
            ls = ("-", "--", ":", "-.")[i % 4]
            depths = [r["depth"] for r in sel]
            values = [r[median_key] for r in sel]
            label = f"{method}, |Ω| = {count}"
            ax.semilogy(depths, values, ls=ls, marker=markers[i % 5], label=label, **style)
            dots = [r for r in rows if r["method"] == method and r["n_observed"] == count]
            ax.semilogy(
                [r["depth"] for r in dots],
                [r[key] for r in dots],
                ls="none",
                marker=markers[i % 5],
                ms=3,
                alpha=0.35,
                color=style.get("color"),
            )
    ax.set_xticks(sorted({r["depth"] for r in summary}))
    ax.set_xlabel("depth L")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def depth_figure(rows: list[dict], ax=None):
    """Recovery error (left) and mean squared error (right) against depth.

    ``ax``: two Axes, or None for a new pyplot figure. Returns the Figure.
    """
    left, right = _axes(ax, "depth_figure")
    depth_panel(rows, left, measure="error")
    depth_panel(rows, right, measure="mse")
    return left.figure


# -- the training curve of one fit, the validation curve of a rank search ---------------

#: what the training curve draws of a history, and how it names it
_HISTORY_LABELS = {
    "residual": "training residual ‖P_Ω(W − Φ)‖ / ‖P_Ω(Φ)‖",
    "validation_error": "held-out error (early stopping)",
    "recovery_error": "recovery error (unobserved entries)",
    "loss": "loss",
    "step_size": "step size",
}


def _history_of(result) -> Mapping:
    """The history dict of a result, an estimator, a ratings model, or the dict itself."""
    if isinstance(result, Mapping):
        return result
    for owner, name in ((result, "history"), (result, "history_")):
        history = getattr(owner, name, None)
        if isinstance(history, Mapping):
            return history
    completion = getattr(result, "completion_", None)  # a fitted RatingsModel
    history = getattr(completion, "history", None)
    if isinstance(history, Mapping):
        return history
    raise TypeError(
        "The 'result' parameter of training_curve must be a CompletionResult, a fitted "
        "DeepMatrixCompletion or RatingsModel, or a history dict. "
        f"Got {type(result).__name__} instead."
    )


def training_curve(
    result: Any,
    ax: Any = None,
    *,
    against: str = "iteration",
    keys: Sequence[str] | None = None,
) -> Any:
    """The training curve of a fit: its residual and held-out errors, log scale.

    Parameters
    ----------
    result : CompletionResult, DeepMatrixCompletion, RatingsModel or dict
        A fit (``result.history``, an estimator's ``history_``, a ratings
        model's ``completion_.history``) or the history dict itself, with
        ``iteration``, ``time`` and the curves to draw.
    ax : matplotlib Axes or None
        Where to draw; None: a new pyplot figure.
    against : {"iteration", "time"}, default "iteration"
        The x axis: iterations, or training seconds.
    keys : sequence of str or None
        The curves, among the history's keys (``"residual"``, ``"validation_error"``,
        ``"recovery_error"``, ``"loss"``, ``"step_size"``, ...). None:
        ``"residual"``, and ``"validation_error"`` and ``"recovery_error"``
        when the fit recorded them.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    Held-out and recovery errors are evaluated every few iterations and the
    history holds NaN in between: only the finite, positive values are drawn
    (points joined by a line, with markers for the sparse ones).

    Examples
    --------
    >>> import dmc
    >>> from matplotlib.figure import Figure
    >>> from dmc.reproduce.plots import training_curve
    >>> problem = dmc.make_problem((40, 30), 2, fraction=0.6, random_state=0)
    >>> result = dmc.complete(problem.observations, rank=2, random_state=0, tol=1e-4,
    ...                       truth=problem.truth, eval_every=10)
    >>> ax = training_curve(result, Figure().subplots())
    >>> [line.get_label() for line in ax.lines]  # doctest: +NORMALIZE_WHITESPACE
    ['training residual ‖P_Ω(W − Φ)‖ / ‖P_Ω(Φ)‖', 'recovery error (unobserved entries)']
    """
    if against not in ("iteration", "time"):
        raise ValueError(
            "The 'against' parameter of training_curve must be 'iteration' or 'time'. "
            f"Got {against!r} instead."
        )
    history = _history_of(result)
    if keys is None:
        keys = ["residual"] + [
            key
            for key in ("validation_error", "recovery_error")
            if key in history and np.isfinite(np.asarray(history[key], dtype=float)).any()
        ]
    elif isinstance(keys, str) or not isinstance(keys, Sequence):
        raise TypeError(
            "The 'keys' parameter of training_curve must be a sequence of history keys. "
            f"Got {keys!r} instead."
        )
    if against not in history:
        raise ValueError(
            f"The 'result' parameter of training_curve must have a history with {against!r} "
            f"(against={against!r}). Got a history of {sorted(history)} instead."
        )
    missing = [key for key in keys if key not in history]
    if missing:
        raise ValueError(
            "The 'keys' parameter of training_curve must name entries of the history "
            f"{sorted(history)}. Got {missing[0]!r}, which it lacks, instead."
        )
    x = np.asarray(history[against], dtype=float)
    ax = _single_axes(ax)
    for key in keys:
        y = np.asarray(history[key], dtype=float)
        if y.shape != x.shape:
            raise ValueError(
                f"The history's {key!r} must have one value per {against} ({x.size}). "
                f"Got {y.size} instead."
            )
        ok = np.isfinite(y) & (y > 0) & np.isfinite(x)
        sparse = ok.sum() < 0.5 * ok.size
        ax.semilogy(
            x[ok],
            y[ok],
            label=_HISTORY_LABELS.get(key, key),
            marker="o" if sparse else None,
            ms=3,
        )
    ax.set_xlabel("iteration" if against == "iteration" else "seconds (training only)")
    ax.set_ylabel("relative error")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def rank_search_curve(search: Any, ax: Any = None, *, param: str = "rank") -> Any:
    """The validation curve of a rank search: held-out error against the rank.

    Parameters
    ----------
    search : fitted GridSearchCV or its ``cv_results_`` dict
        What :func:`dmc.impute.model_selection.search_rank` returns (or any
        search over ``param``). Its scores are the held-out scorer's, minus an
        RMSE: the curve draws the RMSE (minus the score), with one standard
        deviation over the folds as error bars, and the training RMSE when the
        search kept it (``return_train_score=True``). Scores of other signs are
        drawn as they are.
    ax : matplotlib Axes or None
        Where to draw; None: a new pyplot figure.
    param : str, default "rank"
        The searched parameter on the x axis.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on; a dotted vertical line marks the chosen value
        (``best_index_``) when ``search`` is a fitted search.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from dmc.reproduce.plots import rank_search_curve
    >>> cv_results = {
    ...     "params": [{"rank": 1}, {"rank": 2}, {"rank": 4}],
    ...     "mean_test_score": [-0.5, -0.01, -0.012],
    ...     "std_test_score": [0.05, 0.001, 0.002],
    ... }
    >>> ax = rank_search_curve(cv_results, Figure().subplots())
    >>> ax.get_xlabel(), ax.get_yscale()
    ('rank', 'log')
    """
    results = getattr(search, "cv_results_", search)
    if not isinstance(results, Mapping) or not {"params", "mean_test_score"} <= set(results):
        raise TypeError(
            "The 'search' parameter of rank_search_curve must be a fitted GridSearchCV or "
            f"its cv_results_ dict. Got {type(search).__name__} instead."
        )
    params = list(results["params"])
    if not params or any(param not in p for p in params):
        raise ValueError(
            f"The 'param' parameter of rank_search_curve must be searched by every candidate. "
            f"Got {param!r}, which candidates {params!r:.200} lack, instead."
        )
    values = np.array([p[param] for p in params], dtype=float)
    order = np.argsort(values, kind="stable")
    mean = np.asarray(results["mean_test_score"], dtype=float)
    sign = -1.0 if np.all(mean[np.isfinite(mean)] <= 0) else 1.0
    ax = _single_axes(ax)
    curves = [("test", "held-out")]
    if "mean_train_score" in results:
        curves.append(("train", "training"))
    for part, name in curves:
        y = sign * np.asarray(results[f"mean_{part}_score"], dtype=float)[order]
        std = np.asarray(results.get(f"std_{part}_score", np.zeros(y.size)), dtype=float)[order]
        ok = np.isfinite(y)
        label = f"{name} RMSE" if sign < 0 else f"{name} score"
        ax.errorbar(values[order][ok], y[ok], yerr=std[ok], marker="o", capsize=3, label=label)
    best = getattr(search, "best_index_", None)
    if best is not None:
        ax.axvline(values[best], color="0.4", ls=":", label=f"chosen {param} = {values[best]:g}")
    finite = sign * mean[np.isfinite(mean)]
    if sign < 0 and finite.size and np.all(finite > 0):
        ax.set_yscale("log")
    ax.set_xlabel(param)
    ax.set_ylabel("held-out RMSE (minus the score)" if sign < 0 else "score")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return ax
