"""Every public signature carries type hints (issue 15); mypy checks them in CI (.ci/run)."""

import importlib
import inspect
from pathlib import Path

import dmc.recommend

PACKAGES = ("dmc", "dmc.impute", "dmc.recommend", "dmc.core", "dmc.data", "dmc.io")


def _modules():
    """The sub-packages' front doors, and every module of dmc.recommend (whose
    modules' own public names are used directly)."""
    yield from (importlib.import_module(name) for name in PACKAGES)
    for path in sorted(Path(dmc.recommend.__file__).parent.glob("*.py")):
        if path.stem != "__init__":
            yield importlib.import_module(f"dmc.recommend.{path.stem}")


def _public_callables():
    seen = set()
    for module in _modules():
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.ismodule(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                yield f"{obj.__module__}.{attr}", obj
            elif inspect.isclass(obj):
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("dmc"):
                        continue
                    for key, member in vars(klass).items():
                        if key.startswith("_") and key != "__init__":
                            continue
                        if isinstance(member, (classmethod, staticmethod)):
                            member = member.__func__
                        if isinstance(member, property):
                            member = member.fget
                        if inspect.isfunction(member):
                            yield f"{klass.__module__}.{klass.__name__}.{key}", member
    from dmc.reproduce import plots

    for name in ("training_curve", "rank_search_curve"):
        yield f"dmc.reproduce.plots.{name}", getattr(plots, name)


def test_every_public_signature_is_annotated():
    missing, seen = [], 0
    for where, func in _public_callables():
        seen += 1
        signature = inspect.signature(func)
        for p in signature.parameters.values():
            if p.name in ("self", "cls") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{where}({p.name})")
        if signature.return_annotation is inspect.Signature.empty and func.__name__ != "__init__":
            missing.append(f"{where} -> ?")
    assert seen > 100
    assert not missing, missing
