"""Issue 16's acceptance for data-parallel training, run by torchrun.

Usage::

    torchrun --standalone --nproc-per-node 2 bench/data_parallel.py [--seed 0] [--threads 1]

Each process joins a gloo group and holds every other observed entry of a
1500 x 1200 rank-5 problem with 15% observed (half of the entries each, with two
processes); ``dmc.complete(shard, rank=5, distributed=True)`` fits them. Rank 0
then fits all the entries in one process and reports the relative difference of
the predictions, the recovery error of both fits and their times. With
``--ratings``, the same for ``RatingsModel(distributed=True)`` on synthetic
ratings of MovieLens-100k shape (943 users x 1,682 items, 100,000 ratings):
the held-out RMSE of both fits.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.distributed as dist

import dmc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if backend == "nccl":
        torch.cuda.set_device(rank % torch.cuda.device_count())
    device = "cuda" if backend == "nccl" else "cpu"

    problem = dmc.make_problem((1500, 1200), 5, fraction=0.15, random_state=args.seed)
    obs = problem.observations
    mine = np.arange(obs.n_observed) % world == rank
    shard = (obs.rows[mine], obs.cols[mine], obs.values[mine], obs.shape)
    dist.barrier()
    start = time.perf_counter()
    fit = dmc.complete(shard, rank=5, random_state=args.seed, distributed=True, device=device)
    elapsed = time.perf_counter() - start
    predicted = fit.to_dense()
    everyone = [None] * world
    dist.all_gather_object(everyone, predicted.tobytes())
    if rank == 0:
        same = all(b == everyone[0] for b in everyone)
        start = time.perf_counter()
        single = dmc.complete(obs, rank=5, random_state=args.seed, device=device)
        single_time = time.perf_counter() - start
        reference = single.to_dense()
        diff = np.linalg.norm(predicted - reference) / np.linalg.norm(reference)
        errors = [dmc.recovery_error(p, problem.truth, obs) for p in (predicted, reference)]
        print(
            f"1500 x 1200, rank 5, 15% observed ({obs.n_observed:,} entries), seed "
            f"{args.seed}, {backend}, {world} processes x {args.threads} thread(s)"
        )
        print(f"  every rank holds the same model: {same}")
        print(
            f"  distributed: {fit.n_iter} iterations, {elapsed:.2f} s, recovery error "
            f"{errors[0]:.2e}"
        )
        print(
            f"  one process: {single.n_iter} iterations, {single_time:.2f} s, recovery "
            f"error {errors[1]:.2e}"
        )
        print(f"  predictions, relative difference: {diff:.2e} (acceptance: <= 1e-6)")
        ok = same and diff <= 1e-6 and max(errors) <= 1e-6
        print("  PASS" if ok else "  FAIL")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
