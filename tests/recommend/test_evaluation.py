import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from dmc.recommend.evaluation import (
    kfold_split,
    mae,
    ndcg_at_k,
    precision_at_k,
    rank_heldout,
    recall_at_k,
    rmse,
    user_holdout_split,
)

# -- rating errors ------------------------------------------------------------------


def test_rmse_and_mae_values():
    y, p = [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 6.0]
    assert rmse(y, p) == pytest.approx(1.0)
    assert mae(y, p) == pytest.approx(0.5)
    assert rmse(np.arange(5.0), np.arange(5.0)) == 0.0


@pytest.mark.parametrize(
    "y_true, y_pred, exc, match",
    [
        (
            [1.0, 2.0],
            [1.0],
            ValueError,
            "'y_pred' parameter must have the length of 'y_true' \\(2\\)",
        ),
        ([], [], ValueError, "'y_true' parameter must be a non-empty 1-D array"),
        ([1.0, np.nan], [1.0, 2.0], ValueError, "'y_true' parameter must hold finite numbers"),
        ([1.0], [np.inf], ValueError, "'y_pred' parameter must hold finite numbers. Got inf"),
        ([[1.0]], [[1.0]], ValueError, "non-empty 1-D array. Got shape \\(1, 1\\)"),
        (["a"], [1.0], TypeError, "'y_true' parameter must be a 1-D array of real numbers"),
    ],
)
@pytest.mark.parametrize("metric", [rmse, mae])
def test_rating_errors_reject_bad_input(metric, y_true, y_pred, exc, match):
    with pytest.raises(exc, match=match):
        metric(y_true, y_pred)


# -- top-k ---------------------------------------------------------------------------


def test_precision_recall_by_hand():
    rec = [["a", "b", "c", "d"], ["x", "y", "z", "w"]]
    rel = [{"a", "d", "q"}, {"w"}]
    # user 1: hits in top 2 = {a}; user 2: none
    assert precision_at_k(rec, rel, k=2) == pytest.approx((1 / 2 + 0) / 2)
    assert recall_at_k(rec, rel, k=2) == pytest.approx((1 / 3 + 0) / 2)
    assert precision_at_k(rec, rel, k=4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert recall_at_k(rec, rel, k=4) == pytest.approx((2 / 3 + 1) / 2)


def test_users_without_relevant_items_are_left_out():
    rec = [["a", "b"], ["a", "b"]]
    assert precision_at_k(rec, [{"a"}, set()], k=1) == 1.0
    assert recall_at_k(rec, [{"a"}, {}], k=1) == 1.0
    assert ndcg_at_k(rec, [{"a"}, {"zz": 0.0}], k=1) == 1.0


def test_short_lists_count_missing_places_as_misses():
    assert precision_at_k([["a"]], [{"a"}], k=4) == 0.25
    assert recall_at_k([["a"]], [{"a"}], k=4) == 1.0


def test_recommended_may_be_a_2d_array():
    rec = np.array([[3, 1, 2], [2, 3, 1]])
    assert precision_at_k(rec, [np.array([1]), [2]], k=1) == 0.5


def test_duplicate_items_in_a_list_count_once():
    assert precision_at_k([["a", "a"]], [{"a"}], k=2) == 0.5


def test_ndcg_by_hand_and_gains():
    assert ndcg_at_k([["a", "b"]], [{"a"}], k=2) == 1.0
    assert ndcg_at_k([["b", "a"]], [{"a"}], k=2) == pytest.approx(1 / np.log2(3))
    graded = [{"a": 5.0, "b": 3.0}]
    linear = (3 + 5 / np.log2(3)) / (5 + 3 / np.log2(3))
    assert ndcg_at_k([["b", "a"]], graded, k=2) == pytest.approx(linear)
    expo = (7 + 31 / np.log2(3)) / (31 + 7 / np.log2(3))
    assert ndcg_at_k([["b", "a"]], graded, k=2, gain="exponential") == pytest.approx(expo)


def test_ndcg_matches_scikit_learn_on_full_rankings(rng):
    y_true = rng.integers(0, 6, size=(7, 30)).astype(float)
    y_true[:, 0] = 5.0  # every user has something relevant
    y_score = rng.normal(size=(7, 30))  # no ties
    for k in (1, 5, 10, 30):
        recommended = [np.argsort(-s) for s in y_score]
        relevance = [dict(enumerate(t)) for t in y_true]
        ours = ndcg_at_k(recommended, relevance, k=k)
        assert ours == pytest.approx(ndcg_score(y_true, y_score, k=k), rel=1e-12)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (
            ([["a"]], [{"a"}]),
            {"k": 0},
            ValueError,
            "The 'k' parameter must be an int in \\[1, inf\\]. Got 0",
        ),
        (([["a"]], [{"a"}]), {"k": 2.5}, TypeError, "The 'k' parameter must be an int"),
        (([["a"]], [{"a"}, {"b"}]), {}, ValueError, "one entry per user each. Got 1 and 2"),
        (([["a"]], [set()]), {}, ValueError, "no relevant item for any user"),
        (([["a"]], ["a"]), {}, TypeError, "collection of item ids or a mapping"),
        (([["a"]], [{"a": -1.0}]), {}, ValueError, "gains must be ≥ 0"),
        (([["a"]], [{"a": "x"}]), {}, TypeError, "gains must be finite real numbers"),
        ((np.array(["a", "b"]), [{"a"}]), {}, ValueError, "2-D array or a sequence"),
    ],
)
def test_topk_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ndcg_at_k(*args, **kwargs)


def test_ndcg_rejects_unknown_gain():
    with pytest.raises(
        ValueError, match="The 'gain' parameter must be one of 'linear', 'exponential'"
    ):
        ndcg_at_k([["a"]], [{"a"}], gain="log")


def test_rank_heldout_orders_by_score_per_user():
    users = np.array(["u2", "u1", "u2", "u1", "u2"])
    items = np.array([10, 11, 12, 13, 14])
    y = np.array([5.0, 4.0, 1.0, 2.0, 3.0])
    s = np.array([0.1, 0.9, 0.8, 0.2, 0.8])
    rec, rel = rank_heldout(users, items, y, s)
    # users in order of first appearance; ties broken by input order
    assert [r.tolist() for r in rec] == [[12, 14, 10], [11, 13]]
    assert rel == [{10: 5.0, 12: 1.0, 14: 3.0}, {11: 4.0, 13: 2.0}]


def test_rank_heldout_checks_lengths():
    with pytest.raises(
        ValueError, match="'items' parameter must be 1-D with the length of 'y_true'"
    ):
        rank_heldout([1, 2], [1], [1.0, 2.0], [1.0, 2.0])


# -- splits ---------------------------------------------------------------------------


def test_kfold_partitions_and_is_reproducible():
    folds = list(kfold_split(103, 5, random_state=7))
    assert len(folds) == 5
    tests = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tests), np.arange(103))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == 103
        assert abs(test.size - 103 / 5) < 1
    again = list(kfold_split(103, 5, random_state=7))
    other = list(kfold_split(103, 5, random_state=8))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


@pytest.mark.parametrize(
    "n, n_splits, exc, match",
    [
        (10, 1, ValueError, "'n_splits' parameter must be an int in \\[2, 10\\]. Got 1"),
        (3, 4, ValueError, "'n_splits' parameter must be an int in \\[2, 3\\]. Got 4"),
        (0, 2, ValueError, "'n_ratings' parameter must be an int in \\[1, inf\\]. Got 0"),
        (10.0, 2, TypeError, "'n_ratings' parameter must be an int"),
    ],
)
def test_kfold_errors(n, n_splits, exc, match):
    with pytest.raises(exc, match=match):
        next(kfold_split(n, n_splits))


def test_user_holdout_keeps_training_ratings_for_everyone(rng):
    users = rng.choice(np.array(["a", "b", "c", "d", "e"]), size=500)
    users[:3] = "solo"  # a user with 3 ratings
    users[3] = "one"  # and one with a single rating
    train, test = user_holdout_split(users, test_fraction=0.25, min_train=2, random_state=0)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(500))
    for u in np.unique(users):
        n_u = (users == u).sum()
        n_test = np.isin(test, np.flatnonzero(users == u)).sum()
        assert n_u - n_test >= min(2, n_u)
        assert n_test == max(0, min(round(0.25 * n_u), n_u - 2))
    again = user_holdout_split(users, test_fraction=0.25, min_train=2, random_state=0)
    assert np.array_equal(again[1], test)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            {"test_fraction": 0.0},
            ValueError,
            "'test_fraction' parameter must be a finite real number in \\(0, 1\\]",
        ),
        (
            {"test_fraction": 1.0},
            ValueError,
            "'test_fraction' parameter must be a finite real number in \\(0, 1\\)",
        ),
        ({"min_train": 0}, ValueError, "'min_train' parameter must be an int in \\[1, inf\\]"),
        ({"random_state": "x"}, TypeError, "'random_state' parameter"),
    ],
)
def test_user_holdout_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        user_holdout_split([1, 1, 2], **kwargs)
