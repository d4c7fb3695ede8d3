"""Stage 4 (model): which architectures reach a site, and why.

Entry point: :class:`Reach` (built by :func:`build_reach`), whose
:meth:`Reach.attribute` searches, per architecture, backwards from a site's
function over

* call edges whose caller is defined in a file built for the architecture
  (the build configuration of :mod:`qemu_lint.build`; where it has no
  answer, the folder rule: ``hw/<a>/`` and ``target/<a>/`` are only
  ``a``'s, other files everyone's);
* dispatch through a class hook (``hdc->unplug(plug_handler, …)``), kept
  only when the object can have the registering type: the receiver's
  possible types come from where it is created (``qdev_new(TYPE_X)``…),
  stored (``lvms->acpi_ged = …``) or looked up as a device's hotplug
  handler (``qdev_get_hotplug_handler(dev)``: the machine types whose
  ``MachineClass::get_hotplug_handler``, built for the architecture,
  returns the machine, plus the bus's handler unless the device has no
  bus); where they are unknown (a field whose address is taken, a value of
  unknown origin) every registration is kept, and the evidence says so;
* device-type conditions (``object_dynamic_cast(OBJECT(dev), TYPE_X)``),
  carried as constraints on the parameters of the functions on the path
  and decided from the QOM hierarchy (:class:`~qemu_lint.model.qom.QomModel`);
* guest-driven entries: a ``MemoryRegionOps`` handler is reached from the
  function registering its table with ``memory_region_init_io()``, and a
  ``DeviceClass::realize`` implementation from every place creating an
  object of its type (or a subtype).

An architecture reaches the site when the search arrives in its own code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qemu_lint.facts import Expr, FileFacts, FunctionDef, iter_stmts, stmt_exprs
from qemu_lint.model.callgraph import CallEdge, CodeIndex, FnRef, Registration
from qemu_lint.model.guards import FlowFacts
from qemu_lint.model.qom import CREATORS, QomModel
from qemu_lint.model.types import is_null_const, strip_casts
from qemu_lint.source import arch_of

if TYPE_CHECKING:  # the build configuration's modules load when a run needs them
    from qemu_lint.build import BuildConfig

#: how many calls above a site the search goes (as the guard search)
MAX_DEPTH = 8
#: functions registering a MemoryRegionOps table, and the table's argument position
MMIO_INITS: dict[str, int] = {
    "memory_region_init_io": 2,
    "memory_region_init_rom_device": 2,
    "memory_region_init_ram_device_ptr": -1,
}
#: class hooks run for every created object of the type
CREATION_HOOKS = ("realize",)
DYNAMIC_CASTS = ("object_dynamic_cast",)
#: qdev's hotplug-handler lookups: (asks the machine, asks the device's bus)
HANDLER_LOOKUPS: dict[str, tuple[bool, bool]] = {
    "qdev_get_hotplug_handler": (True, True),
    "qdev_get_machine_hotplug_handler": (True, False),
    "qdev_get_bus_hotplug_handler": (False, True),
}
#: the machine's hotplug handler, registered by a board's class_init
MACHINE_HANDLER = ("MachineClass", "get_hotplug_handler")

Constraint = tuple[int, str, bool]  # (parameter index, QOM type, is-an-instance)
State = tuple[FnRef, frozenset[Constraint]]


@dataclass(frozen=True, slots=True)
class Step:
    """One edge of an attributed path: ``caller`` calls (or enters) ``callee``."""

    caller: FnRef
    line: int
    callee: FnRef
    note: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """How one architecture reaches a site (or why it does not)."""

    arch: str
    reached: bool
    #: from the architecture's code down to the site's function
    steps: tuple[Step, ...] = ()
    #: the build facts the path rests on: (generic file, why it is built)
    build: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Known:
    types: frozenset[str]
    why: str


Resolved = int | _Known | None  # a parameter index, known types, or unknown
#: what the path requires of a local: name → the types it must have
Hints = dict[str, frozenset[str]]


#: a question the attribution asks of the build configuration: (what, arch, file)
BuildQuestion = tuple[str, str, str]


class BuildAnswers:
    """The three questions the attribution asks of the build configuration
    (does ``arch`` have targets, does it build ``file``, and why), each
    answered once and kept in :attr:`answers`.

    A file selection gives the model the answers an earlier run recorded
    under the same digests of the build configuration's inputs (it is a
    function of them, so they are its answers), and a way to load the
    configuration itself (:func:`qemu_lint.select.build_facts`), called
    only for a question not recorded: a check after an edit that is not of
    a build file so neither unpickles nor imports the build configuration.

    :param load: the configuration, on first need
    :param answers: question → answer, filled as questions are answered
    """

    def __init__(
        self, load: Callable[[], BuildConfig], answers: dict[BuildQuestion, object] | None = None
    ) -> None:
        self._load = load
        self._config: BuildConfig | None = None
        self.answers: dict[BuildQuestion, object] = answers if answers is not None else {}

    @classmethod
    def of(cls, build: BuildConfig | BuildAnswers | None) -> BuildAnswers | None:
        """``build`` asked through answers (None stays None)."""
        if build is None or isinstance(build, BuildAnswers):
            return build
        return cls(lambda: build)

    def _ask(self, what: str, arch: str, file: str) -> object:
        key = (what, arch, file)
        if key in self.answers:
            return self.answers[key]
        if self._config is None:
            self._config = self._load()
        bc = self._config
        got: object
        if what == "uses":
            got = bool(bc.for_arch(arch))
        elif what == "built":
            got = bc.is_built(arch, file)
        else:
            got = bc.evidence(arch, file)
        self.answers[key] = got
        return got

    def uses(self, arch: str) -> bool:
        """Does ``arch`` have a system emulator target?"""
        return bool(self._ask("uses", arch, ""))

    def is_built(self, arch: str, file: str) -> bool | None:
        """:meth:`qemu_lint.build.BuildConfig.is_built`."""
        got = self._ask("built", arch, file)
        return got if isinstance(got, bool) else None

    def evidence(self, arch: str, file: str) -> str:
        """:meth:`qemu_lint.build.BuildConfig.evidence`."""
        return str(self._ask("evidence", arch, file))


@dataclass(slots=True)
class Reach:
    index: CodeIndex
    qom: QomModel
    archs: frozenset[str]
    build: BuildAnswers | None
    flow: Callable[[FnRef], FlowFacts]
    guarded: Callable[[FnRef, Expr], bool]
    #: MemoryRegionOps table name → handler function names
    mmio_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _stores: dict[tuple[str, str], _Known | None] = field(default_factory=dict)
    #: per function, every definition of each local (None: it escapes)
    _defs: dict[FnRef, dict[str, list[Expr] | None]] = field(default_factory=dict)
    #: per architecture, the machines' hotplug handlers (None: unknown)
    _machine_handlers: dict[str, _Known | None] = field(default_factory=dict)

    # -- what is built -------------------------------------------------------
    def uses_build(self, arch: str) -> bool:
        return self.build is not None and self.build.uses(arch)

    def allowed(self, arch: str, file: str) -> bool:
        own = arch_of(file, self.archs)
        if own is not None:
            return own == arch
        if file.endswith(".h") or not self.uses_build(arch):
            return True
        assert self.build is not None
        b = self.build.is_built(arch, file)
        return True if b is None else b

    def build_note(self, arch: str, file: str) -> str | None:
        if arch_of(file, self.archs) is not None or file.endswith(".h"):
            return None
        if not self.uses_build(arch):
            return f"{file}: no build configuration for {arch}; the folder rule counts it built"
        assert self.build is not None
        if self.build.is_built(arch, file) is None:
            return (
                f"{file}: whether {arch} builds it is not decided by the build configuration; "
                "the folder rule counts it built"
            )
        return self.build.evidence(arch, file)

    # -- objects and their types ---------------------------------------------
    def resolve(
        self,
        e: Expr,
        ref: FnRef,
        depth: int = 0,
        arch: str | None = None,
        hints: Hints | None = None,
    ) -> Resolved:
        """What an object expression of ``ref`` is: a parameter, known types, or
        unknown.  ``arch`` (None: any) decides which boards' handlers count;
        ``hints`` are the types the path requires of ``ref``'s locals."""
        e = strip_casts(e)
        fn = self.index.functions[ref]
        if e.kind == "name":
            pos = next((i for i, p in enumerate(fn.params) if p.name == e.text), None)
            if pos is not None:
                return pos
            return self._local(e.text, ref, depth, arch, hints) if depth < 6 else None
        if e.kind == "call" and e.args and e.args[0].kind == "name":
            return self._call_types(e, ref, depth, arch, hints)
        if e.kind == "field":
            fr = self.index.field_ref(e, fn, ref[0])
            return self.stored(fr) if fr is not None else None
        return None

    def _local(
        self, name: str, ref: FnRef, depth: int, arch: str | None, hints: Hints | None
    ) -> Resolved:
        """A local's value: its one definition besides NULL ones (``h = NULL;
        … h = qdev_get_hotplug_handler(dev);``), else unknown."""
        defs = [d for d in self._all_defs(ref).get(name) or () if not is_null_const(d)]
        if len(defs) != 1:
            return None
        return self.resolve(defs[0], ref, depth + 1, arch, hints)

    def _all_defs(self, ref: FnRef) -> dict[str, list[Expr] | None]:
        got = self._defs.get(ref)
        if got is None:
            got = _local_defs(self.index.functions[ref])
            self._defs[ref] = got
        return got

    def _call_types(
        self, e: Expr, ref: FnRef, depth: int, arch: str | None, hints: Hints | None
    ) -> _Known | None:
        name = e.args[0].text
        pos = CREATORS.get(name)
        if pos is not None:
            t = self.qom.type_name(e.args[1 + pos]) if 1 + pos < len(e.args) else None
            if t is None:
                return None
            return _Known(
                frozenset({t}),
                f"created as {self.qom.spelling(t)} by {name}() at {ref[0]}:{e.line}",
            )
        if name in HANDLER_LOOKUPS:
            if arch is None or len(e.args) < 2:
                return None
            return self._handler(name, e, ref, arch, hints)
        if depth >= 4:
            return None
        types: set[str] = set()
        whys: list[str] = []
        defs = self.index.resolve_name(name, ref[0])
        for d in defs:
            rets = self.flow(d).returns
            if not rets:
                return None
            for r, _ in rets:
                got = self.resolve(r, d, depth + 1, arch) if r is not None else None
                if not isinstance(got, _Known):
                    return None
                types |= got.types
                whys.append(got.why)
        if not defs:
            return None
        return _Known(frozenset(types), f"returned by {name}(): " + "; ".join(sorted(set(whys))))

    # -- hotplug handlers ----------------------------------------------------
    def _handler(
        self, name: str, e: Expr, ref: FnRef, arch: str, hints: Hints | None
    ) -> _Known | None:
        """The types ``qdev_get_hotplug_handler(dev)`` and kin can return for ``arch``."""
        machine, bus = HANDLER_LOOKUPS[name]
        types: set[str] = set()
        whys: list[str] = []
        if machine:
            got = self.machine_handlers(arch)
            if got is None:
                return None
            types |= got.types
            whys.append(got.why)
        if bus:
            dev = strip_casts(e.args[1])
            known = self.resolve(dev, ref, 5, arch)
            dev_types = known.types if isinstance(known, _Known) else None
            if dev_types is None and hints is not None and dev.kind == "name":
                dev_types = hints.get(dev.text)
            if not dev_types or not all(self.qom.busless(t) for t in dev_types):
                return None
            spelled = ", ".join(sorted(self.qom.spelling(t) for t in dev_types))
            whys.append(
                f"a {spelled} has no parent bus (no DeviceClass::bus_type in its class "
                "chain), so no bus handler"
            )
        return _Known(frozenset(types), f"{name}() at {ref[0]}:{e.line}: " + "; ".join(whys))

    def machine_handlers(self, arch: str) -> _Known | None:
        """What the machines built for ``arch`` return as a device's hotplug
        handler: the machine itself (its type), or what the board's
        ``MachineClass::get_hotplug_handler`` returns otherwise (NULL: none)."""
        if arch in self._machine_handlers:
            return self._machine_handlers[arch]
        self._machine_handlers[arch] = None  # recursion guard
        types: set[str] = set()
        whys: list[str] = []
        ok = True
        for reg in self.index.registrations.get(MACHINE_HANDLER, []):
            if not ok or not self.allowed(arch, reg.file):
                continue
            board = self._receiver(reg)
            for d in self.index.resolve_name(reg.function, reg.file):
                for r, _ in self.flow(d).returns:
                    if r is None or is_null_const(r):
                        continue
                    got = self.resolve(r, d, 1, arch)
                    if got == 0 and board is not None:
                        types.add(board)
                        whys.append(
                            f"{reg.function}() (registered at {reg.file}:{reg.line}) returns "
                            f"the machine, a {self.qom.spelling(board)}"
                        )
                    elif isinstance(got, _Known):
                        types |= got.types
                        whys.append(f"{reg.function}() returns {got.why}")
                    else:
                        ok = False
        out = None
        if ok:
            why = "; ".join(whys) if whys else f"no machine built for {arch} has a hotplug handler"
            out = _Known(frozenset(types), why)
        self._machine_handlers[arch] = out
        return out

    def stored(self, key: tuple[str, str]) -> _Known | None:
        """The types of the objects stored in ``key``, if every store is known."""
        if key in self._stores:
            return self._stores[key]
        self._stores[key] = None  # recursion guard
        types: set[str] = set()
        whys: list[str] = []
        ok = True
        for ref, e in self.index.assigns:
            lhs = e.args[0]
            if lhs.kind != "field" or lhs.text != key[1] or e.op != "=":
                continue
            if self.index.field_ref(lhs, self.index.functions[ref], ref[0]) != key:
                continue
            got = self.resolve(e.args[1], ref, 1)
            if not isinstance(got, _Known):
                ok = False
                break
            types |= got.types
            whys.append(f"{key[0]}::{key[1]} is stored at {ref[0]}:{e.line}, {got.why}")
        ok = ok and bool(types) and not self._address_taken(key)
        out = _Known(frozenset(types), "; ".join(whys)) if ok else None
        self._stores[key] = out
        return out

    def _address_taken(self, key: tuple[str, str]) -> bool:
        """``&x->field`` anywhere: the field may be written through the pointer."""
        return any(
            self.index.field_ref(inner, self.index.functions[ref], ref[0]) == key
            for ref, inner in self.index.address_taken.get(key[1], ())
        )

    # -- constraints ---------------------------------------------------------
    def _fits(self, known: _Known, t: str, pos: bool) -> bool:
        return any(self.qom.is_a(s, t) in (None, pos) for s in known.types)

    def _compatible(self, have: Constraint, t: str, pos: bool) -> bool:
        _, h, hp = have
        if hp and pos:
            return self.qom.may_be_both(h, t)
        if hp and not pos:
            return self.qom.is_a(h, t) is not True
        if pos and not hp:
            return self.qom.is_a(t, h) is not True
        return True

    def _add(
        self, out: set[Constraint], what: Resolved, t: str, pos: bool, notes: list[str], why: str
    ) -> bool:
        """Add "``what`` is (not) a ``t``"; False when that is impossible."""
        spelled = self.qom.spelling(t)
        label = why or "the object passed on"
        if isinstance(what, _Known):
            if not self._fits(what, t, pos):
                return False
            sure = all(self.qom.is_a(s, t) is not None for s in what.types)
            verb = ("is" if pos else "is not") if sure else ("may be" if pos else "may not be")
            notes.append(f"{label} {verb} a {spelled} ({what.why})")
            return True
        if isinstance(what, int):
            if any(c[0] == what and not self._compatible(c, t, pos) for c in out):
                return False
            out.add((what, t, pos))
            if why:
                notes.append(f"{why}: the object must {'be' if pos else 'not be'} a {spelled}")
        return True

    def _casts(
        self, fn: FunctionDef, facts: Sequence[tuple[Expr, bool]]
    ) -> list[tuple[Expr, str, bool]]:
        """``object_dynamic_cast(x, TYPE_T)`` atoms the conditions force, with polarity."""
        out: list[tuple[Expr, str, bool]] = []
        todo = list(facts)
        while todo:
            e, pol = todo.pop()
            if e.kind == "unary" and e.op == "!" and e.args:
                todo.append((e.args[0], not pol))
            elif e.kind == "binary" and e.op in ("&&", "||") and len(e.args) == 2:
                if (e.op == "&&") == pol:
                    todo.extend((a, pol) for a in e.args)
            elif e.kind in ("paren",) and e.args:
                todo.append((e.args[0], pol))
            elif (
                e.kind == "call"
                and len(e.args) >= 3
                and e.args[0].kind == "name"
                and e.args[0].text in DYNAMIC_CASTS
            ):
                t = self.qom.type_name(e.args[2])
                if t is not None:
                    out.append((e.args[1], t, pol))
        return out

    def _through(
        self, state: State, caller: FnRef, call: Expr, receiver: str | None, arch: str
    ) -> tuple[frozenset[Constraint], list[str]] | None:
        """The constraints on ``caller`` for taking ``call`` towards ``state``,
        with the notes explaining them; None when the types rule it out."""
        args = call.args[1:]
        out: set[Constraint] = set()
        notes: list[str] = []
        hints: Hints = {}
        for i, t, pos in state[1]:
            a = strip_casts(args[i]) if pos and i < len(args) else None
            if a is not None and a.kind == "name":
                hints[a.text] = hints.get(a.text, frozenset()) | {t}
        for i, t, pos in sorted(state[1]):
            if i >= len(args):
                continue
            what = self.resolve(args[i], caller, 0, arch, hints)
            if not self._add(out, what, t, pos, notes, ""):
                return None
            if what is None and pos:
                notes.append(
                    f"the object passed on is of unknown type (it must be a "
                    f"{self.qom.spelling(t)} to go on): every registration built for the "
                    "architecture is followed"
                )
        if receiver is not None and args:
            what = self.resolve(args[0], caller, 0, arch, hints)
            if not self._add(out, what, receiver, True, notes, "the receiver"):
                return None
            if what is None:
                notes.append(
                    "the receiver's type is unknown: every registration built for the "
                    "architecture is followed"
                )
        facts = self.flow(caller).at.get((call.line, call.col, call.end_line, call.end_col), ())
        fn = self.index.functions[caller]
        for obj, t, pos in self._casts(fn, facts):
            neg = "" if pos else " not"
            label = obj.text or "the object"
            why = f"takes the branch where {label} is{neg} a {self.qom.spelling(t)}"
            if not self._add(out, self.resolve(obj, caller, 0, arch), t, pos, notes, why):
                return None
        return frozenset(out), notes

    # -- edges into a function ----------------------------------------------
    def _receiver(self, reg: Registration | None) -> str | None:
        if reg is None or not reg.by:
            return None
        types = [
            t for t in self.qom.by_class_init.get(reg.by, []) if self.qom.types[t].file == reg.file
        ]
        return types[0] if len(types) == 1 else None

    def _entries(self, ref: FnRef, arch: str) -> list[tuple[FnRef, Expr, str]]:
        """Guest- and creation-driven entries into ``ref``: (function, call, note)."""
        out: list[tuple[FnRef, Expr, str]] = []
        for table, handlers in self.mmio_tables.items():
            if ref[1] not in handlers:
                continue
            for fname, pos in MMIO_INITS.items():
                for caller, call in self.index.direct_calls.get(fname, []):
                    args = call.args[1:]
                    a = args[pos] if 0 <= pos < len(args) else None
                    if a is not None and a.kind == "unary" and a.args and a.args[0].text == table:
                        out.append(
                            (
                                caller,
                                call,
                                f"maps the register block {table} with {fname}(): the guest's "
                                f"accesses run {ref[1]}()",
                            )
                        )
        for hook in CREATION_HOOKS:
            for reg in self.index.registrations.get(("DeviceClass", hook), []):
                if reg.function != ref[1]:
                    continue
                t = self._receiver(reg)
                if t is not None:
                    why = (
                        f"its realize is {ref[1]}() (DeviceClass::realize of "
                        f"{self.qom.spelling(t)}, registered at {reg.file}:{reg.line})"
                    )
                    out.extend(self._created(t, why))
        for t in self.qom.by_instance_init.get(ref[1], []):
            info = self.qom.types[t]
            if info.file == ref[0]:
                why = (
                    f"{ref[1]}() initialises every {self.qom.spelling(t)} "
                    f"(.instance_init, {info.file}:{info.line})"
                )
                out.extend(self._created(t, why))
        return [e for e in out if self.allowed(arch, e[0][0])]

    def _created(self, t: str, why: str) -> list[tuple[FnRef, Expr, str]]:
        """The places creating an object of ``t`` (or a subtype), as entries."""
        return [
            (
                c.function,
                Expr("call", c.line, 1, c.line, 1, text=c.call),
                f"creates a {c.spelling} with {c.call}(); {why}",
            )
            for c in self.qom.creations
            if self.qom.is_a(c.type, t)
        ]

    def _edges(self, state: State, arch: str) -> list[tuple[State, Step]]:
        ref = state[0]
        out: list[tuple[State, Step]] = []
        for edge in self.index.callers(ref):
            if not self.allowed(arch, edge.caller[0]) or self.guarded(edge.caller, edge.call):
                continue
            receiver = self._receiver(edge.registration) if edge.via else None
            got = self._through(state, edge.caller, edge.call, receiver, arch)
            if got is None:
                continue
            note = _note(edge, ref, receiver, self.qom, got[1])
            out.append(((edge.caller, got[0]), Step(edge.caller, edge.call.line, ref, note)))
        for caller, call, note in self._entries(ref, arch):
            if self.guarded(caller, call):
                continue
            out.append(((caller, frozenset()), Step(caller, call.line, ref, note)))
        # edges whose types are known first: of two ways to one state, the
        # path keeps the better-founded one
        out.sort(key=lambda e: " may " in e[1].note)
        return out

    # -- the search ------------------------------------------------------------
    def attribute(self, start: FnRef, arch: str) -> Attribution:
        """Does ``arch`` reach ``start`` (unguarded), and along which path?"""
        if not self.allowed(arch, start[0]):
            note = self.build_note(arch, start[0])
            return Attribution(arch, False, (), ((start[0], note),) if note else ())
        first: State = (start, frozenset())
        parent: dict[State, tuple[State, Step] | None] = {first: None}
        depth = {first: 0}
        queue = [first]
        while queue:
            state = queue.pop(0)
            own = arch_of(state[0][0], self.archs) == arch
            if own and (not state[1] or depth[state] >= MAX_DEPTH):
                return self._found(arch, state, parent)
            if depth[state] >= MAX_DEPTH:
                continue
            edges = self._edges(state, arch)
            if own and (edges or not self.index.callers(state[0])):
                # the architecture's code, its type constraints not refuted
                # by its callers (one level up): reached
                return self._found(arch, state, parent)
            for nxt, step in edges:
                if nxt not in parent:
                    parent[nxt] = (state, step)
                    depth[nxt] = depth[state] + 1
                    queue.append(nxt)
        return Attribution(arch, False)

    def _found(
        self, arch: str, state: State, parent: dict[State, tuple[State, Step] | None]
    ) -> Attribution:
        steps: list[Step] = []
        link = parent[state]
        while link is not None:
            prev, step = link
            steps.append(step)
            link = parent[prev]
        files = dict.fromkeys(s.callee[0] for s in steps)
        files.update(dict.fromkeys(s.caller[0] for s in steps))
        build = tuple((f, n) for f in sorted(files) if (n := self.build_note(arch, f)) is not None)
        return Attribution(arch, True, tuple(steps), build)


def _local_defs(fn: FunctionDef) -> dict[str, list[Expr] | None]:
    """Every value assigned to each local of ``fn`` (its initializer
    included); None for a local whose address is taken or that is updated
    other than by ``=``."""
    names = {v.name for v in fn.locals}
    out: dict[str, list[Expr] | None] = {}
    for st in iter_stmts(fn.body):
        if st.kind == "decl" and st.text in names:
            got = out.setdefault(st.text, [])
            if st.expr is not None and got is not None:
                got.append(st.expr)
    for e in stmt_exprs(fn.body):
        if e.kind == "assign" and e.args and e.args[0].kind == "name" and e.args[0].text in out:
            got = out[e.args[0].text]
            if got is not None and e.op == "=" and len(e.args) > 1:
                got.append(e.args[1])
            else:
                out[e.args[0].text] = None
        elif e.kind == "unary" and e.op in ("&", "++", "--") and e.args:
            if e.args[0].kind == "name" and e.args[0].text in out:
                out[e.args[0].text] = None
    return out


def _note(
    edge: CallEdge, callee: FnRef, receiver: str | None, qom: QomModel, notes: list[str]
) -> str:
    if edge.via:
        text = f"calls {edge.via} (dispatches to {callee[1]}()"
        if edge.registration is not None:
            text += f", registered at {edge.registration.file}:{edge.registration.line}"
            if receiver is not None:
                text += f" for {qom.spelling(receiver)}"
        text += ")"
    else:  # a direct call, or one through a local function pointer
        text = edge.note if edge.pointer else f"calls {callee[1]}()"
    return text + ("; " + "; ".join(notes) if notes else "")


def _mmio_tables(facts: Sequence[FileFacts]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for ff in facts:
        for g in ff.globals:
            if g.type.name != "MemoryRegionOps" or g.init is None:
                continue
            names = []
            for item in g.init.args:
                if item.kind == "designated" and item.text in ("read", "write") and item.args:
                    v = item.args[0]
                    if v.kind == "unary" and v.args:
                        v = v.args[0]
                    if v.kind == "name":
                        names.append(v.text)
            if names:
                out[g.name] = tuple(names)
    return out


def build_reach(
    facts: Sequence[FileFacts],
    index: CodeIndex,
    qom: QomModel,
    archs: frozenset[str],
    build: BuildConfig | BuildAnswers | None,
    flow: Callable[[FnRef], FlowFacts],
    guarded: Callable[[FnRef, Expr], bool],
) -> Reach:
    """The attribution engine over the model's index, QOM types and build facts."""
    return Reach(index, qom, archs, BuildAnswers.of(build), flow, guarded, _mmio_tables(facts))
