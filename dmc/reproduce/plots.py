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

import numpy as np

__all__ = [
    "STYLES",
    "error_curve",
    "error_curves",
    "new_figure",
    "parsimony_figure",
    "parsimony_panel",
    "rank_sweep_curve",
    "rank_sweep_figure",
    "save",
]

STYLES = {
    "original": dict(color="tab:blue", lw=2.5, alpha=0.6),
    "compressed": dict(color="tab:red", lw=1.5, ls="--"),
    "narrow": dict(color="tab:green", lw=1.5),
    "burer-monteiro": dict(color="tab:purple", lw=1.5, ls=":"),
}

#: the panels of each figure: a row of ``ncols`` Axes (``None``: one per item drawn)
_LAYOUTS = {
    "error_curves": dict(ncols=2, width=11.0, height=4.2, sharey=True),
    "rank_sweep_figure": dict(ncols=2, width=10.0, height=4.0, sharey=False),
    "parsimony_figure": dict(ncols=None, width=5.2, height=4.0, sharey=False),
}

_MATPLOTLIB_NEEDED = (
    "Figures need matplotlib: pip install 'dmc[plots]' (or pip install matplotlib)."
)


# -- figures and files ----------------------------------------------------------------


def new_figure(name: str, n_panels: int = 1):
    """A blank figure laid out for the figure function ``name``, and its Axes.

    The figure is a :class:`matplotlib.figure.Figure` made without pyplot, so it
    needs no backend, opens no window and is freed when dropped. ``n_panels`` is
    the number of items for ``"parsimony_figure"`` (one panel each) and is
    ignored by the two-panel figures.

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
