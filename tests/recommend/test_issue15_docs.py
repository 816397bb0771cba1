"""Issue 15: the examples of docs/interfaces.md and the new ones of docs/ratings.md run
as shown (in a temporary folder, with the logging levels they set put back)."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import pytest

import dmc

ROOT = Path(__file__).resolve().parents[2]


def _blocks(name: str) -> list[str]:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _run(block: str, tmp_path, monkeypatch) -> dict:
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    names = ("dmc", "dmc.core.training")
    levels = {name: logging.getLogger(name).level for name in names}
    namespace: dict = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dmc.ConvergenceWarning)
            exec(compile(block, "docs", "exec"), namespace)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    return namespace


INTERFACES = _blocks("interfaces.md")


def test_interfaces_doc_has_an_example_per_section():
    assert len(INTERFACES) == 4


@pytest.mark.parametrize(
    "block", INTERFACES, ids=["recommend", "cross_validate", "plots", "version"]
)
def test_interfaces_examples_run(block, tmp_path, monkeypatch):
    namespace = _run(block, tmp_path, monkeypatch)
    if "plots.save" in block:
        assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if "cross_validate(" in block:
        assert len(namespace["table"]) == 3


def test_ratings_doc_examples_of_issue_15_run(tmp_path, monkeypatch):
    blocks = [b for b in _blocks("ratings.md") if "recommend_batch" in b or "cross_validate" in b]
    assert len(blocks) == 2
    for block in blocks:
        _run(block, tmp_path, monkeypatch)
