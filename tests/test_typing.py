"""Every public signature carries type hints (issue 15); mypy checks them in CI (.ci/run)."""

import importlib
import inspect

PACKAGES = ("dmc", "dmc.impute", "dmc.recommend", "dmc.core", "dmc.data", "dmc.io")


def _public_callables():
    seen = set()
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
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


def test_every_public_signature_is_annotated():
    missing = []
    for where, func in _public_callables():
        signature = inspect.signature(func)
        for p in signature.parameters.values():
            if p.name in ("self", "cls") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{where}({p.name})")
        if signature.return_annotation is inspect.Signature.empty and func.__name__ != "__init__":
            missing.append(f"{where} -> ?")
    assert not missing, missing
