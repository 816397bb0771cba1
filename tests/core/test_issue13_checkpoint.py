"""Issue 13: stale temporaries, a foreign checkpoint moved in mid-run, a finished fit
resumed with a smaller max_iter, and bad checkpoint paths refused before training."""

import os
import warnings

import numpy as np
import pytest

import dmc

SETTINGS = dict(rank=3, random_state=1, max_iter=40)


@pytest.fixture(scope="module")
def problem():
    return dmc.make_problem((40, 30), 3, fraction=0.5, random_state=0)


def _fit(problem, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return dmc.complete(problem.observations, **{**SETTINGS, **options})


# -- 22. temporaries of an interrupted write are cleaned up -----------------------------------


def test_stale_temporaries_of_the_checkpoint_are_removed_and_nothing_else(problem, tmp_path):
    ours = [".fit.dmc.a1b2c3d4.tmp", ".fit.dmc.zz_9xk0q.tmp"]
    others = [
        ".fit.dmc.short.tmp",  # not mkstemp's 8 characters
        ".other.dmc.a1b2c3d4.tmp",  # another file's temporary
        "fit.dmc.a1b2c3d4.tmp",  # no leading dot
        ".fit.dmc.a1b2c3d4.tmp.bak",
        "notes.txt",
    ]
    for name in ours + others:
        (tmp_path / name).write_bytes(b"half-written")
    os.mkdir(tmp_path / ".fit.dmc.dir12345.tmp")  # the pattern, but a folder: kept
    _fit(problem, checkpoint=tmp_path / "fit.dmc", max_iter=5)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*others, ".fit.dmc.dir12345.tmp", "fit.dmc"])


def test_a_failed_call_removes_no_temporary(problem, tmp_path):
    stale = tmp_path / ".fit.dmc.a1b2c3d4.tmp"
    stale.write_bytes(b"half-written")
    with pytest.raises(ValueError, match="'checkpoint_every'"):
        _fit(problem, checkpoint=tmp_path / "fit.dmc", checkpoint_every=0)
    assert stale.exists()


# -- 23. a checkpoint of another fit moved in mid-run is never overwritten -------------------


@pytest.mark.parametrize("intruder", ["other-fit", "not-a-checkpoint"])
def test_a_file_moved_in_mid_run_is_refused_not_overwritten(problem, tmp_path, intruder):
    path = tmp_path / "fit.dmc"
    other = tmp_path / "other.dmc"
    if intruder == "other-fit":
        _fit(problem, checkpoint=other, rank=2, max_iter=3)
    else:
        other.write_bytes(b"somebody's precious data")
    content = other.read_bytes()
    calls = []

    def move_in(it, state):
        calls.append(it)
        if it == 7:
            os.replace(other, path)

    with pytest.raises(ValueError, match=r"'checkpoint' parameter .*fit.dmc.* not overwritten"):
        _fit(problem, checkpoint=path, checkpoint_every=5, callback=move_in)
    assert calls[-1] == 10  # refused at the first save after the move
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.dmc"]


def test_a_checkpoint_deleted_mid_run_is_written_again(problem, tmp_path):
    path = tmp_path / "fit.dmc"

    def delete(it, state):
        if it == 7:
            path.unlink()

    result = _fit(problem, checkpoint=path, checkpoint_every=5, callback=delete)
    resumed = _fit(problem, checkpoint=path, checkpoint_every=5)
    assert resumed.n_iter == result.n_iter
    assert np.array_equal(resumed.to_dense(), result.to_dense())


# -- 24. a saved fit longer than max_iter is returned with a warning ---------------------


def test_resuming_a_longer_fit_with_a_smaller_max_iter_warns(problem, tmp_path):
    path = tmp_path / "fit.dmc"
    first = _fit(problem, checkpoint=path, max_iter=30)
    assert first.n_iter == 30
    with pytest.warns(UserWarning, match=r"holds a fit of 30 iterations, more than max_iter=10"):
        again = _fit(problem, checkpoint=path, max_iter=10)
    assert again.n_iter == 30
    assert np.array_equal(again.to_dense(), first.to_dense())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _fit(problem, checkpoint=path, max_iter=30)  # the same budget: no warning


# -- 25 and 12. bad checkpoint paths are refused before training -------------------------


@pytest.mark.parametrize(
    "where, error, message",
    [
        ("missing/fit.dmc", FileNotFoundError, r"'checkpoint' parameter must be a path in an "),
        (".", ValueError, r"'checkpoint' parameter must name a regular file.*a directory"),
        ("", ValueError, r"'checkpoint' parameter must name a file.*Got ''"),
        ("notes.txt/fit.dmc", NotADirectoryError, r"'checkpoint' parameter .*is not a folder"),
    ],
)
def test_bad_checkpoint_paths_are_refused_before_training(problem, tmp_path, where, error, message):
    (tmp_path / "notes.txt").write_text("x")
    path = "" if where == "" else str(tmp_path / where)
    calls = []
    with pytest.raises(error, match=message):
        _fit(problem, checkpoint=path, callback=lambda it, state: calls.append(it))
    assert calls == []
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_symlinked_checkpoint_is_refused(problem, tmp_path):
    target = tmp_path / "target.dmc"
    _fit(problem, checkpoint=target, max_iter=3)
    link = tmp_path / "link.dmc"
    link.symlink_to(target)
    with pytest.raises(ValueError, match="'checkpoint' parameter .*a symbolic link"):
        _fit(problem, checkpoint=link, max_iter=3)
    assert link.is_symlink()
