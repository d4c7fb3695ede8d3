"""Stage 4 (model): the CPUClass hook tables and who implements them.

Entry points: :func:`build_hook_tables` (``struct CPUClass`` and the hook
tables it points to — ``SysemuCPUOps``, ``TCGCPUOps``, ``AccelCPUClass`` — each
with its function-pointer fields), :func:`implementations` (every
registration of a function into one of those fields, by architecture; the
registrations are typed, so an ``X86CPUClass *cc`` or another struct's
``set_pc`` never counts) and :func:`class_inits` (per architecture, the
functions that assign its ``CPUClass`` hooks).
"""

from __future__ import annotations

from dataclasses import dataclass

from qemu_lint.model.callgraph import CodeIndex
from qemu_lint.model.types import TypeEnv
from qemu_lint.source import arch_of

ROOT_TABLE = "CPUClass"


@dataclass(frozen=True, slots=True)
class HookDecl:
    name: str
    signature: str
    line: int


@dataclass(frozen=True, slots=True)
class HookTable:
    struct: str
    file: str
    line: int
    hooks: tuple[HookDecl, ...]


@dataclass(frozen=True, slots=True)
class Implementation:
    struct: str
    hook: str
    arch: str
    function: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class ClassInit:
    """A function of an architecture's code that assigns ``CPUClass`` hooks."""

    arch: str
    file: str
    function: str
    line: int
    col: int
    #: the hooks it assigns, in order
    hooks: tuple[str, ...]


def build_hook_tables(env: TypeEnv) -> tuple[HookTable, ...]:
    """``CPUClass`` plus every struct with function-pointer fields that it points to."""
    root = env.structs.get(ROOT_TABLE)
    if not root:
        return ()
    tables: list[HookTable] = []
    todo = [ROOT_TABLE]
    seen: set[str] = set()
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        loc = env.structs.get(name)
        if not loc:
            continue
        s = loc[0].struct
        hooks = tuple(
            HookDecl(f.name, f.type.signature or "", f.line)
            for f in s.fields
            if f.type.name == "<fn>"
        )
        if not hooks:
            continue
        tables.append(HookTable(name, loc[0].file, s.line, hooks))
        if name == ROOT_TABLE:
            for f in s.fields:
                if f.type.pointers >= 1 and f.type.name != "<fn>":
                    target = env.struct_name(f.type)
                    if target is not None and target not in seen:
                        todo.append(target)
    return tuple(tables)


def implementations(
    index: CodeIndex, tables: tuple[HookTable, ...], archs: frozenset[str]
) -> list[Implementation]:
    """Every hook registration, with ``arch`` = target name or ``common``."""
    out: set[Implementation] = set()
    for t in tables:
        hook_names = {h.name for h in t.hooks}
        for (struct, fld), regs in index.registrations.items():
            if struct != t.struct or fld not in hook_names:
                continue
            for r in regs:
                # Where the function is defined when that file was analysed,
                # else where it is registered.
                refs = index.resolve_name(r.function, r.file)
                file, line = (
                    (refs[0][0], index.functions[refs[0]].line) if refs else (r.file, r.line)
                )
                arch = arch_of(r.file, archs) or "common"
                out.add(Implementation(struct, fld, arch, r.function, file, line))
    return sorted(out, key=lambda i: (i.struct, i.hook, i.arch, i.function, i.file))


def class_inits(index: CodeIndex, archs: frozenset[str]) -> dict[str, list[ClassInit]]:
    """Per architecture, its CPU class_init functions: those of its code
    (``target/<a>/``, ``hw/<a>/``) assigning ``CPUClass`` hooks, the one
    assigning the most first (ties: by file and line)."""
    by_fn: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for (struct, fld), regs in index.registrations.items():
        if struct != ROOT_TABLE:
            continue
        for r in regs:
            if r.by and arch_of(r.file, archs) is not None:
                by_fn.setdefault((r.file, r.by), []).append((r.line, fld))
    out: dict[str, list[ClassInit]] = {}
    for (file, function), assigned in by_fn.items():
        arch = arch_of(file, archs)
        fn = index.functions.get((file, function))
        if arch is None or fn is None:
            continue
        hooks = tuple(dict.fromkeys(f for _, f in sorted(assigned)))
        out.setdefault(arch, []).append(ClassInit(arch, file, function, fn.line, fn.col, hooks))
    for inits in out.values():
        inits.sort(key=lambda c: (-len(c.hooks), c.file, c.line))
    return out
