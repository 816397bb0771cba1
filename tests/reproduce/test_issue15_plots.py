"""Issue 15: the training curve of a fit and the validation curve of a rank search.

Both follow the other figures (and matplotlib's convention): draw into the Axes
given, or a new pyplot one, and return it. Only this test picks a backend (Agg).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # the tests' choice; the library never selects a backend

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import dmc  # noqa: E402
from dmc.impute.model_selection import search_rank  # noqa: E402
from dmc.reproduce import plots  # noqa: E402

RESIDUAL = "training residual ‖P_Ω(W − Φ)‖ / ‖P_Ω(Φ)‖"
HELD_OUT = "held-out error (early stopping)"
RECOVERY = "recovery error (unobserved entries)"


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def fit():
    """A fit with early stopping (held-out error every 10 iterations, NaN between)
    and the truth (recovery error every 5)."""
    problem = dmc.make_problem((40, 30), 2, fraction=0.6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return dmc.complete(
            problem.observations,
            rank=2,
            max_iter=60,
            early_stopping=True,
            truth=problem.truth,
            eval_every=5,
            random_state=0,
        )


def _points(ax, label):
    (line,) = [line for line in ax.lines if line.get_label() == label]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_training_curve_draws_each_recorded_curve_and_skips_the_gaps(fit):
    ax = Figure().subplots()
    assert plots.training_curve(fit, ax) is ax
    assert [line.get_label() for line in ax.lines] == [RESIDUAL, HELD_OUT, RECOVERY]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "iteration"
    history = fit.history
    for label, key in (
        (RESIDUAL, "residual"),
        (HELD_OUT, "validation_error"),
        (RECOVERY, "recovery_error"),
    ):
        x, y = _points(ax, label)
        values = np.asarray(history[key], float)
        finite = np.isfinite(values) & (values > 0)
        assert np.isnan(values).any() == (key != "residual")  # the gaps exist in the history
        assert np.array_equal(x, np.asarray(history["iteration"], float)[finite])
        assert np.array_equal(y, values[finite]) and np.isfinite(y).all()


def test_training_curve_against_seconds_and_chosen_keys(fit):
    ax = plots.training_curve(fit, Figure().subplots(), against="time", keys=["step_size"])
    x, y = _points(ax, "step size")
    steps = np.asarray(fit.history["step_size"], float)
    drawn = np.isfinite(steps) & (steps > 0)
    assert drawn.sum() >= steps.size - 1 and np.array_equal(y, steps[drawn])
    assert np.array_equal(x, np.asarray(fit.history["time"], float)[drawn])
    assert ax.get_xlabel().startswith("seconds")


def test_training_curve_of_a_history_without_held_out_errors_draws_the_residual_only():
    history = dict(iteration=[0, 1, 2], time=[0.0, 0.1, 0.2], residual=[1.0, 0.1, 0.0])
    ax = plots.training_curve(history, Figure().subplots())
    assert [line.get_label() for line in ax.lines] == [RESIDUAL]
    assert _points(ax, RESIDUAL)[1].tolist() == [1.0, 0.1]  # 0 has no place on a log scale


def test_training_curve_of_estimators(fit):
    X = dmc.make_problem((30, 20), 2, fraction=0.6, random_state=1).observations.to_dense()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        imputer = dmc.DeepMatrixCompletion(rank=2, max_iter=20, random_state=0).fit(X)
    ax = plots.training_curve(imputer, Figure().subplots())
    assert _points(ax, RESIDUAL)[1].size == len(imputer.history_["residual"])
    rng = np.random.default_rng(0)
    pairs = rng.permutation(600)[:300]
    ratings = dmc.RatingsModel(rank=2, max_iter=15, random_state=0).fit(
        pairs // 20, pairs % 20, rng.integers(1, 6, 300).astype(float)
    )
    assert plots.training_curve(ratings, Figure().subplots()).lines


def test_training_curve_without_axes_makes_its_own(fit):
    ax = plots.training_curve(fit)
    assert isinstance(ax, Axes) and len(ax.lines) == 3


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((object(),), {}, TypeError, "'result' parameter of training_curve must be"),
        (({"iteration": [0], "residual": [1.0]},), {"against": "time"}, ValueError, "'time'"),
        (({"iteration": [0], "time": [0.0]},), {}, ValueError, "Got 'residual', which it lacks"),
        (({"iteration": [0], "time": [0.0]},), {"against": "epoch"}, ValueError, "'against'"),
        (({"iteration": [0], "time": [0.0]},), {"keys": "residual"}, TypeError, "'keys'"),
        (
            ({"iteration": [0, 1], "time": [0.0, 1.0], "residual": [1.0]},),
            {},
            ValueError,
            "one value per iteration \\(2\\). Got 1",
        ),
    ],
)
def test_training_curve_refuses_bad_arguments(args, kwargs, exc, match):
    ax = Figure().subplots()
    with pytest.raises(exc, match=match):
        plots.training_curve(*args, ax, **kwargs)


@pytest.fixture(scope="module")
def search():
    M = dmc.low_rank_matrix((50, 40), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(0).random(M.shape) < 0.6, M, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return search_rank(X, ranks=(1, 2, 4), cv=2, random_state=0, max_iter=30)


def test_rank_search_curve_draws_the_held_out_rmse_and_marks_the_choice(search):
    ax = Figure().subplots()
    assert plots.rank_search_curve(search, ax) is ax
    (curve,) = ax.containers  # one errorbar container: the held-out curve
    x, y = (np.asarray(v, float) for v in curve.lines[0].get_data())
    assert x.tolist() == [1.0, 2.0, 4.0]
    assert np.allclose(y, -np.asarray(search.cv_results_["mean_test_score"]))
    (chosen,) = [line for line in ax.lines if line.get_label().startswith("chosen rank")]
    assert chosen.get_xdata()[0] == search.best_params_["rank"]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "rank"


def test_rank_search_curve_of_a_results_dict_with_training_scores_sorts_the_ranks():
    results = {
        "params": [{"rank": 4}, {"rank": 1}, {"rank": 2}],
        "mean_test_score": [-0.02, -0.5, np.nan],  # a failed candidate is left out
        "std_test_score": [0.01, 0.1, np.nan],
        "mean_train_score": [-0.01, -0.4, -0.02],
        "std_train_score": [0.0, 0.0, 0.0],
    }
    ax = plots.rank_search_curve(results)
    test, train = ax.containers
    assert test.lines[0].get_xdata().tolist() == [1.0, 4.0]
    assert train.lines[0].get_xdata().tolist() == [1.0, 2.0, 4.0]
    assert np.allclose(train.lines[0].get_ydata(), [0.4, 0.02, 0.01])
    assert not [line for line in ax.lines if line.get_label().startswith("chosen")]


def test_rank_search_curve_refuses_what_is_not_a_search():
    with pytest.raises(TypeError, match="'search' parameter of rank_search_curve"):
        plots.rank_search_curve([1, 2])
    with pytest.raises(ValueError, match="'param' parameter.*Got 'depth'"):
        plots.rank_search_curve({"params": [{"rank": 1}], "mean_test_score": [-1.0]}, param="depth")


def test_the_new_plots_are_exported_and_import_no_backend():
    assert {"training_curve", "rank_search_curve"} <= set(plots.__all__)
    source = open(plots.__file__, encoding="utf-8").read()
    assert "matplotlib.use(" not in source and "switch_backend" not in source
