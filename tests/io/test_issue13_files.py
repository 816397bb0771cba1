"""Issue 13: what save() may replace, the bits it gives, and what load() accepts.

Every path here lies inside pytest's tmp_path. The edited files have checksums
recomputed, so only the content checks of :mod:`dmc.io.schemas` stand between
them and a model.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import stat
import warnings
import zipfile

import numpy as np
import pytest

import dmc
from dmc import DeepMatrixCompletion, FileFormatError, RatingsModel
from dmc.io import archive

# -- fitted models and forged files --------------------------------------------------------


@functools.cache
def _imputer():
    M = dmc.low_rank_matrix((30, 12), 2, random_state=0).to_dense()
    X = np.where(np.random.default_rng(0).random(M.shape) < 0.7, M, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return DeepMatrixCompletion(rank=2, max_iter=20, random_state=0).fit(X), X


@functools.cache
def _recommender():
    rng = np.random.default_rng(0)
    pairs = rng.permutation(20 * 12)[:150]
    users, items = pairs // 12, pairs % 12
    ratings = np.clip(np.round(3 + users % 3 - items % 2 + rng.normal(0, 0.5, 150)), 1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        model = RatingsModel(rank=2, max_iter=10, random_state=0).fit(users, items, ratings)
    return model


@pytest.fixture
def imputer_file(tmp_path):
    return _imputer()[0].save(tmp_path / "imputer.dmc")


@pytest.fixture
def ratings_file(tmp_path):
    return _recommender().save(tmp_path / "ratings.dmc")


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def forge(source, target, edit=None, arrays=None, blobs=None):
    """Copy a dmc file with its manifest edited and arrays replaced, checksums recomputed.

    ``arrays``: name -> new array (dtype and shape recorded from it); ``blobs``: name ->
    (raw .npy bytes, recorded dtype, recorded shape).
    """
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    replaced = {name: (_npy(a), a.dtype.str, list(a.shape)) for name, a in (arrays or {}).items()}
    replaced.update(blobs or {})
    for name, (blob, dtype, shape) in replaced.items():
        assert name in manifest["arrays"], sorted(manifest["arrays"])
        members[f"arrays/{name}.npy"] = blob
        entry = dict(dtype=dtype, shape=shape, sha256=hashlib.sha256(blob).hexdigest())
        manifest["arrays"][name] = entry
    if edit is not None:
        edit(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    members["manifest.sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest().encode()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return target


def _loaded_array(path, name):
    return archive.read_archive(path, ("DeepMatrixCompletion", "RatingsModel"))[1][name]


# -- 1. save() replaces only regular files ----------------------------------------------


def _fifo(path):
    os.mkfifo(path)
    return path


def test_save_refuses_a_symlink_and_writes_neither_it_nor_its_target(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link.dmc"
    link.symlink_to(target)
    with pytest.raises(ValueError, match=r"'path' parameter must name a regular file.*symbolic"):
        _imputer()[0].save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.dmc", "target.txt"]


def test_save_refuses_a_dangling_symlink(tmp_path):
    link = tmp_path / "dangling.dmc"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="symbolic link"):
        _recommender().save(link)
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_save_refuses_a_fifo_and_leaves_it(tmp_path):
    fifo = _fifo(tmp_path / "pipe.dmc")
    with pytest.raises(ValueError, match=r"'path' parameter .*Got '.*pipe.dmc' instead, a FIFO"):
        dmc.io.save(_imputer()[0], fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.dmc"]


def test_a_fifo_that_appears_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "model.dmc"
    real = zipfile.ZipFile.writestr

    def writestr(self, name, data, *args, **kwargs):
        if name == "manifest.json" and not path.exists():
            _fifo(path)  # someone else puts a FIFO there while we write
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(ValueError, match="a FIFO"):
        _imputer()[0].save(path)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["model.dmc"]  # no temporary left


def test_archive_refuses_a_fifo_for_checkpoints_too(tmp_path):
    fifo = _fifo(tmp_path / "fit.ckpt")
    with pytest.raises(ValueError, match="'checkpoint' parameter .*a FIFO"):
        archive.write_archive(fifo, "checkpoint", {}, {}, param="checkpoint")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_load_refuses_a_fifo_without_waiting_on_it(tmp_path):
    fifo = _fifo(tmp_path / "pipe.dmc")
    with pytest.raises(ValueError, match="'path' parameter must name a dmc file.*a FIFO"):
        dmc.load(fifo)


# -- 2. no setuid, setgid or sticky bits ----------------------------------------------------


def test_save_never_carries_setuid_setgid_or_sticky_bits(tmp_path):
    path = tmp_path / "model.dmc"
    path.write_bytes(b"old")
    os.chmod(path, 0o7777)
    if path.stat().st_mode & 0o7000 != 0o7000:  # pragma: no cover - depends on the account
        pytest.skip("this account cannot set setuid/setgid/sticky bits")
    _imputer()[0].save(path)
    mode = path.stat().st_mode
    assert mode & 0o7000 == 0
    assert mode & 0o777 == 0o777  # the permissions themselves are kept


# -- 12. messages of bad paths name the parameter --------------------------------------------


@pytest.mark.parametrize(
    "call, path, error, message",
    [
        ("load", b"model.dmc", TypeError, r"'path' parameter must be a path .*Got bytes b'model"),
        ("save", "", ValueError, r"'path' parameter must name a file.*Got '' instead"),
        ("load", "", ValueError, r"'path' parameter must name a file.*Got '' instead"),
        ("save", "{dir}", ValueError, r"'path' parameter must name a regular file.*a directory"),
        ("load", "{dir}", ValueError, r"'path' parameter must name a dmc file.*a directory"),
        ("save", "{dir}/no/such/m.dmc", FileNotFoundError, r"'path' parameter .*existing folder"),
        ("save", 3, TypeError, r"'path' parameter must be a path .*Got int 3"),
    ],
)
def test_bad_paths_are_named(tmp_path, call, path, error, message):
    if isinstance(path, str):
        path = path.format(dir=tmp_path)
    model = _imputer()[0]
    with pytest.raises(error, match=message):
        model.save(path) if call == "save" else dmc.load(path)
    with pytest.raises(error, match=message):
        _recommender().save(path) if call == "save" else RatingsModel.load(path)
    assert list(tmp_path.iterdir()) == []


# -- 3. load checks what the file holds, not only its checksums -----------------------------


def _imputer_state(name, value):
    def edit(m):
        m["meta"]["state"][name] = value

    return edit


def _param(name, value):
    def edit(m):
        m["meta"]["params"][name] = value

    return edit


def _meta(name, value):
    def edit(m):
        m["meta"][name] = value

    return edit


def _nan_like(array):
    out = array.copy()
    out.flat[3] = np.nan
    return out


def test_an_untouched_forged_copy_loads(imputer_file, tmp_path):
    # the forging itself is sound: what the tests below refuse is the edit
    restored = dmc.load(forge(imputer_file, tmp_path / "copy.dmc"))
    model, X = _imputer()
    assert np.array_equal(restored.transform(X), model.transform(X))


@pytest.mark.parametrize(
    "arrays, message",
    [
        (lambda a: {"components_": _nan_like(a("components_"))}, r"'components_' .*NaN or inf"),
        (lambda a: {"completed_": a("completed_") * np.inf}, r"'completed_' .*NaN or inf"),
        (lambda a: {"column_means_": _nan_like(a("column_means_"))}, "NaN or inf"),
        (lambda a: {"components_": a("components_")[:, :5]}, r"n_features = 12.*Got n_features"),
        (
            lambda a: {"components_": np.zeros((a("components_").shape[0] + 1, 12))},
            r"n_components = (\d+).*Got n_components = (?!\1)\d+",
        ),
        (lambda a: {"singular_values_": -a("singular_values_")}, "values below 0"),
        (
            lambda a: {"components_": a("components_").astype("datetime64[s]")},
            r"'components_' must be a finite array of float32 or float64.*datetime64",
        ),
        (lambda a: {"components_": a("components_").astype(np.float16)}, "float32 or float64"),
        (lambda a: {"components_": a("components_").ravel()}, r"shape \(n_components, n_feat"),
    ],
    ids=[
        "nan-components",
        "inf-completed",
        "nan-means",
        "columns",
        "components",
        "negative-singular",
        "datetime",
        "float16",
        "1d",
    ],
)
def test_unsound_arrays_are_refused(imputer_file, tmp_path, arrays, message):
    forged = forge(
        imputer_file,
        tmp_path / "f.dmc",
        arrays=arrays(functools.partial(_loaded_array, imputer_file)),
    )
    with pytest.raises(
        FileFormatError, match="holds a malformed DeepMatrixCompletion: .*" + message
    ):
        dmc.load(forged)


@pytest.mark.parametrize(
    "edit, message",
    [
        (_param("rank", "abc"), r"The 'rank' parameter .*must be 'auto' or an int.*Got 'abc'"),
        (_param("depth", 1), r"'depth' parameter .*Got 1"),
        (_param("method", "svd"), r"'method' parameter .*Got 'svd'"),
        (_param("tol", -1.0), r"'tol' parameter .*Got -1.0"),
        (_param("clip", {"$": "tuple", "items": [2.0, 1.0]}), r"'clip' parameter"),
        (_param("escape_plateaus", "yes"), r"'escape_plateaus' parameter"),
        (_param("dtype", "int8"), r"'dtype' parameter"),
        (_param("device", "tpu"), r"'device' must be 'cpu', 'cuda'"),
        (_param("random_state", -3), r"'random_state' must be None or an int"),
        (_imputer_state("transform", 1), r"must not hide a method .*Got 'transform'"),
        (_imputer_state("fit", None), r"must not hide a method .*Got 'fit'"),
        (_imputer_state("extra_", 1), r"unknown \['extra_'\]"),
        (_imputer_state("rank_", "2"), r"'rank_' must be an int"),
        (
            _imputer_state("rank_", {"$": "scalar", "dtype": "<i8", "value": 10**30}),
            "must hold a value of that type",
        ),
        (_imputer_state("n_iter_", 10**30), None),  # a Python int: loads (no overflow)
        (_imputer_state("_clip", {"$": "tuple", "items": [1.0, 0.0]}), "low <= high"),
        (_imputer_state("_penalty", float("nan")), r"'_penalty' must be a finite"),
        (_imputer_state("converged_", 1), r"'converged_' must be True or False"),
        (
            _meta("dmc_version", "99.0.0"),
            r"this dmc \([^)]+\) or an older one. Got a file written by dmc 99",
        ),
        (_meta("dmc_version", "latest"), r"'dmc_version' must be a version number"),
        (_meta("trained_on", 3), r"'trained_on' must be a str"),
    ],
)
def test_unsound_values_are_refused(imputer_file, tmp_path, edit, message):
    forged = forge(imputer_file, tmp_path / "f.dmc", edit=edit)
    if message is None:
        assert dmc.load(forged).n_iter_ == 10**30
        return
    with pytest.raises(
        FileFormatError, match="holds a malformed DeepMatrixCompletion: .*" + message
    ):
        dmc.load(forged)


@pytest.mark.parametrize("version", [True, 1.0, "1", 2, None])
def test_only_the_file_format_version_is_read(imputer_file, tmp_path, version):
    forged = forge(imputer_file, tmp_path / "f.dmc", edit=lambda m: m.update(version=version))
    with pytest.raises(FileFormatError, match=r"dmc file version .*this dmc reads version 1"):
        dmc.load(forged)


def _ratings_array(path, name):
    return archive.read_archive(path, "RatingsModel")[1][name]


def _ratings_param(name, value):
    return _param(name, value)


def _opts(name, value):
    def edit(m):
        items = m["meta"]["state"]["_opts"]["items"]
        for pair in items:
            if pair[0] == name:
                pair[1] = value
                return
        raise AssertionError(name)

    return edit


@pytest.mark.parametrize(
    "arrays, edit, message",
    [
        (lambda a: {"user_factors_": _nan_like(a("user_factors_"))}, None, "NaN or inf"),
        (lambda a: {"item_bias_": a("item_bias_")[:-1]}, None, r"n_items = 12"),
        (lambda a: {"user_bias_": a("user_bias_") + np.inf}, None, "NaN or inf"),
        (lambda a: {"_prior.user_cov": np.eye(3), "_prior.item_cov": np.eye(3)}, None, r"\(4, 4\)"),
        (lambda a: {"_seen.items": a("_seen.items") + 100}, None, r"item indices below n_items"),
        (lambda a: {"_seen.ptr": a("_seen.ptr")[::-1].copy()}, None, "never decreasing"),
        (lambda a: {"_item_index.ids": np.zeros(12, dtype=np.int64)}, None, "sorted ids|distinct"),
        (lambda a: {"_user_index.ids": np.full(20, np.nan)}, None, "without NaN"),
        (
            lambda a: {"completion_.tensors.U": _nan_like(a("completion_.tensors.U"))},
            None,
            "NaN or inf",
        ),
        (
            lambda a: {"completion_.tensors.U": a("completion_.tensors.U")[:, :3].copy()},
            None,
            "do not fit",
        ),
        (None, _ratings_param("cold_start", "guess"), r"'cold_start' parameter"),
        (None, _ratings_param("shrinkage", "lots"), r"'shrinkage' parameter"),
        (None, _ratings_param("rating_range", {"$": "tuple", "items": [5, 1]}), "rating_range"),
        (None, _opts("cold_start", "guess"), r"'cold_start' parameter .*Got 'guess'"),
        (None, _opts("user_bias_reg", -1.0), r"'user_bias_reg' parameter"),
        (None, _opts("rank", 3), r"'rank_' must be the rank of the fitted options"),
        (None, _imputer_state("predict", None), r"must not hide a method .*Got 'predict'"),
        (None, _imputer_state("users_", None), r"must not hide a method .*Got 'users_'"),
    ],
)
def test_unsound_ratings_files_are_refused(ratings_file, tmp_path, arrays, edit, message):
    replaced = None if arrays is None else arrays(functools.partial(_ratings_array, ratings_file))
    forged = forge(ratings_file, tmp_path / "f.dmc", edit=edit, arrays=replaced)
    with pytest.raises(FileFormatError, match="malformed RatingsModel: .*" + message):
        dmc.load(forged)


# -- 4. numbers too large for their dtype: FileFormatError, never OverflowError -------------


def test_a_scalar_beyond_its_dtype_is_a_file_format_error(imputer_file, tmp_path):
    for dtype, value in (("<i8", 10**30), ("<u1", 300), ("<f4", 10**39), ("<i8", 1.5)):
        node = {"$": "scalar", "dtype": dtype, "value": value}
        forged = forge(imputer_file, tmp_path / "f.dmc", edit=_imputer_state("rank_", node))
        with pytest.raises(
            FileFormatError,
            match=f"a scalar of dtype .{dtype[1:]} must hold .* Got {value} instead",
        ):
            dmc.load(forged)


def test_an_npy_of_a_huge_empty_shape_is_a_file_format_error(imputer_file, tmp_path):
    header = io.BytesIO()
    shape = (0, 10**30)
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    blob = header.getvalue()
    forged = forge(
        imputer_file, tmp_path / "f.dmc", blobs={"components_": (blob, "<f8", list(shape))}
    )
    with pytest.raises(FileFormatError, match="only plain numeric or text arrays"):
        dmc.load(forged)
