"""The package's shape: no import cycles, no huge modules, imports flow one way.

The import graph is read from the source with :mod:`ast`, so an import inside a
function counts as much as one at the top of the module: deferring an import
hides a cycle from the interpreter, not from the design.

How an import becomes edges of the graph (``A`` is the importing module):

* ``import dmc.x.y`` and ``from dmc.x import y`` (or the relative forms) name
  the module ``dmc.x.y`` when ``dmc/x/y.py`` (or ``dmc/x/y/__init__.py``) exists,
  and otherwise the package ``dmc.x``, i.e. its ``__init__``, whose body runs
  and whose re-exports pull in whatever it imports;
* importing ``dmc.x.y`` first runs the ``__init__`` of every package above it:
  those are edges too, except for the packages that also contain ``A``. They
  are already initialising when ``A`` runs (Python imports a package before
  its modules), so counting them would put every module in a cycle with its
  own package. An import that *names* one of ``A``'s own packages
  (``from . import name``, ``import dmc``) does run that ``__init__``'s
  imports, and it is counted;
* ``importlib.import_module("dmc....")`` with a constant string counts too, and
  so does an import under ``if TYPE_CHECKING:``: a layer that needs a higher
  layer's names to describe itself depends on it.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "dmc"

MAX_LINES = 700

#: Layer of every module, bottom (0) to top, by its longest matching prefix. A
#: module may import its own layer and the layers below it, never one above,
#: not even inside a function. ``dmc`` itself (``dmc/__init__.py``) is the public
#: namespace: it re-exports from every layer up to impute and recommend, so it
#: ranks just above them, and only reproduce and cli may import it.
LAYERS = {
    "dmc.exceptions": 0,
    "dmc._validation": 0,
    "dmc._lazy": 0,
    "dmc.io": 1,
    "dmc.core": 2,
    "dmc.data": 3,
    "dmc.impute": 4,
    "dmc.recommend": 4,
    "dmc": 5,  # dmc/__init__.py only (exact match)
    "dmc.reproduce": 6,
    "dmc.cli": 7,
}

LAYER_NAMES = {
    0: "exceptions/_validation",
    1: "io",
    2: "core",
    3: "data",
    4: "impute/recommend",
    5: "the dmc namespace",
    6: "reproduce",
    7: "cli",
}


# -- reading the graph ---------------------------------------------------------


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file for every ``.py`` file under ``root`` (the package dir)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``: the packages whose ``__init__`` runs first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve_base(module: str, level: int, target: str | None, modules) -> str:
    """The absolute name that ``from <level dots><target> import ...`` refers to."""
    if level == 0:
        return target or ""
    package = module if _is_package(module, modules) else module.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 > len(parts) - 1:
        raise ValueError(f"{module}: relative import beyond the top-level package")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{target}" if target else base


def _known(name: str, modules) -> str | None:
    """``name`` if it is a module, else its nearest enclosing module (a package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(node: ast.AST, module: str, modules) -> list[str]:
    """Modules (of ``modules``) that one import statement or call names."""
    if isinstance(node, ast.Import):
        return [m for alias in node.names if (m := _known(alias.name, modules))]
    if isinstance(node, ast.ImportFrom):
        base = _resolve_base(module, node.level, node.module, modules)
        found = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if alias.name != "*" and sub in modules:
                found.append(sub)
            elif (m := _known(base, modules)) is not None:
                found.append(m)
        return found
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, (ast.Attribute, ast.Name))
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in ("import_module", "__import__")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        m = _known(node.args[0].value, modules)
        return [m] if m else []
    return []


def import_graph(root: Path = ROOT, package: str = "dmc") -> dict[str, dict[str, int]]:
    """Module -> {imported module: line of the first such import}, as described above."""
    modules = find_modules(root, package)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        own = set(_ancestors(module))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _imported_names(node, module, modules):
                implied = [a for a in _ancestors(target) if a not in own]
                for t in (*implied, target):
                    if t != module:
                        edges.setdefault(t, node.lineno)
        graph[module] = edges
    return graph


# -- cycles ------------------------------------------------------------------------


def strongly_connected(graph) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def shortest_cycle(graph, component: list[str], start: str) -> list[str]:
    """A shortest cycle through ``start`` inside ``component``, as a closed path."""
    inside = set(component)
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, ())):
            if child == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [*path[::-1], start]
            if child in inside and child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start} in {component}")  # pragma: no cover


def find_cycles(graph) -> list[list[str]]:
    """Cycles as closed paths, e.g. ``[a, b, a]``: for every module caught in one, a
    shortest cycle through it (each cycle once, starting at its first module in
    sorted order). Together they cover every module and show every way around."""
    cycles = []
    for component in strongly_connected(graph):
        seen = set()
        for start in component:
            cycle = shortest_cycle(graph, component, start)[:-1]
            first = cycle.index(min(cycle))
            cycle = cycle[first:] + cycle[:first]
            if tuple(cycle) not in seen:
                seen.add(tuple(cycle))
                cycles.append([*cycle, cycle[0]])
    return cycles


def describe(cycle: list[str], graph) -> str:
    steps = [f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
    return " -> ".join([*steps, cycle[-1]])


# -- the checks ------------------------------------------------------------------


def layer_of(module: str) -> int | None:
    if module == "dmc":
        return LAYERS["dmc"]
    best = None
    for prefix, rank in LAYERS.items():
        if prefix != "dmc" and (module == prefix or module.startswith(prefix + ".")):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, rank)
    return None if best is None else best[1]


def test_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles among dmc's modules (imports inside functions count):\n" + (
        "\n".join("  " + describe(c, graph) for c in cycles)
    )


def test_no_module_over_the_line_limit():
    too_long = {
        name: n
        for name, path in find_modules(ROOT, "dmc").items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them): " + ", ".join(
        f"{name} ({n} lines)" for name, n in sorted(too_long.items())
    )


def test_every_module_has_a_layer():
    missing = [m for m in find_modules(ROOT, "dmc") if layer_of(m) is None]
    assert not missing, f"modules without a layer (add them to LAYERS in {__file__}): {missing}"


def test_imports_flow_one_way():
    graph = import_graph()
    upward = []
    for module, edges in sorted(graph.items()):
        low = layer_of(module)
        for target, line in sorted(edges.items()):
            high = layer_of(target)
            if low is not None and high is not None and high > low:
                upward.append(
                    f"  {module} ({LAYER_NAMES[low]}) imports {target} "
                    f"({LAYER_NAMES[high]}) at line {line}"
                )
    assert not upward, (
        "a lower layer imports a higher one (order: exceptions/_validation -> io -> core "
        "-> data -> impute, recommend -> dmc namespace -> reproduce -> cli):\n" + "\n".join(upward)
    )


# -- the checks check themselves -------------------------------------------------------


def test_cycle_finder_on_small_graphs():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}, "e": {}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert describe(["a", "b", "c", "a"], graph) == "a (line 1) -> b (line 2) -> c (line 3) -> a"
    assert find_cycles({"x": {"y": 1}, "y": {"x": 1}}) == [["x", "y", "x"]]
    assert find_cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {}, "d": {"b": 1}}) == []
    # two separate cycles are both reported
    two = {"a": {"b": 1}, "b": {"a": 1}, "c": {"d": 1}, "d": {"c": 1}}
    assert find_cycles(two) == [["a", "b", "a"], ["c", "d", "c"]]
    # two cycles sharing a module: both ways around are shown
    shared = {"a": {"b": 1, "c": 1}, "b": {"a": 1}, "c": {"a": 1}}
    assert find_cycles(shared) == [["a", "b", "a"], ["a", "c", "a"]]


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_graph_follows_functions_relative_imports_and_reexports(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .other import g\n",
            "pkg/sub/__init__.py": "from .x import f\n",
            # the cycle hides inside a function, behind a relative import
            "pkg/sub/x.py": "def f():\n    from ..other import g\n    return g\n",
            # a name re-exported by pkg.sub's __init__: importing it runs that __init__
            "pkg/other.py": "from .sub import f\n\ndef g():\n    return f\n",
            # normal: a package's modules import each other and their own package
            "pkg/core/__init__.py": "from .m import h\n",
            "pkg/core/m.py": "from . import n\nfrom .n import k\n\ndef h():\n    return k\n",
            "pkg/core/n.py": "import importlib\nk = 1\n",
            "pkg/top.py": "import pkg.core.m\nimportlib.import_module('pkg.sub')\n",
        },
    )
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.other"] == {"pkg.sub": 1}
    assert graph["pkg.sub.x"] == {"pkg.other": 2}
    assert graph["pkg.core.m"] == {"pkg.core.n": 1}
    assert graph["pkg.top"] == {"pkg.core": 1, "pkg.core.m": 1, "pkg.sub": 2}
    assert find_cycles(graph) == [["pkg.other", "pkg.sub", "pkg.sub.x", "pkg.other"]]


def test_an_import_of_another_package_runs_its_init(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a/__init__.py": "from .one import x\n",
            "pkg/a/one.py": "from ..b.two import y\nx = y\n",
            "pkg/b/__init__.py": "from .three import z\n",
            "pkg/b/two.py": "y = 1\n",
            "pkg/b/three.py": "from ..a.one import x\nz = x\n",
        },
    )
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.a.one"] == {"pkg.b": 1, "pkg.b.two": 1}
    # pkg.a.one -> pkg.b (its __init__) -> pkg.b.three -> pkg.a.one, and the same
    # through pkg.a's __init__, which pkg.b.three's import runs first
    assert find_cycles(graph) == [
        ["pkg.a", "pkg.a.one", "pkg.b", "pkg.b.three", "pkg.a"],
        ["pkg.a.one", "pkg.b", "pkg.b.three", "pkg.a.one"],
    ]


def test_layers_cover_the_order():
    assert layer_of("dmc.exceptions") < layer_of("dmc.io.archive") < layer_of("dmc.core.models")
    assert layer_of("dmc.core.models") < layer_of("dmc.data.readers")
    assert layer_of("dmc.data") < layer_of("dmc.impute.estimator") == layer_of("dmc.recommend")
    assert layer_of("dmc.recommend") < layer_of("dmc") < layer_of("dmc.reproduce.plots")
    assert layer_of("dmc.reproduce") < layer_of("dmc.cli.main")
    assert layer_of("dmc.elsewhere") is None


@pytest.mark.parametrize("module", ["dmc", "dmc.core", "dmc.io.archive"])
def test_known_modules_are_in_the_graph(module):
    assert module in import_graph()
