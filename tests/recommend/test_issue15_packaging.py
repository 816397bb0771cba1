"""Issue 15: typing and packaging. One version (pyproject.toml's, read through
importlib.metadata), a PEP 561 ``py.typed`` marker installed with the package,
loggers named by module under the "dmc" parent, and type hints on every public
signature of dmc.recommend and of the new plot functions."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dmc

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dmc"


def test_the_version_is_pyprojects_read_through_the_metadata():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (version,) = re.findall(r'^version = "([^"]+)"$', pyproject, flags=re.M)
    assert dmc.__version__ == importlib.metadata.version("dmc") == version
    assert "__version__" in dir(dmc)


def test_no_version_is_written_by_hand_in_the_package():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                assert "__version__" not in names, f"{path}: __version__ written by hand"


def test_reading_the_version_keeps_import_dmc_light():
    code = (
        "import sys, dmc; v = dmc.__version__; "
        "print(v, 'torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, torch_loaded, sklearn_loaded = out.stdout.split()
    assert version == importlib.metadata.version("dmc")
    assert (torch_loaded, sklearn_loaded) == ("False", "False")


def test_py_typed_is_in_the_package_and_in_its_package_data():
    assert (PACKAGE / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^dmc = \[[^]]*"py\.typed"', section, flags=re.M)


def _logger_calls(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "getLogger"
        ):
            yield node


def test_loggers_are_named_by_module():
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for call in _logger_calls(path):
            checked += 1
            args = call.args
            assert len(args) == 1 and isinstance(args[0], ast.Name) and args[0].id == "__name__", (
                f"{rel}:{call.lineno}: getLogger must be given __name__"
            )
    assert checked >= 8


def test_module_loggers_reach_the_dmc_logger(caplog):
    rng = np.random.default_rng(0)
    pairs = rng.permutation(600)[:300]
    with caplog.at_level(logging.INFO, logger="dmc"):
        dmc.RatingsModel(rank=2, max_iter=5, random_state=0).fit(
            pairs // 20, pairs % 20, rng.integers(1, 6, 300).astype(float)
        )
    names = {r.name for r in caplog.records if "fitted 300 ratings" in r.getMessage()}
    assert names == {"dmc.recommend.model"}


# -- type hints ---------------------------------------------------------------------------


def _recommend_modules():
    for path in sorted((PACKAGE / "recommend").glob("*.py")):
        name = "dmc.recommend" if path.stem == "__init__" else f"dmc.recommend.{path.stem}"
        yield importlib.import_module(name)


# every public signature is annotated: tests/test_typing.py


@pytest.mark.parametrize("module", list(_recommend_modules()), ids=lambda m: m.__name__)
def test_annotations_of_dmc_recommend_resolve(module):
    # the hints name real objects: typing.get_type_hints evaluates them
    import typing

    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            typing.get_type_hints(obj)
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for member in vars(obj).values():
                if inspect.isfunction(member):
                    typing.get_type_hints(member)
