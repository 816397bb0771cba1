"""What the command line needs before it imports the library: choices read on first
use, the claims and grids of ``dmc reproduce``, and the checks of its own options.

Nothing here imports torch: ``dmc --help`` and a refused option answer at once.
The library checks the values it receives (``--rank``, ``--fraction``, the grid
options, ...) with messages that name them; the checks here cover what only the
command line has: options whose value the library never sees as such (``--size``
of the claims with a default size, ``--seed``) and the output paths, checked
before any fit rather than after it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

__all__ = ["LazyChoices", "check_at_least", "check_output_dir", "check_output_file"]

#: the claims of ``dmc reproduce all``, and the two grids that it leaves out (minutes each)
CLAIMS = ("fixed-step", "rank-sweep", "parsimony")
GRID_CLAIMS = ("phase-transition", "depth")

#: rows = columns of each claim when ``--size`` is not given
DEFAULT_SIZES = {"fixed-step": 300, "rank-sweep": 1000, "parsimony": 60}

#: the grids of the two grid claims: full size, and --quick (a smoke test, seconds);
#: an option given on the command line overrides either
GRIDS = {
    "phase-transition": dict(
        full=dict(
            size=500,
            rank=5,
            seeds=3,
            kappas=[1.0, 10.0],
            rank_factors=[1, 2],
            rhos=[1.5, 2.0, 2.5, 3.0, 4.0, 6.0],
        ),
        quick=dict(
            size=60, rank=2, seeds=1, kappas=[1.0, 10.0], rank_factors=[1, 2], rhos=[2.0, 4.0]
        ),
    ),
    "depth": dict(
        full=dict(
            size=100,
            rank=5,
            seeds=3,
            samples=[2000, 5000],
            depths=[2, 3, 4, 5],
            methods=["original", "compressed"],
        ),
        quick=dict(
            size=30,
            rank=2,
            seeds=1,
            samples=[200, 450],
            depths=[2, 3],
            methods=["original", "compressed"],
        ),
    ),
}
GRID_OPTIONS = ("seeds", "rank", "max_iter", "quick", "json")


class LazyChoices(Sequence):
    """argparse choices read from the library when first needed, not when the parser is
    built: listing the methods imports torch, which ``dmc --help`` does not need.

    Give the argument a ``metavar`` (argparse lists the choices of one without it as
    soon as the argument is added).
    """

    def __init__(self, load: Callable[[], Sequence[str]]):
        self._load = load
        self._values: tuple[str, ...] | None = None

    def _get(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(self._load())
        return self._values

    def __getitem__(self, index):
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, value) -> bool:
        return value in self._get()

    def __iter__(self):
        return iter(self._get())


def _methods():
    from ..core.complete import METHODS

    return METHODS


def _formats():
    from ..data.readers import FORMATS

    return FORMATS


def _duplicates():
    from ..core.observations import DUPLICATES

    return DUPLICATES


METHODS = LazyChoices(_methods)
FORMATS = LazyChoices(_formats)
DUPLICATES = LazyChoices(_duplicates)


def option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_at_least(args, low: int, *dests: str) -> None:
    """Each of the int options ``dests`` that was given must be ≥ ``low``."""
    for dest in dests:
        value = getattr(args, dest, None)
        if value is not None and value < low:
            raise ValueError(
                f"The '{option(dest)}' option must be an int ≥ {low}. Got {value} instead."
            )


def check_finite(args, *dests: str) -> None:
    for dest in dests:
        value = getattr(args, dest, None)
        if value is not None and not math.isfinite(value):
            raise ValueError(
                f"The '{option(dest)}' option must be a finite number. Got {value} instead."
            )


def check_output_file(path, name: str) -> None:
    """``path`` can be written: not empty, not a folder, in an existing writable folder.

    Checked before any work, so that a long fit never ends in an unwritable output.
    Nothing is created.
    """
    if not path:
        raise ValueError(f"The '{name}' option must name a file. Got {path!r} instead.")
    if os.path.isdir(path):
        raise ValueError(f"The '{name}' option must name a file. Got {path!r}, a folder, instead.")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(
            f"The '{name}' option must name a file in an existing folder. Got {path!r} "
            f"instead: there is no folder {folder!r}."
        )
    if not os.access(folder, os.W_OK):
        raise ValueError(
            f"The '{name}' option must name a file in a folder you can write to. Got {path!r} "
            f"instead: {folder!r} is not writable."
        )


def check_output_dir(path, name: str = "--output-dir") -> None:
    """``path`` is a folder, or can be made one (it is made when the first file is written)."""
    if not path:
        raise ValueError(f"The '{name}' option must name a folder. Got {path!r} instead.")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(
            f"The '{name}' option must name a folder. Got {path!r} instead: {existing!r} is a file."
        )
    if not os.access(existing, os.W_OK):
        raise ValueError(
            f"The '{name}' option must name a folder you can write to. Got {path!r} instead: "
            f"{existing!r} is not writable."
        )
