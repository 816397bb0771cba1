"""Issue 16's acceptance for data-parallel training, run by torchrun.

Usage::

    torchrun --standalone --nproc-per-node 2 bench/data_parallel.py [--seed 0] [--threads 1]
    torchrun --standalone --nproc-per-node 2 bench/data_parallel.py --ratings ratings.csv

Each process joins a gloo group and holds every other observed entry of a
1500 x 1200 rank-5 problem with 15% observed (half of the entries each, with two
processes); ``dmc.complete(shard, rank=5, distributed=True)`` fits them. Rank 0
then fits all the entries in one process and reports the relative difference of
the predictions, the recovery error of both fits and their times. With
``--ratings FILE``, the same for ``RatingsModel(distributed=True)``: each
process reads its slice of FILE (``read_ratings(FILE, part=(rank, world))``),
and rank 0 compares the RMSE on all of FILE's ratings and the predictions with
a single-process fit of the whole file (e.g. MovieLens-100k, or a file written
by ``bench/scale.py --n-ratings 100000 --csv ratings.csv --keep-csv``).
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
    parser.add_argument("--ratings", default=None, help="a ratings file: RatingsModel instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if backend == "nccl":
        torch.cuda.set_device(rank % torch.cuda.device_count())
    device = "cuda" if backend == "nccl" else "cpu"
    if args.ratings is not None:
        ratings(args, rank, world, backend, device)
    else:
        recovery(args, rank, world, backend, device)
    dist.barrier()
    dist.destroy_process_group()


def recovery(args, rank, world, backend, device):
    """``dmc.complete`` on the 1500 x 1200 problem, sharded, against one process."""
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


def ratings(args, rank, world, backend, device):
    """``RatingsModel`` on this rank's slice of the file, against one process on all of it."""
    from dmc.data.readers import read_ratings

    mine = read_ratings(args.ratings, as_frame=False, part=(rank, world))
    dist.barrier()
    start = time.perf_counter()
    model = dmc.RatingsModel(random_state=args.seed, distributed=True, device=device).fit(mine)
    elapsed = time.perf_counter() - start
    if rank != 0:
        return
    data = read_ratings(args.ratings, as_frame=False)
    start = time.perf_counter()
    single = dmc.RatingsModel(random_state=args.seed, device=device).fit(data)
    single_time = time.perf_counter() - start
    predicted = [m.predict(data["user"], data["item"]) for m in (model, single)]
    rmse = [float(np.sqrt(np.mean((p - data["rating"]) ** 2))) for p in predicted]
    diff = np.linalg.norm(predicted[0] - predicted[1]) / np.linalg.norm(predicted[1])
    gap = abs(rmse[0] - rmse[1]) / rmse[1]
    print(
        f"{args.ratings}: {data['rating'].size:,} ratings, seed {args.seed}, {backend}, "
        f"{world} processes x {args.threads} thread(s)"
    )
    print(f"  distributed: {elapsed:.2f} s, RMSE on the file's ratings {rmse[0]:.16f}")
    print(f"  one process: {single_time:.2f} s, RMSE on the file's ratings {rmse[1]:.16f}")
    print(f"  RMSE, relative difference: {gap:.2e} (acceptance: <= 1e-6)")
    print(f"  predictions, relative difference: {diff:.2e}")
    print("  PASS" if gap <= 1e-6 else "  FAIL")


if __name__ == "__main__":
    main()
