"""Issue 15: the imputer parameters scikit-learn's imputers share, compared with them.

``missing_values``, ``add_indicator``, ``keep_empty_features``, per-feature
``min_value``/``max_value`` (and the deprecated ``clip``) and an int ``verbose``,
each checked against scikit-learn's ``SimpleImputer`` or ``IterativeImputer`` on
small data.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.utils.estimator_checks import parametrize_with_checks

import dmc
from dmc import DeepMatrixCompletion

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]

FAST = dict(rank=2, max_iter=150, random_state=0)


@pytest.fixture(scope="module")
def data():
    """(X with NaN, truth): rank 2, 50 x 12, 60% observed. In the first 40 rows (the
    training rows) column 3 is fully missing and column 11 fully observed; in the last 10,
    column 3 is observed and column 11 half missing."""
    M = dmc.low_rank_matrix((50, 12), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(1).random(M.shape) < 0.6, M, np.nan)
    X[:40, 3] = np.nan
    X[40:, 3] = M[40:, 3]
    X[:40, 11] = M[:40, 11]
    X[40:45, 11] = np.nan
    return X, M


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the empty column, named elsewhere
        return DeepMatrixCompletion(**FAST, **params).fit(X)


def _transform(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return model.transform(X)


# -- missing_values -------------------------------------------------------------------------


@pytest.mark.parametrize("marker", [-1, -1.0, 0, 99.5])
def test_a_number_as_missing_value_matches_nan(data, marker):
    X, _ = data
    assert not (X == marker).any()  # the marker is not also an observed value
    coded = np.where(np.isnan(X), marker, X)
    by_nan = _fit(X[:40], keep_empty_features=True)
    by_marker = _fit(coded[:40], keep_empty_features=True, missing_values=marker)
    np.testing.assert_array_equal(by_marker.completed_, by_nan.completed_)
    out = _transform(by_marker, coded[40:])
    np.testing.assert_array_equal(out, _transform(by_nan, X[40:]))
    assert not np.isnan(out).any() and not (out[np.isnan(X[40:])] == marker).all()
    assert by_marker.score(coded) == by_nan.score(X)


def test_integer_data_with_minus_one_for_missing(data):
    """The usual case of a marker: integer data (ratings, counts) that cannot hold NaN."""
    X, _ = data
    counts = np.where(np.isnan(X), -1, np.round(10 * X) + 20).astype(np.int64)
    floats = np.where(counts == -1, np.nan, counts.astype(float))
    np.testing.assert_array_equal(
        _transform(_fit(counts, missing_values=-1), counts),
        _transform(_fit(floats), floats),
    )


def test_nan_with_a_number_as_missing_value_is_refused_as_scikit_learn_does(data):
    X, _ = data
    with pytest.raises(ValueError):  # scikit-learn: "Input X contains NaN."
        SimpleImputer(missing_values=-1).fit(X)
    with pytest.raises(ValueError, match=r"'X' .*must not hold NaN when missing_values=-1\b"):
        DeepMatrixCompletion(**FAST, missing_values=-1).fit(X)
    fitted = _fit(np.where(np.isnan(X), -1, X), missing_values=-1)
    with pytest.raises(ValueError, match="Got NaN at row 0, column 0"):
        fitted.transform(np.full((1, 12), np.nan))


def test_nan_is_allowed_by_the_tags_only_when_it_is_the_missing_value():
    assert DeepMatrixCompletion().__sklearn_tags__().input_tags.allow_nan
    assert not DeepMatrixCompletion(missing_values=-1).__sklearn_tags__().input_tags.allow_nan


# -- add_indicator --------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("marker", [np.nan, -1])
def test_indicator_columns_match_simple_imputer(data, keep, marker):
    X, _ = data
    coded = np.where(np.isnan(X), marker, X)
    ours = _fit(coded[:40], add_indicator=True, keep_empty_features=keep, missing_values=marker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SimpleImputer's empty column
        theirs = SimpleImputer(
            add_indicator=True, keep_empty_features=keep, missing_values=marker
        ).fit(coded[:40])
        expected = theirs.transform(coded[40:])
    # column 11, missing in these rows only, is not indicated there either
    missing_new = np.isnan(coded[40:, 11]) if np.isnan(marker) else coded[40:, 11] == marker
    assert missing_new.any() and 11 not in ours.indicator_.features_
    out = _transform(ours, coded[40:])
    assert out.shape == expected.shape
    n_kept = out.shape[1] - ours.indicator_.features_.size
    assert n_kept == (12 if keep else 11)
    np.testing.assert_array_equal(out[:, n_kept:], expected[:, n_kept:])
    np.testing.assert_array_equal(ours.indicator_.features_, theirs.indicator_.features_)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


def test_indicator_off_by_default_and_output_names_follow_set_output(data):
    pd = pytest.importorskip("pandas")
    X, _ = data
    assert _fit(X[:40]).indicator_ is None
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(12)])
    model = _fit(frame.iloc[:40], add_indicator=True).set_output(transform="pandas")
    out = _transform(model, frame.iloc[40:])
    assert list(out.columns) == list(model.get_feature_names_out())
    assert "f3" not in out.columns and "missingindicator_f3" in out.columns
    observed = frame.iloc[40:].notna().to_numpy()
    assert out.shape[1] == 11 + model.indicator_.features_.size
    np.testing.assert_array_equal(
        out[[f"f{j}" for j in range(12) if j != 3]].to_numpy()[np.delete(observed, 3, 1)],
        np.delete(X[40:], 3, 1)[np.delete(observed, 3, 1)],
    )


# -- keep_empty_features --------------------------------------------------------------------


@pytest.mark.parametrize("keep", [False, True])
def test_empty_features_follow_simple_imputer(data, keep):
    X, _ = data
    with pytest.warns(UserWarning, match=r"column\(s\) of 'X' have no observed entry.*\[3\]"):
        ours = DeepMatrixCompletion(**FAST, keep_empty_features=keep).fit(X[:40])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = SimpleImputer(keep_empty_features=keep).fit(X[:40])
        expected = theirs.transform(X[40:])
    out = _transform(ours, X[40:])
    assert out.shape == expected.shape == (10, 12 if keep else 11)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    if keep:  # observed entries kept, missing ones filled with 0 as scikit-learn does
        np.testing.assert_array_equal(out[:, 3], X[40:, 3])
        np.testing.assert_array_equal(_transform(ours, X[:40])[:, 3], np.zeros(40))
        np.testing.assert_array_equal(
            _transform(ours, X[:40])[:, 3], theirs.transform(X[:40])[:, 3]
        )
    else:
        full = DeepMatrixCompletion(**FAST, keep_empty_features=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            np.testing.assert_array_equal(np.delete(full.fit(X[:40]).transform(X[40:]), 3, 1), out)


def test_a_matrix_without_empty_features_keeps_every_column(data):
    X, _ = data
    for keep in (False, True):
        assert _transform(_fit(X[40:], keep_empty_features=keep), X[40:]).shape == (10, 12)


# -- min_value, max_value (and the deprecated clip) -------------------------------------------


def test_per_feature_bounds_clip_only_the_filled_values(data):
    X, _ = data
    free = _transform(_fit(X[:40]), X[40:])
    missing = np.isnan(np.delete(X[40:], 3, 1))
    low = np.linspace(-0.05, 0.0, 12)
    high = np.linspace(0.0, 0.05, 12) + 1e-3
    bounded = _transform(_fit(X[:40], min_value=low, max_value=high), X[40:])
    kept_low, kept_high = np.delete(low, 3), np.delete(high, 3)
    # the fit does not depend on the bounds: the filled values are the free ones, clipped
    np.testing.assert_array_equal(bounded[missing], np.clip(free, kept_low, kept_high)[missing])
    assert (bounded >= kept_low)[missing].all() and (bounded <= kept_high)[missing].all()
    assert (free[missing] < np.broadcast_to(kept_low, free.shape)[missing]).any()  # it clipped
    np.testing.assert_array_equal(bounded[~missing], free[~missing])  # observed: untouched
    scalar = _transform(_fit(X[:40], min_value=-0.01, max_value=[0.02] * 12), X[40:])
    np.testing.assert_array_equal(scalar[missing], np.clip(free, -0.01, 0.02)[missing])


def test_empty_feature_kept_at_zero_within_its_bounds(data):
    X, _ = data
    model = _fit(X[:40], keep_empty_features=True, min_value=0.5, max_value=[1.0] * 12)
    np.testing.assert_array_equal(model.completed_[:, 3], 0.5)
    np.testing.assert_array_equal(_transform(model, X[:40])[:, 3], 0.5)


def test_clip_is_deprecated_for_min_and_max_value(data):
    X, _ = data
    with pytest.warns(FutureWarning, match="'clip' parameter .*deprecated.*min_value=low"):
        old = _fit(X[:40], clip=(-0.01, None))
    new = _fit(X[:40], min_value=-0.01)
    np.testing.assert_array_equal(_transform(old, X[40:]), _transform(new, X[40:]))
    with pytest.raises(ValueError, match="'clip'.*give one or the other"):
        _fit(X[:40], clip=(-0.01, None), max_value=1.0)


# -- verbose ----------------------------------------------------------------------------------


def test_verbose_levels(data, capsys):
    X, _ = data
    outputs = []
    for verbose in (0, False, 1, True, 2, np.int64(3)):
        capsys.readouterr()
        model = _fit(X[:40], verbose=verbose)
        outputs.append(_transform(model, X[40:]))
        err = capsys.readouterr().err
        if verbose == 0:
            assert err == ""
        if verbose == 1:
            assert "DeepMatrixCompletion: training on 40 x 11" not in err
        if verbose >= 2:
            assert "DeepMatrixCompletion: training on 40 x 11" in err
            assert "components kept" in err and "filled 10 row(s)" in err
    for out in outputs:  # what it says changes nothing
        np.testing.assert_array_equal(out, outputs[0])


# -- the documentation ------------------------------------------------------------------------


def test_the_example_of_docs_estimator_md_runs(tmp_path, monkeypatch):
    """The example of the section "scikit-learn's imputer parameters", as it is."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "estimator.md").read_text("utf-8")
    section = text.split("## scikit-learn's imputer parameters", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "docs/estimator.md", "exec"), namespace)
    assert namespace["out"].shape == (60, 15)


# -- the scikit-learn contract with the new parameters set --------------------------------------


@parametrize_with_checks(
    [
        DeepMatrixCompletion(
            **FAST,
            add_indicator=True,
            keep_empty_features=True,
            min_value=-1e6,
            max_value=1e6,
            verbose=0,
        )
    ]
)
@pytest.mark.filterwarnings("ignore:The 'rank' parameter:UserWarning")
def test_sklearn_compatible_with_the_imputer_parameters(estimator, check):
    check(estimator)
