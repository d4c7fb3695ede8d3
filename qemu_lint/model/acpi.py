"""Stage 4 (model): ACPI vCPU hotplug facts.

Entry point: :func:`build_acpi`.  It finds

* the flags-register read handler: the function that packs ``AcpiCpuStatus``
  fields into register bits (``val |= cdev->cpu ? 1 : 0``), and from it the
  *presence fields*, those that feed the ``_STA.Present`` bit, plus those
  the configuration names (``presence-fields``);
* the *sites*: every release of ``AcpiCpuStatus::cpu`` (set to NULL/0, by
  assignment, through a pointer alias, an array element, ``memset`` or a
  setter function called with NULL) and every Present-toggle (another presence
  field set to false/0).  Everything is typed: a ``cpu`` member of any other
  struct is never a site;
* the architectures whose board code emits CPU hotplug AML, and those that
  implement a persistence hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FunctionDef
from qemu_lint.model.callgraph import CodeIndex, FnRef
from qemu_lint.model.guards import expr_key, single_defs
from qemu_lint.model.hooks import Hook
from qemu_lint.model.presence import Presence
from qemu_lint.model.types import TypeEnv, const_int, is_null_const
from qemu_lint.source import arch_of

STATUS_STRUCT = "AcpiCpuStatus"
CPU_FIELD = "cpu"


@dataclass(frozen=True, slots=True)
class Site:
    kind: str  # "release" | "presence-toggle"
    field: str
    function_ref: FnRef
    expr: Expr
    #: what the code does, e.g. "sets AcpiCpuStatus::cpu to NULL"
    what: str
    #: normalised text of the construct, for fingerprints
    key: str
    #: conditions under which the site releases, beyond its path (a ternary
    #: ``c ? x : NULL`` releases only when ``c`` is false)
    extra: tuple[tuple[Expr, bool], ...] = ()

    @property
    def file(self) -> str:
        return self.function_ref[0]

    @property
    def function(self) -> str:
        return self.function_ref[1]


@dataclass(frozen=True, slots=True)
class ReadHandler:
    function: FnRef
    line: int
    #: field → bit mask it is packed into
    bits: tuple[tuple[str, int], ...]


@dataclass(slots=True)
class AcpiFacts:
    status_declared: bool = False
    read_handler: ReadHandler | None = None
    presence_bit: int = 0
    #: fields that feed the Present bit: packed into it by the read handler,
    #: plus the configured ones that AcpiCpuStatus declares
    presence_fields: tuple[str, ...] = ()
    #: presence fields that count only because the configuration names them
    configured_presence_fields: tuple[str, ...] = ()
    #: configured presence fields that AcpiCpuStatus does not declare
    unknown_presence_fields: tuple[str, ...] = ()
    sites: list[Site] = field(default_factory=list)
    #: how the Present bit and its fields were derived (None before build_acpi)
    presence: Presence | None = None
    #: the function that emits the CPU hotplug AML (``build_cpus_aml``)
    cpu_aml_builder: str = ""
    #: arch → [(file, line)] of calls to the CPU AML builder
    emits_cpu_aml: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: arch → [(hook spec, file, line)] where the arch implements a hook
    hook_implementers: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    #: fields whose value generic code passes on into a flag hook:
    #: ``(struct, field, hook spec)``; setting one sets the flag
    flag_feeders: tuple[tuple[str, str, str], ...] = ()
    #: functions storing a parameter into a presence field: fn → (param index, field)
    setters: dict[FnRef, tuple[int, str]] = field(default_factory=dict)


def _read_handler(presence: Presence) -> ReadHandler | None:
    """The read handler :func:`~qemu_lint.model.presence.derive_presence` found, with
    every field → bit mask it packs."""
    if presence.read_handler is None:
        return None
    bits = {(f, p.mask) for p in presence.packings for f in p.fields}
    line = min((p.line for p in presence.packings), default=0)
    return ReadHandler(presence.read_handler, line, tuple(sorted(bits)))


def _hook_specs(hooks: tuple[Hook, ...]) -> dict[tuple[str, str], Hook]:
    return {(h.struct, h.field): h for h in hooks if h.struct and h.field and h.declared}


def _hook_implementers(
    idx: CodeIndex,
    hooks: tuple[Hook, ...],
    archs: frozenset[str],
    feeders: dict[tuple[str, str], Hook],
) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    specs = _hook_specs(hooks)
    for key, h in specs.items():
        if h.is_fnptr:
            for r in idx.registrations.get(key, []):
                a = arch_of(r.file, archs)
                if a is not None:
                    out.setdefault(a, []).append((h.spec, r.file, r.line))
    flags = {k: h for k, h in specs.items() if not h.is_fnptr}
    flags.update(feeders)
    flag_fields = {k[1] for k in flags}
    if flag_fields:
        for ref, e in idx.assigns:
            if e.op != "=" or len(e.args) != 2 or e.args[0].kind != "field":
                continue
            if e.args[0].text not in flag_fields or is_null_const(e.args[1]):
                continue
            a = arch_of(ref[0], archs)
            if a is None:
                continue
            fr = idx.field_ref(e.args[0], idx.functions[ref], ref[0])
            if fr in flags:
                out.setdefault(a, []).append((flags[fr].spec, ref[0], e.line))
    return out


def _flag_feeders(idx: CodeIndex, hooks: tuple[Hook, ...]) -> dict[tuple[str, str], Hook]:
    """Fields whose value reaches a flag hook through one parameter.

    Design 3 stores a parameter in the flag (``state->always_present_cpus =
    always_present_cpus`` in ``cpu_hotplug_hw_init()``), and generic code
    passes a field the board sets (``s->cpus_always_present`` of the GED):
    setting that field is setting the flag.  One level, direct calls only.
    """
    flags = {k: h for k, h in _hook_specs(hooks).items() if not h.is_fnptr}
    names = {k[1] for k in flags}
    out: dict[tuple[str, str], Hook] = {}
    if not flags:
        return out
    for ref, e in idx.assigns:
        if e.op != "=" or len(e.args) != 2 or e.args[0].kind != "field":
            continue
        lhs, rhs = e.args
        if rhs.kind != "name" or lhs.text not in names:
            continue
        fn = idx.functions[ref]
        fr = idx.field_ref(lhs, fn, ref[0])
        if fr not in flags:
            continue
        pos = next((i for i, p in enumerate(fn.params) if p.name == rhs.text), None)
        if pos is None:
            continue
        for edge in idx.callers(ref):
            args = edge.call.args[1:]
            if edge.via or pos >= len(args) or args[pos].kind != "field":
                continue
            feeder = idx.field_ref(args[pos], idx.functions[edge.caller], edge.caller[0])
            if feeder is not None and feeder not in flags:
                out[feeder] = flags[fr]
    return out


def _describe(fld: str, rhs: Expr) -> str:
    value = rhs
    while value.kind == "cast" and value.args:
        value = value.args[0]
    return f"sets {STATUS_STRUCT}::{fld} to {value.text or '0'}"


def build_acpi(
    idx: CodeIndex,
    env: TypeEnv,
    hooks: tuple[Hook, ...],
    archs: frozenset[str],
    presence: Presence,
    cpu_aml_builder: str,
    extra_presence_fields: tuple[str, ...] = (),
) -> AcpiFacts:
    """Find the presence fields, sites, AML emitters and hook implementers.

    :param presence: the Present bit and its fields, as derived from the AML
        and the read handler (:func:`~qemu_lint.model.presence.derive_presence`)
    :param extra_presence_fields: ``AcpiCpuStatus`` fields that count as
        feeding ``_STA.Present`` besides those read off the read handler
    """
    acpi = AcpiFacts(
        status_declared=STATUS_STRUCT in env.structs,
        presence_bit=presence.bit,
        cpu_aml_builder=cpu_aml_builder,
        presence=presence,
    )
    acpi.read_handler = _read_handler(presence)
    _derive_presence_fields(acpi, env, presence, extra_presence_fields)
    # A release of ::cpu is a site whether or not it feeds the Present bit.
    watched = set(acpi.presence_fields) | {CPU_FIELD}

    acpi.emits_cpu_aml = _cpu_aml_emitters(idx, archs, cpu_aml_builder)
    feeders = _flag_feeders(idx, hooks)
    acpi.flag_feeders = tuple(sorted((k[0], k[1], h.spec) for k, h in feeders.items()))
    acpi.hook_implementers = _hook_implementers(idx, hooks, archs, feeders)

    if not acpi.status_declared:
        return acpi
    # The order of the kinds matters: of two sites at one place, the later wins.
    sites, setters, alias_fns = _store_sites(idx, watched)
    sites += _alias_sites(idx, alias_fns, watched)
    sites += _memset_sites(idx, env)
    sites += _whole_struct_sites(idx, env)
    sites += _free_sites(idx, env, watched)
    sites += _setter_call_sites(idx, setters)
    acpi.setters = setters
    uniq = {(s.function_ref, s.expr.line, s.expr.col): s for s in sites}
    acpi.sites = sorted(uniq.values(), key=lambda s: (s.file, s.expr.line, s.expr.col))
    return acpi


def _derive_presence_fields(
    acpi: AcpiFacts, env: TypeEnv, presence: Presence, extra_presence_fields: tuple[str, ...]
) -> None:
    """The presence fields: those the read handler packs into the Present
    bit (or the visible fallback), plus the configured ones ``AcpiCpuStatus``
    declares."""
    derived = set(presence.fields) if presence.source != "presence-fields" else set()
    status = env.struct(STATUS_STRUCT)
    declared = {f.name for f in status.fields} if status is not None else set()
    configured = {f for f in extra_presence_fields if f in declared}
    acpi.presence_fields = tuple(sorted(derived | configured))
    acpi.configured_presence_fields = tuple(sorted(configured - derived))
    if status is not None:
        acpi.unknown_presence_fields = tuple(
            sorted(f for f in set(extra_presence_fields) if f not in declared)
        )


def _cpu_aml_emitters(
    idx: CodeIndex, archs: frozenset[str], cpu_aml_builder: str
) -> dict[str, list[tuple[str, int]]]:
    """Per architecture, the board-code calls (``hw/``) of the CPU AML builder."""
    out: dict[str, list[tuple[str, int]]] = {}
    for caller, call in idx.direct_calls.get(cpu_aml_builder, []):
        a = arch_of(caller[0], archs)
        if a is not None and caller[0].startswith("hw/"):
            out.setdefault(a, []).append((caller[0], call.line))
    return out


def _kind_of(fld: str) -> str:
    return "release" if fld == CPU_FIELD else "presence-toggle"


def _store_sites(
    idx: CodeIndex, watched: set[str]
) -> tuple[list[Site], dict[FnRef, tuple[int, str]], set[FnRef]]:
    """Stores into a watched ``AcpiCpuStatus`` field: the sites (NULL/0, or a
    ternary with a NULL/0 branch), the setters (functions storing a parameter
    there) and the functions storing NULL through a pointer (alias candidates)."""
    sites: list[Site] = []
    setters: dict[FnRef, tuple[int, str]] = {}
    alias_fns: set[FnRef] = set()
    for ref, e in idx.assigns:
        if e.op != "=" or len(e.args) != 2:
            continue
        lhs, rhs = e.args
        fn = idx.functions[ref]
        if lhs.kind == "field" and lhs.text in watched:
            fr = idx.field_ref(lhs, fn, ref[0])
            if fr != (STATUS_STRUCT, lhs.text):
                continue
            kind = _kind_of(lhs.text)
            if is_null_const(rhs):
                sites.append(Site(kind, lhs.text, ref, e, _describe(lhs.text, rhs), expr_key(e)))
            elif rhs.kind == "ternary" and len(rhs.args) == 3:
                sites.extend(_ternary_sites(kind, lhs.text, ref, e))
            elif rhs.kind == "name":
                for i, p in enumerate(fn.params):
                    if p.name == rhs.text:
                        setters[ref] = (i, lhs.text)
        elif lhs.kind == "unary" and lhs.op == "*" and is_null_const(rhs):
            alias_fns.add(ref)
    return sites, setters, alias_fns


def _ternary_sites(kind: str, fld: str, ref: FnRef, e: Expr) -> list[Site]:
    """``x->fld = c ? a : b``: a site per NULL/0 branch, released under ``c`` or its negation."""
    rhs = e.args[1]
    cond = rhs.args[0]
    out: list[Site] = []
    for branch, pol in ((rhs.args[1], True), (rhs.args[2], False)):
        if is_null_const(branch):
            what = (
                _describe(fld, branch)
                + " when "
                + expr_key(cond)
                + (" holds" if pol else " does not hold")
            )
            out.append(Site(kind, fld, ref, e, what, expr_key(e), ((cond, pol),)))
    return out


def _alias_sites(idx: CodeIndex, alias_fns: set[FnRef], watched: set[str]) -> list[Site]:
    """``*p = NULL`` where ``p = &x->fld`` is the pointer's only definition."""
    sites: list[Site] = []
    for ref, e in idx.assigns:
        if ref not in alias_fns or e.op != "=" or e.args[0].kind != "unary" or e.args[0].op != "*":
            continue
        fn = idx.functions[ref]
        defs = single_defs(fn)
        target = e.args[0].args[0] if e.args[0].args else None
        if target is None or target.kind != "name" or target.text not in defs:
            continue
        d = defs[target.text]
        if d.kind == "unary" and d.op == "&" and d.args and d.args[0].kind == "field":
            fr = idx.field_ref(d.args[0], fn, ref[0])
            if (
                fr is not None
                and fr[0] == STATUS_STRUCT
                and fr[1] in watched
                and is_null_const(e.args[1])
            ):
                sites.append(
                    Site(
                        _kind_of(fr[1]),
                        fr[1],
                        ref,
                        e,
                        f"sets {STATUS_STRUCT}::{fr[1]} to NULL through the pointer "
                        f"{target.text} = &{expr_key(d.args[0])}",
                        expr_key(e) + "=" + expr_key(d),
                    )
                )
    return sites


def _memset_sites(idx: CodeIndex, env: TypeEnv) -> list[Site]:
    """``memset(status, 0, …)`` of one ``AcpiCpuStatus``: a release of ``::cpu``."""
    sites: list[Site] = []
    for caller, call in idx.direct_calls.get("memset", []):
        if len(call.args) < 3 or const_int(call.args[2]) != 0:
            continue
        fn = idx.functions[caller]
        t = env.type_of(call.args[1], fn, caller[0])
        if t is not None and t.pointers == 1 and env.struct_name(t, caller[0]) == STATUS_STRUCT:
            sites.append(
                Site(
                    "release",
                    CPU_FIELD,
                    caller,
                    call,
                    f"clears a whole {STATUS_STRUCT} with memset(), including ::{CPU_FIELD}",
                    expr_key(call),
                )
            )
    return sites


def _is_status(env: TypeEnv, e: Expr, ref: FnRef, fn: FunctionDef, pointers: int) -> bool:
    t = env.type_of(e, fn, ref[0])
    return t is not None and t.pointers == pointers and env.struct_name(t, ref[0]) == STATUS_STRUCT


def _init_sets_cpu(e: Expr, defs: dict[str, Expr]) -> bool | None:
    """Does the struct value ``e`` keep a vCPU in ``cpu``?  False for an
    initializer without ``.cpu`` (or with ``.cpu = NULL``), None when unknown."""
    if e.kind == "name" and e.text in defs:
        return _init_sets_cpu(defs[e.text], defs)
    if e.kind == "compound" and e.args:
        return _init_sets_cpu(e.args[0], defs)
    if e.kind != "init":
        return None
    for item in e.args:
        if item.kind == "designated" and item.text == CPU_FIELD:
            return not (item.args and is_null_const(item.args[0]))
    return False  # no designator for cpu: zeroed (positional values are not followed)


def _whole_struct_sites(idx: CodeIndex, env: TypeEnv) -> list[Site]:
    """``*cdev = (AcpiCpuStatus) { … }`` without ``.cpu``, ``devs[i] = empty``:
    a whole ``AcpiCpuStatus`` overwritten by a value whose ``cpu`` is NULL."""
    sites: list[Site] = []
    for ref, e in idx.assigns:
        if e.op != "=" or len(e.args) != 2 or e.args[0].kind not in ("unary", "index"):
            continue
        fn = idx.functions[ref]
        if not _is_status(env, e.args[0], ref, fn, 0):
            continue
        if _init_sets_cpu(e.args[1], single_defs(fn)) is not False:
            continue
        rhs = e.args[1]
        value = rhs.text if rhs.kind == "name" else f"({STATUS_STRUCT}) {{ … }}"
        what = f"overwrites a whole {STATUS_STRUCT} with {value}, whose ::{CPU_FIELD} is NULL"
        sites.append(Site("release", CPU_FIELD, ref, e, what, expr_key(e)))
    return sites


def _c_text(e: Expr) -> str:
    """A short C rendering of a simple lvalue (``cpu_st->devs``, ``&devs[i]``)."""
    if e.kind in ("name", "const"):
        return e.text
    if e.kind == "field" and e.args:
        return f"{_c_text(e.args[0])}{e.op}{e.text}"
    if e.kind == "index" and len(e.args) == 2:
        return f"{_c_text(e.args[0])}[{_c_text(e.args[1])}]"
    if e.kind == "unary" and e.args:
        return f"{e.op}{_c_text(e.args[0])}"
    return "…"


def _free_sites(idx: CodeIndex, env: TypeEnv, watched: set[str]) -> list[Site]:
    """``g_clear_pointer(&cdev->cpu, …)`` (a release of ``::cpu``), and
    ``g_free()``/``g_clear_pointer()`` of the ``devs`` array or an entry: the
    status of its vCPUs goes while they stay."""
    sites: list[Site] = []
    for name in ("g_free", "g_clear_pointer"):
        for caller, call in idx.direct_calls.get(name, []):
            if len(call.args) < 2:
                continue
            fn = idx.functions[caller]
            arg = call.args[1]
            pointers = 1
            if name == "g_clear_pointer":
                if arg.kind != "unary" or arg.op != "&" or not arg.args:
                    continue
                arg = arg.args[0]
                fr = idx.field_ref(arg, fn, caller[0])
                if fr is not None and fr[0] == STATUS_STRUCT and fr[1] in watched:
                    what = f"clears {STATUS_STRUCT}::{fr[1]} with g_clear_pointer()"
                    sites.append(Site(_kind_of(fr[1]), fr[1], caller, call, what, expr_key(call)))
                    continue
            if _is_status(env, arg, caller, fn, pointers):
                what = (
                    f"frees {_c_text(arg)} ({STATUS_STRUCT} *) with {name}() while its vCPUs stay"
                )
                sites.append(Site("release", CPU_FIELD, caller, call, what, expr_key(call)))
    return sites


def _setter_call_sites(idx: CodeIndex, setters: dict[FnRef, tuple[int, str]]) -> list[Site]:
    """Calls of a setter with NULL/0 as the argument it stores: direct, or
    through a function pointer held in a local (``fp = setter; fp(cdev, NULL)``)."""
    sites: list[Site] = []
    for setter, (i, fld) in sorted(setters.items()):
        calls = [
            (
                e.caller,
                e.call,
                f" through the local function pointer {e.pointer}" if e.pointer else "",
            )
            for e in idx.callers(setter)
            if not e.via
        ]
        for caller, call, via in calls:
            args = call.args[1:]
            if i < len(args) and is_null_const(args[i]):
                sites.append(
                    Site(
                        _kind_of(fld),
                        fld,
                        caller,
                        call,
                        f"calls {setter[1]}(){via}, which stores its argument "
                        f"{idx.functions[setter].params[i].name} in {STATUS_STRUCT}::{fld}, "
                        f"with {args[i].text or '0'}",
                        expr_key(call),
                    )
                )
    return sites
