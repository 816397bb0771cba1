"""One rank of the test in test_ratings_distributed.py (a script, not collected).

``python ratings_worker.py RANK WORLD PORT OUT``: joins a gloo group on
localhost:PORT, fits ``RatingsModel(distributed=True)`` on this rank's slice of
the ratings file OUT/ratings.csv and writes its predictions under OUT.
"""

import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from dmc.data.readers import read_ratings
from dmc.recommend.model import RatingsModel


def main(rank, world, port, out):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    data = read_ratings(out / "ratings.csv", as_frame=False, part=(rank, world))
    model = RatingsModel(random_state=0, duplicates="last", distributed=True).fit(data)
    probe = np.load(out / "probe.npz")
    top, _ = model.recommend(probe["user"][0], k=10)
    np.savez(
        out / f"rank{rank}.npz",
        n_local=np.array(data["rating"].size),
        n_duplicates=np.array(model.n_duplicates_),
        predicted=model.predict(probe["user"], probe["item"]),
        user_factors=model.user_factors_,
        item_bias=model.item_bias_,
        shrinkage=np.array(model.shrinkage_),
        top=top,
    )
    model.save(out / f"model{rank}.dmc")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
