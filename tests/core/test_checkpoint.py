"""Checkpoint and resume: a killed fit, resumed, ends bitwise where an uninterrupted one does."""

import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import dmc

SETTINGS = dict(rank=3, random_state=1, max_iter=120)


@pytest.fixture(scope="module")
def problem():
    return dmc.make_problem((80, 60), 3, fraction=0.35, random_state=0)


def _params(result):
    return [p.detach().cpu().numpy().copy() for p in result.model.parameters()]


def _fit(problem, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        return dmc.complete(problem.observations, **{**SETTINGS, **options})


@pytest.mark.parametrize("method", ["compressed", "original", "narrow", "burer-monteiro"])
def test_stopped_and_resumed_fit_is_bitwise_uninterrupted(problem, method, tmp_path):
    path = tmp_path / "fit.dmc"
    whole = _fit(problem, method=method)
    stopped = _fit(
        problem, method=method, checkpoint=path, checkpoint_every=4, callback=lambda it, s: it == 13
    )
    assert stopped.n_iter == 13 < whole.n_iter
    resumed = _fit(problem, method=method, checkpoint=path, checkpoint_every=4)
    assert resumed.n_iter == whole.n_iter
    assert resumed.stop_reason == whole.stop_reason
    for a, b in zip(_params(whole), _params(resumed)):
        assert np.array_equal(a, b)
    assert resumed.history["loss"] == whole.history["loss"]
    assert resumed.history["step_size"] == whole.history["step_size"]


def test_finished_checkpoint_returns_the_result_without_training(problem, tmp_path):
    path = tmp_path / "fit.dmc"
    first = _fit(problem, method="burer-monteiro", checkpoint=path)
    assert first.stop_reason == "tol"
    calls = []
    again = _fit(
        problem, method="burer-monteiro", checkpoint=path, callback=lambda it, s: calls.append(it)
    )
    assert calls == []
    assert again.n_iter == first.n_iter and again.stop_reason == "tol"
    assert np.array_equal(again.to_dense(), first.to_dense())


def test_more_iterations_continue_a_checkpoint_stopped_at_max_iter(problem, tmp_path):
    path = tmp_path / "fit.dmc"
    _fit(problem, checkpoint=path, max_iter=30)
    longer = _fit(problem, checkpoint=path, max_iter=60)
    whole = _fit(problem, max_iter=60)
    assert longer.n_iter == 60
    for a, b in zip(_params(whole), _params(longer)):
        assert np.array_equal(a, b)


def test_checkpoint_of_another_fit_is_refused_and_kept(problem, tmp_path):
    path = tmp_path / "fit.dmc"
    _fit(problem, checkpoint=path, max_iter=5)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"another fit \(the options \['rank'\] differ\)"):
        _fit(problem, checkpoint=path, rank=2)
    other = dmc.make_problem((80, 60), 3, fraction=0.35, random_state=5)
    with pytest.raises(ValueError, match="the observed data"):
        dmc.complete(other.observations, **SETTINGS, checkpoint=path)
    assert path.read_bytes() == before


def test_damaged_checkpoint_gives_a_clear_error(problem, tmp_path):
    path = tmp_path / "fit.dmc"
    _fit(problem, checkpoint=path, max_iter=5)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(dmc.FileFormatError, match="truncated"):
        _fit(problem, checkpoint=path)


def test_checkpoint_options_are_validated(problem, tmp_path):
    with pytest.raises(ValueError, match="'checkpoint_every'"):
        _fit(problem, checkpoint=tmp_path / "a.dmc", checkpoint_every=0)
    with pytest.raises(TypeError, match="'checkpoint'"):
        _fit(problem, checkpoint=3)
    with pytest.raises(TypeError, match="'random_state'"):
        _fit(problem, checkpoint=tmp_path / "a.dmc", random_state=np.random.default_rng(0))


# --- killed with SIGKILL ------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys, time, warnings
    import numpy as np
    import dmc

    path, out, kill_in_write = sys.argv[1], sys.argv[2], int(sys.argv[3])
    problem = dmc.make_problem((80, 60), 3, fraction=0.35, random_state=0)
    if kill_in_write:
        import dmc.io.archive
        real, count = os.replace, [0]
        def replace(src, dst):
            count[0] += 1
            if count[0] == kill_in_write:
                os.kill(os.getpid(), signal.SIGKILL)  # dies with the new file half-done
            real(src, dst)
        dmc.io.archive.os.replace = replace

    def report(it, state):
        print(it, flush=True)
        time.sleep(0.002)

    warnings.simplefilter("ignore")
    options = dict(rank=3, random_state=1, max_iter=120)
    if path != "-":
        options.update(checkpoint=path, checkpoint_every=5)
    result = dmc.complete(problem.observations, callback=report, **options)
    np.savez(out, *[p.detach().numpy() for p in result.model.parameters()])
    """
)


def _child(tmp_path, path, out, kill_in_write=0):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(path), str(out), str(kill_in_write)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _final(path):
    with np.load(path) as data:
        return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    child = _child(folder, "-", folder / "whole.npz")
    child.communicate(timeout=120)
    assert child.returncode == 0
    return _final(folder / "whole.npz")


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_killed_at_a_random_iteration_resumes_bitwise(uninterrupted, tmp_path, seed):
    kill_at = int(np.random.default_rng(seed).integers(8, 100))
    path = tmp_path / "fit.dmc"
    child = _child(tmp_path, path, tmp_path / "never.npz")
    for line in child.stdout:
        if int(line) >= kill_at:
            child.send_signal(signal.SIGKILL)
            break
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert path.exists()
    resumed = _child(tmp_path, path, tmp_path / "resumed.npz")
    first = int(resumed.stdout.readline())
    resumed.communicate(timeout=120)
    assert resumed.returncode == 0
    # it resumed from a checkpoint (every 5 iterations), not from the start
    assert first > 1 and (first - 1) % 5 == 0
    for a, b in zip(uninterrupted, _final(tmp_path / "resumed.npz")):
        assert np.array_equal(a, b)


def test_fit_killed_while_writing_a_checkpoint_resumes_from_the_previous(uninterrupted, tmp_path):
    path = tmp_path / "fit.dmc"
    child = _child(tmp_path, path, tmp_path / "never.npz", kill_in_write=3)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert leftovers  # the kill left the half-written temporary file, not a broken checkpoint
    resumed = _child(tmp_path, path, tmp_path / "resumed.npz")
    assert int(resumed.stdout.readline()) == 11  # the second checkpoint was at iteration 10
    resumed.communicate(timeout=120)
    assert resumed.returncode == 0
    # the resumed fit removed the killed write's temporary (issue 13)
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []
    for a, b in zip(uninterrupted, _final(tmp_path / "resumed.npz")):
        assert np.array_equal(a, b)
