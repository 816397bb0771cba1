"""Files: the safe archive format (:mod:`~dmc.io.archive`), what a file of each kind
must hold (:mod:`~dmc.io.schemas`), and saving and loading fitted models of the
classes registered with :func:`storable` (:mod:`~dmc.io.persistence`).

:func:`load` finds the class of a file among the registered ones: import the
module that defines it first (``dmc.load``, or the first use of any name of
``dmc``, imports every class dmc ships)."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

#: public name -> (module, attribute; None: the module itself), imported on first use
_EXPORTS = {
    "archive": (".archive", None),
    "load": (".persistence", "load"),
    "save": (".persistence", "save"),
    "storable": (".persistence", "storable"),
}

__all__ = ["archive", "load", "save", "storable"]

if TYPE_CHECKING:  # what the first use imports (for type checkers and tests/test_layout.py)
    from . import archive
    from .persistence import load, save, storable


def __getattr__(name: str):
    """Import a public name, or a module of this package, on first use (PEP 562)."""
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = importlib.import_module(module, __name__)
        value = value if attribute is None else getattr(value, attribute)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
