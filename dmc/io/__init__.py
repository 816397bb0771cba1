"""Files: the safe archive format (:mod:`~dmc.io.archive`) and saving and loading
fitted models of the classes registered with :func:`storable`
(:mod:`~dmc.io.persistence`)."""

from . import archive
from .persistence import load, save, storable

__all__ = ["archive", "load", "save", "storable"]
