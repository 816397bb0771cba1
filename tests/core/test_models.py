"""The model layer: gradients, the compressed initialisation, parameter counts."""

import numpy as np
import pytest
import torch

import dmc
from dmc.core import models
from dmc.core.sampled import SampledPattern, sampled_dot

F64 = dict(dtype=torch.float64, device=torch.device("cpu"))


def _pattern(shape=(7, 5), fraction=0.6, seed=0):
    problem = dmc.make_problem(shape, 2, fraction=fraction, random_state=seed)
    return problem.observations, SampledPattern(problem.observations, **F64)


def test_sampled_dot_gradient_matches_finite_differences():
    _, pattern = _pattern()
    g = torch.Generator().manual_seed(0)
    A = torch.randn(7, 3, generator=g, **F64).requires_grad_()
    B = torch.randn(5, 3, generator=g, **F64).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: sampled_dot(a, b, pattern), (A, B))


def test_sampled_dot_matches_dense_product():
    _, pattern = _pattern((30, 20), 0.3)
    A = torch.randn(30, 4, **F64)
    B = torch.randn(20, 4, **F64)
    dense = (A @ B.T)[pattern.rows, pattern.cols]
    torch.testing.assert_close(sampled_dot(A, B, pattern), dense)
    rows, cols = torch.tensor([0, 29, 3]), torch.tensor([19, 0, 3])
    torch.testing.assert_close(sampled_dot(A, B, pattern, rows, cols), (A @ B.T)[rows, cols])


def _build(method, obs, rank=2, depth=3, init_scale=0.5):
    rng = np.random.default_rng(0)
    if method == "compressed":
        return models.compressed_network(
            obs, rank=rank, depth=depth, init_scale=init_scale, gamma=0.3, rng=rng, **F64
        )
    if method == "original":
        return models.original_network(
            obs, depth=depth, width=None, init_scale=init_scale, rng=rng, **F64
        )
    if method == "narrow":
        return models.narrow_network(
            obs, rank=rank, depth=depth, init_scale=init_scale, rng=rng, **F64
        )
    return models.burer_monteiro(
        obs, rank=rank, init_scale=init_scale, init="random", rng=rng, **F64
    )


@pytest.mark.parametrize("method", dmc.METHODS)
def test_loss_gradient_matches_finite_differences(method):
    obs, pattern = _pattern((9, 6), 0.7)
    model = _build(method, obs)
    params = [p for g in model.param_groups() for p in g.params]

    def loss(*values):
        with torch.no_grad():
            for p, v in zip(params, values):
                p.copy_(v)
        r = model.predict(pattern) - pattern.values
        return 0.5 * torch.dot(r, r)

    model.zero_grad()
    loss(*[p.detach().clone() for p in params]).backward()
    analytic = [p.grad.clone() for p in params]
    base = [p.detach().clone() for p in params]
    h = 1e-6
    for i, p0 in enumerate(base):
        for idx in [(0, 0), tuple(s - 1 for s in p0.shape)]:
            plus = [b.clone() for b in base]
            minus = [b.clone() for b in base]
            plus[i][idx] += h
            minus[i][idx] -= h
            numeric = (loss(*plus) - loss(*minus)).item() / (2 * h)
            assert numeric == pytest.approx(analytic[i][idx].item(), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("method", dmc.METHODS)
def test_interface_predict_agrees_with_dense(method):
    obs, pattern = _pattern((12, 8), 0.5)
    model = _build(method, obs)
    with torch.no_grad():
        dense = model.to_dense()
        torch.testing.assert_close(model.predict(pattern), dense[pattern.rows, pattern.cols])
    assert dense.shape == (12, 8)
    assert all(g.step_multiplier >= 0 for g in model.param_groups())


def test_parameter_counts_match_method_md():
    obs, _ = _pattern((1000, 1000), 0.001)
    comp = _build("compressed", obs, rank=5, init_scale=1e-3)
    assert comp.n_parameters == 3 * 10**2 + 2000 * 10  # 20,300 in docs/method.md
    shapes = [(1000, 1000)] * 3
    assert sum(r * c for r, c in shapes) == 3_000_000


def test_compressed_outer_factors_get_gamma():
    obs, _ = _pattern()
    rng = np.random.default_rng(0)
    model = models.compressed_network(
        obs, rank=2, depth=3, init_scale=1e-3, gamma=0.01, rng=rng, **F64
    )
    groups = {g.name: g.step_multiplier for g in model.param_groups()}
    assert groups == {"cores": 1.0, "outer": 0.01}
    frozen = models.compressed_network(
        obs, rank=2, depth=3, init_scale=1e-3, gamma=0.0, rng=rng, **F64
    )
    assert [g.name for g in frozen.param_groups()] == ["cores"]


@pytest.mark.parametrize("shape", [(40, 40), (30, 50), (50, 30)])
def test_implicit_q_is_semi_orthogonal_and_consistent(shape):
    m, n = shape
    Q = models._ImplicitSemiOrthogonal(m, n, n_reflectors=6, rng=np.random.default_rng(0))
    dense = Q.matmat(np.eye(n))
    np.testing.assert_allclose(Q.rmatmat(np.eye(m)), dense.T, atol=1e-12)
    gram = dense @ dense.T if m <= n else dense.T @ dense
    np.testing.assert_allclose(gram, np.eye(min(m, n)), atol=1e-12)


def _projector(V):
    Qv, _ = np.linalg.qr(V)
    return Qv @ Qv.T


@pytest.mark.parametrize("shape", [(60, 60), (40, 70)])
def test_compressed_at_t0_is_the_wide_network_restricted(shape):
    """docs/method.md: W_comp(0) = W_{L:1}(0) V Vᵀ, V spanning V_r̂ and the wide network's image."""
    problem = dmc.make_problem(shape, 3, fraction=0.4, random_state=2)
    obs, rank, eps, depth = problem.observations, 3, 1e-3, 3
    wide = models.original_network(
        obs, depth=depth, width=None, init_scale=eps, rng=np.random.default_rng(5), **F64
    )
    comp = models.CompressedNetwork.from_wide(wide, obs, rank, gamma=0.01)
    with torch.no_grad():
        W_wide = wide.to_dense().numpy()
        W_comp = comp.to_dense().numpy()
    V = comp.V.detach().numpy()
    np.testing.assert_allclose(V.T @ V, np.eye(2 * rank), atol=1e-12)
    np.testing.assert_allclose(W_comp, W_wide @ V @ V.T, atol=1e-12 * eps**depth, rtol=0)
    if shape[0] == shape[1]:  # U = W_{L:1}(0) V / ε^L has orthonormal columns when square
        U = comp.U.detach().numpy()
        np.testing.assert_allclose(U.T @ U, np.eye(2 * rank), atol=1e-10)

    # The shortcut of docs/method.md (no wide network): V = orth[V_r̂, Qᵀ U_r̂], Q = W_{L:1}(0) / ε^L
    Q = W_wide / eps**depth
    Ur, _, Vr = models.top_singular_triplets(obs, rank, np.random.default_rng(0))
    V_short = np.hstack([Vr, Q.T @ Ur])
    assert np.abs(_projector(V_short) - _projector(V)).max() < 1e-8


@pytest.mark.parametrize("shape", [(60, 80), (80, 60)])
def test_compressed_network_spans_top_singular_vectors(shape):
    """Wide: V ⊇ V_r̂ with orthonormal V. Tall: the recipe on the transpose, U ⊇ U_r̂."""
    problem = dmc.make_problem(shape, 3, fraction=0.5, random_state=0)
    rng = np.random.default_rng(0)
    model = models.compressed_network(
        problem.observations, rank=3, depth=3, init_scale=1e-3, gamma=0.1, rng=rng, **F64
    )
    U, V = model.U.detach().numpy(), model.V.detach().numpy()
    Ur, _, Vr = models.top_singular_triplets(problem.observations, 3, rng)
    basis, top = (V, Vr) if shape[0] <= shape[1] else (U, Ur)
    np.testing.assert_allclose(basis @ (basis.T @ top), top, atol=1e-10)
    np.testing.assert_allclose(basis.T @ basis, np.eye(6), atol=1e-12)


def test_original_network_refuses_sizes_that_do_not_fit_before_allocating():
    obs = dmc.Observations.from_triplets([0, 1], [0, 1], [1.0, 2.0], shape=(400_000, 400_000))
    with pytest.raises(dmc.ProblemTooLargeError, match="compressed"):
        models.original_network(
            obs, depth=3, width=None, init_scale=1e-3, rng=np.random.default_rng(0), **F64
        )
    with pytest.raises(MemoryError):
        dmc.complete(obs, rank=1, method="original")
