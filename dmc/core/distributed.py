"""Data-parallel training: what a fit on many processes exchanges, in one place.

Each process (rank) of an initialised ``torch.distributed`` process group holds
its own shard of the observed entries, with the global shape, and its own copy
of the model. The training loop and :func:`dmc.complete` see the group only
through a :class:`Communicator`:

* ``total(loss)``: the data term summed over ranks (an ``all_reduce`` of one
  number per evaluation), so that every rank takes the same decisions (step
  search, Armijo acceptance, stopping rules, plateau moves);
* ``sum_gradients(params)``: after each backward pass the gradients are summed
  over ranks (one ``all_reduce`` per parameter tensor: ``(m + n) 2r̂ + L (2r̂)²``
  numbers for the compressed network), so every rank takes the same step;
* ``sum`` and ``max`` of numbers, and sparse operators summed over ranks for the
  singular vectors of the initialisation and of the residual;
* ``exchange``: chunks of an array sent rank to rank (an ``all_to_all``), once
  per fit, to meet each entry's repeats on the rank that a hash of the entry
  names (:func:`owner_ranks`): :func:`check_entries_on_one_rank` refuses an
  entry held by two ranks, as one process refuses a repeated entry.

:data:`SINGLE`, the communicator of a single process, does nothing: with it
the code paths are those of a single-process fit, bit for bit. Sums over ranks
are ``all_reduce``'s (gloo on CPU, NCCL on GPU), which hand every rank the same
bits; a distributed fit therefore ends with the same model on every rank, equal
to a single-process fit up to rounding (the order of the sums differs).

Examples
--------
>>> import torch
>>> from dmc.core.distributed import SINGLE, communicator
>>> communicator(False) is SINGLE, SINGLE.world_size, SINGLE.is_root
(True, 1, True)
>>> SINGLE.sum(2.5), SINGLE.total(torch.tensor(1.0)).item()
(2.5, 1.0)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
import torch.distributed as dist

from .observations import Observations
from .sampled import SampledPattern

#: entries hashed at a time (bounds the temporaries)
_BLOCK = 1 << 22

__all__ = [
    "SINGLE",
    "Communicator",
    "GatheredPattern",
    "ProcessGroupCommunicator",
    "SummedObservations",
    "check_complete_arguments",
    "check_entries_on_one_rank",
    "communicator",
    "owner_ranks",
    "pair_hash",
    "residual_share",
    "send_to_owners",
]


class Communicator:
    """A single process: every sum over ranks is the value itself (no-op)."""

    distributed = False
    rank = 0
    world_size = 1
    is_root = True

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks, in place; return it."""
        return tensor

    def sum(self, value: float) -> float:
        """A number summed over ranks."""
        return value

    def max(self, value: float) -> float:
        """The largest of a number over ranks."""
        return value

    def sum_array(self, array: np.ndarray) -> np.ndarray:
        """A float64 numpy array summed over ranks."""
        return array

    def total(self, loss: torch.Tensor) -> torch.Tensor:
        """A rank's part of a loss, summed over ranks (the gradient flows back unchanged)."""
        return loss

    def replicated(self, term: torch.Tensor) -> torch.Tensor:
        """A term every rank computes whole (a penalty): its gradient is shared out, so
        that summing the gradients over ranks counts it once."""
        return term

    def sum_gradients(self, params) -> contextlib.AbstractContextManager:
        """Within the block, each backward pass sums the gradients of ``params`` over ranks."""
        return contextlib.nullcontext()

    def gather_objects(self, value) -> list:
        """``value`` of every rank, in rank order (small, picklable values)."""
        return [value]

    def gather_array(self, array: np.ndarray) -> np.ndarray:
        """The arrays of every rank, concatenated in rank order."""
        return array

    def exchange(self, array: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Send consecutive chunks of ``array``, ``counts[k]`` elements to rank ``k``.

        Returns the chunks every rank sent here, concatenated in rank order.
        """
        return array


#: the communicator of a single process
SINGLE = Communicator()


class ProcessGroupCommunicator(Communicator):
    """The ranks of an initialised ``torch.distributed`` process group.

    Tensors travel on the group's device: the CPU for gloo, the current CUDA
    device for NCCL (CPU tensors are copied there and back).
    """

    distributed = True

    def __init__(self, group=None):
        self.group = group
        self.rank = dist.get_rank(group)
        self.world_size = dist.get_world_size(group)
        self.is_root = self.rank == 0
        if dist.get_backend(group) == "nccl":
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")

    def sum_(self, tensor):
        if tensor.device == self.device:
            dist.all_reduce(tensor, group=self.group)
            return tensor
        buffer = tensor.to(self.device)
        dist.all_reduce(buffer, group=self.group)
        return tensor.copy_(buffer)

    def sum(self, value):
        return float(self.sum_(torch.tensor([value], dtype=torch.float64))[0])

    def max(self, value):
        buffer = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(buffer, op=dist.ReduceOp.MAX, group=self.group)
        return float(buffer[0])

    def sum_array(self, array):
        tensor = torch.from_numpy(np.array(array, dtype=np.float64, order="C"))
        return self.sum_(tensor).numpy()

    def total(self, loss):
        return _Total.apply(loss, self)

    def replicated(self, term):
        return _Replicated.apply(term, self.world_size)

    @contextlib.contextmanager
    def sum_gradients(self, params):
        def summed(grad):
            return self.sum_(grad.clone())

        # every rank has the same graph, so the hooks fire in the same order everywhere
        handles = [p.register_hook(summed) for p in params if p.requires_grad]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def gather_objects(self, value):
        out = [None] * self.world_size
        dist.all_gather_object(out, value, group=self.group)
        return out

    def gather_array(self, array):
        array = np.ascontiguousarray(array)
        sizes = self.gather_objects(int(array.size))
        longest = max(sizes)
        local = torch.zeros(longest, dtype=torch.from_numpy(array[:0]).dtype, device=self.device)
        local[: array.size] = torch.from_numpy(array).to(self.device)
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local, group=self.group)
        return np.concatenate([p[:s].cpu().numpy() for p, s in zip(parts, sizes)])

    def exchange(self, array, counts):
        sending = [int(c) for c in counts]
        receiving = [plan[self.rank] for plan in self.gather_objects(sending)]
        source = torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        out = torch.empty(sum(receiving), dtype=source.dtype, device=self.device)
        dist.all_to_all_single(
            out,
            source,
            output_split_sizes=receiving,
            input_split_sizes=sending,
            group=self.group,
        )
        return out.cpu().numpy()


class _Total(torch.autograd.Function):
    @staticmethod
    def forward(ctx, loss, comm):
        return comm.sum_(loss.detach().clone())

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class _Replicated(torch.autograd.Function):
    @staticmethod
    def forward(ctx, term, world_size):
        ctx.world_size = world_size
        return term.detach().clone()

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.world_size, None


def communicator(distributed, caller: str = "complete") -> Communicator:
    """The communicator for the ``distributed`` parameter of ``caller``.

    False: :data:`SINGLE`. True: the default process group, which must be
    initialised (``torch.distributed.init_process_group``; ``torchrun`` sets the
    environment it reads). A ``torch.distributed`` process group object: that group.
    """
    if distributed is None or distributed is False or distributed is np.False_:
        return SINGLE
    if distributed is True or distributed is np.True_:
        group = None
    elif dist.is_available() and isinstance(distributed, dist.ProcessGroup):
        group = distributed
    else:
        raise TypeError(
            f"The 'distributed' parameter of {caller} must be True, False or a "
            f"torch.distributed process group. Got {distributed!r} instead."
        )
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            f"The 'distributed' parameter of {caller} is {distributed!r}, but no "
            "torch.distributed process group is initialised. Call "
            "torch.distributed.init_process_group(...) on every process first (torchrun "
            "sets the environment it reads), or pass distributed=False."
        )
    return ProcessGroupCommunicator(group)


def check_same_on_every_rank(comm: Communicator, what: dict, caller: str) -> None:
    """Raise on every rank (never hang) when ``what`` differs between ranks.

    ``what`` maps a description ("the shape of 'X'", "the 'rank' parameter") to a
    value that must be equal on every rank (small and picklable).
    """
    if not comm.distributed:
        return
    everyone = comm.gather_objects(what)
    for name in what:
        values = [w.get(name) for w in everyone]
        if any(v != values[0] for v in values):
            ranks = ", ".join(f"rank {r}: {v!r}" for r, v in enumerate(values))
            raise ValueError(
                f"In a distributed call of {caller}, {name} must be the same on every rank "
                f"(each rank holds a shard of the observed entries, with the global shape). "
                f"Got {ranks}."
            )


def on_every_rank(comm: Communicator, build, caller: str):
    """``build()``, raising on every rank when it raised on any (rather than a hang).

    In a single process the exception propagates as it is.
    """
    if not comm.distributed:
        return build()
    try:
        result, error = build(), None
    except (ValueError, TypeError) as exc:
        result, error = None, exc
    failures = comm.gather_objects(None if error is None else f"{type(error).__name__}: {error}")
    if error is not None:
        raise error
    for rank, failure in enumerate(failures):
        if failure is not None:
            raise ValueError(
                f"Rank {rank} of the distributed call of {caller} refused its arguments "
                f"({failure}); every rank stops."
            )
    return result


#: the arguments of complete that must be equal on every rank of a distributed fit
_SAME_ON_EVERY_RANK = (
    "rank depth method init_scale gamma width init step_size max_change step_bits "
    "escape_plateaus weight_decay max_iter tol n_iter_no_change dtype random_state "
    "checkpoint_every"
).split()


def check_complete_arguments(comm: Communicator, obs: Observations, arguments: dict) -> None:
    """The arguments of a distributed :func:`dmc.complete`, on every rank.

    The shape and the options must agree across ranks, no entry may sit on two
    ranks, and the options that need every entry on one process are refused.
    """
    what: dict[str, Any] = {"the shape of 'X'": obs.shape}
    for name in _SAME_ON_EVERY_RANK:
        what[f"the {name!r} parameter"] = repr(arguments[name])
    what["the 'optimizer' parameter"] = type(arguments["optimizer"]).__name__
    check_same_on_every_rank(comm, what, "complete")
    check_entries_on_one_rank(comm, obs, "complete")
    for name in ("early_stopping", "truth"):
        value = arguments[name]
        if value is not None and value is not False:
            raise ValueError(
                f"The {name!r} parameter of complete is not supported with distributed=True "
                f"(it needs every observed entry on one process). Got {name}={value!r}."
                if name == "early_stopping"
                else "The 'truth' parameter of complete is not supported with "
                "distributed=True (the unobserved set needs every observed entry on one "
                "process). Compute the recovery error from the result instead."
            )


def pair_hash(rows: np.ndarray, cols: np.ndarray, n_cols: int, seed: int = 0) -> np.ndarray:
    """splitmix64 of ``row n_cols + col`` salted by ``seed``, as uint64.

    The same for an entry whichever rank holds it and wherever it sits.
    """
    salt = np.uint64((int(seed) * 0x9E3779B97F4A7C15) % 2**64)
    with np.errstate(over="ignore"):
        z = rows.astype(np.uint64) * np.uint64(n_cols)
        z += cols.astype(np.uint64)
        z += salt
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def owner_ranks(rows: np.ndarray, cols: np.ndarray, n_cols: int, world_size: int) -> np.ndarray:
    """The rank that an (unseeded) hash of each entry names: where its repeats meet."""
    owner = np.empty(rows.size, dtype=np.int64)
    for s in range(0, rows.size, _BLOCK):
        hashed = pair_hash(rows[s : s + _BLOCK], cols[s : s + _BLOCK], n_cols)
        owner[s : s + _BLOCK] = (hashed % np.uint64(world_size)).astype(np.int64)
    return owner


def send_to_owners(
    comm: Communicator, rows: np.ndarray, cols: np.ndarray, n_cols: int, arrays
) -> list[np.ndarray]:
    """Each of ``arrays`` (one value per entry) sent to the ranks :func:`owner_ranks` names.

    A rank receives its entries in rank order, each sender's in its own order.
    """
    owner = owner_ranks(rows, cols, n_cols, comm.world_size)
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=comm.world_size)
    del owner
    return [comm.exchange(a[order], counts) for a in arrays]


def check_entries_on_one_rank(comm: Communicator, obs: Observations, caller: str) -> None:
    """Refuse, on every rank, an entry that more than one rank holds.

    Each rank's entries are distinct (:class:`Observations`); the keys of all
    of them go to the ranks :func:`owner_ranks` names (8 bytes an entry, once),
    where a key seen twice was sent by two ranks.
    """
    n_cols = obs.shape[1]
    keys = obs.rows.astype(np.int64) * n_cols + obs.cols
    (mine,) = send_to_owners(comm, obs.rows, obs.cols, n_cols, [keys])
    mine.sort()

    def check():
        repeated = mine[1:][mine[1:] == mine[:-1]]
        if repeated.size:
            row, col = divmod(int(repeated[0]), n_cols)
            raise ValueError(
                f"The 'X' parameter of the distributed call holds {repeated.size} "
                f"entr{'y' if repeated.size == 1 else 'ies'} on more than one rank, e.g. "
                f"(row {row}, column {col}). Give each observed entry to one rank (a "
                "single process refuses a repeated entry alike)."
            )

    on_every_rank(comm, check, caller)


def global_seen(comm: Communicator, obs: Observations) -> tuple[np.ndarray, np.ndarray]:
    """The rows and the columns with an observed entry on some rank (sorted)."""
    m, n = obs.shape
    flags = np.zeros(m + n)
    flags[obs.rows] = 1.0
    flags[m + obs.cols] = 1.0
    flags = comm.sum_array(flags)
    return np.flatnonzero(flags[:m]), np.flatnonzero(flags[m:])


def check_models_agree(comm: Communicator, model: torch.nn.Module) -> None:
    """Refuse to hand back a model that differs between ranks (a bug, never expected)."""
    if not comm.distributed:
        return
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digests = comm.gather_objects(digest.hexdigest())
    if any(d != digests[0] for d in digests):
        raise RuntimeError(
            "The ranks of the distributed fit ended with different models; please report "
            "this with the torch version and the process group's backend."
        )


def agreed_seed(comm: Communicator, random_state):
    """``random_state`` as every rank must use it: an int (rank 0 draws one for None)."""
    if not comm.distributed:
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise TypeError(
            "With distributed=True, the 'random_state' parameter must be an int or None (the "
            "same initialisation on every rank). Got "
            f"{type(random_state).__name__} instead."
        )
    seed = int(np.random.default_rng().integers(2**63)) if random_state is None else None
    return comm.gather_objects(seed)[0] if random_state is None else int(random_state)


def global_fingerprint(comm: Communicator, local: str) -> str:
    """One fingerprint of the shards of every rank (rank order matters)."""
    if not comm.distributed:
        return local
    return hashlib.sha256(json.dumps(comm.gather_objects(local)).encode()).hexdigest()


class SummedObservations:
    """The observations of every rank, as a model's ``build`` reads them.

    ``shape``, ``n_observed`` and ``fraction`` are global; ``to_sparse()`` is the
    sparse observed matrix as an operator whose products are summed over ranks
    (what a truncated SVD needs), and its ``toarray()`` the dense matrix (for the
    small matrices the SVD takes densely).
    """

    def __init__(self, obs: Observations, comm: Communicator):
        self.shape = obs.shape
        self.n_observed = int(round(comm.sum(float(obs.n_observed))))
        self._local, self._comm = obs, comm

    @property
    def fraction(self) -> float:
        return self.n_observed / (self.shape[0] * self.shape[1])

    def to_sparse(self) -> SummedOperator:
        return SummedOperator(self._local.to_sparse(), self._comm)


class SummedOperator(spla.LinearOperator):
    """``Σ_ranks S_rank`` for a sparse matrix of each rank; products cost one all_reduce."""

    def __init__(self, local: sp.csr_array, comm: Communicator):
        super().__init__(np.float64, local.shape)
        self._local, self._comm = local, comm

    def _matvec(self, x):
        return self._comm.sum_array(self._local @ np.ravel(x))

    def _rmatvec(self, x):
        return self._comm.sum_array(self._local.T @ np.ravel(x))

    def _matmat(self, X):
        return self._comm.sum_array(self._local @ X)

    def _rmatmat(self, X):
        return self._comm.sum_array(self._local.T @ X)

    def _adjoint(self):
        return spla.LinearOperator(
            np.float64,
            self.shape[::-1],
            matvec=self._rmatvec,
            rmatvec=self._matvec,
            matmat=self._rmatmat,
            rmatmat=self._matmat,
        )

    def toarray(self) -> np.ndarray:
        """The dense sum (the shards are disjoint, so each entry is exact)."""
        return self._comm.sum_array(self._local.toarray())


class GatheredPattern:
    """Every rank's observed entries, gathered on first use, as a :class:`SampledPattern`.

    What the training loop hands a model's plateau move in a distributed fit (the
    move reads the whole residual); nothing is gathered unless the move reads it.
    The entries come in the row-major order of a single-process fit.
    """

    def __init__(self, pattern: SampledPattern, comm: Communicator):
        self._local, self._comm = pattern, comm
        self._whole: SampledPattern | None = None

    def _gathered(self) -> SampledPattern:
        if self._whole is None:
            local, comm = self._local, self._comm
            rows = comm.gather_array(local.rows.cpu().numpy())
            cols = comm.gather_array(local.cols.cpu().numpy())
            values = comm.gather_array(local.values.cpu().numpy()).astype(np.float64)
            order = np.lexsort((cols, rows))
            obs = Observations(rows[order], cols[order], values[order], local.shape)
            self._whole = SampledPattern(obs, dtype=local.dtype, device=local.device)
        return self._whole

    def __getattr__(self, name):
        return getattr(self._gathered(), name)

    def __len__(self) -> int:
        return len(self._gathered())


def residual_share(model, pattern: SampledPattern, seed: int, comm: Communicator) -> float:
    """The share of ``‖P_Ω(Φ − W)‖²`` that the residual's top singular direction explains.

    The residual of every rank summed: the top singular pair comes from ARPACK on
    an operator whose products are summed over ranks (Lanczos on the distributed
    sparse residual), started from a vector seeded by ``seed``; O(|Ω|) per rank
    and ``m + n`` numbers exchanged per product.
    """
    with torch.no_grad():
        residual = (pattern.values - model.predict(pattern)).double().cpu().numpy()
    rows, cols = pattern.rows.cpu().numpy(), pattern.cols.cpu().numpy()
    total = comm.sum(float(residual @ residual))
    if total == 0 or min(model.shape) < 2:
        return 0.0
    local = pattern.residual_matrix(residual)
    v0 = np.random.default_rng(seed).standard_normal(min(model.shape))
    U, _, Vt = spla.svds(SummedOperator(local, comm), k=1, v0=v0)
    a = U[rows, 0] * Vt[0, cols]
    aa, ar = comm.sum(float(a @ a)), comm.sum(float(a @ residual))
    return ar**2 / aa / total if aa > 0 else 0.0
