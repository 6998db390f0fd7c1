"""The core's own import rules, read from the source with ``ast`` (imports inside functions too):
no circle between core modules, no private name imported from the core, and modules and functions
small enough to hold in mind. Each rule has a planted violation as its negative control."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "matviz"
CORE = PACKAGE / "core"
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 800, 100


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, known: set[str]) -> set[str]:
    """The modules in ``known`` that ``tree`` imports: ``from a.b import c`` is ``a.b.c`` when that
    is a module, else ``a.b``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return found & known


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle reachable in ``graph`` (module -> modules it imports), each as a path."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def core_graph() -> dict[str, set[str]]:
    paths = sorted(CORE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(ast.parse(p.read_text()), known) for p in paths}


def private_imports(tree: ast.AST, prefix: str = "matviz.core") -> list[str]:
    """``from matviz.core... import _x``, and ``alias._x`` on a module imported from the core."""
    found, aliases = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            aliases |= {a.asname or a.name for a in node.names}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_core_imports_make_no_circle():
    graph = core_graph()
    assert "matviz.core.values" in graph["matviz.core.operand"]  # the reader sees the imports
    assert circles(graph) == []


def test_core_import_circle_detector_sees_a_planted_circle():
    graph = core_graph()
    graph["matviz.core.values"] = graph["matviz.core.values"] | {"matviz.core.operand"}  # values -> operand -> values
    assert any("matviz.core.values" in c and "matviz.core.operand" in c for c in circles(graph))


def test_no_private_name_is_imported_from_the_core():
    found = {
        str(p.relative_to(ROOT)): private_imports(ast.parse(p.read_text()))
        for p in sorted(PACKAGE.rglob("*.py"))
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_private_import_detector_sees_planted_imports():
    planted = "from matviz.core.expr import _bind, parse\nfrom matviz.core import transforms as _tf\n_tf._kernel(1)\n"
    assert private_imports(ast.parse(planted)) == ["matviz.core.expr._bind", "_tf._kernel"]


def oversized(path: Path) -> list[str]:
    text = path.read_text()
    found = [f"{path.name}: {len(text.splitlines())} lines"] if len(text.splitlines()) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_core_modules_and_functions_stay_small():
    assert [f for p in sorted(CORE.rglob("*.py")) for f in oversized(p)] == []


def test_size_check_sees_a_planted_long_function(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def long():\n" + "    x = 1\n" * MAX_FUNCTION_LINES + "    return x\n")
    assert oversized(planted) == [f"planted.py:1 long: {MAX_FUNCTION_LINES + 2} lines"]
