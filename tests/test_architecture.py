"""The package's structure: no import cycle, no private name imported across modules.

Read from the source with ``ast`` (no import, no extra dependency):

* the graph of module-level imports between modules of ``ntk_toolkit`` has
  no cycle (an import inside a function runs later and cannot take part in
  an import-time cycle);
* outside ``ntk_toolkit/_kernels/`` no module imports a private name
  (``_name``) of another module, at any depth. Private *modules*
  (``from . import _lazy``, ``from ._jit import threads_for``) are fine:
  they are the package's own internals; their underscore-free names are
  their interface.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import ntk_toolkit

ROOT = pathlib.Path(ntk_toolkit.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module ``node`` imports from, inside ``module``."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, top_level_only: bool):
    """``(imported module, names, lineno)`` for each import in ``module`` that targets ntk_toolkit."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if target.split(".")[0] == "ntk_toolkit":
                yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ntk_toolkit":
                    yield alias.name, [], node.lineno


def _edges(module: str) -> set[str]:
    """Modules of the package that ``module`` needs at import time."""
    out = set()
    for target, names, _ in _imports(module, top_level_only=True):
        for name in names:  # `from . import x` imports the submodule x
            if f"{target}.{name}" in MODULES:
                out.add(f"{target}.{name}")
        if target in MODULES:
            out.add(target)
    out.discard(module)
    return out


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _package_edge(module: str, target: str) -> bool:
    """A package importing its own submodules (or a submodule its package) is how packages work, not a cycle."""
    return target.startswith(module + ".") and _is_package(module)


def test_no_import_cycle_inside_the_package():
    graph = {m: {t for t in _edges(m) if not _package_edge(m, t)} for m in MODULES}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("ntk_toolkit._kernels")))
def test_no_private_name_is_imported_from_another_module(module):
    offenders = []
    for target, names, lineno in _imports(module, top_level_only=False):
        for name in names:
            if name.startswith("_") and not name.startswith("__") and f"{target}.{name}" not in MODULES:
                offenders.append(f"line {lineno}: from {target} import {name}")
    assert not offenders, f"{module} imports private names of other modules: {offenders}"


def test_the_private_name_rule_sees_a_private_import(tmp_path, monkeypatch):
    fake = ROOT / "_fake_for_test.py"
    monkeypatch.setitem(MODULES, "ntk_toolkit._fake_for_test", tmp_path / "m.py")
    (tmp_path / "m.py").write_text("def f():\n    from .kernels import _channel_block\n    from . import _lazy\n")
    found = [(t, n) for t, n, _ in _imports("ntk_toolkit._fake_for_test", top_level_only=False)]
    assert found == [("ntk_toolkit.kernels", ["_channel_block"]), ("ntk_toolkit", ["_lazy"])]
    assert not fake.exists()
