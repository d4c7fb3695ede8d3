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

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FileFacts, MacroUse, iter_exprs
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
    return sorted(out, key=lambda i: (i.struct, i.hook, i.arch, i.function, i.file, i.line))


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


# -- QOM types: TypeInfo registrations, creation sites, stores ---------------

#: QOM's roots (``TYPE_OBJECT``, ``TYPE_INTERFACE``), by their type names
QOM_ROOTS = frozenset({"object", "interface"})
#: functions creating a device, and the position of their type-name argument
CREATORS: dict[str, int] = {
    "qdev_new": 0,
    "qdev_try_new": 0,
    "object_new": 0,
    "sysbus_create_simple": 0,
    "sysbus_create_varargs": 0,
    "sysbus_try_create_simple": 0,
    "isa_new": 0,
    "isa_create_simple": 1,
    "pci_new": 1,
    "pci_new_multifunction": 1,
    "pci_create_simple": 2,
    "pci_create_simple_multifunction": 2,
    "object_initialize_child": 3,
    "object_initialize": 2,
    "i2c_slave_create_simple": 1,
}


@dataclass(frozen=True, slots=True)
class QomType:
    """One ``TypeInfo`` registration."""

    name: str
    #: the constant spelling it (``TYPE_ACPI_GED``), or the literal
    spelling: str
    parent: str | None
    class_init: str | None
    interfaces: tuple[str, ...]
    file: str
    line: int
    #: the function run on every new object of the type (``.instance_init``)
    instance_init: str | None = None
    #: the macro declaring it (``OBJECT_DEFINE_TYPE``…), or "" for a ``TypeInfo``
    macro: str = ""


@dataclass(frozen=True, slots=True)
class Creation:
    """A place creating an object of a type (``qdev_new(TYPE_ACPI_GED)``)."""

    type: str
    spelling: str
    function: tuple[str, str]
    call: str
    line: int


@dataclass(slots=True)
class QomModel:
    """QOM types of the tree: registrations, hierarchy, creations, stores."""

    types: dict[str, QomType] = field(default_factory=dict)
    #: ``TYPE_*`` constant → type name
    names: dict[str, str] = field(default_factory=dict)
    #: class_init function name → the types it initialises
    by_class_init: dict[str, list[str]] = field(default_factory=dict)
    #: instance_init function name → the types whose objects it initialises
    by_instance_init: dict[str, list[str]] = field(default_factory=dict)
    creations: list[Creation] = field(default_factory=list)
    #: the class_init functions giving a device class a bus: (file, function)
    bus_setters: frozenset[tuple[str, str]] = frozenset()

    def type_name(self, e: Expr | None) -> str | None:
        """The type name an expression spells (``TYPE_X`` or a string literal)."""
        if e is None:
            return None
        if e.kind == "name":
            return self.names.get(e.text, e.text) if e.text.startswith("TYPE_") else None
        if e.kind == "string":
            return e.text.strip('"')
        return None

    def spelling(self, name: str) -> str:
        """How the code spells type ``name``: its registration's constant, else
        a ``TYPE_*`` constant defined as it, else the name itself."""
        t = self.types.get(name)
        if t is not None:
            return t.spelling
        return next((k for k, v in sorted(self.names.items()) if v == name), name)

    def ancestors(self, name: str) -> tuple[list[str], bool]:
        """The type, its parents and their interfaces, and whether the chain
        is complete (reaches a QOM root, not an unknown type)."""
        out: list[str] = []
        cur: str | None = name
        while cur is not None and cur not in out:
            out.append(cur)
            if cur in QOM_ROOTS:
                return out, True
            t = self.types.get(cur)
            if t is None:
                return out, False
            out.extend(i for i in t.interfaces if i not in out)
            cur = t.parent
        return out, cur is None

    def is_interface(self, name: str) -> bool:
        chain, _ = self.ancestors(name)
        return "interface" in chain[1:]

    def is_a(self, sub: str, sup: str) -> bool | None:
        """Is every object of ``sub`` an instance of ``sup``? None: unknown."""
        chain, complete = self.ancestors(sub)
        if sup in chain:
            return True
        return False if complete else None

    def subtypes(self, name: str) -> list[str]:
        """The known types below ``name`` (not itself)."""
        return [t for t in self.types if t != name and self.is_a(t, name)]

    def busless(self, name: str) -> bool:
        """Do objects of ``name`` never sit on a bus?  True when, for the type
        and each known subtype, the chain to a QOM root is known and none of
        its class_init functions sets ``DeviceClass::bus_type`` (qdev puts a
        device on a bus of that type only)."""
        for t in [name, *self.subtypes(name)]:
            chain, complete = self.ancestors(t)
            if not complete:
                return False
            for a in chain:
                info = self.types.get(a)
                if info is not None and (info.file, info.class_init or "") in self.bus_setters:
                    return False
        return True

    def may_be_both(self, a: str, b: str) -> bool:
        """Can one object be an instance of both types?  False only when the
        hierarchy says so: two classes on different branches below a common
        known ancestor (QOM classes have one parent)."""
        if self.is_a(a, b) or self.is_a(b, a):
            return True
        if self.is_interface(a) or self.is_interface(b):
            return True
        ca, _ = self.ancestors(a)
        cb, _ = self.ancestors(b)
        return not (set(ca[1:]) & set(cb[1:]))


def _defines(facts: Iterable[FileFacts]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ff in facts:
        for d in ff.defines:
            v = d.value.strip()
            if d.params is None and d.name.startswith("TYPE_") and re.fullmatch(r'"[^"]*"', v):
                out.setdefault(d.name, v.strip('"'))
    return out


def _infos(init: Expr) -> Iterator[Expr]:
    """The TypeInfo initializers of a global: one, or an array of them."""
    if any(i.kind == "designated" for i in init.args):
        yield init
        return
    for item in init.args:
        if item.kind == "init":
            yield item


def _qom_type(qom: QomModel, info: Expr, file: str) -> QomType | None:
    items = {i.text: i.args[0] for i in info.args if i.kind == "designated" and i.args}
    name = qom.type_name(items.get("name"))
    if name is None:
        return None
    spelling = items["name"].text if items["name"].kind == "name" else name
    ifaces: list[str] = []
    for sub in iter_exprs(items["interfaces"]) if "interfaces" in items else ():
        n = qom.type_name(sub) if sub.kind in ("name", "string") else None
        if n is not None:
            ifaces.append(n)
    return QomType(
        name,
        spelling,
        qom.type_name(items.get("parent")),
        _function(items.get("class_init")),
        tuple(ifaces),
        file,
        info.line,
        _function(items.get("instance_init")),
    )


def _function(e: Expr | None) -> str | None:
    """The function an initializer item names (``f`` or ``&f``)."""
    if e is not None and e.kind == "unary" and e.args:
        e = e.args[0]
    return e.text if e is not None and e.kind == "name" else None


#: QOM's type-defining macros (include/qom/object.h), and the position of
#: their first ``InterfaceInfo`` argument (None: no interfaces).  Each defines
#: a ``TypeInfo`` named ``TYPE_<3rd argument>`` with parent ``TYPE_<4th>``,
#: class_init ``<2nd>_class_init`` and instance_init ``<2nd>_init``.
DEFINE_MACROS: dict[str, int | None] = {
    "OBJECT_DEFINE_TYPE": None,
    "OBJECT_DEFINE_ABSTRACT_TYPE": None,
    "OBJECT_DEFINE_SIMPLE_TYPE": None,
    "OBJECT_DEFINE_TYPE_WITH_INTERFACES": 4,
    "OBJECT_DEFINE_SIMPLE_TYPE_WITH_INTERFACES": 4,
    "OBJECT_DEFINE_TYPE_EXTENDED": 5,
}


def _macro_type(qom: QomModel, use: MacroUse, file: str) -> QomType | None:
    if use.name not in DEFINE_MACROS:
        return None
    args = [a.replace("\\", " ").strip() for a in use.args]
    if len(args) < 4 or not all(re.fullmatch(r"\w+", a) for a in args[1:4]):
        return None
    first = DEFINE_MACROS[use.name]
    ifaces: list[str] = []
    for a in args[first:] if first is not None else ():
        for word in re.findall(r"\bTYPE_\w+", a):
            ifaces.append(qom.names.get(word, word))
    spelling = "TYPE_" + args[2]
    parent = "TYPE_" + args[3]
    return QomType(
        qom.names.get(spelling, spelling),
        spelling,
        qom.names.get(parent, parent),
        args[1] + "_class_init",
        tuple(ifaces),
        file,
        use.line,
        args[1] + "_init",
        use.name,
    )


def _register(qom: QomModel, t: QomType | None) -> None:
    if t is None or t.name in qom.types:
        return
    qom.types[t.name] = t
    if t.class_init:
        qom.by_class_init.setdefault(t.class_init, []).append(t.name)
    if t.instance_init:
        qom.by_instance_init.setdefault(t.instance_init, []).append(t.name)


def build_qom(facts: Sequence[FileFacts], index: CodeIndex) -> QomModel:
    """TypeInfo registrations (single, ``DEFINE_TYPES`` arrays, or declared
    by an ``OBJECT_DEFINE_*`` macro), the ``TYPE_*`` constants, and the
    creation sites of the tree."""
    qom = QomModel(names=_defines(facts))
    for ff in facts:
        for g in ff.globals:
            if g.type.name != "TypeInfo" or g.init is None or g.init.kind != "init":
                continue
            for info in _infos(g.init):
                _register(qom, _qom_type(qom, info, ff.path))
        for use in ff.macro_uses:
            _register(qom, _macro_type(qom, use, ff.path))
    for fname, pos in CREATORS.items():
        for caller, call in index.direct_calls.get(fname, []):
            args = call.args[1:]
            name = qom.type_name(args[pos]) if pos < len(args) else None
            if name is not None:
                spell = args[pos].text if args[pos].kind == "name" else name
                qom.creations.append(Creation(name, spell, caller, fname, call.line))
    qom.creations.sort(key=lambda c: (c.function, c.line))
    qom.bus_setters = frozenset(
        ref
        for ref, e in index.assigns
        if e.args[0].kind == "field"
        and e.args[0].text == "bus_type"
        and (fr := index.field_ref(e.args[0], index.functions[ref], ref[0])) is not None
        and fr[0] == "DeviceClass"
    )
    return qom
