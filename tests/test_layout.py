"""The package's layout: stages in pipeline order, small functions, no cycles.

docs/architecture.md describes the order; these tests keep the code to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PKG = REPO / "qemu_lint"

#: The stages in pipeline order; a module may import only from its own stage
#: or an earlier one.  Foundations come first: every stage uses them.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "source", "facts", "settings", "rule"),
    ("discover",),
    ("frontends",),
    ("cache",),
    ("build",),
    ("model",),
    ("select",),
    ("rules",),
    ("findings",),
    ("fix",),
    ("engine",),
    ("audit",),
    ("report",),
    ("cli", "__main__"),
)
RANK = {name: n for n, names in enumerate(LAYERS) for name in names}
MAX_TOP_MODULES = 8
MAX_FUNCTION_LINES = 80


def _modules() -> list[tuple[str, Path]]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        parts = p.relative_to(PKG).with_suffix("").parts
        out.append((".".join(("qemu_lint", *parts)).removesuffix(".__init__"), p))
    return out


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    """The qemu_lint modules ``path`` imports (``from pkg import sub`` is ``pkg.sub``)."""
    known = {m for m, _ in _modules()}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("qemu_lint.")}


def test_every_stage_has_a_rank() -> None:
    stages = {_stage(m) for m, _ in _modules()} - {None}
    assert stages <= set(RANK), sorted(stages - set(RANK))


def test_no_module_imports_a_later_stage() -> None:
    wrong = []
    for module, path in _modules():
        own = _stage(module)
        if own is None:  # qemu_lint/__init__.py: the version only
            continue
        for imported in _imports(path):
            other = _stage(imported)
            if other in RANK and RANK[other] > RANK[own]:
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle_between_modules() -> None:
    known = {m for m, _ in _modules()}
    graph = {m: {i for i in _imports(p) if i in known and i != m} for m, p in _modules()}
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [n for n, _ in stack] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(graph[nxt]))))
        return None

    for m in sorted(graph):
        if m not in state:
            found = cycle_from(m)
            assert found is None, " -> ".join(found)


def test_top_level_holds_only_single_module_stages() -> None:
    top = [p.stem for p in PKG.glob("*.py") if p.stem not in ("__init__", "__main__")]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)


def test_no_function_is_over_80_lines() -> None:
    long = []
    for _, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.name} ({n} lines)")
    assert not long, "\n".join(long)


def test_settings_import_no_later_stage() -> None:
    assert {_stage(m) for m in _imports(PKG / "settings.py")} <= {"errors"}


def test_every_folder_is_a_regular_package() -> None:
    # A folder without __init__.py is a namespace package, which setuptools'
    # find_packages leaves out of a (non-editable) install.
    folders = {p.parent for p in PKG.rglob("*.py")}
    assert (
        sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").exists()) == []
    )
