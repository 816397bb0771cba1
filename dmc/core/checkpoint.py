"""Checkpoints of a running fit, so that a killed fit resumes where it stopped.

A checkpoint holds everything the training loop carries from one iteration to
the next: the model's ``state_dict()``, the parameters' gradients, the
optimizer's ``state_dict()`` (for dmc's optimizer: the previous gradient and
step of the Barzilai–Borwein rule, the next trial step, the current loss) and
the loop's own scalars and history, plus a fingerprint of the data and of every
option that shapes the trajectory. Resuming from it replays the remaining
iterations exactly: on CPU the final parameters are bitwise those of an
uninterrupted run. It is written with :mod:`dmc.io.archive`: atomically (a
kill during a write leaves the previous checkpoint intact), with checksums, and
without pickle.

A kill during a write leaves the write's temporary file (``.NAME.xxxxxxxx.tmp``
next to the checkpoint): the next fit on the same checkpoint removes such files
when it starts and before each save. A checkpoint of another fit is never
overwritten, not even one moved into place while the fit runs: each save first
reads the fingerprint of whatever is at the path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings

import numpy as np
import torch

from ..exceptions import FileFormatError
from ..io import archive
from .observations import Observations

logger = logging.getLogger(__name__)

__all__ = ["Checkpoint", "fingerprint"]

KIND = "checkpoint"


def fingerprint(obs: Observations, options: dict) -> str:
    """SHA-256 of the observed entries and of the options that shape the trajectory."""
    digest = hashlib.sha256()
    digest.update(json.dumps(list(obs.shape)).encode())
    for array in (obs.rows, obs.cols, obs.values):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps(options, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


class Checkpoint:
    """Where and how often the training loop saves its state.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file, a regular file or a new name in an existing folder
        (checked here, before any training). If it exists and holds a checkpoint
        of the same data and options, training resumes from it; if it holds
        another fit, or anything else, a ValueError is raised rather than
        overwriting it, at the start or at any save.
    every : int
        Save after every ``every`` iterations, and once more when training stops.
    fingerprint : str
        Identifies the data and options (see :func:`fingerprint`).
    options : dict
        The options, stored for the error message when the fingerprint differs.
    """

    def __init__(self, path, every: int, fingerprint: str, options: dict):
        self.path = archive.writable_path(path, "checkpoint")
        self.every = every
        self.fingerprint = fingerprint
        self.options = options

    def due(self, iteration: int) -> bool:
        return iteration % self.every == 0

    def save(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, meta: dict) -> None:
        """Write the model, its gradients, the optimizer and the loop's ``meta``.

        Refuses (ValueError) when the file now at the path is not a checkpoint of
        this fit: another fit's, moved there while this one ran, or any other file.
        """
        self._check_not_foreign()
        self._remove_stale_temporaries()
        arrays = {}
        for name, tensor in model.state_dict().items():
            arrays[f"model.{name}"] = _numpy(tensor)
        for name, p in model.named_parameters():
            if p.grad is not None:
                arrays[f"grad.{name}"] = _numpy(p.grad)
        tree = _to_tree(optimizer.state_dict(), arrays, "optimizer")
        meta = dict(meta, optimizer=tree, fingerprint=self.fingerprint, options=self.options)
        archive.write_archive(self.path, KIND, meta, arrays, param="checkpoint")

    def load(
        self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, max_iter: int | None = None
    ) -> dict | None:
        """Restore ``model`` and ``optimizer`` from the file; return the loop's ``meta``.

        None when there is no checkpoint file yet (nothing is changed). Temporary
        files that a killed write left behind are removed first. A saved fit of
        more than ``max_iter`` iterations comes back whole, with a UserWarning:
        ``max_iter`` does not shorten a fit that was saved.
        """
        self._remove_stale_temporaries()
        if not os.path.lexists(self.path):
            return None
        meta, arrays, _ = archive.read_archive(self.path, KIND, param="checkpoint")
        if meta.get("fingerprint") != self.fingerprint:
            stored = meta.get("options", {})
            changed = sorted(
                key
                for key in set(stored) | set(self.options)
                if stored.get(key, "<missing>") != self.options.get(key, "<missing>")
            )
            what = f"the options {changed}" if changed else "the observed data"
            raise ValueError(
                f"The 'checkpoint' parameter points to {str(self.path)!r}, a checkpoint of "
                f"another fit ({what} differ). Pass another path, or delete the file to "
                "start afresh."
            )
        state = model.state_dict()
        for name, tensor in state.items():
            value = arrays.get(f"model.{name}")
            if value is None or tuple(value.shape) != tuple(tensor.shape):
                raise ValueError(
                    f"The checkpoint does not match the model: {name} has shape "
                    f"{None if value is None else value.shape}, expected {tuple(tensor.shape)}."
                )
        with torch.no_grad():
            for name, tensor in state.items():
                tensor.copy_(torch.from_numpy(arrays[f"model.{name}"]))
        for name, p in model.named_parameters():
            grad = arrays.get(f"grad.{name}")
            p.grad = None if grad is None else torch.from_numpy(grad).to(p.device, p.dtype)
        optimizer.load_state_dict(_from_tree(meta["optimizer"], arrays))
        if max_iter is not None and meta["n_iter"] > max_iter:
            warnings.warn(
                f"The checkpoint {str(self.path)!r} holds a fit of {meta['n_iter']} iterations, "
                f"more than max_iter={max_iter}: that fit is returned as it is (max_iter does "
                "not shorten a saved fit). Delete the file, or pass another 'checkpoint', to "
                f"fit {max_iter} iterations afresh.",
                UserWarning,
                stacklevel=4,
            )
        return meta

    def _check_not_foreign(self) -> None:
        """Refuse to overwrite anything at the path but a checkpoint of this fit."""
        if not os.path.lexists(self.path):
            return
        try:
            meta = archive.read_archive(self.path, KIND, param="checkpoint", arrays=False)[0]
            ours = meta.get("fingerprint") == self.fingerprint
        except (FileFormatError, ValueError, OSError):
            ours = False
        if not ours:
            raise ValueError(
                f"The 'checkpoint' parameter points to {str(self.path)!r}, which no longer "
                "holds a checkpoint of this fit: another file (another fit's checkpoint?) was "
                "put there while it ran. It is not overwritten. Move it away, or pass another "
                "path, and run the fit again."
            )

    def _remove_stale_temporaries(self) -> None:
        for stale in archive.stale_temporaries(self.path):
            try:
                stale.unlink()
            except FileNotFoundError:
                continue
            logger.info("removed %s, left by an interrupted checkpoint write", stale)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _to_tree(value, arrays: dict, key: str):
    """``value`` as JSON, with its tensors moved to ``arrays`` under dotted keys.

    Dicts keep their keys' types (the optimizer's state is keyed by int).
    """
    if isinstance(value, torch.Tensor):
        arrays[key] = _numpy(value)
        return {"$tensor": key}
    if isinstance(value, dict):
        return {
            "$dict": [[k, _to_tree(v, arrays, f"{key}.{k}")] for k, v in value.items()],
        }
    if isinstance(value, (list, tuple)):
        return [_to_tree(v, arrays, f"{key}.{i}") for i, v in enumerate(value)]
    return value


def _from_tree(node, arrays: dict):
    if isinstance(node, dict) and "$tensor" in node:
        return torch.from_numpy(arrays[node["$tensor"]])
    if isinstance(node, dict) and "$dict" in node:
        return {k: _from_tree(v, arrays) for k, v in node["$dict"]}
    if isinstance(node, list):
        return [_from_tree(v, arrays) for v in node]
    return node
