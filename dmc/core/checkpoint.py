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
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..io import archive
from .observations import Observations

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
        The checkpoint file. If it exists and holds a checkpoint of the same data
        and options, training resumes from it; if it holds another fit, a
        ValueError is raised rather than overwriting it.
    every : int
        Save after every ``every`` iterations, and once more when training stops.
    fingerprint : str
        Identifies the data and options (see :func:`fingerprint`).
    options : dict
        The options, stored for the error message when the fingerprint differs.
    """

    def __init__(self, path, every: int, fingerprint: str, options: dict):
        self.path = Path(os.fspath(path))
        self.every = every
        self.fingerprint = fingerprint
        self.options = options

    def due(self, iteration: int) -> bool:
        return iteration % self.every == 0

    def save(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, meta: dict) -> None:
        """Write the model, its gradients, the optimizer and the loop's ``meta``."""
        arrays = {}
        for name, tensor in model.state_dict().items():
            arrays[f"model.{name}"] = _numpy(tensor)
        for name, p in model.named_parameters():
            if p.grad is not None:
                arrays[f"grad.{name}"] = _numpy(p.grad)
        tree = _to_tree(optimizer.state_dict(), arrays, "optimizer")
        meta = dict(meta, optimizer=tree, fingerprint=self.fingerprint, options=self.options)
        archive.write_archive(self.path, KIND, meta, arrays)

    def load(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict | None:
        """Restore ``model`` and ``optimizer`` from the file; return the loop's ``meta``.

        None when there is no checkpoint file yet (nothing is changed).
        """
        if not self.path.exists():
            return None
        meta, arrays, _ = archive.read_archive(self.path, KIND)
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
        return meta


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
