"""RatingsModel as a scikit-learn estimator, and its side of the file protocol (dmc.io)."""

import copy
import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

import dmc
from dmc.recommend.ids import IdIndex
from dmc.recommend.model import RatingsModel
from dmc.recommend.seen import SeenItems
from dmc.recommend.shrinkage import ShrinkagePrior

PARAMS = dict(
    method="narrow",
    rank=3,
    depth=4,
    init_scale=0.2,
    gamma=0.5,
    weight_decay=2.0,
    max_iter=7,
    tol=1e-5,
    n_iter_no_change=None,
    shrinkage=0.25,
    validation_fraction=0.2,
    shrinkage_sweeps=2,
    user_bias_reg=3.0,
    item_bias_reg=4.0,
    duplicates="mean",
    cold_start="mean",
    rating_range=(1, 5),
    dtype="float32",
    device="cpu",
    random_state=5,
    verbose=False,
    distributed=False,
)


def small_ratings(seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.permutation(30 * 20)[:300]
    users, items = pairs // 20, pairs % 20
    ratings = np.clip(np.round(3 + users % 3 - items % 2 + rng.normal(0, 0.5, 300)), 1, 5)
    return [f"u{x}" for x in users], items, ratings


@pytest.fixture(scope="module")
def fitted():
    users, items, ratings = small_ratings()
    model = RatingsModel(rank=2, max_iter=10, random_state=0).fit(users, items, ratings)
    model.fold_in("newcomer", [items[0], items[1]], [5.0, 2.0])
    model.fold_in(users[3], [items[4]], [1.0])
    return model, (users, items, ratings)


# -- scikit-learn ----------------------------------------------------------------------------


def test_is_a_scikit_learn_estimator():
    assert isinstance(RatingsModel(), BaseEstimator)
    signature = inspect.signature(RatingsModel.__init__).parameters
    assert set(RatingsModel().get_params()) == set(signature) - {"self"} == set(PARAMS)


def test_get_params_and_set_params_round_trip():
    model = RatingsModel(**PARAMS)
    assert model.get_params() == PARAMS  # stored verbatim
    other = RatingsModel()
    assert other.set_params(**model.get_params()) is other
    assert other.get_params() == PARAMS
    other.set_params(rank=4, shrinkage="auto")
    assert other.rank == 4 and other.shrinkage == "auto"
    with pytest.raises(ValueError, match="Invalid parameter 'no_such'"):
        other.set_params(no_such=1)


def test_clone_gives_an_unfitted_copy_with_the_same_params(fitted):
    model, (users, items, ratings) = fitted
    twin = clone(model)
    assert type(twin) is RatingsModel and twin is not model
    assert twin.get_params() == model.get_params()
    assert not [name for name in vars(twin) if name.endswith("_") or name.startswith("_")]
    with pytest.raises(NotFittedError):
        twin.predict(users[:1], items[:1])
    assert clone(RatingsModel(**PARAMS)).get_params() == PARAMS
    # refitting the clone on the same data gives the same model (same seed)
    twin.fit(users, items, ratings)
    np.testing.assert_array_equal(twin.item_factors_, model.item_factors_)


def test_repr_shows_the_parameters_set():
    assert repr(RatingsModel()) == "RatingsModel()"
    assert (
        repr(RatingsModel(rank=3, duplicates="mean")) == "RatingsModel(duplicates='mean', rank=3)"
    )


# -- the file protocol -----------------------------------------------------------------------


def _same_arrays(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_state_round_trips_onto_a_model_built_from_the_params(fitted):
    model, (users, items, _) = fitted
    state = model._get_state()
    assert all(name.endswith("_") or name.startswith("_") for name in state)
    assert set(vars(model)) == set(state) | set(model.get_params())
    restored = RatingsModel(**model.get_params())
    restored._set_state(copy.deepcopy(state))
    query_users = [*users[:40], "newcomer", "nobody"]
    query_items = [*items[:40], items[0], items[0]]
    got = restored.predict(query_users, query_items, return_cold=True)
    want = model.predict(query_users, query_items, return_cold=True)
    assert all(_same_arrays(g, w) for g, w in zip(got, want))
    for user in (users[0], users[3], "newcomer"):
        assert all(
            _same_arrays(g, w) for g, w in zip(restored.recommend(user), model.recommend(user))
        )


def test_set_state_refuses_a_state_that_is_not_a_fitted_model(fitted):
    state = fitted[0]._get_state()
    with pytest.raises(ValueError, match=r"unknown \['extra_'\] and missing \[\]"):
        RatingsModel()._set_state({**state, "extra_": 1})
    with pytest.raises(ValueError, match=r"missing \['_seen'\]"):
        RatingsModel()._set_state({k: v for k, v in state.items() if k != "_seen"})
    with pytest.raises(TypeError, match="'_user_index' .* must be of type IdIndex. Got int"):
        RatingsModel()._set_state({**state, "_user_index": 1})
    with pytest.raises(NotFittedError):
        RatingsModel()._get_state()


def test_parts_rebuild_equal_from_their_state(fitted):
    model = fitted[0]
    index = IdIndex._from_state(model._user_index._get_state())
    assert _same_arrays(index.ids, model.users_) and index._sorted is model._user_index._sorted
    assert index.lookup(np.array(["u3", "newcomer", "nobody"], dtype=object)).tolist() == [
        *model._user_index.lookup(np.array(["u3", "newcomer"], dtype=object)).tolist(),
        -1,
    ]
    seen = SeenItems._from_state(model._seen._get_state())
    for user in range(len(model.users_)):
        assert _same_arrays(seen.items_of(user), model._seen.items_of(user))
    prior = ShrinkagePrior._from_state(model._prior._get_state())
    assert type(prior) is ShrinkagePrior and prior.noise == model._prior.noise
    assert _same_arrays(prior.user_cov, model._prior.user_cov)
    assert _same_arrays(prior.item_cov, model._prior.item_cov)


def test_the_parts_state_holds_plain_values_only(fitted):
    model = fitted[0]
    plain = (type(None), bool, int, float, str, np.ndarray)
    for part in (model._user_index, model._seen, model._prior):
        assert all(isinstance(v, plain) for v in part._get_state().values()), part


def test_an_index_state_must_hold_a_1d_array():
    with pytest.raises(dmc.FileFormatError, match="1-D array"):
        IdIndex._from_state({"ids": [1, 2], "sorted": True})
