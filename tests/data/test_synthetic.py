import numpy as np
import pytest

import dmc
from dmc.data.synthetic import low_rank_matrix, sample_entries


def test_gaussian_truncated_has_the_rank_and_scale_of_the_reference():
    M = low_rank_matrix((200, 200), 5, random_state=0).to_dense()
    s = np.linalg.svd(M, compute_uv=False)
    assert s[4] > 1e-6 * s[0] and s[5] < 1e-10 * s[0]
    assert 0.8 * 2 * np.sqrt(200) < s[0] < 1.3 * 2 * np.sqrt(200)


def test_condition_number_is_exact_and_entries_have_unit_rms():
    M = low_rank_matrix((300, 120), 4, condition_number=10, random_state=0)
    s = np.linalg.svd(M.to_dense(), compute_uv=False)
    assert s[0] / s[3] == pytest.approx(10.0, rel=1e-9)
    assert np.sqrt(np.mean(M.to_dense() ** 2)) == pytest.approx(1.0, rel=1e-9)


def test_entries_match_dense():
    M = low_rank_matrix((30, 20), 3, condition_number=2, random_state=1)
    rows, cols = np.array([0, 29, 5]), np.array([0, 19, 7])
    np.testing.assert_allclose(M.entries(rows, cols), M.to_dense()[rows, cols])


@pytest.mark.parametrize(
    "shape, fraction", [((50, 40), 0.9), ((50, 40), 0.05), ((3000, 4000), 0.001)]
)
def test_sampling_without_replacement(shape, fraction):
    rows, cols = sample_entries(shape, fraction=fraction, random_state=0)
    flat = rows * shape[1] + cols
    assert flat.size == round(fraction * shape[0] * shape[1])
    assert np.unique(flat).size == flat.size
    assert rows.max() < shape[0] and cols.max() < shape[1]


def test_sampling_by_oversampling_ratio():
    rows, _ = sample_entries((100, 80), oversampling=3, rank=2, random_state=0)
    assert rows.size == 3 * 2 * (100 + 80 - 2)


def test_sampling_is_roughly_uniform():
    rows, cols = sample_entries((10, 10), fraction=0.5, random_state=0)
    counts = np.zeros(100)
    for seed in range(400):
        r, c = sample_entries((10, 10), fraction=0.5, random_state=seed)
        counts[r * 10 + c] += 1
    assert counts.min() > 150 and counts.max() < 250  # expectation 200


def test_make_problem_adds_noise_to_observed_values_only():
    clean = dmc.make_problem((40, 30), 2, fraction=0.5, random_state=3)
    noisy = dmc.make_problem((40, 30), 2, fraction=0.5, noise=0.1, random_state=3)
    diff = noisy.observations.values - clean.observations.values
    assert 0.05 < diff.std() < 0.15
    np.testing.assert_array_equal(noisy.truth.left, clean.truth.left)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(shape=(10, 10), rank=11), ValueError, "'rank'"),
        (dict(shape=(10, 10), rank=0), ValueError, "'rank'"),
        (dict(shape=(10, 10), rank=2, condition_number=0.5), ValueError, "'condition_number'"),
        (dict(shape=(20000, 20000), rank=2), ValueError, "condition_number"),
    ],
)
def test_low_rank_matrix_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        low_rank_matrix(**kwargs)


def test_sample_entries_errors():
    with pytest.raises(ValueError, match="Exactly one"):
        sample_entries((5, 5))
    with pytest.raises(ValueError, match="'fraction'"):
        sample_entries((5, 5), fraction=1.5)
    with pytest.raises(ValueError, match="'rank'"):
        sample_entries((5, 5), oversampling=2)
    with pytest.raises(ValueError, match="more than"):
        sample_entries((5, 5), oversampling=10, rank=2)


# -- decaying spectrum (issue 14) ------------------------------------------------------


def test_decaying_matrix_has_the_power_law_spectrum_and_the_noise_asked():
    from dmc.data.synthetic import decaying_matrix

    X, truth = decaying_matrix((120, 80), exponent=1.5, noise=0.2, random_state=3)
    s = np.linalg.svd(truth, compute_uv=False)
    np.testing.assert_allclose(s / s[0], np.arange(1, 81) ** -1.5, rtol=1e-10)
    assert np.linalg.matrix_rank(truth) == 80  # full rank
    assert np.sqrt(np.mean(truth**2)) == pytest.approx(1.0)
    assert np.std(X - truth) == pytest.approx(0.2, rel=0.05)
    again, _ = decaying_matrix((120, 80), exponent=1.5, noise=0.2, random_state=3)
    np.testing.assert_array_equal(X, again)
    clean, _ = decaying_matrix((10, 8), random_state=0)
    assert np.array_equal(clean, decaying_matrix((10, 8), random_state=0)[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"exponent": 0}, "'exponent'"),
        ({"exponent": -1}, "'exponent'"),
        ({"noise": -0.1}, "'noise'"),
    ],
)
def test_decaying_matrix_names_bad_parameters(kwargs, match):
    from dmc.data.synthetic import decaying_matrix

    with pytest.raises(ValueError, match=match):
        decaying_matrix((10, 8), **kwargs)
