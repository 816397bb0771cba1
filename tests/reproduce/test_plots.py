"""The figures: drawn into the Axes given (or new ones), returned, written only on request."""

import importlib

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dmc.reproduce import plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"

HISTORY = dict(iteration=np.arange(3), time=np.arange(3.0), recovery_error=np.array([1, 0.1, 0.01]))
RUNS = {"compressed": HISTORY, "compressed γ=0": HISTORY}
ROWS = [
    dict(rank=2, method="narrow", iterations_to_target=5, seconds_to_target=0.1),
    dict(rank=4, method="narrow", iterations_to_target=None, seconds_to_target=None),
    dict(rank=2, method="compressed", iterations_to_target=3, seconds_to_target=0.05),
]


def _parsimony(fraction):
    rng = np.random.default_rng(0)
    return dict(
        singular_values=rng.random((4, 3, 6)) + 0.1,
        rank=1,
        iterations=np.arange(4),
        fraction=fraction,
        spread=1e-3,
    )


RESULTS = [_parsimony(1.0), _parsimony(0.3)]

PHASE = [
    dict(
        condition_number=kappa,
        rank=2,
        rank_estimate=2 * f,
        oversampling=rho,
        seed=seed,
        n_observed=int(rho * 236),
        success=rho >= 2 * kappa,
        error=1e-9 if rho >= 2 * kappa else 0.3,
        seconds=0.1,
    )
    for kappa in (1.0, 2.0)
    for f in (1, 2)
    for rho in (2.0, 4.0)
    for seed in (0, 1)
]

DEPTH = [
    dict(
        method=m,
        n_observed=c,
        depth=d,
        seed=s,
        n_parameters=100,
        error=10.0**-d,
        mse=10.0 ** (-2 * d) * (s + 1),
        effective_rank=2.0,
        n_iter=10,
        seconds=0.1,
    )
    for m in ("original", "compressed")
    for c in (200, 450)
    for d in (2, 3)
    for s in (0, 1)
]

FIGURES = [
    ("error_curves", RUNS, 2),
    ("rank_sweep_figure", ROWS, 2),
    ("parsimony_figure", RESULTS, 2),
]


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("name, data, n_axes", FIGURES)
def test_figures_are_written(tmp_path, name, data, n_axes):
    fig, axes = plots.new_figure(name, len(data))
    assert isinstance(fig, Figure) and len(axes) == n_axes
    assert getattr(plots, name)(data, axes) is fig
    path = str(tmp_path / f"{name}.png")
    assert plots.save(fig, path, "t") == path
    assert open(path, "rb").read(8) == PNG
    assert fig.get_suptitle() == "t"


@pytest.mark.parametrize("name, data, n_axes", FIGURES)
def test_figures_draw_into_the_axes_given(name, data, n_axes):
    fig = Figure()
    axes = fig.subplots(1, n_axes)
    assert getattr(plots, name)(data, axes) is fig
    assert all(ax.lines for ax in axes)
    assert len(fig.axes) == n_axes  # nothing added


@pytest.mark.parametrize("name, data, n_axes", FIGURES)
def test_figures_without_axes_make_their_own(name, data, n_axes):
    fig = getattr(plots, name)(data)
    assert len(fig.axes) == n_axes and all(ax.lines for ax in fig.axes)


@pytest.mark.parametrize("name, data, n_axes", FIGURES)
def test_figures_refuse_the_wrong_number_of_axes(name, data, n_axes):
    axes = Figure().subplots(1, n_axes + 1)
    with pytest.raises(ValueError, match="'ax' parameter"):
        getattr(plots, name)(data, axes)


@pytest.mark.parametrize(
    "draw",
    [
        lambda ax: plots.error_curve(RUNS, ax),
        lambda ax: plots.error_curve(RUNS, ax, against="time"),
        lambda ax: plots.rank_sweep_curve(ROWS, ax),
        lambda ax: plots.rank_sweep_curve(ROWS, ax, measure="seconds"),
        lambda ax: plots.parsimony_panel(RESULTS[0], ax),
        lambda ax: plots.phase_transition_panel(PHASE, ax, condition_number=1.0),
        lambda ax: plots.depth_panel(DEPTH, ax),
        lambda ax: plots.depth_panel(DEPTH, ax, measure="mse"),
    ],
)
def test_panels_draw_into_the_axes_given_and_return_it(draw):
    ax = Figure().subplots()
    assert draw(ax) is ax
    assert ax.lines
    assert isinstance(draw(None), Axes)  # a new one


def test_panels_reject_unknown_choices():
    with pytest.raises(ValueError, match="'against'"):
        plots.error_curve(RUNS, Figure().subplots(), against="seconds")
    with pytest.raises(ValueError, match="'measure'"):
        plots.rank_sweep_curve(ROWS, Figure().subplots(), measure="time")
    with pytest.raises(ValueError, match="'name'"):
        plots.new_figure("nothing")
    with pytest.raises(ValueError, match="'measure'"):
        plots.depth_panel(DEPTH, Figure().subplots(), measure="rmse")


# -- the phase transition and depth figures (a panel per κ; two panels) ----------------


@pytest.mark.parametrize(
    "name, data, n_axes", [("phase_transition_figure", PHASE, 2), ("depth_figure", DEPTH, 2)]
)
def test_threshold_figures_are_written_and_draw_into_the_axes_given(tmp_path, name, data, n_axes):
    fig, axes = plots.new_figure(name, n_axes)
    assert len(axes) == n_axes
    assert getattr(plots, name)(data, axes) is fig
    assert all(ax.lines for ax in axes) and len(fig.axes) == n_axes
    path = str(tmp_path / f"{name}.png")
    assert plots.save(fig, path, "t") == path
    assert open(path, "rb").read(8) == PNG
    assert len(getattr(plots, name)(data).axes) == n_axes  # without axes: its own figure
    with pytest.raises(ValueError, match="'ax' parameter"):
        getattr(plots, name)(data, Figure().subplots(1, n_axes + 1))


def test_phase_transition_panels_one_line_per_rank_estimate_and_the_anchors():
    fig = plots.phase_transition_figure(PHASE, Figure().subplots(1, 2))
    low, high = fig.axes
    labels = [t.get_text() for t in low.get_legend().get_texts()]
    # κ = 1: success from ρ = 2; κ = 2: only at ρ = 4
    assert labels[:2] == ["dmc, r̂ = r = 2: ρ* 2 (2 seeds)", "dmc, r̂ = 2r = 4: ρ* 2 (2 seeds)"]
    # no published anchor at κ = 1, the measured one at both
    assert labels[2] == "R2RILS ρ* measured (public code, true rank, 500x500)"
    assert [t.get_text() for t in high.get_legend().get_texts()][:2] == [
        "dmc, r̂ = r = 2: ρ* 4 (2 seeds)",
        "dmc, r̂ = 2r = 4: ρ* 4 (2 seeds)",
    ]
    assert low.get_xlim() == high.get_xlim()
    assert list(low.lines[0].get_ydata()) == [1.0, 1.0]
    assert list(high.lines[0].get_ydata()) == [0.0, 1.0]
    anchors = [
        dict(solver="A", rho=1.5, kappas=(2.0,), shape=(1000, 1000), source="published"),
        dict(solver="B", rho=1.5, kappas=(2.0,), shape=(1000, 1000), source="published"),
    ]
    ax = plots.phase_transition_panel(
        PHASE, Figure().subplots(), condition_number=2.0, anchors=anchors
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "published ρ* (1000x1000, κ = 2)"
    assert [t.get_text() for t in ax.texts] == [" A, B"]  # one mark per ρ, solvers named
    ax = plots.phase_transition_panel(PHASE, Figure().subplots(), condition_number=2.0, anchors=())
    assert len(ax.lines) == 2 and not ax.texts


def test_depth_panel_lines_per_method_and_sample_count():
    ax = plots.depth_panel(DEPTH, Figure().subplots())
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "original, |Ω| = 200",
        "original, |Ω| = 450",
        "compressed, |Ω| = 200",
        "compressed, |Ω| = 450",
    ]
    ax = plots.depth_panel(DEPTH, Figure().subplots(), measure="mse")
    median = ax.lines[0]  # medians over the two seeds, then the seeds' dots
    np.testing.assert_allclose(median.get_ydata(), [1.5e-4, 1.5e-6])
    assert len(ax.lines[1].get_ydata()) == 4


def test_error_curves_labels_and_scales():
    fig = plots.error_curves(RUNS, Figure().subplots(1, 2))
    left, right = fig.axes
    assert left.get_yscale() == "log" and right.get_xscale() == "log"
    assert [t.get_text() for t in left.get_legend().get_texts()] == list(RUNS)
    assert left.lines[1].get_linestyle() == ":"  # the γ = 0 ablation


def test_plots_leave_the_backend_alone(monkeypatch, tmp_path):
    import matplotlib

    def refuse(*args, **kwargs):
        raise AssertionError("library code switched the matplotlib backend")

    monkeypatch.setattr(matplotlib, "use", refuse)
    module = importlib.reload(plots)
    fig, axes = module.new_figure("error_curves")
    module.error_curves(RUNS, axes)
    module.save(fig, str(tmp_path / "a.png"))
