"""DeepMatrixCompletion and dmc.model_selection: scikit-learn contract, fold-in, model selection."""

import logging
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import dmc
from dmc.impute.estimator import DeepMatrixCompletion
from dmc.impute.model_selection import (
    heldout_entries_scorer,
    make_heldout_scorer,
    make_rank_selector,
    mask_observed,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]


def _low_rank(shape, rank, fraction, seed, noise=0.0):
    """(X with NaN, truth) for a rank-``rank`` matrix observed on ``fraction`` of its entries."""
    M = dmc.low_rank_matrix(shape, rank, random_state=seed).to_dense()
    rng = np.random.default_rng(seed)
    noisy = M + noise * np.sqrt(np.mean(M**2)) * rng.standard_normal(M.shape)
    return np.where(rng.random(M.shape) < fraction, noisy, np.nan), M


@pytest.fixture(scope="module")
def small():
    """120 x 40, rank 2, 60% observed; the first 110 rows train, the last 10 are new."""
    X, M = _low_rank((120, 40), 2, 0.6, seed=0)
    return X, M


@pytest.fixture(scope="module")
def fitted(small):
    X, _ = small
    return DeepMatrixCompletion(rank=2, random_state=0).fit(X[:110])


# -- the scikit-learn contract ----------------------------------------------------------


@parametrize_with_checks(
    [DeepMatrixCompletion(rank=2, method=m, max_iter=20, random_state=0) for m in dmc.METHODS]
)
@pytest.mark.filterwarnings("ignore:The 'rank' parameter:UserWarning")
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# -- fold-in ---------------------------------------------------------------------------


def test_fold_in_recovers_unseen_rows():
    """Rank 5, 1000 x 500, 30% observed: fit on 800 rows, fill 200 new ones."""
    X, M = _low_rank((1000, 500), 5, 0.3, seed=0)
    est = DeepMatrixCompletion(rank=5, standardize=True, random_state=0).fit(X[:800])
    # rank + 1 components: the fit is of the standardized matrix, whose observed
    # column means leave a rank-one error
    assert est.converged_ and est.n_components_ == 6
    filled = est.transform(X[800:])
    missing = np.isnan(X[800:])
    err = np.linalg.norm((filled - M[800:])[missing]) / np.linalg.norm(M[800:][missing])
    assert err <= 1e-3, err  # measured 3.7e-6, the bias of the ridge penalty 1e-6
    np.testing.assert_array_equal(filled[~missing], X[800:][~missing])


def test_observed_entries_come_back_bit_for_bit(fitted, small):
    X, _ = small
    rng = np.random.default_rng(0)
    Z = np.where(np.isnan(X), np.nan, X * (1 + 1e-3 * rng.standard_normal(X.shape)))
    out = fitted.transform(Z)
    observed = ~np.isnan(Z)
    assert np.array_equal(out[observed], Z[observed])  # exact, not allclose
    assert not np.isnan(out).any()


def test_fit_transform_equals_fit_then_transform(small):
    X, _ = small
    est = DeepMatrixCompletion(rank=2, random_state=0)
    a = est.fit_transform(X)
    b = clone(est).fit(X).transform(X)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_training_rows_fold_in_to_the_fitted_matrix(fitted, small):
    X, M = small
    np.testing.assert_allclose(fitted.transform(X[:110]), fitted.completed_, rtol=0, atol=1e-4)
    err = np.linalg.norm(fitted.completed_ - M[:110]) / np.linalg.norm(M[:110])
    assert err < 1e-6


def test_rows_are_folded_in_independently(fitted, small):
    X, _ = small
    full = fitted.transform(X)
    one_by_one = np.vstack([fitted.transform(X[i : i + 1]) for i in range(0, 120, 7)])
    np.testing.assert_allclose(full[::7], one_by_one, rtol=1e-12, atol=1e-14)


def test_fully_observed_rows_are_returned_unchanged(fitted, small):
    _, M = small
    out = fitted.transform(M[:5])
    assert np.array_equal(out, M[:5])


def test_fully_observed_training_matrix(small):
    _, M = small
    est = DeepMatrixCompletion(rank=2, random_state=0, max_iter=300)
    assert np.array_equal(est.fit_transform(M[:40]), M[:40])
    assert np.array_equal(est.completed_, M[:40])


def test_empty_rows_are_named_and_filled_with_column_means(fitted, small):
    X, _ = small
    Z = X[110:].copy()
    Z[3] = np.nan
    with pytest.warns(UserWarning, match=r"1 row\(s\) of 'X' have no observed entry.*row 3"):
        out = fitted.transform(Z)
    np.testing.assert_array_equal(out[3], fitted.column_means_)
    np.testing.assert_allclose(out[4], fitted.transform(Z[4:5])[0], rtol=1e-12, atol=1e-15)


def test_empty_training_row_is_left_out_with_a_warning(small):
    X, _ = small
    Z = X[:110].copy()
    Z[7] = np.nan
    with pytest.warns(UserWarning, match=r"left out of the training"):
        est = DeepMatrixCompletion(rank=2, random_state=0).fit(Z)
    np.testing.assert_array_equal(est.completed_[7], est.column_means_)


def test_empty_training_column_is_dropped_or_kept_at_zero_with_a_warning(small):
    """As scikit-learn's imputers: dropped from the output, or kept filled with 0."""
    X, _ = small
    Z = X[:110].copy()
    Z[:, 5] = np.nan
    with pytest.warns(UserWarning, match=r"1 column\(s\) of 'X' have no observed entry.*\[5\]"):
        est = DeepMatrixCompletion(rank=2, random_state=0).fit(Z)
    np.testing.assert_array_equal(est.completed_[:, 5], 0.0)
    assert est.transform(Z[:3]).shape == (3, Z.shape[1] - 1)
    with pytest.warns(UserWarning, match=r"filled with 0 \(keep_empty_features=True\)"):
        kept = DeepMatrixCompletion(rank=2, random_state=0, keep_empty_features=True).fit(Z)
    out = kept.transform(Z[:3])
    np.testing.assert_array_equal(out[:, 5], 0.0)
    np.testing.assert_array_equal(np.delete(out, 5, axis=1), est.transform(Z[:3]))


def test_clip_bounds_the_filled_values_only(small):
    X, _ = small
    low, high = -0.1, 0.1
    with pytest.warns(FutureWarning, match="'clip' parameter .* is deprecated"):
        est = DeepMatrixCompletion(rank=2, random_state=0, clip=(low, high)).fit(X[:110])
    out = est.transform(X[110:])
    missing = np.isnan(X[110:])
    assert out[missing].min() >= low and out[missing].max() <= high
    assert np.array_equal(out[~missing], X[110:][~missing])  # observed ones keep their range
    assert np.abs(X[110:][~missing]).max() > high
    with pytest.warns(FutureWarning, match="use|pass min_value"):
        one_sided = DeepMatrixCompletion(rank=2, random_state=0, clip=(None, high)).fit(X[:110])
    assert one_sided.transform(X[110:])[missing].max() <= high


# -- dtype, pickling, cloning, devices ------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", None])
def test_float32_in_float32_out(small, dtype):
    X, M = small
    X32 = X.astype(np.float32)
    est = DeepMatrixCompletion(rank=2, random_state=0, dtype=dtype, tol=1e-5).fit(X32[:110])
    out = est.transform(X32[110:])
    assert out.dtype == np.float32 and est.completed_.dtype == np.float32
    observed = ~np.isnan(X32[110:])
    assert np.array_equal(out[observed], X32[110:][observed])
    err = np.linalg.norm(out - M[110:]) / np.linalg.norm(M[110:])
    assert err < 1e-3, err
    assert (
        DeepMatrixCompletion(rank=2, random_state=0, max_iter=5).fit_transform(X[:20]).dtype
        == np.float64
    )


def test_pickle_and_clone_give_identical_transforms(fitted, small):
    X, _ = small
    expected = fitted.transform(X[110:])
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.transform(X[110:]), expected)
    refitted = clone(fitted).fit(X[:110])
    assert np.array_equal(refitted.transform(X[110:]), expected)
    assert clone(fitted).get_params() == fitted.get_params()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_matches_cpu(small):
    X, _ = small
    cpu = DeepMatrixCompletion(rank=2, random_state=0).fit(X[:110])
    gpu = DeepMatrixCompletion(rank=2, random_state=0, device="cuda").fit(X[:110])
    assert isinstance(gpu.components_, np.ndarray)
    np.testing.assert_allclose(gpu.transform(X[110:]), cpu.transform(X[110:]), atol=1e-5)


# -- input checks and errors ----------------------------------------------------------


@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array, sp.coo_matrix])
def test_sparse_input_is_refused_with_a_pointer(fitted, small, kind):
    X, _ = small
    S = kind(np.nan_to_num(X[:110]))
    with pytest.raises(TypeError, match=r"sparse.*dmc\.complete.*Observations\.from_sparse"):
        DeepMatrixCompletion(rank=2).fit(S)
    with pytest.raises(TypeError, match=r"sparse"):
        fitted.transform(S)


def test_wrong_number_of_columns(fitted, small):
    X, _ = small
    with pytest.raises(
        ValueError, match=r"X has 39 features, but DeepMatrixCompletion is expecting 40"
    ):
        fitted.transform(X[:, :39])


def test_inf_is_refused(small):
    X, _ = small
    Z = X[:110].copy()
    Z[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DeepMatrixCompletion(rank=2).fit(Z)


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DeepMatrixCompletion().transform(np.ones((2, 2)))


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            dict(rank=0),
            ValueError,
            r"The 'rank' parameter of DeepMatrixCompletion must be an int in \[1, inf\]. Got 0 instead.",
        ),
        (dict(rank=2.5), TypeError, r"The 'rank' parameter of DeepMatrixCompletion must be an int"),
        (
            dict(depth=1),
            ValueError,
            r"The 'depth' parameter of DeepMatrixCompletion must be an int in \[2, 100\]. Got 1",
        ),
        (
            dict(method="deep"),
            ValueError,
            r"The 'method' parameter of DeepMatrixCompletion must be one of 'compressed'",
        ),
        (dict(init_scale=0.0), ValueError, r"The 'init_scale' parameter of DeepMatrixCompletion"),
        (
            dict(step_size="fast"),
            ValueError,
            r"The 'step_size' parameter of DeepMatrixCompletion must be 'auto'",
        ),
        (
            dict(max_iter=0),
            ValueError,
            r"The 'max_iter' parameter of DeepMatrixCompletion must be an int in \[1, inf\]",
        ),
        (dict(tol=-1.0), ValueError, r"The 'tol' parameter of DeepMatrixCompletion"),
        (
            dict(weight_decay=-1.0),
            ValueError,
            r"The 'weight_decay' parameter of DeepMatrixCompletion",
        ),
        (
            dict(fold_in_alpha=0.0),
            ValueError,
            r"The 'fold_in_alpha' parameter of DeepMatrixCompletion must be a finite real number in \(0, inf\]. Got 0.0",
        ),
        (
            dict(fold_in_alpha="small"),
            TypeError,
            r"The 'fold_in_alpha' parameter of DeepMatrixCompletion",
        ),
        (
            dict(clip=(1.0, -1.0)),
            ValueError,
            r"The 'clip' parameter of DeepMatrixCompletion must be None or a pair",
        ),
        (
            dict(clip=3.0),
            TypeError,
            r"The 'clip' parameter of DeepMatrixCompletion must be None or a pair",
        ),
        (dict(clip=(0.0, "a")), TypeError, r"The 'clip' parameter of DeepMatrixCompletion"),
        (dict(dtype="int8"), ValueError, r"The 'dtype' parameter of DeepMatrixCompletion"),
        (dict(device="tpu"), ValueError, r"The 'device' parameter of DeepMatrixCompletion"),
        (
            dict(random_state=-3),
            ValueError,
            r"The 'random_state' parameter of DeepMatrixCompletion",
        ),
        (
            dict(callback=3),
            TypeError,
            r"The 'callback' parameter of DeepMatrixCompletion must be callable",
        ),
    ],
)
def test_bad_parameters_are_named_in_fit(small, params, error, match):
    X, _ = small
    est = DeepMatrixCompletion(**params)  # __init__ never validates
    assert est.get_params()[next(iter(params))] is params[next(iter(params))]
    with pytest.raises(error, match=match):
        est.fit(X[:20])


def test_rank_above_the_matrix_is_lowered_with_a_warning(small):
    X, _ = small
    with pytest.warns(
        UserWarning, match=r"The 'rank' parameter of DeepMatrixCompletion \(50\) exceeds"
    ):
        est = DeepMatrixCompletion(rank=50, random_state=0, max_iter=5).fit(X[:110])
    assert est.rank_ == 40 and est.rank == 50


def test_all_missing_is_refused():
    with pytest.raises(ValueError, match="at least one observed"):
        DeepMatrixCompletion().fit(np.full((3, 4), np.nan))


# -- training options pass through ----------------------------------------------------


def test_convergence_warning_callback_and_logging(small, caplog):
    X, _ = small
    with pytest.warns(dmc.ConvergenceWarning, match="max_iter=3"):
        est = DeepMatrixCompletion(rank=2, random_state=0, max_iter=3).fit(X[:110])
    assert est.n_iter_ == 3 and not est.converged_ and est.stop_reason_ == "max_iter"
    assert len(est.history_["loss"]) == 4

    calls = []

    def stop_at_five(iteration, state):
        calls.append((iteration, state["residual"]))
        return iteration == 5

    with caplog.at_level(logging.INFO, logger="dmc"):
        est = DeepMatrixCompletion(
            rank=2, random_state=0, standardize=True, callback=stop_at_five
        ).fit(X[:110])
    assert est.n_iter_ == 5 and est.stop_reason_ == "callback" and len(calls) == 5
    # standardize="auto" trains twice: the callback sees both fits
    calls.clear()
    DeepMatrixCompletion(rank=2, random_state=0, callback=stop_at_five).fit(X[:110])
    assert [it for it, _ in calls] == [1, 2, 3, 4, 5] * 2
    assert any("DeepMatrixCompletion: fitted" in r.getMessage() for r in caplog.records)


def test_same_seed_same_transform(small):
    X, _ = small
    a = DeepMatrixCompletion(rank=2, random_state=3, max_iter=50).fit(X[:110]).transform(X[110:])
    b = DeepMatrixCompletion(rank=2, random_state=3, max_iter=50).fit(X[:110]).transform(X[110:])
    assert np.array_equal(a, b)


@pytest.mark.parametrize("method", dmc.METHODS)
def test_every_method_fits_and_folds_in(method, small):
    X, _ = small
    est = DeepMatrixCompletion(rank=2, method=method, random_state=0, max_iter=30)
    out = est.fit(X[:110]).transform(X[110:])
    assert out.shape == (10, 40) and np.isfinite(out).all()
    assert est.components_.shape == (est.n_components_, 40)


# -- model selection ------------------------------------------------------------------


def test_mask_observed_hides_only_observed_entries_and_keeps_one_per_row(small):
    X, _ = small
    Z = X.copy()
    Z[0, 1:] = np.nan  # a row with one observed entry keeps it
    X_train, held = mask_observed(Z, 0.3, random_state=0)
    observed = ~np.isnan(Z)
    assert not (held & ~observed).any()
    assert np.isnan(X_train[held]).all()
    assert np.array_equal(X_train[observed & ~held], Z[observed & ~held])
    assert held.sum() == round(0.3 * observed.sum())
    assert (~np.isnan(X_train)).any(axis=1).all()
    again = mask_observed(Z, 0.3, random_state=0)[1]
    assert np.array_equal(held, again)
    assert mask_observed(Z.astype(np.float32), 0.3, random_state=0)[0].dtype == np.float32


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, "a"])
def test_mask_observed_rejects_bad_fractions(fraction):
    with pytest.raises((ValueError, TypeError), match="'fraction' parameter"):
        mask_observed(np.ones((3, 3)), fraction)


def test_score_is_the_heldout_scorer(fitted, small):
    X, _ = small
    assert fitted.score(X[110:]) == heldout_entries_scorer(fitted, X[110:])
    assert fitted.score(X[110:]) == make_heldout_scorer(0.2, random_state=0)(fitted, X[110:])
    assert -1e-4 < fitted.score(X[110:]) < 0


def test_grid_search_picks_the_true_rank():
    """GridSearchCV over rank in {2, 5, 10} on a rank-5 problem picks 5."""
    X, _ = _low_rank((300, 100), 5, 0.5, seed=0)
    search = GridSearchCV(
        DeepMatrixCompletion(random_state=0),
        {"rank": [2, 5, 10]},
        scoring=heldout_entries_scorer,
        cv=KFold(3, shuffle=True, random_state=0),
        refit=make_rank_selector(),
    ).fit(X)
    assert search.best_params_ == {"rank": 5}, search.cv_results_["mean_test_score"]
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > 100 * scores[0]  # rank 2 is far worse (scores are -RMSE)
    assert search.best_estimator_.rank_ == 5


def test_rank_selector_prefers_the_smaller_rank_within_the_margin():
    results = {
        "params": [{"rank": 10}, {"rank": 5}, {"rank": 2}],
        "mean_test_score": [-1.00, -1.05, -2.0],
        "std_test_score": [0.0, 0.0, 0.0],
        "split0_test_score": [0, 0, 0],
    }
    assert make_rank_selector(rtol=0.1)(results) == 1
    assert make_rank_selector(rtol=0.01)(results) == 0
    with pytest.raises(ValueError, match="search over 'rank'"):
        make_rank_selector()(
            {"params": [{"depth": 2}], "mean_test_score": [0.0], "std_test_score": [0.0]}
        )


# -- a pipeline ------------------------------------------------------------------------


def test_pipeline_imputation_then_ridge(small):
    """Impute the features, then regress: the target is a linear function of the full rows."""
    X, M = small
    coef = np.random.default_rng(1).standard_normal(40)
    y = M @ coef
    pipe = make_pipeline(DeepMatrixCompletion(rank=2, random_state=0), Ridge(alpha=1e-6))
    pipe.fit(X[:110], y[:110])
    assert pipe.score(X[110:], y[110:]) > 0.999


def test_dataframe_input_keeps_feature_names(small):
    pd = pytest.importorskip("pandas")
    X, _ = small
    df = pd.DataFrame(X[:110], columns=[f"f{j}" for j in range(40)])
    est = DeepMatrixCompletion(rank=2, random_state=0, max_iter=50).fit(df)
    assert list(est.feature_names_in_) == list(df.columns)
    out = est.set_output(transform="pandas").transform(df.iloc[:5])
    assert list(out.columns) == list(df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_output(transform="default").transform(df.iloc[:5])
        assert np.isfinite(est.score(df.iloc[:20]))  # no feature-name warning from score
