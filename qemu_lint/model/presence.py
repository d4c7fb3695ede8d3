"""Stage 4 (model): the flags-register bit ``_STA`` reads Present from, and what feeds it.

Entry point: :func:`derive_presence`, a pure function over the tree's facts
and its :class:`~qemu_lint.model.callgraph.CodeIndex`.  It reads three things
and says where it read each:

1. the CPU hotplug register block ``build_cpus_aml()`` declares: the
   ``aml_field()`` lists, in order (``aml_reserved_field(ACPI_CPU_FLAGS_OFFSET_RW
   * 8)``, ``aml_named_field(CPU_ENABLED, 1)``, …, names resolved through
   ``#define CPU_ENABLED "CPEN"``), giving every field's bit offset;
2. the ``_STA`` method of the CPU devices (``aml_return(aml_call1(
   CPU_STS_METHOD, uid))``, so ``CSTA``), run over every value of the fields
   its ``aml_if()`` tests: every field bit 0 of the result (Present) can
   follow is a Present field (``CPEN && CPRS`` gives two), the one bit 1
   (Enabled) follows besides them the Enabled field.  When bit 0 follows no
   field (``aml_return(aml_int(0xF))``, or a ``CSTA`` whose every branch
   keeps bit 0 set), Present is *fixed*: a legitimate answer, not a failed
   derivation, and no ``AcpiCpuStatus`` field feeds it;
3. the MMIO read handler of the register block (``cpu_hotplug_rd()``): the
   ``AcpiCpuStatus`` fields it packs into the Present bit, written
   ``val |= e ? 32 : 0``, ``val |= e << 5``, ``val = deposit32(val, 5, 1, e)``,
   through a helper function or macro, or as a boolean (``cdev->cpu ?
   object_property_get_bool(…) : 0``, which is bit 0).

A step that cannot be followed becomes a :class:`PresenceProblem` (file,
line, what was not understood), and the result falls back visibly: to the
``presence-fields`` configuration, else to bit 0 fed by ``cpu``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FileFacts, FunctionDef, Stmt
from qemu_lint.model.callgraph import CodeIndex, FnRef
from qemu_lint.model.cexpr import Macros, build_macros
from qemu_lint.model.guards import iter_exprs, iter_stmts, single_defs

STATUS_STRUCT = "AcpiCpuStatus"
#: the fallback when nothing can be derived: bit 0, fed by ``AcpiCpuStatus::cpu``
DEFAULT_BIT = 0
DEFAULT_FIELD = "cpu"
#: ``_STA`` result bits (ACPI 6.5, 6.3.7)
STA_PRESENT = 0
STA_ENABLED = 1
#: at most this many fields tested by ``CSTA`` are enumerated (2**n runs)
MAX_TESTED = 8


@dataclass(frozen=True, slots=True)
class Where:
    """A derivation step: where it was read and what it says (a path note)."""

    file: str
    line: int
    note: str


@dataclass(frozen=True, slots=True)
class PresenceProblem:
    """A derivation step that could not be followed."""

    file: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class AmlField:
    """A named field of the CPU hotplug register block, as the AML declares it."""

    name: str
    #: offset in bits from the start of the operation region
    offset: int
    width: int
    file: str
    line: int

    @property
    def byte(self) -> int:
        return self.offset // 8

    @property
    def bit(self) -> int:
        """The bit within its byte (the flags byte for the flag fields)."""
        return self.offset % 8


@dataclass(frozen=True, slots=True)
class Packing:
    """One statement of the read handler putting fields into register bits."""

    #: bits of the read value it can set
    mask: int
    fields: tuple[str, ...]
    line: int
    #: the ``case`` value (register offset) it sits under, None outside a
    #: switch, -1 under ``default:`` or a label that does not fold
    case: int | None
    #: the shape, e.g. ``"e ? K : 0"``, ``"e << N"``, ``"deposit32"``
    form: str


@dataclass(frozen=True, slots=True)
class Presence:
    """What ``_STA.Present`` is read from, and how that was learnt."""

    #: the flags-register bit Present is read from (the first one when several)
    bit: int
    #: its AML field name (``"CPEN"``, ``"CPRS"``); "" when not derived
    field: str
    #: the flags-register bit Enabled is read from, None when not derived
    enabled_bit: int | None
    enabled_field: str
    #: ``AcpiCpuStatus`` fields feeding the Present bits (empty only when
    #: Present is fixed)
    fields: tuple[str, ...]
    #: ``AcpiCpuStatus`` fields feeding the Enabled bit
    enabled_fields: tuple[str, ...]
    #: ``"derived"``, ``"fixed"`` (``_STA``'s bit 0 follows no field),
    #: ``"presence-bit"`` (override), ``"presence-fields"`` or ``"default"``
    #: (bit 0 with ``cpu``): where ``bit``/``fields`` came from
    source: str
    #: the steps, in order: field declaration, ``CSTA`` test, packings
    derivation: tuple[Where, ...]
    read_handler: FnRef | None
    #: every packing of the read handler, for ``ReadHandler.bits``
    packings: tuple[Packing, ...]
    layout: tuple[AmlField, ...]
    problems: tuple[PresenceProblem, ...]
    #: every AML field ``_STA``'s Present bit follows (``field`` is the first)
    aml_fields: tuple[str, ...] = ()
    #: ``(AcpiCpuStatus field, AML field)``: which Present bit each field feeds
    feeds: tuple[tuple[str, str], ...] = ()
    #: when Present follows no register field: True (always present) or
    #: False (never); None when it follows the register
    fixed: bool | None = None
    #: the value ``_STA`` returns when that is one constant (0xF), else None
    sta_value: int | None = None

    @property
    def is_derived(self) -> bool:
        return self.source == "derived"

    @property
    def bit_name(self) -> str:
        """How messages name the Present bit: its AML field, else ``bit N``."""
        return self.field or f"bit {self.bit}"

    def bits_fed_by(self, status_field: str) -> tuple[str, ...]:
        """The AML fields of the Present bits ``status_field`` feeds (by name)."""
        return tuple(a for f, a in self.feeds if f == status_field)

    def clears_phrase(self, status_field: str) -> str:
        """``CPEN, the bit `_STA` reads Present from`` for a field feeding the
        one Present bit; ``CPRS, one of the bits (CPEN, CPRS) …`` when Present
        follows several, ``CPEN and CPRS, the bits …`` for a field feeding
        several."""
        names = self.bits_fed_by(status_field) or ((self.field,) if self.field else ())
        which = " and ".join(names) if names else self.bit_name
        return f"{which}, {self._tail('`_STA`', len(names))}"

    def feeds_phrase(self, status_field: str, reader: str) -> str:
        """``CPEN, bit 0 of the flags register read by cpu_hotplug_rd(), the
        bit _STA reads Present from`` (a path note)."""
        names = self.bits_fed_by(status_field) or ((self.field,) if self.field else ())
        by_name = {f.name: f for f in self.layout}
        parts = [
            f"{n}, bit {by_name[n].bit if n in by_name else self.bit} "
            f"of the flags register read by {reader}()"
            for n in names
        ] or [f"bit {self.bit} of the flags register read by {reader}()"]
        return f"{' and '.join(parts)}, {self._tail('_STA', len(names))}"

    def _tail(self, sta: str, fed: int) -> str:
        if fed > 1:
            return f"the bits {sta} reads Present from"
        if len(self.aml_fields) > 1:
            return f"one of the bits ({', '.join(self.aml_fields)}) {sta} reads Present from"
        return f"the bit {sta} reads Present from"

    @property
    def fixed_phrase(self) -> str:
        """What a fixed Present means for a release: ``_STA returns 0xF
        whatever the register holds, so …``."""
        value = f"returns 0x{self.sta_value:X}" if self.sta_value is not None else "keeps Present"
        if self.fixed:
            return (
                f"`_STA` {value} whatever the register holds: the guest goes on "
                "seeing the vCPU present while its ACPI status is dropped"
            )
        return f"`_STA` {value} whatever the register holds: the guest never sees the vCPU present"


# -- the AML builder, interpreted -------------------------------------------


class _NotUnderstood(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Node:
    """An AML object under construction (interpretation only, never returned)."""

    kind: str  # "method" | "if" | "else" | "while" | "op"
    line: int
    name: str = ""
    expr: Expr | None = None
    children: list[_Node] = field(default_factory=list)


@dataclass(slots=True)
class _FieldList:
    line: int
    offset: int | None = 0


@dataclass(slots=True)
class _Aml:
    """The state of one pass over the builder's statements."""

    macros: Macros
    file: str
    env: dict[str, _Node | _FieldList | Expr] = field(default_factory=dict)
    methods: list[_Node] = field(default_factory=list)
    layout: list[AmlField] = field(default_factory=list)
    problems: list[PresenceProblem] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(PresenceProblem(self.file, line, message))

    def resolve(self, e: Expr) -> Expr:
        """Follow local variables bound to plain expressions (``one = aml_int(1)``)."""
        seen: set[str] = set()
        while e.kind == "name" and e.text not in seen:
            bound = self.env.get(e.text)
            if not isinstance(bound, Expr):
                break
            seen.add(e.text)
            e = bound
        return e


def _callee(e: Expr) -> str:
    return e.args[0].text if e.kind == "call" and e.args and e.args[0].kind == "name" else ""


def _bind(aml: _Aml, var: str, rhs: Expr) -> None:
    name = _callee(rhs)
    args = rhs.args[1:]
    if name == "aml_field":
        aml.env[var] = _FieldList(rhs.line)
    elif name == "aml_method":
        title = aml.macros.eval_str(args[0], aml.file) if args else None
        node = _Node("method", rhs.line, title or "")
        aml.methods.append(node)
        aml.env[var] = node
    elif name in ("aml_if", "aml_while", "aml_else"):
        kind = name[4:]
        aml.env[var] = _Node(kind, rhs.line, expr=args[0] if args else None)
    else:
        aml.env[var] = rhs


def _declare(aml: _Aml, fl: _FieldList, child: Expr) -> None:
    name, args = _callee(child), child.args[1:]
    if name not in ("aml_named_field", "aml_reserved_field") or not args:
        return
    width = aml.macros.eval_int(args[-1], aml.file)
    if name == "aml_named_field":
        title = aml.macros.eval_str(args[0], aml.file)
        if title is None:
            aml.problem(
                child.line, "the name of an aml_named_field() is not a string or a #define of one"
            )
        elif fl.offset is not None and width is not None:
            aml.layout.append(AmlField(title, fl.offset, width, aml.file, child.line))
    if width is None:
        if fl.offset is not None:
            aml.problem(
                child.line,
                f"the width of {name}() is not a constant: the offsets "
                "of the fields after it are unknown",
            )
        fl.offset = None
    elif fl.offset is not None:
        fl.offset += width


def _append(aml: _Aml, call: Expr) -> None:
    if len(call.args) != 3 or call.args[1].kind != "name":
        return
    parent = aml.env.get(call.args[1].text)
    child = call.args[2]
    if isinstance(parent, _FieldList):
        _declare(aml, parent, aml.resolve(child))
    elif isinstance(parent, _Node):
        bound = aml.env.get(child.text) if child.kind == "name" else None
        if isinstance(bound, _Node):
            parent.children.append(bound)
        else:
            parent.children.append(_Node("op", child.line, expr=aml.resolve(child)))


def _walk(aml: _Aml, stmts: Sequence[Stmt]) -> None:
    """Interpret the builder's statements in order; both arms of a C ``if``."""
    for st in stmts:
        e = st.expr
        if st.kind == "decl" and e is not None:
            _bind(aml, st.text, e)
        elif st.kind == "expr" and e is not None:
            if e.kind == "assign" and e.op == "=" and e.args[0].kind == "name":
                _bind(aml, e.args[0].text, e.args[1])
            elif _callee(e) == "aml_append":
                _append(aml, e)
        _walk(aml, st.body)
        _walk(aml, st.orelse)


def _field_of(aml: _Aml, e: Expr) -> str | None:
    """The register field an ``aml_name("%s.%s", path, CPU_ENABLED)`` refers to."""
    e = aml.resolve(e)
    if _callee(e) != "aml_name" or len(e.args) < 2:
        return None
    names = {f.name for f in aml.layout}
    last = aml.macros.eval_str(e.args[-1], aml.file)
    if last is not None and last.split(".")[-1] in names:
        return last.split(".")[-1]
    fmt = aml.macros.eval_str(e.args[1], aml.file)
    if fmt is not None and fmt.split(".")[-1] in names:
        return fmt.split(".")[-1]
    return None


def _slot(aml: _Aml, e: Expr) -> str | None:
    e = aml.resolve(e)
    name = _callee(e)
    if name in ("aml_local", "aml_arg") and len(e.args) == 2:
        return f"{name[4:]}{aml.macros.eval_int(e.args[1], aml.file)}"
    return None


def _value(aml: _Aml, e: Expr, fields: Mapping[str, int], state: Mapping[str, int]) -> int:
    """The integer an AML operand has in one run of the method."""
    r = aml.resolve(e)
    name = _callee(r)
    if name == "aml_int" and len(r.args) == 2:
        v = aml.macros.eval_int(r.args[1], aml.file)
        if v is not None:
            return v
    if r.kind == "const":
        v = aml.macros.eval_int(r, aml.file)
        if v is not None:
            return v
    fld = _field_of(aml, r)
    if fld is not None and fld in fields:
        return fields[fld]
    slot = _slot(aml, r)
    if slot is not None and slot in state:
        return state[slot]
    raise _NotUnderstood(e.line, f"the AML operand {_text(e)} is not understood")


def _compare(name: str, a: int, b: int) -> bool:
    return a == b if name == "aml_equal" else a < b if name == "aml_lless" else a > b


def _cond(aml: _Aml, e: Expr, fields: Mapping[str, int], state: Mapping[str, int]) -> bool:
    r = aml.resolve(e)
    name, args = _callee(r), r.args[1:]
    if name in ("aml_equal", "aml_lless", "aml_lgreater") and len(args) == 2:
        a, b = _value(aml, args[0], fields, state), _value(aml, args[1], fields, state)
        return _compare(name, a, b)
    if name == "aml_lnot" and len(args) == 1:
        return not _cond(aml, args[0], fields, state)
    if name in ("aml_land", "aml_lor") and len(args) == 2:
        a = _cond(aml, args[0], fields, state)
        b = _cond(aml, args[1], fields, state)
        return (a and b) if name == "aml_land" else (a or b)
    return _value(aml, r, fields, state) != 0


def _op(aml: _Aml, e: Expr, fields: Mapping[str, int], state: dict[str, int]) -> int | None:
    """Run one AML operation; the returned value when it is a return, else None."""
    name, args = _callee(e), e.args[1:]
    if name == "aml_store" and len(args) == 2:
        slot = _slot(aml, args[1])
        if slot is not None:
            state[slot] = _value(aml, args[0], fields, state)
    elif name in ("aml_or", "aml_and") and len(args) == 3:
        slot = _slot(aml, args[2])
        a, b = _value(aml, args[0], fields, state), _value(aml, args[1], fields, state)
        if slot is not None:
            state[slot] = a | b if name == "aml_or" else a & b
    elif name == "aml_return" and len(args) == 1:
        return _value(aml, args[0], fields, state)
    return None


def _run(
    aml: _Aml, nodes: Sequence[_Node], fields: Mapping[str, int], state: dict[str, int]
) -> int | None:
    """Run a method body; the value it returns, None when it falls off the end."""
    for i, n in enumerate(nodes):
        body: Sequence[_Node] = ()
        if n.kind == "op" and n.expr is not None:
            got = _op(aml, n.expr, fields, state)
            if got is not None:
                return got
        elif n.kind == "if" and n.expr is not None:
            if _cond(aml, n.expr, fields, state):
                body = n.children
            elif i + 1 < len(nodes) and nodes[i + 1].kind == "else":
                body = nodes[i + 1].children
        elif n.kind == "while":
            raise _NotUnderstood(n.line, "a While loop in the _STA method is not followed")
        if body:
            got = _run(aml, body, fields, state)
            if got is not None:
                return got
    return None


def _tested(aml: _Aml, nodes: Sequence[_Node]) -> list[tuple[str, int]]:
    """Fields tested by the method's ``aml_if()``\\ s, with the line of the first test."""
    out: dict[str, int] = {}
    for n in nodes:
        if n.kind in ("if", "while") and n.expr is not None:
            for sub in iter_exprs(n.expr):
                fld = _field_of(aml, sub) if sub.kind in ("name", "call") else None
                if fld is not None:
                    out.setdefault(fld, n.line)
        for fld, line in _tested(aml, n.children):
            out.setdefault(fld, line)
    return list(out.items())


def _sta_method(aml: _Aml, builder_line: int) -> _Node | None:
    """``CSTA``: the method the CPU devices' ``_STA`` returns the result of."""
    for m in aml.methods:
        if m.name != "_STA":
            continue
        for op in m.children:
            ret = op.expr if op.kind == "op" else None
            if ret is None or _callee(ret) != "aml_return" or len(ret.args) != 2:
                continue
            inner = aml.resolve(ret.args[1])
            if _callee(inner).startswith("aml_call") and len(inner.args) >= 2:
                target = aml.macros.eval_str(inner.args[1], aml.file)
                found = [t for t in aml.methods if t.name == target]
                if found:
                    return found[-1]
                aml.problem(
                    op.line,
                    f"_STA returns the result of {target or _text(inner)}, "
                    "a method this builder does not define",
                )
                return None
        if m.children:
            return m
    aml.problem(
        builder_line,
        "no _STA method returning a status method's result (CSTA) was found in the AML builder",
    )
    return None


def _drivers(table: Mapping[tuple[int, ...], int], names: Sequence[str], bit: int) -> list[str]:
    """The fields whose value changes ``bit`` of the result for some value of the others."""
    out: list[str] = []
    for i, name in enumerate(names):
        for combo, v in table.items():
            if combo[i] == 0:
                flipped = combo[:i] + (1,) + combo[i + 1 :]
                if (v >> bit) & 1 != (table[flipped] >> bit) & 1:
                    out.append(name)
                    break
    return out


@dataclass(frozen=True, slots=True)
class _AmlResult:
    layout: tuple[AmlField, ...]
    #: every field Present follows, in the order ``CSTA`` tests them
    present: tuple[AmlField, ...]
    enabled: AmlField | None
    derivation: tuple[Where, ...]
    #: Present follows no field: its value (True: always present)
    fixed: bool | None = None
    sta_value: int | None = None


def _sta_table(aml: _Aml, sta: _Node) -> tuple[list[tuple[str, int]], dict[tuple[int, ...], int]]:
    """Run ``CSTA`` for every value of the fields it tests.

    :raise _NotUnderstood: on an operation, operand or result it cannot follow
    """
    tested = _tested(aml, sta.children)
    if len(tested) > MAX_TESTED:
        raise _NotUnderstood(
            sta.line, f"{sta.name} tests {len(tested)} fields; at most {MAX_TESTED} are followed"
        )
    table: dict[tuple[int, ...], int] = {}
    for combo in itertools.product((0, 1), repeat=len(tested)):
        values = {name: v for (name, _), v in zip(tested, combo, strict=True)}
        got = _run(aml, sta.children, values, {})
        if got is None:
            when = ", ".join(f"{k} = {v}" for k, v in values.items())
            raise _NotUnderstood(
                sta.line,
                f"{sta.name} returns no value understood" + (f" when {when}" if when else ""),
            )
        table[combo] = got
    return tested, table


def _pick(
    aml: _Aml,
    sta: _Node,
    tested: list[tuple[str, int]],
    table: Mapping[tuple[int, ...], int],
    avoid: Sequence[str],
) -> str | None:
    """The field bit 1 (Enabled) follows besides the Present fields, None when none."""
    drivers = _drivers(table, [n for n, _ in tested], STA_ENABLED)
    others = [d for d in drivers if d not in avoid]
    chosen = (others or drivers or [""])[0]
    if len(others) > 1:
        aml.problem(
            sta.line,
            f"bit {STA_ENABLED} (Enabled) of {sta.name}'s result depends on "
            f"several fields ({', '.join(others)}); {chosen} is taken",
        )
    return chosen or None


def _aml_presence(
    idx: CodeIndex, macros: Macros, builder: str, problems: list[PresenceProblem]
) -> _AmlResult | None:
    """Layout, Present field and Enabled field of the CPU hotplug AML."""
    refs = sorted(idx.by_name.get(builder, []))
    if not refs:
        problems.append(PresenceProblem("", 0, f"no definition of {builder}() was analysed"))
        return None
    ref = refs[0]
    fn = idx.functions[ref]
    aml = _Aml(macros, ref[0])
    _walk(aml, (fn.body,))
    result = _interpret(aml, fn)
    problems.extend(aml.problems)
    return result


def _interpret(aml: _Aml, fn: FunctionDef) -> _AmlResult | None:
    layout = tuple(aml.layout)
    if not layout:
        aml.problem(fn.line, f"{fn.name}() declares no aml_named_field() the analysis could place")
        return None
    sta = _sta_method(aml, fn.line)
    if sta is None:
        return _AmlResult(layout, (), None, ())
    try:
        tested, table = _sta_table(aml, sta)
    except _NotUnderstood as e:
        aml.problem(e.line, f"{sta.name} (_STA): {e.message}")
        return _AmlResult(layout, (), None, ())
    by_name = {f.name: f for f in layout}
    lines = dict(tested)
    drivers = _drivers(table, [n for n, _ in tested], STA_PRESENT)
    present = tuple(by_name[d] for d in drivers if d in by_name)
    enabled = by_name.get(_pick(aml, sta, tested, table, drivers) or "")
    steps: list[Where] = []
    for pf in present:
        steps.append(
            Where(
                aml.file,
                pf.line,
                f"the AML declares {pf.name} as bit {pf.bit} "
                f"of the flags register (byte {pf.byte})",
            )
        )
        steps.append(
            Where(
                aml.file, lines[pf.name], f"{sta.name} (_STA) reads Present (bit 0) from {pf.name}"
            )
        )
    fixed: bool | None = None
    values = sorted(set(table.values()))
    if not drivers:  # bit 0 is the same in every run: Present is fixed
        fixed = bool(values[0] >> STA_PRESENT & 1)
        said = f"returns 0x{values[0]:X}" if len(values) == 1 else "keeps bit 0 (Present) the same"
        steps.append(
            Where(
                aml.file,
                sta.line,
                f"{sta.name} (_STA) {said} whatever the register holds: "
                f"the vCPU is always {'present' if fixed else 'absent'}",
            )
        )
    if enabled is not None:
        steps.append(
            Where(
                aml.file,
                lines[enabled.name],
                f"{sta.name} (_STA) reads Enabled (bit 1) from {enabled.name} (bit {enabled.bit})",
            )
        )
    sta_value = values[0] if fixed is not None and len(values) == 1 else None
    return _AmlResult(layout, present, enabled, tuple(steps), fixed, sta_value)


# -- the read handler -------------------------------------------------------


@dataclass(slots=True)
class _Reader:
    """Typing and memo for reading one tree's functions (interpretation only)."""

    idx: CodeIndex
    macros: Macros
    #: function → AcpiCpuStatus fields it reads, transitively (helpers)
    memo: dict[FnRef, frozenset[str]] = field(default_factory=dict)
    defs: dict[int, dict[str, Expr]] = field(default_factory=dict)

    def local_def(self, fn: FunctionDef, name: str, line: int, ctx: str) -> Expr | None:
        """The one value of a scalar local (``bool present = cdev->cpu;``), else None.

        Pointers are not followed: the fields that located ``cdev`` do not
        feed what ``cdev->…`` packs.
        """
        defs = self.defs.get(id(fn))
        if defs is None:
            defs = self.defs[id(fn)] = single_defs(fn)
        t = self.idx.env.var_type(name, line, fn, ctx)
        return defs.get(name) if t is not None and t.pointers == 0 else None

    def status_fields(
        self,
        e: Expr,
        fn: FunctionDef,
        ctx: str,
        seen: frozenset[FnRef],
        names: frozenset[str] = frozenset(),
    ) -> set[str]:
        """``AcpiCpuStatus`` fields read in ``e``, through macros, locals and helpers."""
        out: set[str] = set()
        for sub in iter_exprs(e):
            if sub.kind == "field":
                fr = self.idx.field_ref(sub, fn, ctx)
                if fr is not None and fr[0] == STATUS_STRUCT:
                    out.add(fr[1])
            elif sub.kind == "call":
                body = self.macros.expand(sub, ctx)
                if body is not None:
                    out |= self.status_fields(body, fn, ctx, seen)
                for ref in self.idx.resolve_name(_callee(sub), ctx) if _callee(sub) else ():
                    out |= self.fn_fields(ref, seen)
            elif sub.kind == "name" and sub.text not in names:
                d = self.local_def(fn, sub.text, sub.line, ctx)
                if d is not None:
                    out |= self.status_fields(d, fn, ctx, seen, names | {sub.text})
        return out

    def fn_fields(self, ref: FnRef, seen: frozenset[FnRef]) -> frozenset[str]:
        if ref in self.memo:
            return self.memo[ref]
        if ref in seen:  # a real cycle: what the cycle reads is found on the way in
            return frozenset()
        fn = self.idx.functions[ref]
        got: set[str] = set()
        for st in iter_stmts(fn.body):
            if st.expr is not None:
                got |= self.status_fields(st.expr, fn, ref[0], seen | {ref})
        self.memo[ref] = frozenset(got)
        return self.memo[ref]

    def is_boolean(self, e: Expr, fn: FunctionDef, ctx: str) -> bool:
        if e.kind == "unary" and e.op == "!":
            return True
        if e.kind == "binary" and e.op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
            return True
        t = self.idx.env.type_of(e, fn, ctx)
        return t is not None and t.pointers == 0 and t.name in ("bool", "_Bool", "gboolean")

    def mask(
        self,
        e: Expr,
        fn: FunctionDef,
        ctx: str,
        seen: frozenset[FnRef],
        names: frozenset[str] = frozenset(),
    ) -> tuple[int, str] | None:
        """The bits a packed value can set, and its shape; None when not understood."""
        k, a = e.kind, e.args
        if k == "cast" and a:
            return self.mask(a[-1], fn, ctx, seen)
        if k == "ternary" and len(a) == 3:
            return self._ternary(a[1], a[2], fn, ctx)
        if k == "binary" and e.op == "<<" and len(a) == 2:
            n = self.macros.eval_int(a[1], ctx)
            inner = self.mask(a[0], fn, ctx, seen)
            if n is None or inner is None:
                return None
            return inner[0] << n, "e << N"
        if k == "binary" and e.op == "|" and len(a) == 2:
            left, right = self.mask(a[0], fn, ctx, seen), self.mask(a[1], fn, ctx, seen)
            return None if left is None or right is None else (left[0] | right[0], "e | e")
        if k == "call":
            return self._call_mask(e, fn, ctx, seen)
        if k == "name" and e.text not in names:
            d = self.local_def(fn, e.text, e.line, ctx)
            if d is not None:
                return self.mask(d, fn, ctx, seen, names | {e.text})
        if self.is_boolean(e, fn, ctx):
            return 1, "boolean"
        return None

    def _ternary(
        self, then: Expr, other: Expr, fn: FunctionDef, ctx: str
    ) -> tuple[int, str] | None:
        kt, ko = self.macros.eval_int(then, ctx), self.macros.eval_int(other, ctx)
        if ko == 0 and kt is not None:
            return kt, "e ? K : 0"
        if kt == 0 and ko is not None:
            return ko, "e ? 0 : K"
        if ko == 0 and (self.is_boolean(then, fn, ctx) or _callee(then).endswith("_get_bool")):
            return 1, "e ? boolean : 0"
        return None

    def _call_mask(
        self, e: Expr, fn: FunctionDef, ctx: str, seen: frozenset[FnRef]
    ) -> tuple[int, str] | None:
        body = self.macros.expand(e, ctx)
        if body is not None:
            got = self.mask(body, fn, ctx, seen)
            return None if got is None else (got[0], f"macro {_callee(e)}()")
        k = self.macros.eval_int(e, ctx)
        if k is not None:
            return k, "K"
        for ref in self.idx.resolve_name(_callee(e), ctx):
            if ref in seen:
                continue
            helper = self.idx.functions[ref]
            masks = [
                self.mask(st.expr, helper, ref[0], seen | {ref})
                for st in iter_stmts(helper.body)
                if st.kind == "return" and st.expr
            ]
            if masks and all(m is not None for m in masks):
                return _union(masks), f"helper {ref[1]}()"
        if self.is_boolean(e, fn, ctx):
            return 1, "boolean"
        return None


def _union(masks: Sequence[tuple[int, str] | None]) -> int:
    out = 0
    for m in masks:
        out |= m[0] if m is not None else 0
    return out


def _packed(e: Expr) -> tuple[Expr, Expr | None, str] | None:
    """``(value, mask-or-None, form)`` when ``e`` is ``v |= x``, ``v = v | x`` or
    ``v = deposit32(v, pos, len, x)``; None for any other statement."""
    if e.kind != "assign" or len(e.args) != 2:
        return None
    lhs, rhs = e.args
    if e.op == "|=":
        return rhs, None, ""
    if e.op != "=" or lhs.kind != "name":
        return None
    if rhs.kind == "binary" and rhs.op == "|" and len(rhs.args) == 2:
        for mine, other in ((rhs.args[0], rhs.args[1]), (rhs.args[1], rhs.args[0])):
            if mine.kind == "name" and mine.text == lhs.text:
                return other, None, ""
    if _callee(rhs) in ("deposit32", "deposit64") and len(rhs.args) == 5:
        return rhs.args[4], rhs, _callee(rhs)
    return None


def _cases(stmts: Sequence[Stmt], case: Expr | None) -> Iterator[tuple[Stmt, Expr | None]]:
    """Every expression statement with the ``case`` label it sits under."""
    for st in stmts:
        label = st.expr if st.kind == "case" else case
        if st.kind == "case" and st.expr is None:
            label = Expr("name", st.line, st.col, st.line, st.col, "default")
        if st.kind == "expr" and st.expr is not None:
            yield st, case
        yield from _cases(st.body, label)
        yield from _cases(st.orelse, label)


def _packings(rd: _Reader, ref: FnRef) -> tuple[list[Packing], list[PresenceProblem]]:
    fn = rd.idx.functions[ref]
    out: list[Packing] = []
    problems: list[PresenceProblem] = []
    body = fn.body.body if fn.body.kind == "block" else (fn.body,)
    for st, label in _cases(body, None):
        assert st.expr is not None
        got = _packed(st.expr)
        if got is None:
            continue
        value, dep, form = got
        fields = rd.status_fields(value, fn, ref[0], frozenset({ref}))
        if not fields:
            continue
        case = None if label is None else rd.macros.eval_int(label, ref[0])
        case = -1 if label is not None and case is None else case
        if dep is not None:
            pos = rd.macros.eval_int(dep.args[2], ref[0])
            width = rd.macros.eval_int(dep.args[3], ref[0])
            mask = None if pos is None or width is None else ((1 << width) - 1) << pos
        else:
            m = rd.mask(value, fn, ref[0], frozenset({ref}))
            mask, form = (None, "") if m is None else m
        if mask is None:
            problems.append(
                PresenceProblem(
                    ref[0],
                    st.line,
                    f"{ref[1]}() packs "
                    f"{', '.join(sorted(fields))} into a register bit the analysis "
                    f"cannot compute: {_text(st.expr)}",
                )
            )
            continue
        out.append(Packing(mask, tuple(sorted(fields)), st.line, case, form))
    return out, problems


def _read_handler(
    rd: _Reader, builder_file: str
) -> tuple[FnRef, list[Packing], list[PresenceProblem]] | None:
    """The function packing ``AcpiCpuStatus`` fields into the flags register.

    Preferred: one registered as a ``.read`` callback, then the most packings,
    then one in the AML builder's file.
    """
    readers = {
        r.function for (_, f), regs in rd.idx.registrations.items() if f == "read" for r in regs
    }
    best: tuple[tuple[int, int, int], FnRef, list[Packing], list[PresenceProblem]] | None = None
    # the index holds every assignment: only the functions with a packing are read
    candidates = {ref for ref, e in rd.idx.assigns if _packed(e)}
    for ref in sorted(candidates):
        packs, probs = _packings(rd, ref)
        if not packs and not probs:
            continue
        score = (int(ref[1] in readers), len(packs) + len(probs), int(ref[0] == builder_file))
        if best is None or score > best[0]:
            best = (score, ref, packs, probs)
    return None if best is None else (best[1], best[2], best[3])


def _at_bit(packs: Sequence[Packing], byte: int | None, bit: int) -> list[Packing]:
    """Packings that can set ``bit`` of flags byte ``byte``.

    A packing under ``case L`` sets bit ``j`` of the register at byte ``L``;
    one outside a switch is taken to address the flags byte.  With ``byte``
    unknown, the case holding the most packings is the flags byte.
    """
    if byte is None:
        counts: dict[int | None, int] = {}
        for p in packs:
            counts[p.case] = counts.get(p.case, 0) + 1
        flags = max(
            sorted(counts, key=lambda c: -1 if c is None else c),
            key=counts.__getitem__,
            default=None,
        )
        return [p for p in packs if p.case == flags and (p.mask >> bit) & 1]
    out: list[Packing] = []
    for p in packs:
        if p.case == -1:  # under ``default:`` or a label that does not fold
            continue
        shift = 8 * byte + bit - 8 * (byte if p.case is None else p.case)
        if 0 <= shift < 64 and (p.mask >> shift) & 1:
            out.append(p)
    return out


# -- the whole derivation ---------------------------------------------------


def _text(e: Expr) -> str:
    if e.kind in ("name", "const", "string"):
        return e.text
    if e.kind == "field" and e.args:
        return f"{_text(e.args[0])}{e.op}{e.text}"
    if e.kind == "call" and e.args:
        return f"{_text(e.args[0])}({', '.join(_text(a) for a in e.args[1:])})"
    if e.kind == "assign" and len(e.args) == 2:
        return f"{_text(e.args[0])} {e.op} {_text(e.args[1])}"
    if e.kind == "binary" and len(e.args) == 2:
        return f"{_text(e.args[0])} {e.op} {_text(e.args[1])}"
    if e.kind == "ternary" and len(e.args) == 3:
        return f"{_text(e.args[0])} ? {_text(e.args[1])} : {_text(e.args[2])}"
    if e.kind == "unary" and e.args:
        return f"{e.op}{_text(e.args[0])}"
    return "…"


def _packing_steps(ref: FnRef, packs: Sequence[Packing], bit: int, label: str) -> list[Where]:
    return [
        Where(
            ref[0],
            p.line,
            f"{ref[1]}() packs "
            + ", ".join(f"{STATUS_STRUCT}::{f}" for f in p.fields)
            + f" into bit {bit} ({label})",
        )
        for p in packs
    ]


def _read_fields(
    idx: CodeIndex,
    handler: tuple[FnRef, list[Packing], list[PresenceProblem]],
    present: Sequence[AmlField],
    enabled: AmlField | None,
    bit: int,
    steps: list[Where],
    problems: list[PresenceProblem],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The fields the read handler packs into the Present bits and the
    Enabled bit, and which Present bit (AML field) each feeds."""
    ref, packs, _ = handler
    targets: list[tuple[int | None, int, str]] = [(f.byte, f.bit, f.name) for f in present]
    targets = targets or [(None, bit, "")]
    fields: set[str] = set()
    feeds: set[tuple[str, str]] = set()
    for byte, b, name in targets:
        hits = _at_bit(packs, byte, b)
        steps.extend(_packing_steps(ref, hits, b, "Present"))
        if not hits:
            message = f"{ref[1]}() packs no {STATUS_STRUCT} field into bit {b} (Present)"
            problems.append(PresenceProblem(ref[0], idx.functions[ref].line, message))
        got = {f for p in hits for f in p.fields}
        fields |= got
        feeds |= {(f, name) for f in got if name}
    enabled_fields: set[str] = set()
    if enabled is not None:
        ehits = _at_bit(packs, enabled.byte, enabled.bit)
        enabled_fields = {f for p in ehits for f in p.fields}
        if enabled.name not in {f.name for f in present}:
            steps.extend(_packing_steps(ref, ehits, enabled.bit, "Enabled"))
    return tuple(sorted(fields)), tuple(sorted(enabled_fields)), tuple(sorted(feeds))


def _override(
    aml: _AmlResult | None, present: tuple[AmlField, ...], bit: int
) -> tuple[AmlField, ...]:
    """The Present fields under a ``presence-bit`` override naming ``bit``: the
    one-bit field at that bit of the flags byte, when the AML declares one."""
    if not present or any(f.bit == bit for f in present[:1]):
        return present[:1]
    layout = aml.layout if aml is not None else ()
    byte = present[0].byte
    return tuple(f for f in layout if f.byte == byte and f.bit == bit and f.width == 1)[:1]


def derive_presence(
    facts: Sequence[FileFacts],
    idx: CodeIndex,
    builder: str = "build_cpus_aml",
    presence_bit: int | None = None,
    presence_fields: Sequence[str] = (),
    macros: Macros | None = None,
) -> Presence:
    """Derive the Present bit from the AML and the fields feeding it from the read handler.

    :param facts: every analysed file's facts (for the ``#define``\\ s)
    :param idx: the code index of the same facts
    :param builder: the function emitting the CPU hotplug AML
    :param presence_bit: the ``presence-bit`` override, None when not configured
    :param presence_fields: the ``presence-fields`` configuration, the first
        fallback when the fields cannot be derived
    :param macros: the ``#define``\\ s of ``facts``, when already built
    :return: the result, with every step that could not be followed in
        ``problems``, and ``fields`` non-empty unless Present is fixed
    """
    macros = macros if macros is not None else build_macros(facts)
    problems: list[PresenceProblem] = []
    aml = _aml_presence(idx, macros, builder, problems)
    builder_ref = min(idx.by_name.get(builder, [("", "")]))
    builder_file = builder_ref[0]
    builder_line = idx.functions[builder_ref].line if builder_ref in idx.functions else 0
    handler = _read_handler(_Reader(idx, macros), builder_file)
    present = aml.present if aml is not None else ()
    enabled = aml.enabled if aml is not None else None
    fixed = aml.fixed if aml is not None else None
    steps = list(aml.derivation) if aml is not None else []
    bit = present[0].bit if present else DEFAULT_BIT
    source = "derived" if present else "fixed" if fixed is not None else ""
    if presence_bit is not None:
        bit, source, fixed = presence_bit, "presence-bit", None
        steps.append(Where("", 0, f"the configuration sets presence-bit = {presence_bit}"))
        present = _override(aml, present, bit)
    fields: tuple[str, ...] = ()
    enabled_fields: tuple[str, ...] = ()
    feeds: tuple[tuple[str, str], ...] = ()
    if handler is None and source != "fixed":
        message = f"no read handler packing {STATUS_STRUCT} fields into register bits was found"
        problems.append(PresenceProblem(builder_file, builder_line, message))
    elif handler is not None and source == "fixed":
        problems.extend(handler[2])
        if enabled is not None:
            enabled_fields = _read_fields(idx, handler, (), enabled, bit, [], [])[1]
    elif handler is not None and source:
        problems.extend(handler[2])
        fields, enabled_fields, feeds = _read_fields(
            idx, handler, present, enabled, bit, steps, problems
        )
    if not fields and source != "fixed":
        source, fields, bit, note = _fallback(
            presence_fields, presence_bit, bit if source else None
        )
        problems.append(PresenceProblem(builder_file, builder_line, note))
        steps.append(Where(builder_file, builder_line, note))
    return Presence(
        bit=bit,
        field=present[0].name if present else "",
        enabled_bit=enabled.bit if enabled is not None else None,
        enabled_field=enabled.name if enabled is not None else "",
        fields=fields,
        enabled_fields=enabled_fields,
        source=source,
        derivation=tuple(steps),
        read_handler=handler[0] if handler is not None else None,
        packings=tuple(handler[1]) if handler is not None else (),
        layout=aml.layout if aml is not None else (),
        problems=tuple(problems),
        aml_fields=tuple(f.name for f in present),
        feeds=feeds,
        fixed=fixed,
        sta_value=aml.sta_value if aml is not None and fixed is not None else None,
    )


def _fallback(
    configured: Sequence[str], override: int | None, known: int | None
) -> tuple[str, tuple[str, ...], int, str]:
    """The visible fallback: ``presence-fields``, else ``cpu``; at the bit known, else 0."""
    bit = override if override is not None else known if known is not None else DEFAULT_BIT
    if configured:
        fields = tuple(sorted(set(configured)))
        return (
            "presence-fields",
            fields,
            bit,
            "falling back to the presence-fields "
            f"configuration ({', '.join(fields)}) for bit {bit}",
        )
    return (
        "default",
        (DEFAULT_FIELD,),
        bit,
        f"falling back to bit {bit} fed by "
        f"{STATUS_STRUCT}::{DEFAULT_FIELD} (presence-fields overrides this)",
    )
