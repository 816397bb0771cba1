"""Issue 15: RatingsModel's recommend calls as implicit offers them, checked against
implicit's behaviour written out in numpy on small data.

implicit (benfred/implicit, ``implicit/cpu/matrix_factorization_base.py``) is a
compiled package and not a dependency, so each test states what implicit does in
a few lines of numpy (the reference) and compares: ``recommend(..., items=)`` ranks
the subset only and returns ``min(N, len(items))`` ids, ``filter_items`` never
returns the ids given, a batch of users gives ``(n_users, N)`` arrays,
``similar_items`` is the cosine of the latent vectors (norms of 0 floored), and
``partial_fit_users`` / ``partial_fit_items`` solve each row against the fixed
other side.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from malformed import state_hash
from sklearn.exceptions import NotFittedError

import dmc
from dmc.recommend.ids import IdIndex
from dmc.recommend.model import RatingsModel

N_USERS, N_ITEMS = 60, 40


def make_ratings(n_users=N_USERS, n_items=N_ITEMS, density=0.5, seed=0):
    """Rank-2 signal plus biases plus noise, rounded to 1..5; every user and item rated."""
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.8, (n_users, 2))
    V = rng.normal(0, 0.8, (n_items, 2))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    signal = 3.4 + np.einsum("ij,ij->i", U[u], V[i])
    r = np.clip(np.round(signal + 0.3 * rng.normal(size=u.size)), 1, 5)
    return u, i, r


@pytest.fixture(scope="module")
def data():
    return make_ratings()


@pytest.fixture(scope="module")
def model(data):
    return RatingsModel(rank=2, random_state=0).fit(*data)


def reference_scores(model, user):
    """Unclipped predicted ratings of every item for a fitted user (ids = indices here)."""
    return (
        model.global_mean_
        + model.user_bias_[user]
        + model.item_bias_
        + model.item_factors_ @ model.user_factors_[user]
    )


def reference_top(scores, k, allowed):
    """implicit's top-k: the best ``k`` of the allowed items, ties to the lower id."""
    candidates = np.flatnonzero(allowed)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order][:k]


# -- recommend(items=, filter_items=) -------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommend_with_items_returns_only_the_subset_as_implicit_ranks_it(
    model, data, seed, exclude_seen
):
    u, i, _ = data
    rng = np.random.default_rng(seed)
    subset = rng.choice(N_ITEMS, rng.integers(1, 15), replace=False)
    for user in rng.choice(N_USERS, 8, replace=False):
        ids, scores = model.recommend(user, k=10, items=subset, exclude_seen=exclude_seen)
        assert set(ids.tolist()) <= set(subset.tolist())  # the acceptance criterion
        allowed = np.isin(np.arange(N_ITEMS), subset)
        if exclude_seen:
            allowed &= ~np.isin(np.arange(N_ITEMS), i[u == user])
        expected = reference_top(reference_scores(model, user), 10, allowed)
        assert ids.tolist() == expected.tolist()
        assert np.allclose(scores, model.predict(np.full(ids.size, user), ids))


def test_recommend_with_items_for_unknown_users_and_in_every_form(model):
    subset = [3, 17, 5]
    for user in (-1, 7):
        ids, _ = model.recommend(user, k=40, items=subset)
        assert set(ids.tolist()) <= set(subset)
    rec = model.recommend_many([-1, 7, 9], k=40, items=subset)
    assert set(rec.item.tolist()) <= set(subset)
    ids, scores = model.recommend_batch([-1, 7, 9], k=40, items=subset)
    assert ids.shape == (3, 3)  # implicit: N = min(N, len(items))
    assert set(ids[~np.isnan(scores)].tolist()) <= set(subset)


def test_repeated_ids_in_items_count_once(model):
    once = model.recommend(4, k=5, items=[1, 2, 3], exclude_seen=False)
    twice = model.recommend(4, k=5, items=[3, 1, 2, 3, 1], exclude_seen=False)
    assert once[0].tolist() == twice[0].tolist() and once[0].size == 3


@pytest.mark.parametrize("user", [0, 11, 59])
def test_filter_items_are_never_returned_and_the_rest_ranks_as_before(model, user):
    everything, _ = model.recommend(user, k=N_ITEMS)
    banned = everything[::3]
    ids, _ = model.recommend(user, k=N_ITEMS, filter_items=banned)
    assert not set(ids.tolist()) & set(banned.tolist())
    assert ids.tolist() == [x for x in everything.tolist() if x not in set(banned.tolist())]


BAD_CANDIDATES = [
    (
        dict(items=[1, 2], filter_items=[3]),
        ValueError,
        "The 'items' and 'filter_items' parameters cannot be given together.*Got both",
    ),
    (
        dict(items=[1, 999]),
        ValueError,
        "The 'items' parameter must hold item ids known to the model.*Got unknown id 999 at "
        "position 1",
    ),
    (
        dict(filter_items=["x"]),
        ValueError,
        "The 'filter_items' parameter must hold item ids known.*Got unknown id 'x'",
    ),
    (dict(items=[]), ValueError, "The 'items' parameter must hold at least one item id"),
    (dict(items=5), TypeError, "The 'items' parameter must be a 1-D array-like of ids"),
    (dict(filter_items={1, 2}), TypeError, "The 'filter_items' parameter must be a 1-D.*set"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_CANDIDATES)
@pytest.mark.parametrize("call", ["recommend", "recommend_many", "recommend_batch"])
def test_bad_candidates_are_refused_and_change_nothing(model, call, kwargs, exc, match):
    user = 0 if call == "recommend" else [0, 1]
    before = state_hash(model)
    with pytest.raises(exc, match=match):
        getattr(model, call)(user, k=3, **kwargs)
    assert state_hash(model) == before


# -- the 2-D batch ------------------------------------------------------------------------


def test_recommend_batch_rows_are_single_recommendations(model):
    users = np.array([5, -1, 12, 5, 30])
    ids, scores = model.recommend_batch(users, k=6)
    assert ids.shape == scores.shape == (5, 6) and scores.dtype == np.float64
    for t, user in enumerate(users):
        one_ids, one_scores = model.recommend(user, k=6)
        assert ids[t].tolist() == one_ids.tolist()
        # one product for the block of users, one for the user alone: equal to rounding
        np.testing.assert_allclose(scores[t], one_scores, rtol=0, atol=1e-12)
    rec = model.recommend_many(users, k=6)  # the long table is the same lists
    assert rec.item.tolist() == ids.ravel().tolist()
    assert model.recommend_batch([], k=6)[0].shape == (0, 6)


@pytest.mark.parametrize(
    "relabel, fill",
    [
        (lambda x: x, -1),  # integer ids: implicit's -1
        (lambda x: f"i{x}", ""),
        (lambda x: ("t", x), None),  # object ids
    ],
)
def test_short_rows_of_a_batch_are_padded(data, relabel, fill):
    u, i, r = data
    items = np.empty(i.size, dtype=object)
    items[:] = [relabel(x) for x in i.tolist()]
    if isinstance(fill, int) or isinstance(fill, str):
        items = np.array(items.tolist())
    model = RatingsModel(rank=2, random_state=0).fit(u, items, r)
    subset = [relabel(x) for x in range(8)]
    seen = set(i[u == 0].tolist()) & set(range(8))  # user 0 rated some of the 8
    assert 0 < len(seen) < 8
    ids, scores = model.recommend_batch([0, 1], k=8, items=subset)
    n = 8 - len(seen)
    assert np.isfinite(scores[0, :n]).all() and np.isnan(scores[0, n:]).all()
    assert all(x == fill for x in ids[0, n:].tolist())
    assert ids[0, :n].tolist() == model.recommend(0, k=8, items=subset)[0].tolist()


def test_recommend_batch_scores_are_clipped_ranks_are_not(model):
    ids, scores = model.recommend_batch(np.arange(N_USERS), k=N_ITEMS, exclude_seen=False)
    lo, hi = model.rating_range_
    assert np.nanmin(scores) >= lo and np.nanmax(scores) <= hi
    for user in (0, 17):
        raw = reference_scores(model, user)[ids[user]]
        assert np.all(np.diff(raw) <= 0)


def test_cold_start_mean_recommends_for_known_and_unknown_users(data):
    # before issue 15 a known user raised a shape error under cold_start="mean"
    model = RatingsModel(rank=2, cold_start="mean", random_state=0).fit(*data)
    ids, scores = model.recommend(3, k=5)
    assert ids.size == 5 and np.allclose(scores, model.predict([3] * 5, ids))
    cold_ids, cold_scores = model.recommend(-7, k=5)
    assert np.allclose(cold_scores, model.global_mean_)


# -- similar items and users --------------------------------------------------------------


def implicit_similar(factors, query, N):
    """implicit's ``_get_similarity_score``: factors @ f / norms / norm, norms of 0 as 1e-10."""
    norms = np.linalg.norm(factors, axis=1)
    norms[norms == 0] = 1e-10
    scores = factors @ factors[query] / norms / norms[query]
    order = np.argsort(-scores, kind="stable")[:N]
    return order, scores[order]


@pytest.mark.parametrize("side", ["item", "user"])
def test_similar_ranks_each_id_first_and_matches_implicit(model, side):
    n = N_ITEMS if side == "item" else N_USERS
    factors = model.item_factors_ if side == "item" else model.user_factors_
    similar = model.similar_items if side == "item" else model.similar_users
    for query in range(n):
        ids, scores = similar(query, k=8)
        assert ids[0] == query and scores[0] == 1.0  # the acceptance criterion
        ref_ids, ref_scores = implicit_similar(factors, query, 8)
        assert np.allclose(scores, ref_scores, atol=1e-12)
        # the same neighbours in the same order, wherever the score is not tied
        gaps = np.abs(np.diff(ref_scores)) > 1e-9
        untied = np.r_[True, gaps] & np.r_[gaps, True]
        assert ids[untied].tolist() == ref_ids[untied].tolist()
        assert np.all(np.diff(scores) <= 1e-15)


def test_similar_items_batch_equals_single_queries(model):
    queries = np.array([3, 0, 39, 3])
    ids, scores = model.similar_items(queries, k=5)
    assert ids.shape == scores.shape == (4, 5)
    for t, q in enumerate(queries):
        one_ids, one_scores = model.similar_items(int(q), k=5)
        assert ids[t].tolist() == one_ids.tolist()
        np.testing.assert_allclose(scores[t], one_scores, rtol=0, atol=1e-12)
    users, _ = model.similar_users([1, 2], k=3)
    assert users.shape == (2, 3) and users[:, 0].tolist() == [1, 2]


def test_similar_items_subset_and_filter(model):
    ids, _ = model.similar_items(4, k=10, items=[4, 9, 10, 11])
    assert ids[0] == 4 and set(ids.tolist()) <= {4, 9, 10, 11} and ids.size == 4
    ids, _ = model.similar_items(4, k=10, items=[9, 10])  # the item itself not a candidate
    assert set(ids.tolist()) == {9, 10}
    ids, _ = model.similar_items(4, k=N_ITEMS, filter_items=[4, 5])
    assert ids.size == N_ITEMS - 2 and not {4, 5} & set(ids.tolist())
    ids, _ = model.similar_users(4, k=N_USERS, filter_users=[4])
    assert 4 not in ids.tolist()
    with pytest.raises(ValueError, match="'users' and 'filter_users' parameters cannot"):
        model.similar_users(4, users=[1], filter_users=[2])


def test_an_item_with_a_zero_vector_is_first_among_its_own_neighbours(model):
    zeroed = copy.deepcopy(model)
    zeroed.item_factors_[6] = 0.0
    ids, scores = zeroed.similar_items(6, k=5)
    assert ids[0] == 6 and scores[0] == 1.0 and np.all(scores[1:] == 0.0)
    others, their_scores = zeroed.similar_items(7, k=N_ITEMS)
    assert their_scores[others.tolist().index(6)] == 0.0


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: m.similar_items(999), ValueError, "'item' parameter must hold item ids known"),
        (lambda m: m.similar_users("x"), ValueError, "'user' parameter must hold user ids known"),
        (lambda m: m.similar_items(None), ValueError, "'item' parameter must not contain missing"),
        (
            lambda m: m.similar_items(1, k=0),
            ValueError,
            r"'k' parameter must be an int in \[1, 40\]",
        ),
        (
            lambda m: m.similar_users(1, k=61),
            ValueError,
            r"'k' parameter must be an int in \[1, 60\]",
        ),
        (lambda m: m.similar_items([1, 999]), ValueError, "Got unknown id 999 at position 1"),
    ],
)
def test_similar_refuses_bad_calls_and_changes_nothing(model, call, exc, match):
    before = state_hash(model)
    with pytest.raises(exc, match=match):
        call(model)
    assert state_hash(model) == before


# -- fold-in of many users, and of items --------------------------------------------------


@pytest.fixture(scope="module")
def newcomers():
    """100 new users (and one known user) rating 1 to 14 items each, some items unknown."""
    rng = np.random.default_rng(1)
    users, items, ratings = [], [], []
    for t in range(100):
        rated = rng.choice(N_ITEMS + 5, rng.integers(1, 15), replace=False)  # 40..44 unknown
        users += [f"n{t}"] * rated.size
        items += rated.tolist()
        ratings += rng.integers(1, 6, rated.size).astype(float).tolist()
    users += ["n7", 5, 5, 5]  # a new user rating only an unknown item; a known user
    items += [44, 1, 2, 3]
    ratings += [4.0, 5.0, 5.0, 1.0]
    perm = rng.permutation(len(users))
    as_object = np.empty(len(users), dtype=object)
    as_object[:] = users
    return as_object[perm], np.array(items)[perm], np.array(ratings)[perm]


def test_batch_fold_in_of_100_users_equals_100_single_fold_ins(model, newcomers):
    users, items, ratings = newcomers
    batch, single = copy.deepcopy(model), copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # users with only unknown items
        batch.fold_in_users(users, items, ratings)
        for user in dict.fromkeys(users.tolist()):  # in order of first appearance
            single.fold_in(user, items[users == user], ratings[users == user])
    assert batch.users_.tolist() == single.users_.tolist()
    assert batch.users_.size == N_USERS + 100
    # the same ridge solves, batched: equal to rounding (bitwise on the reference machine)
    np.testing.assert_allclose(batch.user_factors_, single.user_factors_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch.user_bias_, single.user_bias_, rtol=0, atol=1e-12)
    for user in (0, 5, N_USERS, N_USERS + 99):
        assert np.array_equal(batch._seen.items_of(user), single._seen.items_of(user))
    everyone = batch.users_
    a_ids, a_scores = batch.recommend_batch(everyone, k=5)
    b_ids, b_scores = single.recommend_batch(everyone, k=5)
    assert a_ids.tolist() == b_ids.tolist()
    np.testing.assert_allclose(a_scores, b_scores, rtol=0, atol=1e-12)


def test_fold_in_users_takes_a_table_and_warns_once_for_users_without_known_items(model):
    pd = pytest.importorskip("pandas")
    folded = copy.deepcopy(model)
    table = pd.DataFrame(
        {"user": ["a", "a", "b", "c"], "item": [1, 2, 999, 998], "rating": [5.0, 1.0, 3, 3]}
    )
    with pytest.warns(UserWarning, match="2 of the 3 user.*e.g. 'b'.*bias 0 and latent vector 0"):
        folded.fold_in_users(table)
    assert folded.users_[-3:].tolist() == ["a", "b", "c"]
    assert np.all(folded.user_factors_[-2:] == 0) and np.all(folded.user_bias_[-2:] == 0)


def ridge_reference(F, cov, ridge, bias_reg, cols, target):
    """argmin Σ (y − b − F_j · a)² + bias_reg b² + ridge aᵀ cov⁻¹ a, by its normal equations."""
    X = np.hstack([np.ones((cols.size, 1)), F[cols]])
    P = np.zeros((X.shape[1], X.shape[1]))
    P[0, 0] = bias_reg
    P[1:, 1:] = ridge * np.linalg.inv(cov)
    z = np.linalg.solve(X.T @ X + P, X.T @ target)
    return z[0], z[1:]


def test_fold_in_items_solves_each_item_against_the_fixed_users(model, data):
    u, i, r = data
    assert np.linalg.cond(model._prior.item_cov) < 1e6  # the reference inverts it
    folded = copy.deepcopy(model)
    # two new items: a copy of item 3's ratings, and one rated by 5 users
    raters = u[i == 3]
    new_users = np.concatenate([raters, [0, 1, 2, 3, 4], [999]])  # 999: unknown, ignored
    new_items = np.array(["copy"] * raters.size + ["five"] * 5 + ["five"], dtype=object)
    new_ratings = np.concatenate([r[i == 3], [5.0, 5.0, 4.0, 5.0, 5.0], [1.0]])
    folded.fold_in_items(new_users, new_items, new_ratings)
    assert folded.items_[-2:].tolist() == ["copy", "five"]
    ridge = model._prior.noise * model.shrinkage_
    for name, users, ratings in (
        ("copy", raters, r[i == 3]),
        ("five", np.arange(5), np.array([5.0, 5.0, 4.0, 5.0, 5.0])),
    ):
        target = ratings - model.global_mean_ - model.user_bias_[users]
        b, a = ridge_reference(
            model.user_factors_, model._prior.item_cov, ridge, 10.0, users, target
        )
        t = folded.items_.tolist().index(name)
        assert folded.item_bias_[t] == pytest.approx(b, rel=1e-8, abs=1e-10)
        np.testing.assert_allclose(folded.item_factors_[t], a, rtol=1e-7, atol=1e-10)
    # the users did not move; the raters will not be offered the item again
    assert np.array_equal(folded.user_factors_, model.user_factors_)
    assert "five" not in folded.recommend(0, k=N_ITEMS + 2)[0].tolist()
    assert "five" in folded.recommend(10, k=N_ITEMS + 2)[0].tolist()
    assert "five" in folded.recommend(0, k=N_ITEMS + 2, exclude_seen=False)[0].tolist()
    assert folded.similar_items("copy", k=2)[0][0] == "copy"


def test_fold_in_users_solves_each_user_against_the_fixed_items(model, data):
    folded = copy.deepcopy(model)
    folded.fold_in_users(["p", "p", "p", "q"], [0, 5, 9, 9], [5.0, 1.0, 4.0, 2.0])
    ridge = model._prior.noise * model.shrinkage_
    cols = np.array([0, 5, 9])
    target = np.array([5.0, 1.0, 4.0]) - model.global_mean_ - model.item_bias_[cols]
    b, a = ridge_reference(model.item_factors_, model._prior.user_cov, ridge, 15.0, cols, target)
    assert folded.user_bias_[N_USERS] == pytest.approx(b, rel=1e-8, abs=1e-10)
    np.testing.assert_allclose(folded.user_factors_[N_USERS], a, rtol=1e-7, atol=1e-10)


def test_fold_ins_survive_save_and_load(model, tmp_path, newcomers):
    folded = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        folded.fold_in_users(*newcomers)
    folded.fold_in_items([0, 1, 2], ["new"] * 3, [5.0, 4.0, 5.0])
    restored = dmc.load(folded.save(tmp_path / "folded.dmc"))
    users = folded.users_[::7]
    assert np.array_equal(restored.recommend_batch(users)[1], folded.recommend_batch(users)[1])
    assert restored.similar_items("new")[0].tolist() == folded.similar_items("new")[0].tolist()


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda m: m.fold_in_users(["a", "a"], [1, 1], [3.0, 4.0]),
            ValueError,
            "'duplicates' parameter.*item 1 rated 2 times by user 'a'",
        ),
        (
            lambda m: m.fold_in_items([1, 1], ["z", "z"], [3.0, 4.0]),
            ValueError,
            "'duplicates' parameter.*item 'z' rated 2 times by user 1",
        ),
        (
            lambda m: m.fold_in_users(["a"], [1], [np.nan]),
            ValueError,
            "'ratings' parameter must hold finite numbers",
        ),
        (
            lambda m: m.fold_in_users(["a", "b"], [1], [3.0]),
            ValueError,
            "'users', 'items' and 'ratings' parameters must have the same length",
        ),
        (lambda m: m.fold_in_items([], [], []), ValueError, "at least one rating. Got none"),
        (lambda m: m.fold_in_users([None], [1], [3.0]), ValueError, "'users'.*missing ids"),
    ],
)
def test_failed_fold_ins_change_nothing(model, call, exc, match):
    folded = copy.deepcopy(model)
    before = state_hash(folded)
    with pytest.raises(exc, match=match):
        call(folded)
    assert state_hash(folded) == before


def test_unfitted_model_refuses_the_new_calls():
    fresh = RatingsModel()
    for call in (
        lambda: fresh.recommend_batch([1]),
        lambda: fresh.similar_items(1),
        lambda: fresh.similar_users(1),
        lambda: fresh.fold_in_users([1], [1], [1.0]),
        lambda: fresh.fold_in_items([1], [1], [1.0]),
    ):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


@pytest.mark.parametrize(
    "ids, new",
    [
        (np.array([10, 20]), np.array([5, 7])),
        (np.array(["ab", "cd"]), np.array(["e", "fghij"])),  # too wide for <U2: objects
        (np.array([1.5, 2.5]), np.array([3.0])),
        (np.array([1, 2]), np.array(["x", 3], dtype=object)),
    ],
)
def test_extending_an_index_equals_adding_one_id_at_a_time(ids, new):
    grown, _ = IdIndex.build(ids, "users")
    added, _ = IdIndex.build(ids, "users")
    positions = grown.extend(new)
    expected = [added.add(v) for v in new.tolist()]
    assert positions.tolist() == expected
    assert grown.ids.tolist() == added.ids.tolist() and grown.ids.dtype == added.ids.dtype
    assert grown.lookup(new).tolist() == expected
