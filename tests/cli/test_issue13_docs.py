"""Issue 13, item 31: the README's examples run as shown (offline, with every name
defined), docs/ratings.md names each quantity once, and no docstring says a thing
twice in a row."""

from __future__ import annotations

import ast
import re
import socket
import warnings
from pathlib import Path

import pytest

import dmc

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _python_blocks(section: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the example used the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_readme_ratings_example_runs_offline_on_a_local_file(tmp_path, monkeypatch, offline):
    (block,) = _python_blocks(_section("Ratings and recommendations"))
    assert "read_ratings(" in block and "fetch_movielens(" not in block
    path = re.search(r'read_ratings\("([^"]+)"', block).group(1)
    # a small file in the layout the example names (u.data: user, item, rating, time)
    pairs = [(u, i) for u in (196, 186, 22, 244, 166, 298) for i in range(230, 250) if (u + i) % 3]
    lines = [f"{u}\t{i}\t{1 + (u * i) % 5}\t881250949" for u, i in pairs if (u, i) != (196, 242)]
    monkeypatch.chdir(tmp_path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        exec(
            compile(
                block.replace(
                    "RatingsModel(random_state=0)", "RatingsModel(rank=2, random_state=0)"
                ),
                "README",
                "exec",
            ),
            namespace,
        )
    assert namespace["model"].predict([196], [242]).shape == (1,)


def test_readme_checkpoint_example_defines_what_it_uses(tmp_path, monkeypatch):
    (block,) = _python_blocks(_section("Long fits: checkpoints"))
    tree = ast.parse(block)
    assigned = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    imported = {
        a.asname or a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for a in node.names
    }
    used = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    assert used <= assigned | imported, sorted(used - assigned - imported)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dmc.ConvergenceWarning)
        exec(compile(block, "README", "exec"), namespace)
    assert (tmp_path / "fit.dmc").is_file()
    assert namespace["result"].n_iter >= 1


def test_ratings_doc_gives_each_symbol_one_meaning():
    text = (ROOT / "docs" / "ratings.md").read_text(encoding="utf-8")
    formula = re.search(r"A rating is predicted as `([^`]+)`", text).group(1)
    terms = [t.strip() for t in re.split(r"[+·]", formula)]
    assert len(terms) == len(set(terms)), formula  # b_i was both a bias and a vector
    model_doc = dmc.RatingsModel.__module__
    module = __import__(model_doc, fromlist=["_"])
    assert formula.replace(" ", "") in module.__doc__.replace(" ", "")


def _sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", flat) if s.strip()]


def test_no_docstring_repeats_the_end_of_a_sentence_as_the_next():
    repeats = []
    for path in sorted((ROOT / "dmc").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                for paragraph in re.split(r"\n\s*\n", doc):
                    sentences = _sentences(paragraph)
                    for a, b in zip(sentences, sentences[1:]):
                        if len(b) > 10 and a.endswith(b.rstrip(".").rstrip() + "."):
                            repeats.append(f"{path.relative_to(ROOT)}: {b!r}")
    assert not repeats, repeats
