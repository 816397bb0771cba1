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
