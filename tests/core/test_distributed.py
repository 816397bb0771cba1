"""Data-parallel training (issue 16): two gloo processes against a single-process fit."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from ranks import run_ranks

import dmc
from dmc.core import distributed as dd
from dmc.core.complete import complete

WORKER = Path(__file__).with_name("distributed_worker.py")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Run the worker on two gloo ranks once; the ranks' results by name."""
    out = tmp_path_factory.mktemp("distributed")
    run_ranks(WORKER, out, 2, timeout=120)
    ranks = [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]
    return out, ranks


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_every_rank_ends_with_the_same_model(two_ranks):
    _, (r0, r1) = two_ranks
    for key in ("small", "big", "decay"):
        assert np.array_equal(r0[key], r1[key]), key


def test_equal_to_the_single_process_fit_with_the_dense_initial_svd(two_ranks):
    out, (r0, _) = two_ranks
    problem = dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0)
    single = complete(problem.observations, rank=2, random_state=0)
    assert relative(r0["small"], single.to_dense()) < 1e-9
    assert int(r0["small_n_iter"]) == single.n_iter
    # rank 0 wrote the checkpoint (every rank read it first: none existed)
    assert (out / "small.dmc").is_file()
    assert sorted(p.name for p in out.glob("*.dmc")) == ["small.dmc"]


def test_equal_to_the_single_process_fit_through_arpack_and_plateau_moves(two_ranks):
    _, (r0, _) = two_ranks
    problem = dmc.make_problem((520, 490), 3, fraction=0.25, condition_number=5, random_state=1)
    single = complete(problem.observations, rank=3, random_state=1)
    # the same plateau moves (the step searches then part at rounding level)
    moves = np.flatnonzero(single.history["escape"])
    assert moves.size and np.array_equal(np.flatnonzero(r0["big_escape"]), moves)
    assert relative(r0["big"], single.to_dense()) < 1e-6
    err = dmc.recovery_error(r0["big"], problem.truth, problem.observations)
    assert err < 1e-6


def test_a_replicated_penalty_counts_once(two_ranks):
    _, (r0, _) = two_ranks
    small = dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0).observations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        single = complete(
            small,
            rank=3,
            method="burer-monteiro",
            weight_decay=0.5,
            max_iter=30,
            random_state=2,
        )
    assert relative(r0["decay"], single.to_dense()) < 1e-9


def test_shards_of_different_shapes_fail_on_every_rank(two_ranks):
    out, _ = two_ranks
    for rank in range(2):
        message = (out / f"error{rank}.txt").read_text()
        assert "the shape of 'X' must be the same on every rank" in message
        assert "rank 0: (60, 50), rank 1: (61, 50)" in message


def test_an_entry_on_two_ranks_fails_on_every_rank(two_ranks):
    out, _ = two_ranks
    messages = [(out / f"shared{rank}.txt").read_text() for rank in range(2)]
    owner = [m for m in messages if m.startswith("The 'X' parameter")]
    assert len(owner) == 1
    assert "1 entry on more than one rank, e.g. (row " in owner[0]
    other = [m for m in messages if m is not owner[0]][0]
    assert "refused its arguments" in other and "every rank stops" in other


def test_entries_meet_on_the_rank_their_hash_names():
    rows, cols = np.repeat(np.arange(50), 40), np.tile(np.arange(40), 50)
    owner = dd.owner_ranks(rows, cols, 40, 3)
    assert set(np.unique(owner)) == {0, 1, 2}
    assert np.array_equal(owner[::-1], dd.owner_ranks(rows[::-1], cols[::-1], 40, 3))
    assert np.bincount(owner).min() > 500  # about a third each


def test_distributed_without_a_process_group_names_the_parameter():
    assert not torch.distributed.is_initialized()
    X = dmc.make_problem((20, 15), 2, fraction=0.5, random_state=0).observations
    with pytest.raises(RuntimeError, match="'distributed' parameter of complete is True"):
        complete(X, rank=2, distributed=True)
    with pytest.raises(TypeError, match="'distributed' parameter of complete must be"):
        complete(X, rank=2, distributed="yes")


def test_the_single_process_communicator_changes_nothing():
    t = torch.tensor([1.5, 2.5], requires_grad=True)
    assert dd.communicator(False) is dd.SINGLE
    assert dd.SINGLE.total(t) is t and dd.SINGLE.replicated(t) is t
    assert dd.SINGLE.sum(3.0) == 3.0 and dd.SINGLE.max(-1.0) == -1.0
    assert dd.SINGLE.gather_objects("x") == ["x"]
