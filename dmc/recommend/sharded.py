"""What a ratings fit shares between the ranks of a data-parallel fit.

With ``RatingsModel(distributed=True)`` each process (rank) holds its own shard
of the ratings; the fit needs a few things to be global (see
:mod:`dmc.core.distributed` for the communicator):

* the ids (:func:`global_index`): the union of every rank's user and item ids,
  so that every rank numbers them alike;
* where each rating is fitted (:func:`route_pairs`): on the rank a hash of its
  (user, item) pair names, so that the repeats of a pair meet on one rank,
  whichever ranks read them, and are merged there as one process would;
* the validation split (:func:`validation_mask`): decided by a seeded hash of
  each (user, item) pair, so that a rating goes to the same part whichever rank
  holds it, and a single-process fit makes the same split;
* sums (the mean, the biases' and the ridge systems' normal equations, the
  validation error), through the communicator's ``sum_array``;
* the items each user has rated (:func:`global_pairs`), for ``recommend``.

In a single process the communicator is :data:`~dmc.core.distributed.SINGLE`
and every function here is what the single-process fit does.
"""

from __future__ import annotations

import numpy as np

from ..core.distributed import Communicator, pair_hash, send_to_owners
from .ids import IdIndex

__all__ = ["global_index", "global_pairs", "route_pairs", "validation_mask"]

_BLOCK = 1 << 22


def global_index(comm: Communicator, values: np.ndarray, name: str) -> tuple[IdIndex, np.ndarray]:
    """The index of the ids of every rank, and the index of each of ``values``."""
    if not comm.distributed:
        return IdIndex.build(values, name)
    local, _ = IdIndex.build(values, name)
    everyone = np.concatenate([np.asarray(ids) for ids in comm.gather_objects(local.ids)])
    index, _ = IdIndex.build(everyone, name)
    return index, index.lookup(values)


def validation_mask(
    u: np.ndarray, i: np.ndarray, n_items: int, fraction: float, seed: int
) -> np.ndarray:
    """True for the ratings of the validation part: about ``fraction`` of them.

    A pair ``(u, i)`` is in it when a seeded hash (splitmix64) of ``u n + i``
    falls below ``fraction``: the split does not depend on the order of the
    ratings or on how they are spread over ranks.

    Examples
    --------
    >>> import numpy as np
    >>> u, i = np.repeat(np.arange(100), 100), np.tile(np.arange(100), 100)
    >>> mask = validation_mask(u, i, 100, 0.1, seed=0)
    >>> round(float(mask.mean()), 2)
    0.1
    >>> bool((validation_mask(u[::-1], i[::-1], 100, 0.1, seed=0) == mask[::-1]).all())
    True
    """
    out = np.empty(u.size, dtype=bool)
    threshold = np.uint64(min(int(fraction * 2.0**64), 2**64 - 1))
    for s in range(0, u.size, _BLOCK):
        hashed = pair_hash(u[s : s + _BLOCK], i[s : s + _BLOCK], n_items, seed)
        out[s : s + _BLOCK] = hashed < threshold
    return out


def route_pairs(
    comm: Communicator, u: np.ndarray, i: np.ndarray, r: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every rating sent to the rank that an (unseeded) hash of its pair names.

    The ratings a rank receives come in rank order, each rank's in its own
    order: for the slices of one file read with ``part=(rank, world)``, the
    file's order, so that ``duplicates="first"`` or ``"last"`` and the sums of
    ``"mean"`` see a pair's repeats as a single process reading the whole file
    does. In a single process the arrays come back as they are.
    """
    if not comm.distributed:
        return u, i, r
    u, i, r = send_to_owners(comm, u, i, n_items, [u, i, r])
    return u, i, r


def global_pairs(comm: Communicator, u: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (user, item) index pairs of every rank (each rank gets them all)."""
    if not comm.distributed:
        return u, i
    return comm.gather_array(u), comm.gather_array(i)
