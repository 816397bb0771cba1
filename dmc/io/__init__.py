"""Files: the safe archive format (:mod:`~dmc.io.archive`), what a file of each kind
must hold (:mod:`~dmc.io.schemas`), and saving and loading fitted models of the
classes registered with :func:`storable` (:mod:`~dmc.io.persistence`).

:func:`load` finds the class of a file among the registered ones: import the
module that defines it first (``dmc.load``, or the first use of any name of
``dmc``, imports every class dmc ships)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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


# import a public name, or a module of this package, on first use (PEP 562)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
