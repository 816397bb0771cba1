"""The step rule as a torch optimizer, other torch optimizers in the same loop, and the
method registry (a new method is one class and one registry entry)."""

import functools
import os
import warnings

import numpy as np
import pytest
import torch

import dmc
from dmc.core import models
from dmc.core.optim import GradientDescent
from dmc.core.sampled import SampledPattern
from dmc.core.training import default_optimizer, train

F64 = dict(dtype=torch.float64, device=torch.device("cpu"))


def _compressed(problem, seed=0):
    return models.compressed_network(
        problem.observations,
        rank=2,
        depth=3,
        init_scale=1e-3,
        gamma=0.3,
        rng=np.random.default_rng(seed),
        **F64,
    )


def test_default_optimizer_keeps_its_state_in_state_dict(small_problem):
    model = _compressed(small_problem)
    pattern = SampledPattern(small_problem.observations, **F64)
    optimizer = default_optimizer(model, pattern)
    train(model, pattern, optimizer=optimizer, max_iter=5)
    state = optimizer.state_dict()
    first = state["state"][0]
    assert {"eta", "loss", "previous_eta", "previous_grad", "n_steps"} <= set(first)
    assert first["n_steps"] == 5
    groups = state["param_groups"]
    assert [g["name"] for g in groups] == ["cores", "outer"]
    assert [g["step_multiplier"] for g in groups] == [1.0, 0.3]


def test_default_optimizer_passed_explicitly_gives_the_same_bits(small_problem):
    pattern = SampledPattern(small_problem.observations, **F64)
    a, b = _compressed(small_problem), _compressed(small_problem)
    train(a, pattern, max_iter=30)
    train(b, pattern, optimizer=default_optimizer(b, pattern), max_iter=30)
    assert torch.equal(a.to_dense(), b.to_dense())


def test_adam_trains_through_the_same_loop(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        result = dmc.complete(
            small_problem.observations,
            rank=2,
            init_scale=0.1,
            optimizer=functools.partial(torch.optim.Adam, lr=1e-2),
            max_iter=300,
            random_state=0,
        )
    residual = result.history["residual"]
    assert len(residual) == result.n_iter + 1
    assert residual[-1] < 0.1 * residual[0]
    assert result.history["step_size"][-1] == pytest.approx(1e-2)


def test_an_optimizer_instance_and_lbfgs_work_in_the_loop(small_problem):
    pattern = SampledPattern(small_problem.observations, **F64)
    model = _compressed(small_problem)
    model.cores[0].data.mul_(100.0)  # away from the saddle at zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        outcome = train(
            model,
            pattern,
            optimizer=torch.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe"),
            max_iter=20,
        )
    assert outcome.history["residual"][-1] < outcome.history["residual"][0]


def test_complete_refuses_an_optimizer_that_is_not_callable(small_problem):
    with pytest.raises(TypeError, match="'optimizer' parameter must be None or a callable"):
        dmc.complete(small_problem.observations, rank=2, optimizer="adam")


def test_gradient_descent_refuses_bad_hyperparameters():
    x = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="'lr' parameter"):
        GradientDescent([x], lr=0.0)
    with pytest.raises(ValueError, match="'rule' parameter"):
        GradientDescent([x], lr=1.0, rule="newton")
    for bad in (0, 53, 2.5, True):
        with pytest.raises((ValueError, TypeError), match=r"'step_bits' parameter .* \[1, 52\]"):
            GradientDescent([x], lr=1.0, step_bits=bad)


def test_step_bits_keep_the_leading_bits_of_every_step(small_problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dmc.complete(
            small_problem.observations, rank=2, step_bits=3, max_iter=30, random_state=0
        )
    steps = np.asarray(result.history["step_size"][1:])
    mantissa, _ = np.frexp(steps[steps > 0])
    assert steps.size and np.array_equal(mantissa * 8, np.floor(mantissa * 8))
    with pytest.raises(ValueError, match="'step_bits' parameter"):
        dmc.complete(small_problem.observations, rank=2, step_bits=0)


def test_step_bits_make_a_noisy_fit_insensitive_to_rounding():
    # the same data up to 1e-15 relative: exact Barzilai-Borwein steps drift apart
    # on a noisy (nearly flat) loss, steps cut to 8 bits do not (measured after 150
    # iterations: 1.4e-7 with exact steps, 1.4e-12 with 8 bits)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3)) @ rng.standard_normal((3, 100))
    X += rng.standard_normal(X.shape)
    X[rng.random(X.shape) < 0.7] = np.nan
    nudged = X * (1 + 1e-15 * rng.standard_normal(X.shape))

    def gap(**options):
        fits = [
            dmc.complete(Y, rank=5, max_iter=150, tol=0, random_state=0, **options).to_dense()
            for Y in (X, nudged)
        ]
        return np.linalg.norm(fits[0] - fits[1]) / np.linalg.norm(fits[0])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gap(step_bits=8) < 1e-10


def test_gradient_descent_state_dict_round_trip_resumes_bitwise(small_problem):
    pattern = SampledPattern(small_problem.observations, **F64)
    whole = _compressed(small_problem)
    train(whole, pattern, max_iter=40, tol=0.0)
    half = _compressed(small_problem)
    opt = default_optimizer(half, pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        train(half, pattern, optimizer=opt, max_iter=20, tol=0.0)
    state = opt.state_dict()
    grads = [p.grad.clone() for p in half.parameters()]
    resumed = _compressed(small_problem)
    resumed.load_state_dict(half.state_dict())
    for p, g in zip(resumed.parameters(), grads):
        p.grad = g
    opt2 = default_optimizer(resumed, pattern)
    opt2.load_state_dict(state)
    # the loop's first iteration of the resumed run is iteration 1 again: 20 more steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        for _ in range(20):

            def closure():
                r = resumed.predict(pattern) - pattern.values
                return 0.5 * torch.dot(r, r)

            opt2.step(closure)
    assert torch.equal(resumed.to_dense(), whole.to_dense())


# -- the method registry ---------------------------------------------------------------


class _TwoFactor(models.DeepNetwork):
    """A toy method: ``U Vᵀ`` from a Gaussian start of scale ``init_scale``."""

    @classmethod
    def build(cls, obs, *, rank, init_scale, rng, dtype, device, **_):
        m, n = obs.shape
        U = init_scale * rng.standard_normal((m, rank))
        V = init_scale * rng.standard_normal((n, rank))
        return cls([torch.as_tensor(V.T.copy(), dtype=dtype), torch.as_tensor(U, dtype=dtype)])


@pytest.fixture
def toy_method(monkeypatch):
    """Register the toy method for one test only."""
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    models.register_method("toy")(_TwoFactor)
    yield "toy"


def test_a_registered_method_runs_everywhere(toy_method, small_problem, tmp_path):
    assert "toy" in dmc.METHODS
    obs = small_problem.observations
    result = dmc.complete(obs, rank=2, method="toy", init_scale=0.1, random_state=0)
    assert isinstance(result.model, _TwoFactor)
    error = dmc.recovery_error(result.to_dense(), small_problem.truth, obs)
    assert error < 1e-4
    X = obs.to_dense()
    imputer = dmc.DeepMatrixCompletion(rank=2, method="toy", init_scale=0.1, random_state=0)
    filled = imputer.fit_transform(X)
    restored = dmc.load(imputer.save(os.path.join(tmp_path, "toy.dmc")))
    assert np.array_equal(restored.transform(X), filled)
    rng = np.random.default_rng(0)
    users, items = obs.rows, obs.cols
    ratings = np.clip(np.round(3 + rng.normal(0, 1, users.size)), 1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        model = dmc.RatingsModel(method="toy", rank=2, init_scale=0.1, random_state=0)
        model.fit(users, items, ratings)
    loaded = dmc.load(model.save(os.path.join(tmp_path, "toy-ratings.dmc")))
    assert isinstance(loaded.completion_.model, _TwoFactor)
    assert np.array_equal(loaded.predict(users, items), model.predict(users, items))


def test_a_name_is_registered_once(toy_method):
    with pytest.raises(ValueError, match="already registered"):
        models.register_method("toy")(models.NarrowNetwork)
    with pytest.raises(TypeError, match="needs a Factorization subclass"):
        models.register_method("other")(object)


# -- leaving plateaus ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ill_conditioned():
    """100 x 80, rank 3, κ = 10, ρ = 4: the previous default stalled at error ~0.34."""
    return dmc.make_problem((100, 80), 3, oversampling=4.0, condition_number=10, random_state=1)


def test_escape_plateaus_finishes_an_ill_conditioned_fit(ill_conditioned):
    obs = ill_conditioned.observations
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", dmc.ConvergenceWarning)
        old = dmc.complete(obs, rank=3, random_state=0, escape_plateaus=False)
    assert old.stop_reason == "max_iter"
    assert any("has not learned" in str(w.message) for w in caught)
    new = dmc.complete(obs, rank=3, random_state=0)
    assert sum(new.history["escape"]) >= 1
    assert dmc.recovery_error(new.to_dense(), ill_conditioned.truth, obs) < 1e-6
    assert dmc.recovery_error(old.to_dense(), ill_conditioned.truth, obs) > 0.1
    loss = np.asarray(new.history["loss"])
    assert np.all(np.diff(loss) <= 1e-12 * loss[0])  # a move never raises the loss


def test_escape_plateaus_off_is_the_previous_training(ill_conditioned):
    obs = ill_conditioned.observations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        a = dmc.complete(obs, rank=3, random_state=0, escape_plateaus=False, max_iter=200)
        b = dmc.complete(obs, rank=3, random_state=0, step_size=1e-3, max_iter=50)
    assert "escape" not in a.history and "escape" not in b.history  # the fixed recipe: off


def test_escape_plateau_leaves_frozen_and_other_models_alone(small_problem):
    pattern = SampledPattern(small_problem.observations, **F64)
    frozen = models.compressed_network(
        small_problem.observations,
        rank=2,
        depth=3,
        init_scale=1e-3,
        gamma=0.0,
        rng=np.random.default_rng(0),
        **F64,
    )
    before = frozen.to_dense().clone()
    assert frozen.escape_plateau(pattern, seed=0) is False
    assert torch.equal(frozen.to_dense(), before)
    narrow = models.narrow_network(
        small_problem.observations,
        rank=2,
        depth=3,
        init_scale=1e-3,
        rng=np.random.default_rng(0),
        **F64,
    )
    assert narrow.escape_plateau(pattern, seed=0) is False


def test_escape_plateau_lowers_the_loss_and_keeps_the_frame(ill_conditioned):
    obs = ill_conditioned.observations
    pattern = SampledPattern(obs, **F64)
    model = models.compressed_network(
        obs, rank=3, depth=3, init_scale=1e-3, gamma=0.3, rng=np.random.default_rng(0), **F64
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        train(model, pattern, max_iter=150)  # on the plateau: one component learned

    def loss():
        with torch.no_grad():
            r = model.predict(pattern) - pattern.values
            return float(torch.dot(r, r))

    before = loss()
    assert model.escape_plateau(pattern, seed=0) is True
    assert loss() < 0.9 * before
    U, V = model.U.detach(), model.V.detach()
    eye = torch.eye(U.shape[1], dtype=U.dtype)
    assert torch.allclose(U.T @ U, eye, atol=1e-10) and torch.allclose(V.T @ V, eye, atol=1e-10)


def test_checkpoint_resume_is_bitwise_through_escapes(ill_conditioned, tmp_path):
    obs = ill_conditioned.observations
    path = tmp_path / "fit.ckpt"
    whole = dmc.complete(obs, rank=3, random_state=0)
    assert sum(whole.history["escape"]) >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        dmc.complete(obs, rank=3, random_state=0, checkpoint=path, checkpoint_every=7, max_iter=90)
    resumed = dmc.complete(obs, rank=3, random_state=0, checkpoint=path, checkpoint_every=7)
    assert np.array_equal(resumed.to_dense(), whole.to_dense())
    assert resumed.history["escape"] == whole.history["escape"]


def test_escape_plateaus_refuses_a_non_bool(small_problem):
    with pytest.raises(TypeError, match="'escape_plateaus' parameter must be True, False or None"):
        dmc.complete(small_problem.observations, rank=2, escape_plateaus="yes")
