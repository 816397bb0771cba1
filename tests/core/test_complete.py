"""dmc.complete: the contract every method satisfies, recovery, errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import dmc


@pytest.mark.parametrize("method", dmc.METHODS)
def test_every_method_recovers_a_small_problem(method, small_problem):
    obs = small_problem.observations
    kwargs = dict(init="spectral") if method == "burer-monteiro" else {}
    result = dmc.complete(obs, rank=2, method=method, random_state=0, max_iter=3000, **kwargs)
    err = dmc.recovery_error(result.to_dense(), small_problem.truth, obs)
    assert err < 1e-6, (method, err, result)
    if method != "original":  # the wide network's ε-sized bulk can hold it just above tol
        assert result.converged and result.stop_reason in ("tol", "precision")
    assert result.n_iter == result.history["iteration"][-1]
    assert result.to_dense().shape == (60, 50)


@pytest.mark.parametrize("method", dmc.METHODS)
def test_result_contract(method, small_problem):
    obs = small_problem.observations
    result = dmc.complete(
        obs,
        rank=2,
        method=method,
        random_state=0,
        max_iter=30,
        truth=small_problem.truth,
        n_iter_no_change=None,
    )
    h = result.history
    keys = {"iteration", "loss", "residual", "step_size", "time", "recovery_error"}
    assert set(h) == keys | {"escape"}  # escape_plateaus is on under the step search
    assert all(len(v) == result.n_iter + 1 for v in h.values())
    assert np.all(np.diff(h["time"]) >= 0)
    assert np.all(np.diff(h["loss"]) <= 0)  # the step search only accepts descent
    dense = result.to_dense()
    rows, cols = np.array([0, 59, 7]), np.array([0, 49, 3])
    np.testing.assert_allclose(result.predict(rows, cols), dense[rows, cols], rtol=1e-12)
    assert np.isfinite(dense).all()
    assert result.n_parameters > 0
    assert method in repr(result)


def test_reference_like_recovery_in_seconds():
    problem = dmc.make_problem((300, 300), 5, fraction=0.2, random_state=0)
    result = dmc.complete(problem.observations, rank=5, random_state=0)
    assert result.n_iter <= 1000
    err = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    assert err <= 1e-6


def test_inputs_of_every_kind_give_the_same_fit(small_problem):
    obs = small_problem.observations
    dense = obs.to_dense()
    kwargs = dict(rank=2, random_state=3, max_iter=20, n_iter_no_change=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        a = dmc.complete(dense, **kwargs).to_dense()
        b = dmc.complete(
            sp.csr_array((obs.values, (obs.rows, obs.cols)), shape=obs.shape), **kwargs
        ).to_dense()
        c = dmc.complete((obs.rows, obs.cols, obs.values, obs.shape), **kwargs).to_dense()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("method", dmc.METHODS)
def test_same_seed_same_bits(method, small_problem):
    kwargs = dict(rank=2, method=method, random_state=7, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        np.random.seed(1)
        a = dmc.complete(small_problem.observations, **kwargs)
        np.random.seed(2)
        b = dmc.complete(small_problem.observations, **kwargs)
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    assert a.history["loss"] == b.history["loss"]


def test_different_seeds_differ(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        a = dmc.complete(small_problem.observations, rank=2, random_state=1, max_iter=5).to_dense()
        b = dmc.complete(small_problem.observations, rank=2, random_state=2, max_iter=5).to_dense()
    assert not np.array_equal(a, b)


def test_truth_is_only_used_for_evaluation(small_problem):
    """Poisoned truth: a huge value in the evaluation matrix does not change the fit."""
    poisoned = small_problem.truth.to_dense().copy()
    poisoned[small_problem.observations.mask()] = 0.0
    poisoned[~small_problem.observations.mask()] = 1e12
    kwargs = dict(rank=2, random_state=0, max_iter=40, n_iter_no_change=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        a = dmc.complete(small_problem.observations, **kwargs)
        b = dmc.complete(small_problem.observations, truth=poisoned, **kwargs)
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    assert b.history["recovery_error"][-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype(dtype, small_problem):
    result = dmc.complete(small_problem.observations, rank=2, dtype=dtype, random_state=0, tol=1e-5)
    assert result.to_dense().dtype == np.dtype(dtype)
    err = dmc.recovery_error(result.to_dense(), small_problem.truth, small_problem.observations)
    assert err < 1e-3


def test_max_iter_warns(small_problem):
    with pytest.warns(dmc.ConvergenceWarning, match="max_iter=3"):
        result = dmc.complete(small_problem.observations, rank=2, max_iter=3, random_state=0)
    assert not result.converged and result.stop_reason == "max_iter" and result.n_iter == 3


def test_max_iter_warning_advises_init_scale_when_stuck_at_the_start(small_problem):
    with pytest.warns(dmc.ConvergenceWarning, match="never left the small initialisation"):
        # (with escape_plateaus on, the default, such a fit leaves the start instead)
        dmc.complete(
            small_problem.observations,
            rank=2,
            init_scale=1e-200,
            max_iter=20,
            escape_plateaus=False,
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", dmc.ConvergenceWarning)
        dmc.complete(small_problem.observations, rank=2, max_iter=60, random_state=0)
    messages = [str(w.message) for w in caught if w.category is dmc.ConvergenceWarning]
    assert messages and all("Increase 'max_iter'" in m for m in messages)


def test_fixed_step_recipe_runs_plain_gradient_descent(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(
            small_problem.observations,
            rank=2,
            step_size=1e-3,
            max_iter=20,
            random_state=0,
            n_iter_no_change=None,
        )
    assert set(result.history["step_size"][1:]) == {1e-3}
    assert result.model.gamma == 0.01  # the published γ with a fixed step


def test_fixed_step_too_large_raises_instead_of_returning_nan(small_problem):
    with pytest.raises(dmc.DivergenceError, match="step_size"):
        dmc.complete(
            small_problem.observations,
            rank=2,
            step_size=1e6,
            init_scale=1.0,
            max_iter=200,
            random_state=0,
        )


def test_callback_can_stop(small_problem):
    seen = []

    def callback(iteration, state):
        seen.append((iteration, state["loss"]))
        return iteration == 4

    result = dmc.complete(small_problem.observations, rank=2, callback=callback, random_state=0)
    assert result.n_iter == 4 and result.stop_reason == "callback"
    assert [i for i, _ in seen] == [1, 2, 3, 4]


def test_noisy_data_stops_on_stall_when_asked():
    problem = dmc.make_problem((80, 60), 2, fraction=0.5, noise=0.05, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dmc.ConvergenceWarning)
        result = dmc.complete(
            problem.observations, rank=2, random_state=0, max_iter=3000, n_iter_no_change=100
        )
    assert result.stop_reason == "stalled"
    err = dmc.recovery_error(result.to_dense(), problem.truth, problem.observations)
    assert err < 0.1


X_OK = np.array([[1.0, np.nan, 2.0], [np.nan, 3.0, 1.0], [2.0, 1.0, np.nan]])

BAD = [
    (dict(rank=0), ValueError, r"'rank'.*\[1, 3\].*Got 0"),
    (dict(rank=4), ValueError, r"'rank'.*\[1, 3\].*Got 4"),
    (dict(rank=2.5), TypeError, "'rank'"),
    (dict(rank=1, depth=1), ValueError, "'depth'"),
    (dict(rank=1, method="deep"), ValueError, "'method'"),
    (dict(rank=1, init_scale=0.0), ValueError, "'init_scale'"),
    (dict(rank=1, init_scale=np.nan), ValueError, "'init_scale'"),
    (dict(rank=1, gamma=-1.0), ValueError, "'gamma'"),
    (dict(rank=1, step_size="fast"), ValueError, "'step_size'"),
    (dict(rank=1, step_size=-1.0), ValueError, "'step_size'"),
    (dict(rank=1, step_size=np.inf), ValueError, "'step_size'"),
    (dict(rank=1, max_iter=0), ValueError, "'max_iter'"),
    (dict(rank=1, tol=-1.0), ValueError, "'tol'"),
    (dict(rank=1, dtype="int32"), ValueError, "'dtype'"),
    (dict(rank=1, device="tpu"), ValueError, "'device'"),
    (dict(rank=1, random_state="seed"), TypeError, "'random_state'"),
    (dict(rank=1, callback=3), TypeError, "'callback'"),
    (dict(rank=1, truth=np.zeros((2, 2))), ValueError, "'truth'"),
    (dict(rank=1, width=0, method="original"), ValueError, "'width'"),
    (dict(rank=1, init="svd"), ValueError, "'init'"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD)
def test_bad_arguments_are_named(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dmc.complete(X_OK, **kwargs)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (np.array([[1.0, np.inf], [np.nan, 2.0]]), ValueError, "finite"),
        (np.full((3, 3), np.nan), ValueError, "at least one observed"),
        (np.ones(4), ValueError, "2-D"),
        (([0, 9], [0, 1], [1.0, 2.0], (3, 3)), ValueError, "'rows'"),
        (([0, 1], [0, 1], [np.nan, 2.0], (3, 3)), ValueError, "'values'"),
    ],
)
def test_bad_data_is_named(X, exc, match):
    with pytest.raises(exc, match=match):
        dmc.complete(X, rank=1)


def test_predict_checks_indices(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(small_problem.observations, rank=2, max_iter=2, random_state=0)
    with pytest.raises(ValueError, match="'rows'"):
        result.predict([60], [0])
    with pytest.raises(ValueError, match="same length"):
        result.predict([0, 1], [0])


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(small_problem):
    kwargs = dict(rank=2, random_state=0, max_iter=50, n_iter_no_change=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        cpu = dmc.complete(small_problem.observations, device="cpu", **kwargs).to_dense()
        gpu = dmc.complete(small_problem.observations, device="cuda", **kwargs).to_dense()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-6, atol=1e-8)


def test_weight_decay_that_kills_the_fit_warns(small_problem):
    with pytest.warns(dmc.ConvergenceWarning, match="weight_decay"):
        dmc.complete(small_problem.observations, rank=2, weight_decay=5.0, max_iter=50)


def test_factors_reproduce_the_dense_matrix(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(small_problem.observations, rank=2, max_iter=10, random_state=0)
    A, B = result.factors()
    assert A.shape == (60, 4) and B.shape == (50, 4)
    np.testing.assert_allclose(A @ B.T, result.to_dense(), atol=1e-12)


def test_weight_decay_shrinks_the_fit(small_problem):
    kwargs = dict(rank=2, random_state=0, max_iter=300, init_scale=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        plain = dmc.complete(small_problem.observations, **kwargs)
        decayed = dmc.complete(small_problem.observations, weight_decay=0.5, **kwargs)
    assert np.linalg.norm(decayed.to_dense()) < 0.999 * np.linalg.norm(plain.to_dense())
    scale = np.linalg.norm(small_problem.observations.values)
    data_term = 0.5 * (decayed.history["residual"][-1] * scale) ** 2
    assert decayed.history["loss"][-1] > data_term  # the penalty is part of the loss
