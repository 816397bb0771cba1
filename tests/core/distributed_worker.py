"""One rank of the two-process test in test_distributed.py (run as a script, not collected).

``python distributed_worker.py RANK WORLD PORT OUT``: joins a gloo group on
localhost:PORT, fits the shards of this rank and writes the results under OUT.
"""

import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

import dmc
from dmc.core.complete import complete


def shard(obs, rank, world, shape=None):
    keep = np.arange(obs.n_observed) % world == rank
    return obs.rows[keep], obs.cols[keep], obs.values[keep], shape or obs.shape


def main(rank, world, port, out):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    results = {}
    # small: the initial SVD is dense; checkpoints written by rank 0 only
    small = dmc.make_problem((60, 50), 2, fraction=0.5, random_state=0).observations
    fit = complete(
        shard(small, rank, world),
        rank=2,
        random_state=0,
        distributed=True,
        checkpoint=out / "small.dmc",
        checkpoint_every=5,
    )
    results["small"] = fit.to_dense()
    results["small_n_iter"] = np.array(fit.n_iter)
    # larger than the dense-SVD limit: the initial and plateau SVDs go through ARPACK
    big = dmc.make_problem(
        (520, 490), 3, fraction=0.25, condition_number=5, random_state=1
    ).observations
    fit = complete(shard(big, rank, world), rank=3, random_state=1, distributed=True)
    results["big"] = fit.to_dense()
    results["big_escape"] = np.array(fit.history["escape"])
    # a penalty that every rank computes whole
    fit = complete(
        shard(small, rank, world),
        rank=3,
        method="burer-monteiro",
        weight_decay=0.5,
        max_iter=30,
        random_state=2,
        distributed=True,
    )
    results["decay"] = fit.to_dense()
    # shards with different global shapes: a clear error on every rank, no hang
    bad = (small.shape[0] + rank, small.shape[1])
    try:
        complete(shard(small, rank, world, bad), rank=2, distributed=True)
    except ValueError as exc:
        (out / f"error{rank}.txt").write_text(str(exc))
    # an entry on both ranks: refused on every rank, as one process refuses a repeat
    rows, cols, values, shape = shard(small, rank, world)
    if rank == 0:  # entry 1 is rank 1's
        rows, cols = np.append(rows, small.rows[1]), np.append(cols, small.cols[1])
        values = np.append(values, small.values[1])
    try:
        complete((rows, cols, values, shape), rank=2, distributed=True)
    except ValueError as exc:
        (out / f"shared{rank}.txt").write_text(str(exc))
    np.savez(out / f"rank{rank}.npz", **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    rank, world, port = (int(a) for a in sys.argv[1:4])
    main(rank, world, port, Path(sys.argv[4]))
