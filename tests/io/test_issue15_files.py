"""Issue 15: files of a DeepMatrixCompletion with scikit-learn's imputer parameters.

The fitted ``indicator_`` (kept as its ``features_``), the per-feature bounds and the
empty features travel through save and load; files written before them still load;
and the schema refuses what such a file must not hold. Every path lies inside
pytest's tmp_path.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from test_issue13_files import _loaded_array, _param, forge

import dmc
from dmc import DeepMatrixCompletion, FileFormatError


@functools.cache
def _data():
    M = dmc.low_rank_matrix((30, 12), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, -1.0)
    X[:, 4] = -1.0  # an empty feature
    return X


def _fit(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return DeepMatrixCompletion(rank=2, max_iter=20, random_state=0, **params).fit(_data())


def _transform(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return model.transform(_data())


FULL = dict(
    missing_values=-1,
    add_indicator=True,
    keep_empty_features=False,
    min_value=np.linspace(-2.0, -1.0, 12),
    max_value=0.5,
    verbose=2,
)


@pytest.mark.parametrize("keep", [False, True])
def test_round_trip_keeps_the_indicator_bounds_and_empty_features(tmp_path, keep, capsys):
    model = _fit(**{**FULL, "keep_empty_features": keep})
    restored = dmc.load(model.save(tmp_path / "imputer.dmc"))
    np.testing.assert_array_equal(restored.indicator_.features_, model.indicator_.features_)
    assert restored.indicator_.get_params() == model.indicator_.get_params()
    for name in ("_min_value", "_max_value", "_is_empty_feature"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(model, name))
    out = _transform(model)
    assert out.shape == (30, (12 if keep else 11) + model.indicator_.features_.size)
    np.testing.assert_array_equal(_transform(restored), out)
    np.testing.assert_array_equal(restored.get_feature_names_out(), model.get_feature_names_out())
    assert restored.score(_data()) == model.score(_data())


def _as_before_issue_15(manifest):
    """The file as dmc wrote it before issue 15: the bounds a pair ``_clip``, no empty
    features, no indicator, none of the new parameters."""
    state, params = manifest["meta"]["state"], manifest["meta"]["params"]
    for name in ("_min_value", "_max_value", "_is_empty_feature", "indicator_"):
        del state[name]
        manifest["arrays"].pop(name, None)
    state["_clip"] = {"$": "tuple", "items": [None, 0.5]}
    for name in ("missing_values", "add_indicator", "keep_empty_features", "min_value"):
        del params[name]
    del params["max_value"]


def test_a_file_from_before_issue_15_loads_with_its_clip(tmp_path):
    M = dmc.low_rank_matrix((30, 12), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        model = DeepMatrixCompletion(rank=2, max_iter=20, random_state=0, max_value=0.5).fit(X)
    path = forge(model.save(tmp_path / "new.dmc"), tmp_path / "old.dmc", _as_before_issue_15)
    restored = dmc.load(path)
    assert restored.add_indicator is False and restored.indicator_ is None
    np.testing.assert_array_equal(restored._max_value, np.full(12, 0.5))
    np.testing.assert_array_equal(restored._min_value, np.full(12, -np.inf))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


def _array(name, value):
    return lambda path: {name: value(_loaded_array(path, name))}


@pytest.mark.parametrize(
    "arrays, edit, message",
    [
        (_array("indicator_", lambda a: a + 12), None, r"'indicator_' must be increasing"),
        (_array("indicator_", lambda a: a[::-1].copy()), None, "increasing columns"),
        (_array("indicator_", lambda a: a.astype(float)), None, "'indicator_' must be"),
        (_array("_min_value", lambda a: a * np.nan), None, "'_min_value' must be at most"),
        (_array("_min_value", lambda a: a + 10.0), None, "'_min_value' must be at most"),
        (_array("_max_value", lambda a: a[:5]), None, r"n_features = 12.*Got n_features = 5"),
        (_array("_is_empty_feature", lambda a: a.astype(int)), None, "array of bool"),
        (
            None,
            lambda m: m["meta"]["state"].update(_clip={"$": "tuple", "items": [None, 1.0]}),
            "'_clip' or '_min_value' and '_max_value'",
        ),
        (None, _param("add_indicator", False), "'add_indicator' parameter .*must agree"),
        (None, _param("missing_values", "?"), "'missing_values' parameter"),
        (None, _param("verbose", -2), "'verbose' parameter"),
        (None, _param("min_value", 1.0), "min_value < max_value for every feature"),
    ],
    ids=[
        "indicator-beyond",
        "indicator-order",
        "indicator-float",
        "bounds-nan",
        "bounds-reversed",
        "bounds-shape",
        "empty-int",
        "clip-and-bounds",
        "indicator-without-param",
        "missing-values",
        "verbose",
        "min-above-max",
    ],
)
def test_unsound_values_are_refused(tmp_path, arrays, edit, message):
    source = _fit(**FULL).save(tmp_path / "imputer.dmc")
    forged = forge(source, tmp_path / "f.dmc", edit=edit, arrays=arrays(source) if arrays else None)
    with pytest.raises(
        FileFormatError, match="holds a malformed DeepMatrixCompletion: .*" + message
    ):
        dmc.load(forged)
