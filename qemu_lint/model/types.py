"""Stage 4 (model): type resolution of expressions to struct types.

Entry point: :class:`TypeEnv` built by :func:`build_type_env` from all
:class:`~qemu_lint.facts.FileFacts`.  It knows structs, typedef chains, function
return types, globals, and QOM cast macros (``CPU(obj)``, ``ACPI_GED(x)``,
``CPU_GET_CLASS(x)``…, from ``#define``s and the ``OBJECT_DECLARE_*`` /
``DECLARE_*_CHECKER(S)`` family), and types an :class:`~qemu_lint.facts.Expr`
inside a function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FileFacts, FunctionDef, StructDef, TypeRef
from qemu_lint.source import arch_of

_CAST_DEFINE = re.compile(r"^\(\s*\(\s*(?:const\s+)?(?:struct\s+)?(\w+)\s*(\*+)\s*\)")
_CHECK_DEFINE = re.compile(
    r"\b(OBJECT_CHECK|INTERFACE_CHECK|OBJECT_GET_CLASS|OBJECT_CLASS_CHECK|container_of)\s*\(\s*(?:struct\s+)?(\w+)"
)


@dataclass(frozen=True, slots=True)
class Located:
    """A struct definition and where it lives."""

    struct: StructDef
    file: str


@dataclass(slots=True)
class TypeEnv:
    structs: dict[str, list[Located]] = field(default_factory=dict)
    typedefs: dict[str, list[tuple[TypeRef, str]]] = field(default_factory=dict)
    casts: dict[str, TypeRef] = field(default_factory=dict)
    returns: dict[str, TypeRef] = field(default_factory=dict)
    globals: dict[str, list[tuple[TypeRef, str]]] = field(default_factory=dict)
    archs: frozenset[str] = frozenset()

    # -- lookups -----------------------------------------------------------
    def canon(self, t: TypeRef | None, ctx: str = "") -> TypeRef | None:
        """Follow typedefs until a struct name or an unknown name is reached."""
        seen = 0
        while (
            t is not None and t.name in self.typedefs and t.name not in self.structs and seen < 16
        ):
            target = self._pick(self.typedefs[t.name], ctx)
            if target.name == t.name:
                break
            t = TypeRef(target.name, t.pointers + target.pointers, target.signature)
            seen += 1
        return t

    def _pick(self, options: list[tuple[TypeRef, str]], ctx: str) -> TypeRef:
        if len(options) > 1 and ctx:
            a = arch_of(ctx, self.archs)
            for t, f in options:
                if a is not None and arch_of(f, self.archs) == a:
                    return t
        return options[0][0]

    def struct(self, name: str, ctx: str = "") -> StructDef | None:
        options = self.structs.get(name)
        if not options:
            return None
        if len(options) > 1 and ctx:
            a = arch_of(ctx, self.archs)
            for loc in options:
                if a is not None and arch_of(loc.file, self.archs) == a:
                    return loc.struct
        return options[0].struct

    def field_type(self, base: TypeRef | None, name: str, ctx: str = "") -> TypeRef | None:
        base = self.canon(base, ctx)
        if base is None:
            return None
        s = self.struct(base.name, ctx)
        if s is None:
            return None
        for f in s.fields:
            if f.name == name:
                return self.canon(f.type, ctx)
        return None

    def struct_name(self, t: TypeRef | None, ctx: str = "") -> str | None:
        """The struct a value of type ``t`` is (or points to), else None."""
        t = self.canon(t, ctx)
        if t is None or t.name not in self.structs:
            return None
        return t.name

    # -- expression typing -------------------------------------------------
    def type_of(self, e: Expr, fn: FunctionDef | None, ctx: str) -> TypeRef | None:  # noqa: C901
        k = e.kind
        if e.type is not None and k not in ("cast", "compound"):
            # the compiler's type (clang front-end: calls, macro invocations)
            return self.canon(e.type, ctx)
        if k == "name":
            return self.canon(self.var_type(e.text, e.line, fn, ctx), ctx)
        if k == "field" and e.args:
            base = self.type_of(e.args[0], fn, ctx)
            if base is None:
                return None
            return self.field_type(base, e.text, ctx)
        if k == "index" and e.args:
            base = self.type_of(e.args[0], fn, ctx)
            return base.deref() if base is not None else None
        if k == "unary" and e.args:
            inner = self.type_of(e.args[0], fn, ctx)
            if inner is None:
                return None
            if e.op == "*":
                return inner.deref()
            if e.op == "&":
                return inner.addr()
            if e.op in ("++", "--"):
                return inner
            return None
        if k == "call" and e.args:
            callee = e.args[0]
            if callee.kind == "name":
                if callee.text in self.casts:
                    return self.canon(self.casts[callee.text], ctx)
                if callee.text in self.returns:
                    return self.canon(self.returns[callee.text], ctx)
            return None
        if k in ("cast", "compound"):
            return self.canon(e.type, ctx)
        if k == "ternary" and len(e.args) == 3:
            return self.type_of(e.args[1], fn, ctx) or self.type_of(e.args[2], fn, ctx)
        if k == "assign" and e.args:
            return self.type_of(e.args[0], fn, ctx)
        if k == "comma" and e.args:
            return self.type_of(e.args[-1], fn, ctx)
        return None

    def var_type(self, name: str, line: int, fn: FunctionDef | None, ctx: str) -> TypeRef | None:
        if fn is not None:
            best = None
            for v in fn.locals:
                if v.name == name and v.line <= line:
                    best = v.type
            if best is not None:
                return best
            for v in fn.params:
                if v.name == name:
                    return v.type
        options = self.globals.get(name)
        if options:
            for t, f in options:
                if f == ctx:
                    return t
            return options[0][0]
        return None


def _cast_macros(facts: Iterable[FileFacts]) -> dict[str, TypeRef]:
    casts: dict[str, TypeRef] = {}
    for ff in facts:
        for d in ff.defines:
            if d.params is None or len(d.params) != 1:
                continue
            m = _CAST_DEFINE.match(d.value)
            if m:
                casts[d.name] = TypeRef(m.group(1), len(m.group(2)))
                continue
            m2 = _CHECK_DEFINE.search(d.value)
            if m2 and not d.value.startswith("do"):
                casts[d.name] = TypeRef(m2.group(2), 1)
        for u in ff.macro_uses:
            a = u.args
            if u.name in ("OBJECT_DECLARE_TYPE", "OBJECT_DECLARE_CPU_TYPE") and len(a) >= 3:
                casts.setdefault(a[2], TypeRef(a[0], 1))
                casts.setdefault(a[2] + "_GET_CLASS", TypeRef(a[1], 1))
                casts.setdefault(a[2] + "_CLASS", TypeRef(a[1], 1))
            elif u.name == "OBJECT_DECLARE_SIMPLE_TYPE" and len(a) >= 2:
                casts.setdefault(a[1], TypeRef(a[0], 1))
            elif u.name == "DECLARE_OBJ_CHECKERS" and len(a) >= 3:
                casts.setdefault(a[2], TypeRef(a[0], 1))
                casts.setdefault(a[2] + "_GET_CLASS", TypeRef(a[1], 1))
                casts.setdefault(a[2] + "_CLASS", TypeRef(a[1], 1))
            elif u.name == "DECLARE_INSTANCE_CHECKER" and len(a) >= 2:
                casts.setdefault(a[1], TypeRef(a[0], 1))
            elif u.name == "DECLARE_CLASS_CHECKERS" and len(a) >= 2:
                casts.setdefault(a[1] + "_GET_CLASS", TypeRef(a[0], 1))
                casts.setdefault(a[1] + "_CLASS", TypeRef(a[0], 1))
    return casts


def build_type_env(facts: Iterable[FileFacts], archs: frozenset[str]) -> TypeEnv:
    """Index every type-relevant fact of the tree.

    :param facts: all files' facts
    :param archs: architecture names (folders of ``target/``)
    """
    facts = list(facts)
    env = TypeEnv(archs=archs)
    for ff in facts:
        for s in ff.structs:
            env.structs.setdefault(s.name, []).append(Located(s, ff.path))
        for t in ff.typedefs:
            if t.name != t.type.name or t.type.pointers:
                env.typedefs.setdefault(t.name, []).append((t.type, ff.path))
        for p in ff.prototypes:
            env.returns.setdefault(p.name, p.return_type)
        for fn in ff.functions:
            env.returns.setdefault(fn.name, fn.return_type)
        for g in ff.globals:
            env.globals.setdefault(g.name, []).append((g.type, ff.path))
        for u in ff.macro_uses:
            # OBJECT_DECLARE_CPU_TYPE(X86CPU, X86CPUClass, X86_CPU) typedefs
            # the instance name to the per-target ArchCPU.
            if u.name == "OBJECT_DECLARE_CPU_TYPE" and len(u.args) >= 3:
                env.typedefs.setdefault(u.args[0], []).append((TypeRef("ArchCPU"), ff.path))
            elif u.name in ("OBJECT_DECLARE_TYPE",) and len(u.args) >= 2:
                for name in u.args[:2]:
                    if name not in env.structs:
                        env.typedefs.setdefault(name, [])
    env.typedefs = {k: v for k, v in env.typedefs.items() if v}
    env.casts = _cast_macros(facts)
    return env


def is_null_const(e: Expr) -> bool:
    """True for ``NULL``, ``0``, ``false``, ``(void *)0`` and casts of those."""
    while e.kind == "cast" and e.args:
        e = e.args[0]
    return e.kind == "const" and e.text in ("NULL", "0", "false", "0x0", "0U", "0u", "'\\0'")


def const_int(e: Expr, defines: Mapping[str, str] | None = None) -> int | None:
    """Evaluate a small integer constant expression (literals, ``<<``, ``|``)."""
    if e.kind == "const":
        txt = e.text.rstrip("uUlL")
        if txt in ("true",):
            return 1
        if txt in ("false", "NULL"):
            return 0
        try:
            return int(txt, 0)
        except ValueError:
            return None
    if e.kind == "name" and defines and e.text in defines:
        try:
            return int(defines[e.text].strip("()").rstrip("uUlL"), 0)
        except ValueError:
            return None
    if e.kind == "binary" and len(e.args) == 2:
        a, b = const_int(e.args[0], defines), const_int(e.args[1], defines)
        if a is None or b is None:
            return None
        ops = {"<<": lambda: a << b, "|": lambda: a | b, "+": lambda: a + b, "*": lambda: a * b}
        return ops[e.op]() if e.op in ops else None
    return None


def strip_casts(e: Expr) -> Expr:
    """``(T *)x``, ``(x)`` and cast macros (``OBJECT(dev)``, ``HOTPLUG_HANDLER(x)``) → ``x``."""
    for _ in range(6):
        if e.kind in ("cast", "paren") and e.args:
            e = e.args[-1]
        elif (
            e.kind == "call"
            and len(e.args) == 2
            and e.args[0].kind == "name"
            and e.args[0].text.isupper()
        ):
            e = e.args[1]
        else:
            break
    return e
