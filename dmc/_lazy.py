"""Lazy public names for dmc's sub-packages (PEP 562): imported on first use.

``import dmc`` stays light: a sub-package's ``__init__`` lists its public names
and where they live, and :func:`lazy_exports` gives it the module-level
``__getattr__`` and ``__dir__`` that import each on first use.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict, public: list[str]):
    """``(__getattr__, __dir__)`` for ``package``.

    ``exports`` maps a public name to ``(module, attribute)``, the module relative
    to ``package`` and ``attribute`` None for the module itself. Any other
    submodule of ``package`` is imported on first use too.
    """

    def __getattr__(name: str):
        if name in exports:
            module, attribute = exports[name]
            value = importlib.import_module(module, package)
            value = value if attribute is None else getattr(value, attribute)
        elif not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}"):
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *public})

    return __getattr__, __dir__
