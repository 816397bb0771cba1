"""Saving and loading fitted models: bitwise round trips, damaged and hostile files."""

import copy
import functools
import hashlib
import io
import json
import os
import pickle
import re
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.impute import MissingIndicator

import dmc
from dmc import DeepMatrixCompletion, FileFormatError, RatingsModel
from dmc.core.complete import CompletionResult
from dmc.io import archive as _io
from dmc.io import persistence, storable
from dmc.recommend.ids import IdIndex
from dmc.recommend.seen import SeenItems

# -- helpers ----------------------------------------------------------------------------


def state(value):
    """A comparable picture of a value: its type and its bits, all the way down."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("object", value.shape, [state(v) for v in value.ravel()])
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy()
        return ("tensor", array.dtype.str, value.requires_grad, array.tobytes())
    if type(value) is float:
        return ("float", struct.pack("<d", value))
    if value is None or type(value) in (bool, int, str, bytes):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [state(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(state(k), state(v)) for k, v in value.items()])
    if isinstance(value, IdIndex):
        return ("index", state(value.ids), value._sorted)
    if isinstance(value, SeenItems):
        overrides = {int(k): v for k, v in value.overrides.items()}
        return ("seen", state(value.ptr), state(value.items), state(overrides))
    if isinstance(value, CompletionResult):
        others = {k: v for k, v in vars(value).items() if k != "model"}
        params = [state(p) for p in value.model.parameters()]
        return ("completion", type(value.model).__name__, params, state(others))
    if isinstance(value, MissingIndicator):
        return ("indicator", state(vars(value)))
    if isinstance(value, _Node):
        return ("node", state(vars(value)))
    raise AssertionError(f"no state for {type(value).__name__}")


def assert_same_model(restored, original):
    """Same attributes, bit for bit; the parameters that are not data are checked apart."""
    assert type(restored) is type(original)
    assert sorted(vars(restored)) == sorted(vars(original))
    for name, value in vars(original).items():
        if name not in ("callback", "random_state"):
            assert state(vars(restored)[name]) == state(value), name


def assert_bitwise(a, b):
    assert state(a) == state(b)


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def members_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def forge(source, target, edit=None, replace=None):
    """Copy a dmc file, editing its manifest and members, with consistent checksums."""
    members = members_of(source)
    manifest = json.loads(members["manifest.json"])
    for name, blob in (replace or {}).items():
        members[f"arrays/{name}.npy"] = blob
        manifest["arrays"].setdefault(name, {})["sha256"] = hashlib.sha256(blob).hexdigest()
    if edit is not None:
        edit(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    members["manifest.sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest()
    write_zip(target, members)
    return target


# -- fitted models ----------------------------------------------------------------------


@functools.cache
def fitted_estimator(kind):
    """A fitted estimator and its training data; each kind is fitted once per session.

    Short fits: what is saved need not have converged.
    """
    M = dmc.low_rank_matrix((48, 30), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(0).random(M.shape) < 0.6, M, np.nan)
    X, new_rows = X[:40], X[40:]
    new_rows[0] = np.nan  # an empty row: filled with the column means, with a warning
    if kind == "numpy":
        model = DeepMatrixCompletion(rank=2, max_iter=60, random_state=0)
    else:
        pd = pytest.importorskip("pandas")
        columns = [f"c{j}" for j in range(X.shape[1])]
        X, new_rows = (pd.DataFrame(a.astype(np.float32), columns=columns) for a in (X, new_rows))
        model = DeepMatrixCompletion(
            rank=np.int64(2),
            min_value=np.full(X.shape[1], -1.0),  # per-feature bounds (issue 15)
            add_indicator=True,  # scikit-learn's MissingIndicator, kept as its features_
            dtype=None,  # float32 training, as the input
            max_iter=60,
            random_state=np.random.default_rng(3),
            callback=lambda iteration, state: False,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return model.fit(X), X, new_rows


def make_ratings(id_kind, seed=0):
    rng = np.random.default_rng(seed)
    n_users, n_items = 40, 25
    pairs = rng.permutation(n_users * n_items)[:450]
    u, i = pairs // n_items, pairs % n_items
    r = np.clip(np.round(3 + (u % 3) - (i % 2) + rng.normal(0, 0.5, u.size)), 1, 5)
    if id_kind == "str":
        return [f"user-{x}" for x in u], [f"item-{x}" for x in i], r
    if id_kind == "int":
        return 2**63 - 1 - u * 7, i.astype(np.int32), r
    # mixed: ints and strings (no order: first-appearance index), tuples as item ids
    return [int(x) if x % 2 else f"u{x}" for x in u], [("item", int(x)) for x in i], r


@functools.cache
def fitted_ratings(id_kind):
    """A fitted ratings model with folded-in users; each kind is fitted once per session."""
    users, items, r = make_ratings(id_kind)
    model = RatingsModel(rank=2, max_iter=30, rating_range=(1, 5), random_state=0)
    model.fit(users, items, r)
    # a folded-in new user (grows the index) and a refolded known one (overrides)
    newcomer = "a-newcomer-with-a-long-name" if id_kind != "int" else 7
    model.fold_in(newcomer, [items[0], items[1], items[2]], [5.0, 1.0, 4.0])
    model.fold_in(users[3], [items[4], items[5]], [2.0, 5.0])
    return model, (users, items, r), newcomer


@pytest.fixture(params=["numpy", "dataframe"])
def estimator(request):
    return fitted_estimator(request.param)


@pytest.fixture(params=["str", "int", "mixed"])
def ratings(request):
    return fitted_ratings(request.param)


@pytest.fixture
def imputer():
    return fitted_estimator("numpy")[0]


@pytest.fixture
def recommender():
    return fitted_ratings("str")[0]


# -- round trips ----------------------------------------------------------------------------


def test_estimator_round_trip_is_bitwise(estimator, tmp_path):
    model, X, new_rows = estimator
    path = model.save(tmp_path / "imputer.dmc")
    assert isinstance(path, Path) and path.is_file()
    restored = DeepMatrixCompletion.load(path)
    assert_same_model(restored, model)
    params = model.get_params()
    params.update(callback=None)  # not data: stored as None
    if isinstance(params["random_state"], np.random.Generator):
        params["random_state"] = None
    assert state(restored.get_params()) == state(params)
    assert restored.random_state is None or restored.random_state == model.random_state

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the empty row; feature names in score
        for data in (X, new_rows):
            assert_bitwise(restored.transform(data), model.transform(data))
        assert_bitwise(restored.score(X), model.score(X))
    assert_bitwise(restored.get_feature_names_out(), model.get_feature_names_out())


def test_dmc_load_dispatches_on_the_kind(imputer, recommender, tmp_path):
    assert type(dmc.load(imputer.save(tmp_path / "a.dmc"))) is DeepMatrixCompletion
    assert type(dmc.load(recommender.save(tmp_path / "b.dmc"))) is RatingsModel
    assert type(dmc.load(str(tmp_path / "b.dmc"))) is RatingsModel


def test_ratings_round_trip_is_bitwise(ratings, tmp_path):
    model, (users, items, r), newcomer = ratings
    restored = RatingsModel.load(model.save(tmp_path / "ratings.dmc"))
    assert_same_model(restored, model)
    assert_bitwise(restored.users_, model.users_)
    assert_bitwise(restored.items_, model.items_)

    unknown_user = "nobody" if isinstance(users[0], str) else -5
    unknown_item = "nothing" if isinstance(items[0], str) else -5
    query_u = _ids([*users[:50], newcomer, unknown_user, users[0]])
    query_i = _ids([*items[:50], items[3], items[0], unknown_item])
    for a, b in zip(
        restored.predict(query_u, query_i, return_cold=True),
        model.predict(query_u, query_i, return_cold=True),
    ):
        assert_bitwise(a, b)
    for user in (users[0], users[3], newcomer, unknown_user):
        for exclude_seen in (True, False):
            got = restored.recommend(user, k=5, exclude_seen=exclude_seen)
            want = model.recommend(user, k=5, exclude_seen=exclude_seen)
            assert_bitwise(got, want)
    many = _ids([*model.users_.tolist(), unknown_user])
    assert_bitwise(
        restored.recommend_many(many, k=7)._asdict(), model.recommend_many(many, k=7)._asdict()
    )

    completion = restored.completion_
    assert all(p.device.type == "cpu" for p in completion.model.parameters())
    assert_bitwise(completion.factors(), model.completion_.factors())
    assert_bitwise(
        completion.predict([0, 1, 2], [2, 1, 0]), model.completion_.predict([0, 1, 2], [2, 1, 0])
    )
    assert completion.history == model.completion_.history

    # fold-in continues identically on both
    model = copy.deepcopy(model)  # (the fixture stays as it was)
    for m in (model, restored):
        m.fold_in(unknown_user, [items[7], items[8], "junk"], [4.0, 2.0, 3.0])
        m.fold_in(users[5], [items[9]], [1.0])
    assert_same_model(restored, model)
    assert_bitwise(restored.recommend(unknown_user, k=4), model.recommend(unknown_user, k=4))


def _ids(values):
    """An id vector as a user would pass it (tuples kept whole)."""
    if all(isinstance(v, tuple) for v in values):
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return values


def test_parameters_that_are_not_data_are_stored_as_none(tmp_path):
    model = RatingsModel(
        random_state=np.random.default_rng(0), dtype=np.float64, device=torch.device("cpu")
    )
    stored = {
        name: persistence._storable_param(name, getattr(model, name))
        for name in ("random_state", "dtype", "device")
    }
    assert stored == {"random_state": None, "dtype": "float64", "device": "cpu"}
    assert persistence._storable_param("random_state", np.random.RandomState(0)) is None
    assert persistence._storable_param("random_state", 5) == 5
    assert persistence._storable_param("dtype", torch.float32) == "float32"
    assert persistence._storable_param("callback", print) is None


# -- ids and values of every kind survive the file ---------------------------------------


class _Custom:
    def __hash__(self):
        return 1


class _Unregistered:
    """Has the protocol's methods, but is not registered."""

    def _get_state(self):
        return {}

    @classmethod
    def _from_state(cls, state):
        return cls()


@storable("tests.io.Node")
class _Node:
    def __init__(self, label, children, weights):
        self.label, self.children, self.weights = label, children, weights

    def _get_state(self):
        return {"label": self.label, "children": self.children, "weights": self.weights}

    @classmethod
    def _from_state(cls, state):
        return cls(**state)


def _objects(*values):
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


ID_ARRAYS = {
    "int64": np.array([-(2**63), 0, 2**63 - 1]),
    "uint64": np.array([0, 2**64 - 1], dtype=np.uint64),
    "int32": np.array([1, 2], dtype=np.int32),
    "unicode": np.array(["a", "é", "日本", ""]),
    "bytes": np.array([b"a", b"bc"]),
    "float": np.array([0.1, -2.5, 1e300]),
    "bool": np.array([False, True]),
    "datetime": np.array(["2024-01-01", "2025-06-30"], dtype="datetime64[D]"),
    "object-str": _objects("x", "yy", "zzz"),
    "object-str-nul": _objects("a\0", "b"),
    "mixed": _objects(1, "1", 2.5, True, b"raw", None, ("t", 1), 2**70),
    "numpy-scalars": _objects(np.int64(3), np.float32(0.1), np.str_("s"), np.uint8(7), "s"),
    "empty": np.zeros(0, dtype=np.int64),
    "empty-object": np.empty(0, dtype=object),
}


@pytest.mark.parametrize("name", list(ID_ARRAYS))
def test_values_round_trip_with_their_types(name, tmp_path):
    value = {
        "ids": ID_ARRAYS[name],
        "scalars": (np.float64(np.nan), np.int8(-3), float("inf"), -0.0, 2**80, "s"),
        "history": {"loss": [0.5, 0.25, float("nan")], "iteration": [0, 1, 2]},
        "float_keys": {0.0625: 1.0, 2.0: 3.0},
        "zero_d": np.array(1.5),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    }
    arrays = {}
    node = persistence._encode(value, arrays, "v")
    _io.write_archive(tmp_path / "v.dmc", "test", {"node": node}, arrays)
    meta, stored, _ = _io.read_archive(tmp_path / "v.dmc", "test")
    assert state(persistence._decode(meta["node"], stored)) == state(value)


@pytest.mark.parametrize(
    "value",
    [
        _objects(_Custom()),
        np.array([1j]),
        frozenset([1]),
        object(),
        torch.zeros(2, dtype=torch.bfloat16),
        torch.zeros(2, 2).to_sparse(),
        _Unregistered(),
    ],
    ids=["custom-id", "complex", "frozenset", "object", "bfloat16", "sparse", "unregistered"],
)
def test_values_that_need_pickle_are_refused_when_saving(value):
    with pytest.raises(TypeError, match="cannot be stored without pickle"):
        persistence._encode(value, {}, "ids")
    with pytest.raises(
        TypeError, match="Cannot save the attribute '_user_index' of this RatingsModel"
    ):
        persistence._encode_named(value, {}, "_user_index", "attribute '_user_index'", RatingsModel)


# -- the registry of storable classes ------------------------------------------------------


def test_storable_objects_and_tensors_round_trip_inside_each_other(tmp_path):
    leaf = _Node("leaf", [], torch.arange(3.0, dtype=torch.float32).requires_grad_())
    root = _Node(
        "root", [leaf, _Node("empty", (), None)], torch.tensor([[1, 2]], dtype=torch.int64)
    )
    value = {"tree": root, "tensor": torch.linspace(0, 1, 5, dtype=torch.float64)}
    arrays = {}
    node = persistence._encode(value, arrays, "v")
    assert node["items"][0][1] == {
        "$": "object",
        "class": "tests.io.Node",
        "state": node["items"][0][1]["state"],
    }
    _io.write_archive(tmp_path / "v.dmc", "test", {"node": node}, arrays)
    meta, stored, _ = _io.read_archive(tmp_path / "v.dmc", "test")
    restored = persistence._decode(meta["node"], stored)
    assert state(restored) == state(value)  # types, bits and requires-grad flags
    assert type(restored["tree"].children[0]) is _Node
    assert restored["tree"].children[0].weights.requires_grad
    assert restored["tensor"].device.type == "cpu"


def test_a_name_is_registered_once():
    assert storable("DeepMatrixCompletion")(DeepMatrixCompletion) is DeepMatrixCompletion
    methods = {"_get_state": dict, "_set_state": dict, "get_params": dict}
    other = type("DeepMatrixCompletion", (), methods)
    with pytest.raises(ValueError, match="'DeepMatrixCompletion' is already registered by"):
        storable("DeepMatrixCompletion")(other)
    with pytest.raises(ValueError, match="already registered as 'tests.io.Node'"):
        storable("tests.io.Node2")(_Node)
    with pytest.raises(TypeError, match="must define _get_state and _from_state or _set_state"):
        storable("tests.io.Bare")(type("Bare", (), {"_get_state": dict}))
    with pytest.raises(TypeError, match="saved on its own .with _set_state. must have get_params"):
        storable("tests.io.Model")(type("Model", (), {"_get_state": dict, "_set_state": dict}))
    with pytest.raises(TypeError, match="'name' parameter of storable"):
        storable("")


def test_a_file_naming_an_unknown_class_is_refused(saved, tmp_path, no_unpickling):
    def edit(m):
        m["meta"]["state"]["rank_"] = {"$": "object", "class": "os.system", "state": "ls"}

    with pytest.raises(FileFormatError, match="unknown storable class 'os.system'"):
        dmc.load(forge(saved, tmp_path / "forged.dmc", edit=edit))

    def kind(m):
        m["kind"] = "CompletionResult"  # registered, but not a model saved on its own

    with pytest.raises(FileFormatError, match="holds a 'CompletionResult', expected"):
        dmc.load(forge(saved, tmp_path / "kind.dmc", edit=kind))


# -- refusals ---------------------------------------------------------------------------------


def test_saving_an_unfitted_model_raises_not_fitted(tmp_path):
    for model in (DeepMatrixCompletion(), RatingsModel()):
        with pytest.raises(NotFittedError, match=f"This {type(model).__name__} is not fitted"):
            model.save(tmp_path / "m.dmc")
    assert not any(tmp_path.iterdir())
    with pytest.raises(TypeError, match="must be a DeepMatrixCompletion or a RatingsModel"):
        persistence.save(object(), tmp_path / "m.dmc")


def test_loading_a_missing_file_raises_file_not_found(tmp_path):
    for load in (dmc.load, DeepMatrixCompletion.load, RatingsModel.load):
        with pytest.raises(FileNotFoundError, match="No dmc file"):
            load(tmp_path / "missing.dmc")


def test_loading_the_other_kind_names_both(imputer, recommender, tmp_path):
    imputer_file = imputer.save(tmp_path / "imputer.dmc")
    ratings_file = recommender.save(tmp_path / "ratings.dmc")
    with pytest.raises(FileFormatError, match="holds a RatingsModel, not a DeepMatrixCompletion"):
        DeepMatrixCompletion.load(ratings_file)
    with pytest.raises(FileFormatError, match="holds a DeepMatrixCompletion, not a RatingsModel"):
        RatingsModel.load(imputer_file)
    _io.write_archive(tmp_path / "checkpoint.dmc", "checkpoint", {}, {})
    with pytest.raises(
        FileFormatError, match="holds a 'checkpoint', expected 'DeepMatrixCompletion'"
    ):
        dmc.load(tmp_path / "checkpoint.dmc")


# -- damaged files ------------------------------------------------------------------------------


@pytest.fixture
def saved(estimator, tmp_path):
    return estimator[0].save(tmp_path / "model.dmc")


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything reaches for pickle or torch.load while loading."""

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was attempted")

    for module, name in (
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (torch, "load"),
    ):
        monkeypatch.setattr(module, name, refuse)


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.3, 0.5, 0.9, 0.999, -1])
def test_truncated_file_is_refused(saved, fraction, no_unpickling):
    data = saved.read_bytes()
    cut = len(data) - 1 if fraction == -1 else int(fraction * len(data))
    saved.write_bytes(data[:cut])
    with pytest.raises(FileFormatError, match="not a readable dmc file .truncated or not a zip"):
        dmc.load(saved)


def test_flipped_byte_in_an_array_fails_its_checksum(saved, estimator, no_unpickling):
    data = bytearray(saved.read_bytes())
    at = data.find(estimator[0].components_.tobytes())
    assert at > 0
    data[at + 5] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="array 'components_' does not match its checksum"):
        dmc.load(saved)


def test_flipped_byte_in_the_manifest_fails_its_checksum(saved, no_unpickling):
    data = bytearray(saved.read_bytes())
    at = data.find(b'"trained_on"')
    data[at + 2] ^= 0x20
    saved.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="manifest does not match its checksum"):
        dmc.load(saved)


@pytest.mark.parametrize(
    "content", [b"", b"\x00" * 300, os.urandom(2000), b"PK\x05\x06" + b"\x00" * 18]
)
def test_files_that_are_not_zip_archives_are_refused(tmp_path, content, no_unpickling):
    path = tmp_path / "junk.dmc"
    path.write_bytes(content)
    with pytest.raises(FileFormatError):
        dmc.load(path)


def test_plain_npz_is_refused(tmp_path, no_unpickling):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(3), b=_objects("x", 1))
    with pytest.raises(FileFormatError, match="zip archive but not a dmc file"):
        dmc.load(path)


def _set_version(m):
    m["version"] = 99


def _set_format(m):
    m["format"] = "other"


def _drop_array(m):
    m["arrays"]["ghost"] = {"dtype": "<f8", "shape": [3], "sha256": "0" * 64}


def _object_dtype(m):
    m["arrays"]["components_"]["dtype"] = "|O"


def _huge_shape(m):
    m["arrays"]["components_"]["shape"] = [10**12, 10**6]


def _bad_attribute(m):
    m["meta"]["state"]["__class__"] = None


def _bad_param(m):
    m["meta"]["params"]["no_such_parameter"] = 1


def _bad_tag(m):
    m["meta"]["state"]["rank_"] = {"$": "eval", "code": "1"}


def _no_attributes(m):
    m["meta"]["state"] = {}


def _meta_not_a_dict(m):
    m["meta"] = []


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set_version, "dmc file version 99"),
        (_set_format, "is not a dmc file"),
        (_drop_array, "missing the array 'ghost'"),
        (_object_dtype, "only plain numeric or text arrays"),
        (_huge_shape, "does not have its recorded dtype, shape and size"),
        (_bad_attribute, "invalid attribute '__class__'"),
        (_bad_param, "malformed DeepMatrixCompletion.*no_such_parameter"),
        (_bad_tag, "unknown value tag 'eval'"),
        (_no_attributes, "holds no fitted attributes"),
        (_meta_not_a_dict, "malformed manifest"),
    ],
)
def test_forged_manifest_is_refused(saved, tmp_path, edit, message, no_unpickling):
    forged = forge(saved, tmp_path / "forged.dmc", edit=edit)
    with pytest.raises(FileFormatError, match=message):
        dmc.load(forged)


def test_manifest_edited_without_its_checksum_is_refused(saved, tmp_path, no_unpickling):
    members = members_of(saved)
    edited = members["manifest.json"].replace(b'"trained_on": "cpu"', b'"trained_on": "gpu"')
    assert edited != members["manifest.json"]
    members["manifest.json"] = edited
    write_zip(tmp_path / "edited.dmc", members)
    with pytest.raises(FileFormatError, match="manifest does not match its checksum"):
        dmc.load(tmp_path / "edited.dmc")


def test_compressed_members_are_refused(saved, tmp_path, no_unpickling):
    write_zip(tmp_path / "deflated.dmc", members_of(saved), compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(FileFormatError, match="is compressed"):
        dmc.load(tmp_path / "deflated.dmc")


# -- files crafted to run code ------------------------------------------------------------------


class _Evil:
    """Unpickling this creates the file ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _live_payload(sentinel):
    """A pickle that creates ``sentinel`` when loaded (checked, then cleaned up)."""
    payload = pickle.dumps(_Evil(sentinel))
    pickle.loads(payload).close()
    assert sentinel.exists()
    sentinel.unlink()
    return payload


def _evil_npy(sentinel):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, _objects(_Evil(sentinel)), allow_pickle=True)
    return buffer.getvalue()


def test_whole_file_pickle_runs_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.dmc"
    path.write_bytes(_live_payload(sentinel))
    with pytest.raises(FileFormatError):
        dmc.load(path)
    assert not sentinel.exists()


def test_npz_with_a_pickled_object_array_runs_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    np.savez(path, components_=_objects(_Evil(sentinel)))
    with np.load(path, allow_pickle=True) as live:  # the payload is live...
        live["components_"][0].close()
    assert sentinel.exists()
    sentinel.unlink()
    with pytest.raises(FileFormatError):  # ...but dmc does not run it
        dmc.load(path)
    assert not sentinel.exists()


@pytest.mark.parametrize("recorded_dtype", ["|O", "<f8"])
def test_dmc_archive_with_a_pickled_object_array_runs_nothing(
    saved, tmp_path, recorded_dtype, no_unpickling
):
    sentinel = tmp_path / "pwned"
    blob = _evil_npy(sentinel)

    def edit(m):
        m["arrays"]["components_"].update(dtype=recorded_dtype, shape=[1])

    forged = forge(saved, tmp_path / "evil.dmc", edit=edit, replace={"components_": blob})
    # consistent checksums everywhere: only the dtype check stands in the way
    members = members_of(forged)
    entry = json.loads(members["manifest.json"])["arrays"]["components_"]
    assert entry["sha256"] == hashlib.sha256(members["arrays/components_.npy"]).hexdigest()
    with pytest.raises(FileFormatError, match="plain numeric or text arrays|recorded dtype"):
        dmc.load(forged)
    assert not sentinel.exists()


def test_no_pickle_or_unsafe_torch_load_in_the_package():
    package = Path(dmc.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert package / "io" / "persistence.py" in sources
    for source in sources:
        text = source.read_text()
        name = source.relative_to(package)
        for needle in ("import pickle", "from pickle", "allow_pickle=True"):
            assert needle not in text, f"{needle} in {name}"
        for call in re.finditer(r"torch\.load\(", text):
            assert "weights_only=True" in text[call.end() : call.end() + 300], name


# -- atomic writes ----------------------------------------------------------------------------


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_previous_file(
    imputer, recommender, tmp_path, monkeypatch, error
):
    path = imputer.save(tmp_path / "model.dmc")
    before = path.read_bytes()
    real, calls = zipfile.ZipFile.writestr, []

    def failing(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(type(error)):
        recommender.save(path)
    monkeypatch.undo()
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.dmc"]
    assert_same_model(DeepMatrixCompletion.load(path), imputer)


def test_saved_file_has_ordinary_permissions(imputer, tmp_path):
    path = imputer.save(tmp_path / "model.dmc")
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    imputer.save(path)  # replacing a file keeps its permissions
    assert path.stat().st_mode & 0o777 == 0o640


# -- GPU-trained models on a CPU-only machine ------------------------------------------------


def test_model_saved_with_cuda_device_loads_and_runs_without_cuda(tmp_path, monkeypatch):
    imputer, X, _ = fitted_estimator("numpy")
    recommender, (users, items, _), _ = fitted_ratings("str")
    imputer_path = imputer.set_params(device="cuda").save(tmp_path / "imputer.dmc")
    recommender.device = "cuda"
    ratings_path = recommender.save(tmp_path / "ratings.dmc")
    imputer.set_params(device="cpu")
    recommender.device = "cpu"
    assert json.loads(members_of(imputer_path)["manifest.json"])["meta"]["trained_on"] == "cuda"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = DeepMatrixCompletion.load(imputer_path)
    assert restored.device == "cuda"
    assert_bitwise(restored.transform(X), imputer.transform(X))
    model = RatingsModel.load(ratings_path)
    assert model.device == "cuda"
    assert_bitwise(
        model.predict(users[:20], items[:20]), recommender.predict(users[:20], items[:20])
    )
    assert_bitwise(model.recommend(users[0], k=3), recommender.recommend(users[0], k=3))
    with pytest.raises(ValueError, match="no CUDA"):  # refitting there needs device="cpu"
        restored.fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_fitted_on_gpu_loads_on_cpu(tmp_path, monkeypatch):
    _, X, _ = fitted_estimator("numpy")
    imputer = DeepMatrixCompletion(rank=2, device="cuda", random_state=0).fit(X)
    users, items, r = make_ratings("str")
    recommender = RatingsModel(rank=2, device="cuda", random_state=0).fit(users, items, r)
    assert next(recommender.completion_.model.parameters()).device.type == "cuda"
    imputer_path = imputer.save(tmp_path / "imputer.dmc")
    ratings_path = recommender.save(tmp_path / "ratings.dmc")
    manifest = json.loads(members_of(ratings_path)["manifest.json"])
    assert manifest["meta"]["trained_on"].startswith("cuda")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = DeepMatrixCompletion.load(imputer_path)
    assert_bitwise(restored.transform(X), imputer.transform(X))
    model = RatingsModel.load(ratings_path)
    assert all(p.device.type == "cpu" for p in model.completion_.model.parameters())
    assert_bitwise(model.predict(users, items), recommender.predict(users, items))
    assert_bitwise(model.recommend(users[0], k=5), recommender.recommend(users[0], k=5))
    np.testing.assert_allclose(
        model.completion_.predict([0, 1], [1, 0]), recommender.completion_.predict([0, 1], [1, 0])
    )
