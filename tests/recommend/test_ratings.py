import csv
import warnings

import numpy as np
import pytest

import dmc
from dmc.cli.recommend import main as recommend_main
from dmc.recommend.config import RATINGS_DEFAULTS
from dmc.recommend.evaluation import rmse
from dmc.recommend.model import RatingsModel

# -- data ---------------------------------------------------------------------------


def make_ratings(n_users=60, n_items=40, density=0.5, rank=2, noise=0.3, seed=0):
    """Rank-2 signal plus biases plus noise, rounded to 1..5; every user and item rated."""
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.8, (n_users, rank))
    V = rng.normal(0, 0.8, (n_items, rank))
    bu, bi = rng.normal(0, 0.4, n_users), rng.normal(0, 0.4, n_items)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    signal = 3.4 + bu[u] + bi[i] + np.einsum("ij,ij->i", U[u], V[i])
    r = np.clip(np.round(signal + noise * rng.normal(size=u.size)), 1, 5)
    order = rng.permutation(u.size)
    return u[order], i[order], r[order]


@pytest.fixture(scope="module")
def data():
    return make_ratings()


@pytest.fixture(scope="module")
def split(data):
    u, i, r = data
    n_test = r.size // 5
    return (u[n_test:], i[n_test:], r[n_test:]), (u[:n_test], i[:n_test], r[:n_test])


@pytest.fixture(scope="module")
def fitted(split):
    (u, i, r), _ = split
    return RatingsModel(random_state=0).fit(u, i, r)


# -- fitting and predicting ------------------------------------------------------------------


def test_beats_global_mean_and_biases(fitted, split):
    _, (u, i, r) = split
    pred = fitted.predict(u, i)
    assert pred.shape == r.shape and pred.dtype == np.float64
    baseline = np.clip(
        fitted.global_mean_ + fitted.user_bias_[u] + fitted.item_bias_[i], 1, 5
    )  # ids are 0..n-1 here, so ids = indices
    assert rmse(r, pred) < 0.9 * rmse(r, np.full(r.size, fitted.global_mean_))
    assert rmse(r, pred) < rmse(r, baseline)


def test_predictions_are_clipped_to_the_rating_range(fitted, split):
    (u, i, _), _ = split
    pred = fitted.predict(np.repeat(u[:50], 40), np.tile(np.arange(40), 50))
    assert fitted.rating_range_ == (1.0, 5.0)
    assert pred.min() >= 1.0 and pred.max() <= 5.0
    narrow = RatingsModel(rank=2, rating_range=(2.5, 3.5), random_state=0).fit(*split[0])
    pred = narrow.predict(u, i)
    assert pred.min() >= 2.5 and pred.max() <= 3.5


def test_fit_is_reproducible(split):
    (u, i, r), (tu, ti, _) = split
    a = RatingsModel(rank=2, random_state=3).fit(u, i, r).predict(tu, ti)
    b = RatingsModel(rank=2, random_state=3).fit(u, i, r).predict(tu, ti)
    assert np.array_equal(a, b)


def test_learned_attributes(fitted):
    m, n = fitted.users_.size, fitted.items_.size
    assert fitted.user_bias_.shape == (m,) and fitted.item_bias_.shape == (n,)
    assert fitted.user_factors_.shape[0] == m and fitted.item_factors_.shape[0] == n
    assert fitted.rank_ == RATINGS_DEFAULTS["compressed"]["rank"]
    assert isinstance(fitted.completion_, dmc.CompletionResult)
    assert fitted.shrinkage_ in fitted.validation_rmse_
    assert fitted.shrinkage_ == min(fitted.validation_rmse_, key=fitted.validation_rmse_.get)
    assert fitted.n_duplicates_ == 0 and fitted.fit_seconds_ > 0


def test_fixed_shrinkage_skips_the_validation_split(split):
    model = RatingsModel(rank=2, shrinkage=2.0, random_state=0).fit(*split[0])
    assert model.shrinkage_ == 2.0 and model.validation_rmse_ == {}


@pytest.mark.parametrize("method", dmc.METHODS)
def test_every_method_fits_predicts_recommends_and_folds_in(method, split):
    (u, i, r), (tu, ti, tr) = split
    model = RatingsModel(method=method, rank=2, max_iter=40, random_state=0).fit(u, i, r)
    pred = model.predict(tu, ti)
    assert np.isfinite(pred).all()
    assert rmse(tr, pred) < rmse(tr, np.full(tr.size, model.global_mean_))
    items, scores = model.recommend(0, k=5)
    assert items.size == 5 and np.all(np.diff(scores) <= 0)
    model.fold_in("new", i[u == 3], r[u == 3])
    assert not model.predict(["new"], [i[0]], return_cold=True)[1][0]
    assert model.completion_.method == method


def test_float32_deep_fit(split):
    model = RatingsModel(rank=2, dtype="float32", random_state=0).fit(*split[0])
    assert np.isfinite(model.predict(*split[1][:2])).all()


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    u, i, r = make_ratings(30, 20, seed=1)
    frame = pd.DataFrame({"user": u, "item": i, "rating": r, "extra": 0})
    a = RatingsModel(rank=2, random_state=0).fit(frame).predict(u[:10], i[:10])
    b = RatingsModel(rank=2, random_state=0).fit(u, i, r).predict(u[:10], i[:10])
    assert np.array_equal(a, b)
    c = RatingsModel(rank=2, random_state=0).fit({"user": u, "item": i, "rating": r})
    assert np.array_equal(c.predict(u[:10], i[:10]), a)


# -- ids --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    u, i, r = make_ratings(30, 20, seed=2)
    return u, i, r, RatingsModel(rank=2, random_state=0).fit(u, i, r)


@pytest.mark.parametrize(
    "relabel",
    [
        pytest.param(lambda x: 1000 * x + 7, id="gaps"),
        pytest.param(lambda x: np.iinfo(np.int64).max - 1000 + x, id="near-2**63-1"),
        pytest.param(lambda x: [f"id-{v:04d}" for v in x], id="strings"),
    ],
)
def test_ids_of_any_kind_map_to_the_same_model(relabel, small):
    """An order-preserving relabelling of ids gives exactly the same predictions."""
    u, i, r, base = small
    model = RatingsModel(rank=2, random_state=0).fit(relabel(u), relabel(i), r)
    assert np.array_equal(
        model.predict(relabel(u[:50]), relabel(i[:50])), base.predict(u[:50], i[:50])
    )
    assert list(model.users_) == list(relabel(np.arange(30)))
    items, _ = model.recommend(relabel(np.array([3]))[0], k=4)
    assert list(items) == list(relabel(base.recommend(3, k=4)[0]))


def test_big_ids_are_exact(small):
    top = np.iinfo(np.int64).max
    u, i, r, _ = small
    model = RatingsModel(rank=2, random_state=0).fit(top - u, i, r)
    assert model.users_.dtype == np.int64 and model.users_.max() == top
    # top and top - 1 are different users, even though float64 cannot tell them apart
    _, cold = model.predict([top, top - 1, top - 30], [0, 0, 0], return_cold=True)
    assert cold.tolist() == [False, False, True]


def test_mixed_and_tuple_ids(small):
    u, i, r, _ = small
    users = np.array([int(x) if x % 2 else f"u{x}" for x in u], dtype=object)
    items = [("film", int(x)) for x in i]
    model = RatingsModel(rank=2, random_state=0).fit(users, items, r)
    pred, cold = model.predict(users[:5], items[:5], return_cold=True)
    assert not cold.any() and np.isfinite(pred).all()
    assert model.predict(["u0", 1, "1"], [("film", 0)] * 3, return_cold=True)[1].tolist() == [
        False,
        False,
        True,  # "1" is not 1
    ]


# -- cold start, sparse users and items --------------------------------------------------------


def test_cold_start_policy_bias(fitted, split):
    (u, i, _), _ = split
    mu = fitted.global_mean_
    pred, cold = fitted.predict([-5, 0, -5, 0], [0, -9, -9, 0], return_cold=True)
    assert cold.tolist() == [True, True, True, False]
    assert pred[0] == pytest.approx(np.clip(mu + fitted.item_bias_[0], 1, 5))
    assert pred[1] == pytest.approx(np.clip(mu + fitted.user_bias_[0], 1, 5))
    assert pred[2] == pytest.approx(mu)


def test_cold_start_policy_mean_and_raise(split):
    (u, i, r), _ = split
    model = RatingsModel(rank=2, cold_start="mean", random_state=0).fit(u, i, r)
    pred = model.predict([-5, 0], [0, -9])
    assert np.allclose(pred, model.global_mean_)
    strict = RatingsModel(rank=2, cold_start="raise", random_state=0).fit(u, i, r)
    with pytest.raises(
        ValueError,
        match="'users' parameter must hold ids seen in fit .* Got unknown id -5 at position 1",
    ):
        strict.predict([0, -5], [0, 0])
    with pytest.raises(
        ValueError, match="'items' parameter must hold ids seen in fit .* Got unknown id 'x'"
    ):
        strict.predict([0], ["x"])
    with pytest.raises(ValueError, match="'users' parameter must hold ids seen in fit"):
        strict.recommend("ghost")


def test_user_with_three_ratings_is_not_overfitted(data):
    u, i, r = data
    users = np.concatenate([u.astype(object), ["newbie"] * 3])
    items = np.concatenate([i, [0, 1, 2]])
    ratings = np.concatenate([r, [5.0, 5.0, 5.0]])
    # a fixed α: "auto" picks it on a random validation split, from 0.125 to 4
    # across seeds on these data (2 on most), and how far the prior pulls grows with α
    model = RatingsModel(rank=2, shrinkage=2.0, random_state=0).fit(users, items, ratings)
    t = list(model.users_).index("newbie")
    # its bias is a shrunk mean of 3 residuals (prior weight: 15 ratings), not 5 - μ
    assert 0 < model.user_bias_[t] < 0.4 * (5.0 - model.global_mean_)
    # the three 5s are far from reproduced ...
    own = model.predict(["newbie"] * 3, [0, 1, 2])
    assert np.all(own < 4.5) and np.mean(5.0 - own) > 0.8
    # ... while without shrinkage (plain least squares) they would be
    loose = RatingsModel(rank=2, shrinkage=0.0, random_state=0).fit(users, items, ratings)
    assert np.all(loose.predict(["newbie"] * 3, [0, 1, 2]) > 4.9)
    latent = model.user_factors_[t] @ model.item_factors_.T
    baseline = model.global_mean_ + model.user_bias_[t] + model.item_bias_
    assert np.allclose(
        model.predict(["newbie"] * 40, np.arange(40)), np.clip(baseline + latent, 1, 5)
    )


def test_item_with_one_rating_is_not_overfitted(data):
    u, i, r = data
    args = np.concatenate([u, [0]]), np.concatenate([i, [999]]), np.concatenate([r, [1.0]])
    model = RatingsModel(rank=2, shrinkage=2.0, random_state=0).fit(*args)  # α: see above
    j = int(np.flatnonzero(model.items_ == 999)[0])
    # bias: one residual of about -2.4 against a prior weight of 10 ratings
    assert -0.3 < model.item_bias_[j] < 0
    # its one rating is not reproduced; without shrinkage it would be
    assert model.predict([0], [999])[0] > 1.8
    loose = RatingsModel(rank=2, shrinkage=0.0, random_state=0).fit(*args)
    assert loose.predict([0], [999])[0] < 1.3
    pred, cold = model.predict(np.arange(60), np.full(60, 999), return_cold=True)
    assert not cold.any() and np.all(pred > 1.8)
    latent = model.user_factors_ @ model.item_factors_[j]
    expected = model.global_mean_ + model.user_bias_ + model.item_bias_[j] + latent
    assert np.allclose(pred, np.clip(expected, 1, 5))


# -- duplicates -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_duplicates():
    u, i, r = make_ratings(30, 20, seed=4)
    # user u[0] rates i[0] twice more (3 times in all), user u[1] rates i[1] twice
    du = np.concatenate([u, [u[0], u[1], u[0]]])
    di = np.concatenate([i, [i[0], i[1], i[0]]])
    dr = np.concatenate([r, [1.0, 5.0, 2.0]])
    return (u, i, r), (du, di, dr)


def test_duplicates_raise_by_default(with_duplicates):
    _, (du, di, dr) = with_duplicates
    with pytest.raises(
        ValueError,
        match="'duplicates' parameter .* Got 3 repeated rating\\(s\\), e.g. user .* rated [23] times",
    ):
        RatingsModel(rank=2).fit(du, di, dr)


@pytest.mark.parametrize("policy", ["mean", "first", "last"])
def test_duplicates_policies_equal_deduplicated_data(policy, with_duplicates):
    (u, i, r), (du, di, dr) = with_duplicates
    expected = r.copy()
    if policy == "mean":
        expected[0] = (r[0] + 1.0 + 2.0) / 3
        expected[1] = (r[1] + 5.0) / 2
    elif policy == "last":
        expected[0], expected[1] = 2.0, 5.0
    model = RatingsModel(rank=2, duplicates=policy, random_state=0).fit(du, di, dr)
    clean = RatingsModel(rank=2, random_state=0).fit(u, i, expected)
    assert model.n_duplicates_ == 3
    assert np.array_equal(model.predict(u, i), clean.predict(u, i))


# -- recommending -----------------------------------------------------------------------------


def test_recommend_excludes_seen_and_sorts(fitted, split):
    (u, i, _), _ = split
    seen = set(i[u == 7].tolist())
    items, scores = fitted.recommend(7, k=10)
    assert items.size == min(10, 40 - len(seen))
    assert not seen & set(items.tolist())
    assert np.all(np.diff(scores) <= 0)
    everything, all_scores = fitted.recommend(7, k=40, exclude_seen=False)
    assert everything.size == 40 and set(everything.tolist()) == set(range(40))
    assert all_scores[0] >= scores[0]
    # scores are predicted ratings, clipped to the rating range like predict's
    assert np.allclose(all_scores, fitted.predict(np.full(40, 7), everything))


def test_recommend_returns_fewer_when_almost_everything_is_seen():
    u, i, r = make_ratings(30, 20, seed=5)
    extra = np.setdiff1d(np.arange(18), i[u == 0])  # user 0 rates items 0..17
    model = RatingsModel(rank=2, random_state=0).fit(
        np.concatenate([u, np.zeros(extra.size, int)]),
        np.concatenate([i, extra]),
        np.concatenate([r, np.full(extra.size, 3.0)]),
    )
    unseen = 20 - np.unique(np.concatenate([i[u == 0], extra])).size
    assert model.recommend(0, k=10)[0].size == unseen


def test_recommend_many_matches_recommend(fitted):
    users = np.array([3, 11, -1, 3])
    rec = fitted.recommend_many(users, k=4)
    for user in (3, 11, -1):
        items, scores = fitted.recommend(user, k=4)
        rows = rec.user == user
        assert np.array_equal(rec.item[rows][: items.size], items)
        assert np.allclose(rec.score[rows][: items.size], scores)
    assert rec.cold[rec.user == -1].all() and not rec.cold[rec.user == 3].any()
    assert rec.rank[rec.user == 11].tolist() == [1, 2, 3, 4]
    # an unknown user is ranked by the item biases
    cold_items, cold_scores = fitted.recommend(-1, k=5)
    assert np.allclose(cold_scores, fitted.global_mean_ + np.sort(fitted.item_bias_)[::-1][:5])


@pytest.mark.parametrize(
    "k, exc, match",
    [
        (0, ValueError, "The 'k' parameter must be an int in \\[1, 40\\]. Got 0 instead."),
        (41, ValueError, "Got 41 instead"),
        (2.0, TypeError, "'k' parameter must be an int"),
    ],
)
def test_recommend_rejects_bad_k(fitted, k, exc, match):
    with pytest.raises(exc, match=match):
        fitted.recommend(0, k=k)


# -- fold-in -----------------------------------------------------------------------------------


def test_fold_in_of_a_training_user_gives_back_the_fitted_vector(split):
    (u, i, r), _ = split
    model = RatingsModel(rank=2, random_state=0).fit(u, i, r)
    before = model.user_factors_[5].copy(), model.user_bias_[5]
    model.fold_in(5, i[u == 5], r[u == 5])
    assert np.allclose(model.user_factors_[5], before[0], atol=1e-9)
    assert model.user_bias_[5] == pytest.approx(before[1], abs=1e-9)


def test_fold_in_a_new_user(split):
    (u, i, r), _ = split
    model = RatingsModel(rank=2, random_state=0).fit(u, i, r)
    n_users = model.users_.size
    # the new user rates like user 5, plus two items unknown to the model
    items = np.concatenate([i[u == 5], [777, 778]])
    ratings = np.concatenate([r[u == 5], [5.0, 1.0]])
    model.fold_in("newcomer", items, ratings)
    assert model.users_.size == n_users + 1 and model.users_[-1] == "newcomer"
    pred, cold = model.predict(["newcomer"] * 40, np.arange(40), return_cold=True)
    assert not cold.any()
    assert np.allclose(pred, model.predict(np.full(40, 5), np.arange(40)), atol=1e-9)
    rec_items, _ = model.recommend("newcomer", k=40)
    assert not set(rec_items.tolist()) & set(i[u == 5].tolist())
    # an old user is still there, and a second fold-in replaces the first
    model.fold_in("newcomer", [0], [1.0])
    assert model.users_.size == n_users + 1
    assert model.recommend("newcomer", k=39)[0].size == 39


def test_fold_in_errors(fitted):
    with pytest.raises(
        ValueError, match="'items' and 'ratings' parameters must have the same length. Got 2 and 1"
    ):
        fitted.fold_in("x", [0, 1], [3.0])
    with pytest.raises(ValueError, match="'ratings' parameter must hold finite numbers"):
        fitted.fold_in("x", [0], [np.nan])
    with pytest.raises(ValueError, match="'user' parameter must not contain missing ids"):
        fitted.fold_in(None, [0], [3.0])
    with pytest.raises(ValueError, match="item 0 rated 2 times by user 'x'"):
        fitted.fold_in("x", [0, 0], [3.0, 4.0])


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, exc, match",
    [
        (
            {"method": "svd"},
            ValueError,
            "The 'method' parameter must be one of 'compressed', 'original', 'narrow', 'burer-monteiro'. Got 'svd'",
        ),
        ({"rank": 0}, ValueError, "The 'rank' parameter must be an int in \\[1, inf\\]. Got 0"),
        (
            {"rank": 99},
            ValueError,
            "The 'rank' parameter must be an int in \\[1, min\\(n_users, n_items\\)\\] = \\[1, 20\\]. Got 99",
        ),
        ({"rank": 2.5}, TypeError, "The 'rank' parameter must be an int"),
        (
            {"weight_decay": -1.0},
            ValueError,
            "The 'weight_decay' parameter must be a finite real number in \\[0, inf\\]",
        ),
        (
            {"shrinkage": "big"},
            ValueError,
            "The 'shrinkage' parameter must be 'auto' or a finite real number",
        ),
        (
            {"shrinkage": -1.0},
            ValueError,
            "The 'shrinkage' parameter must be a finite real number in \\[0, inf\\]. Got -1.0",
        ),
        (
            {"validation_fraction": 0.9},
            ValueError,
            "The 'validation_fraction' parameter must be a finite real number in \\(0, 0.5\\]",
        ),
        (
            {"duplicates": "sum"},
            ValueError,
            "The 'duplicates' parameter must be one of 'raise', 'mean', 'first', 'last'. Got 'sum'",
        ),
        (
            {"cold_start": "zero"},
            ValueError,
            "The 'cold_start' parameter must be one of 'bias', 'mean', 'raise'",
        ),
        (
            {"rating_range": (5, 1)},
            ValueError,
            "The 'rating_range' parameter must be None or a pair \\(low, high\\)",
        ),
        ({"max_iter": 0}, ValueError, "The 'max_iter' parameter must be an int in \\[1, inf\\]"),
        ({"random_state": "seed"}, TypeError, "The 'random_state' parameter"),
    ],
)
def test_bad_parameters(params, exc, match):
    u, i, r = make_ratings(30, 20, seed=6)
    with pytest.raises(exc, match=match):
        RatingsModel(**params).fit(u, i, r)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (
            ([1, 2], [1, 2], [3.0, np.nan]),
            ValueError,
            "The 'ratings' parameter must hold finite numbers. Got nan at position 1",
        ),
        (
            ([1, 2], [1], [3.0, 4.0]),
            ValueError,
            "'users', 'items' and 'ratings' parameters must have the same length. Got 2, 1 and 2",
        ),
        (
            ([1, None], [1, 2], [3.0, 4.0]),
            ValueError,
            "The 'users' parameter must not contain missing ids \\(None, NaN, NaT, pd.NA\\) "
            "or infinite ones. Got None",
        ),
        (
            ([1.0, np.nan], [1, 2], [3.0, 4.0]),
            ValueError,
            "The 'users' parameter must not contain missing ids .*Got nan",
        ),
        (
            ([[1], [2, 3]], [1, 2], [3.0, 4.0]),
            TypeError,
            "The 'users' parameter must hold hashable ids. Got list",
        ),
        (
            ([1, 2], [1, 2], ["a", "b"]),
            TypeError,
            "The 'ratings' parameter must be a 1-D array of real numbers",
        ),
        (
            ([1, 2], [1, 2], None),
            TypeError,
            "'items' and 'ratings' parameters must be given together",
        ),
        (
            ({"user": [1], "item": [2]},),
            ValueError,
            "must have columns 'user', 'item' and 'rating'. Got columns \\['user', 'item'\\]",
        ),
        ((42,), TypeError, "The 'users' parameter must be a table"),
        (([], [], []), ValueError, "The 'ratings' parameter must hold at least one rating"),
    ],
)
def test_bad_ratings(args, exc, match):
    with pytest.raises(exc, match=match):
        RatingsModel().fit(*args)


def test_not_fitted():
    with pytest.raises(AttributeError, match="not fitted yet"):
        RatingsModel().predict([1], [2])


def test_predict_length_mismatch(fitted):
    with pytest.raises(
        ValueError, match="'users' and 'items' parameters must have the same length. Got 2 and 1"
    ):
        fitted.predict([1, 2], [1])


def test_no_convergence_warning_leaks_from_the_budgeted_deep_fit(split):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RatingsModel(rank=2, max_iter=5, random_state=0).fit(*split[0])


# -- command line ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory):
    u, i, r = make_ratings(40, 30, seed=7)
    path = tmp_path_factory.mktemp("cli") / "u.data"
    path.write_text(
        "".join(
            f"{a}\t{b}\t{int(c)}\t{880000000 + t}\n" for t, (a, b, c) in enumerate(zip(u, i, r))
        )
    )
    return path, u, i, r


def test_cli_recommend_end_to_end(ratings_file, tmp_path, capsys):
    path, u, *_ = ratings_file
    out = tmp_path / "top.csv"
    argv = [
        "recommend",
        str(path),
        "--top-k",
        "5",
        "--output",
        str(out),
        "--seed",
        "1",
        "--no-progress",
    ]
    assert recommend_main(argv) == 0
    text = capsys.readouterr().out
    assert "RMSE" in text and "MAE" in text and "NDCG" in text and "precision" in text
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["user", "item", "rank", "score"]
    assert len(rows) - 1 == 5 * np.unique(u).size
    assert {int(row[2]) for row in rows[1:]} == {1, 2, 3, 4, 5}


def test_cli_recommend_writes_predictions(ratings_file, tmp_path, capsys):
    path, *_ = ratings_file
    out = tmp_path / "pred.csv"
    argv = ["recommend", str(path), "--test-fraction", "0.3", "--write", "predictions"]
    argv += ["--output", str(out), "--rank", "2", "--method", "burer-monteiro", "--no-progress"]
    assert recommend_main(argv) == 0
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["user", "item", "rating", "prediction", "cold_start"]
    assert all(1.0 <= float(row[3]) <= 5.0 for row in rows[1:])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--test-fraction", "1.5"], "'--test-fraction' option must be in [0, 1)"),
        (["--top-k", "0"], "'--top-k' option must be an int ≥ 1"),
        (["--rank", "0"], "'rank' parameter"),
        (["--test-fraction", "0", "--write", "predictions"], "needs held-out ratings"),
    ],
)
def test_cli_recommend_errors(ratings_file, capsys, extra, message):
    path, *_ = ratings_file
    assert recommend_main(["recommend", str(path), "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_recommend_missing_file(tmp_path, capsys):
    assert recommend_main(["recommend", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_cli_main_has_recommend_once_wired(ratings_file, capsys):
    from dmc import cli

    try:
        code = cli.main(
            ["recommend", str(ratings_file[0]), "--test-fraction", "0", "--no-progress"]
        )
    except SystemExit:
        pytest.skip("dmc/cli.py does not register 'recommend' yet")
    assert code == 0 and "fitted compressed" in capsys.readouterr().out


def test_more_shrinkage_sweeps_lower_the_objective_and_keep_the_validation_choice(data):
    # every item-user round is an exact minimisation of one penalised objective,
    # so the final fit's training error falls with the rounds; alpha is chosen with one
    u, i, r = data
    fits = [RatingsModel(rank=2, shrinkage_sweeps=k, random_state=0).fit(u, i, r) for k in (1, 6)]
    assert fits[0].shrinkage_ == fits[1].shrinkage_
    assert fits[0].validation_rmse_ == fits[1].validation_rmse_
    train = [np.mean((m.predict(u, i) - r) ** 2) for m in fits]
    assert train[1] < train[0]
