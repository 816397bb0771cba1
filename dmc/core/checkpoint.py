"""Checkpoints of a running fit, so that a killed fit resumes where it stopped.

A checkpoint holds everything the training loop carries from one iteration to
the next (parameters, their gradient, the previous gradient and step of the
Barzilai–Borwein rule, the next trial step, the history) plus a fingerprint of
the data and of every option that shapes the trajectory. Resuming from it
replays the remaining iterations exactly: on CPU the final parameters are
bitwise those of an uninterrupted run. It is written with :mod:`dmc._io`:
atomically (a kill during a write leaves the previous checkpoint intact), with
checksums, and without pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

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

    def save(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        meta = dict(meta, fingerprint=self.fingerprint, options=self.options)
        archive.write_archive(self.path, KIND, meta, arrays)

    def load(self) -> tuple[dict, dict[str, np.ndarray]] | None:
        """The saved state, or None when there is no checkpoint file yet."""
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
        return meta, arrays
