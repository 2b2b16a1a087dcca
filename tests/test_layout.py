"""The shape of compiler/ that keeps it readable (#12): short modules, short functions,
imports that flow one way. Measured from the source, so it cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compiler"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def test_no_module_is_over_500_lines() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _function_lengths(path: Path, root: Path = PACKAGE.parent) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring says why; it is not logic
            if not body:
                continue
            # A function whose body returns one literal is a data table, not logic.
            if (
                len(body) == 1
                and isinstance(body[0], ast.Return)
                and isinstance(body[0].value, ast.Dict | ast.List | ast.Tuple | ast.Set)
            ):
                continue
            lines = body[-1].end_lineno - node.lineno + 1  # type: ignore[operator]
            if lines > MAX_FUNCTION_LINES:
                found.append((f"{path.relative_to(root)}:{node.lineno} {node.name}", lines))
    return found


def test_no_function_is_over_60_lines() -> None:
    long = [item for path in MODULES.values() for item in _function_lengths(path)]
    assert long == []


def _imports(name: str, path: Path) -> set[str]:
    """Every compiler module this one imports, at module level or inside a function
    (an import deferred into a function is still a dependency)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` depends on pkg.sub; `from pkg import name` on pkg.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _cycles() -> list[list[str]]:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    # A package's face (__init__) importing its own children is not a cycle of
    # dependence: children may import siblings, never the face.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_measures_can_fail(tmp_path: Path) -> None:
    """A 61-line function is caught, a 60-line one and a returned table are not."""
    body = "\n".join(f"    x{i} = {i}" for i in range(58))  # with def and return: 60
    table = "\n".join(f"        {i}: {i}," for i in range(80))
    source = (
        f"def long():\n{body}\n    x = 0\n    return x\n\n"
        f"def fits():\n{body}\n    return 0\n\n"
        f"def table():\n    return {{\n{table}\n    }}\n"
    )
    (tmp_path / "probe.py").write_text(source)
    found = _function_lengths(tmp_path / "probe.py", root=tmp_path)
    assert [name.split()[-1] for name, _ in found] == ["long"]
