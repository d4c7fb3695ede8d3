"""A vCPU whose ACPI entry the persistence hook keeps must not be destroyed on unplug.

## What it does
Flags every call that destroys a vCPU object (`object_unparent()`,
`object_unref()`, `g_free()`) on an unplug path where `AcpiCpuStatus::cpu`
still points to it afterwards. Two kinds:

- `kept-destroyed`: a persistence hook said "persistent", so the release of
  `AcpiCpuStatus::cpu` was skipped (the pointer is kept), and the same vCPU
  is destroyed later on the same path: in the rest of the function that
  decided, or in any caller after the call returns (the guest's eject path
  `cpu_hotplug_wr()`: `hotplug_handler_unplug(…)` then
  `object_unparent(OBJECT(dev))`; a board's unplug callback).
- `destroyed-before-release`: the vCPU is destroyed before the call that
  releases its entry, with no hook involved (a board's unplug that unparents
  the vCPU before calling the ACPI device's unplug handler).

The vCPU is followed by identity: the object the release function is
called about, passed up through the arguments of its callers (through casts
and locals assigned once), or a local read from a vCPU (`DEVICE(cdev->cpu)`,
a `CPUState *`). A release in a function given only the entry (an eject
helper `acpi_cpu_eject(cpu_st, cdev)`) follows the vCPU the entry points to:
`cdev->cpu` itself and the locals read from it. A destroy of a parameter
counts in a function that treats it as a vCPU (its type, or a CPU cast macro
such as `X86_CPU(dev)` on it).

Not reported: a destroy that runs only where the hook said "not persistent"
(the `else` of the guard, or past an early return on the verdict, as when
`object_unparent()` sits next to the release), a vCPU for which a reference
is taken on the kept path (`object_ref(OBJECT(dev))`) or wherever a vCPU is
stored into `AcpiCpuStatus::cpu`, a destroy followed by a release not under
the hook, in the same function or in every caller once it returns (an eject
helper whose caller clears the entry), and `qdev_unrealize()`, which does not
free the object. A finding is located at the destroying call; its path runs from
the hook's verdict past the kept pointer to it, and it names the hook and the
architectures that reach the destroy (as `acpi-cpu-persistence` does).

## Why is this bad?
Keeping `AcpiCpuStatus::cpu` is what keeps a persistent vCPU `_STA.Present`.
If the object it points to is destroyed anyway, the pointer dangles: the
next guest read of the CPU hotplug register block (`cpu_hotplug_rd()` tests
`cdev->cpu`, and later designs call through it) touches a freed object. The
maintainers' alternative to QEMU commit 2d6cfbaf17 ("acpi: cpuhp: preserve
always present vCPUs on unplug") says so: an always-present vCPU must keep
its reference *and* must not be unparented on unplug.

## Example
```c
void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev, Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (!should_remain_acpi_present(dev)) {
        cdev->cpu = NULL;               /* kept when persistent */
    }
}

    /* in cpu_hotplug_wr(), the eject path */
    hotplug_handler_unplug(hotplug_ctrl, dev, NULL);
    object_unparent(OBJECT(dev));       /* destroys the kept vCPU */
```

## Use instead
```c
void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev, Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (cpu_st->always_present_cpus) {
        return;                         /* neither released nor destroyed */
    }
    cdev->cpu = NULL;
    object_unparent(OBJECT(dev));       /* moved here from cpu_hotplug_wr() */
}
```
or take a reference for the kept pointer (`object_ref(OBJECT(dev))`), or
destroy the vCPU only where the hook says "not persistent":
```c
    hotplug_handler_unplug(hotplug_ctrl, dev, NULL);
    if (!should_remain_acpi_present(dev)) {
        object_unparent(OBJECT(dev));
    }
```

**Fix.** For a `kept-destroyed` finding, `check --fix` puts the destroying
statement under the guard of the one design the tree declares, asked about
the object it destroys (`OBJECT(dev)` → `dev`), written as
`acpi-cpu-persistence`'s fix writes it: through the wrapper function when
there is one (`if (!should_remain_acpi_present(dev)) { … }`; a `static`
wrapper defined further down the file gets its prototype added before the
function holding the destroy), else by reading the flag (`if
(!cpu_st->always_present_cpus) { … }`, or an early return before a destroy
that ends a `void` function). The same refusals apply: no hook or several
designs declared, a result that would not parse, a file outside the tree, a
destroy that is part of a larger statement or whose object is not a
variable. `--fix` runs in rounds, so guarding a release (round 1) and then
the destroy that guard reveals (round 2) is one command. The
`destroyed-before-release` kind gets no fix: no hook decides there, and
which order the unplug should run in is for a person to choose.

## Options
- `hooks` / `extend-hooks` (lists of strings, default
  `CPUClass::cpu_persistent_status`, `CPUState::acpi_persistent`,
  `CPUHotplugState::always_present_cpus`): the persistence-hook designs that
  count, shared with `acpi-cpu-persistence`.

## Known limitations
- A destroy inside a helper called after the unplug (a function that
  unparents its parameter) is not followed: only direct calls of
  `object_unparent()`, `object_unref()` and `g_free()` count.
- `object_unref()` always counts as dropping the last reference; references
  are not counted.
- A vCPU followed from the entry (`cdev->cpu`) is not followed into the
  callers of the function releasing it, and a release of the entry that
  already ran through a call before the kept point (an unconditional one in
  `acpi_cpu_unplug_cb()` reached through `hotplug_handler_unplug()`) is not
  seen: a destroy after such a helper's guarded release is reported.
- A destroy of a parameter in a function that never treats it as a vCPU
  (generic device code such as `qdev_unplug()`) is not reported: it destroys
  whatever device it is given.
- The release sites and guards are those of `acpi-cpu-persistence`, with its
  limitations (macros under tree-sitter, calls through local function
  pointers).

## References
- QEMU commit 2d6cfbaf17 "hw/acpi: Make CPUs ACPI `presence` conditional
  during vCPU hot-unplug" (Nov 2024), reverted by f2ba6ab621.
- "acpi: cpuhp: preserve always present vCPUs on unplug" (RFC 7/7, Nov 2024).
- docs/specs/acpi_cpu_hotplug.rst (the CPU hotplug register block and `_STA`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qemu_lint.model.settings import DEFAULT_HOOKS
from qemu_lint.rule import Diagnostic, Fix, PathStep, Properties, Rule, RuleOptions, Seeds, Severity
from qemu_lint.source import Span

if TYPE_CHECKING:  # the model's code loads when the rule runs (docs/performance.md)
    from qemu_lint.facts import Expr
    from qemu_lint.model import Model
    from qemu_lint.model.acpi import Site
    from qemu_lint.model.callgraph import CallEdge, FnRef
    from qemu_lint.model.evidence import Chain
    from qemu_lint.model.hooks import Hook
    from qemu_lint.model.lifetime import OrderFacts, Origin


@dataclass(frozen=True, slots=True)
class Options(RuleOptions):
    hooks: tuple[str, ...] = DEFAULT_HOOKS


@dataclass(frozen=True, slots=True)
class _Up:
    """A function on the way up from a release, the vCPU as it is known
    there, and the call in it that leads down (None at the start)."""

    ref: FnRef
    obj: Origin
    call: Expr | None
    chain: Chain


def _vcpu_param(model: Model, ref: FnRef) -> Origin | None:
    """The parameter of the release function that is the vCPU handled."""
    fn = model.index.functions[ref]
    best: tuple[int, int] | None = None
    for i, p in enumerate(fn.params):
        t = model.env.canon(p.type, ref[0])
        if t is None or not t.pointers:
            continue
        rank = 0 if t.name in ("CPUState", "ArchCPU") or t.name.endswith("CPU") else 1
        if t.name in ("DeviceState", "Object") or rank == 0:
            if best is None or rank < best[0]:
                best = (rank, i)
    return ("param", str(best[1])) if best is not None else None


def _entry_vcpu(model: Model, site: Site) -> Origin | None:
    """The vCPU a release reaches only through the entry it clears: the
    field itself (``cdev->cpu``, as ``DEVICE(cdev->cpu)`` reads it) in a
    function given ``cdev`` and no vCPU (the demo's ``acpi_cpu_eject()``)."""
    from qemu_lint.model.lifetime import origin

    if site.expr.kind != "assign" or not site.expr.args:
        return None
    lhs = site.expr.args[0]
    if lhs.kind != "field":
        return None
    fn = model.index.functions[site.function_ref]
    return origin(lhs, fn, model.flow(site.function_ref).single_defs)


def _walk(
    model: Model, start: FnRef, obj: Origin, stop: Callable[[CallEdge], bool]
) -> Iterator[_Up]:
    """Breadth-first over the callers of ``start``, following the vCPU
    through the argument it is passed as (each function and object once)."""
    from qemu_lint.model.lifetime import is_vcpu_object, origin

    first = _Up(start, obj, None, ())
    seen = {(start, obj)}
    queue = deque([first])
    color = {start: model.arch(start[0])}
    while queue:
        cur = queue.popleft()
        yield cur
        if cur.obj[0] != "param":
            continue
        i = int(cur.obj[1])
        for edge in model.index.callers(cur.ref):
            args = edge.call.args[1:]
            a = model.arch(edge.caller[0])
            if i >= len(args) or stop(edge):
                continue
            mine = color.get(cur.ref)
            if a is not None and mine is not None and a != mine:
                continue
            fn = model.index.functions[edge.caller]
            defs = model.flow(edge.caller).single_defs
            o = origin(args[i], fn, defs)
            if o[0] != "param" and not is_vcpu_object(model.env, args[i], fn, edge.caller[0], defs):
                continue  # not a vCPU there (a DIMM's eject path)
            if (edge.caller, o) in seen:
                continue
            seen.add((edge.caller, o))
            color.setdefault(edge.caller, a or mine)
            queue.append(_Up(edge.caller, o, edge.call, ((edge, cur.ref), *cur.chain)))


def _destroys_of(model: Model, up: _Up, start: FnRef) -> Iterator[Expr]:
    """The calls of ``up.ref`` destroying the vCPU tracked there."""
    from qemu_lint.model.lifetime import destroys, is_vcpu_object, origin

    fn = model.index.functions[up.ref]
    defs = model.flow(up.ref).single_defs
    for d in destroys(fn):
        if origin(d.args[1], fn, defs) != up.obj:
            continue
        if up.ref != start and up.obj[0] == "param":
            if not is_vcpu_object(model.env, d.args[1], fn, up.ref[0], defs):
                continue
        yield d


def _plug_referenced(model: Model) -> bool:
    """Does every store of a vCPU into ``AcpiCpuStatus::cpu`` take a
    reference to it (``object_ref``) in the same function?"""
    from qemu_lint.model.lifetime import origin, references

    stores = 0
    for ref, e in model.index.assigns:
        lhs, rhs = e.args[0], e.args[1]
        if lhs.kind != "field" or lhs.text != "cpu" or e.op != "=":
            continue
        fn = model.index.functions[ref]
        fr = model.index.field_ref(lhs, fn, ref[0])
        if fr is None or fr[0] != "AcpiCpuStatus" or rhs.kind == "const":
            continue
        stores += 1
        defs = model.flow(ref).single_defs
        mine = origin(rhs, fn, defs)
        if not any(origin(r.args[1], fn, defs) == mine for r in references(fn)):
            return False
    return stores > 0


def _ref_on_kept_path(model: Model, up: _Up, hook: str) -> bool:
    """An ``object_ref`` of the vCPU that runs when the hook says "persistent"."""
    from qemu_lint.model.lifetime import origin, references

    fn = model.index.functions[up.ref]
    defs = model.flow(up.ref).single_defs
    return any(
        origin(r.args[1], fn, defs) == up.obj and model.guard(up.ref, r)[0] != hook
        for r in references(fn)
    )


def _kept_points(model: Model, site: Site, obj: Origin) -> list[tuple[_Up, Expr, str]]:
    """Where the release of ``site`` is skipped on a "persistent" verdict:
    the function deciding (with the vCPU there), the guarded statement, the hook."""
    hook, _ = model.guard(site.function_ref, site.expr, site.extra)
    if hook is not None:
        return [(_Up(site.function_ref, obj, None, ()), site.expr, hook)]
    if not model.verdict(site).guarded:
        return []  # released on some path: nothing is kept
    out = []
    for up in _walk(model, site.function_ref, obj, lambda e: False):
        if up.call is not None and (h := model.guard(up.ref, up.call)[0]) is not None:
            out.append((up, up.call, h))
    return out


def _verdict_step(model: Model, ref: FnRef, point: Expr, hook: str) -> PathStep:
    calls = [c for c in model.hook_calls(ref) if c[1] == hook and c[0] <= point.line]
    if calls:
        line, _, callee = calls[-1]
        return PathStep(ref[0], line, ref[1], f"{callee}() asks {hook}: the vCPU is persistent")
    return PathStep(ref[0], point.line, ref[1], f"{hook} says the vCPU is persistent")


def _returns(chain: Chain) -> list[PathStep]:
    """Steps back up a chain: each callee returning to its caller."""
    return [
        PathStep(e.caller[0], e.call.line, e.caller[1], f"{callee[1]}() returns to {e.caller[1]}()")
        for e, callee in reversed(chain)
    ]


def _diagnostic(
    model: Model,
    up: _Up,
    d: Expr,
    kind: str,
    message: str,
    path: list[PathStep],
    hook: str | None,
    fix: Fix | None = None,
) -> Diagnostic:
    from qemu_lint.model.evidence import attributed, hook_status, related
    from qemu_lint.model.guards import expr_key
    from qemu_lint.model.lifetime import DESTROYERS

    name = d.args[0].text
    archs, chains, reached = attributed(model, up.ref)
    consulted = (hook,) if hook else ()
    declared = tuple(h for h in model.declared_hooks() if not hook or h.spec == hook)
    notes = [t for a in archs if (t := hook_status(model, a, consulted)[1])]
    if hook and archs and not any(hook_status(model, a, consulted)[0] for a in archs):
        notes.append(
            f"no architecture reaching it implements {hook} yet: the pointer is kept, "
            "and the object destroyed, as soon as one does"
        )
    return Diagnostic(
        span=Span(up.ref[0], d.line, d.col, d.end_line, d.end_col),
        message=message,
        function=up.ref[1],
        kind=kind,
        path=(
            *path,
            PathStep(up.ref[0], d.line, up.ref[1], f"{name}() {DESTROYERS[name]} the vCPU"),
        ),
        key=f"{kind}:{name}({expr_key(d.args[1])})",
        related=related(model, declared, archs, chains, reached, consulted),
        properties=Properties(
            archs=archs,
            hook=hook,
            arch_hooks={a: hook_status(model, a, consulted)[0] for a in archs},
            site_notes=tuple(notes),
            hooks=tuple(h.spec for h in model.hooks),
        ),
        fix=fix,
    )


def _kept_destroyed(
    model: Model, site: Site, obj: Origin, designs: tuple[Hook, ...]
) -> Iterator[tuple[Key2, Diagnostic]]:
    from qemu_lint.model.consult import propose_destroy_fix
    from qemu_lint.model.guards import key_of
    from qemu_lint.model.lifetime import DESTROYERS, order_facts

    for start, point, hook in _kept_points(model, site, obj):
        if _ref_on_kept_path(model, start, hook):
            continue
        head = [_verdict_step(model, start.ref, point, hook)]
        if start.ref == site.function_ref and point is site.expr:
            note = f"AcpiCpuStatus::cpu is kept: the release ({site.what}) is skipped"
        else:
            note = (
                "AcpiCpuStatus::cpu is kept: the call releasing it at "
                f"{site.file}:{site.expr.line} is skipped"
            )
        head.append(PathStep(start.ref[0], point.line, start.ref[1], note))
        for up in _walk(model, start.ref, start.obj, _guarded_by(model, hook)):
            after = point if up.ref == start.ref else up.call
            assert after is not None
            order = order_facts(model.index.functions[up.ref])
            for d in _destroys_of(model, up, site.function_ref):
                if not order.may_follow(key_of(after), key_of(d)):
                    continue
                if model.guard(up.ref, d)[0] == hook:
                    continue  # only where the hook said "not persistent"
                if _released_after(model, up.ref, order, d, hook):
                    continue  # the entry lets go of it right after
                if _released_by_callers(model, up.ref, hook):
                    continue  # ... or once the function returns, in every caller
                name = d.args[0].text
                msg = (
                    f"{name}() {DESTROYERS[name]} a vCPU that {hook} keeps in "
                    "AcpiCpuStatus::cpu: the kept pointer is left dangling"
                )
                path = head + _returns(up.chain)
                fix = propose_destroy_fix(model, up.ref, d, designs)
                yield (
                    (up.ref, key_of(d)),
                    _diagnostic(model, up, d, "kept-destroyed", msg, path, hook, fix),
                )


Key2 = tuple["FnRef", tuple[int, int, int, int]]


def _guarded_by(model: Model, hook: str) -> Callable[[CallEdge], bool]:
    """A call made only where ``hook`` said "not persistent": nothing is kept past it."""

    def stop(e: CallEdge) -> bool:
        return model.guard(e.caller, e.call)[0] == hook

    return stop


def _released_after(model: Model, ref: FnRef, order: OrderFacts, d: Expr, hook: str) -> bool:
    """Does ``ref`` itself release ``AcpiCpuStatus::cpu`` after ``d``, not
    under the hook (the pointer does not outlive the statement)?"""
    from qemu_lint.model.guards import key_of

    return any(
        s.function_ref == ref
        and s.kind == "release"
        and s.field == "cpu"
        and order.may_follow(key_of(d), key_of(s.expr))
        and model.guard(ref, s.expr, s.extra)[0] is None
        for s in model.acpi.sites
    )


def _released_by_callers(model: Model, ref: FnRef, hook: str) -> bool:
    """Does every caller of ``ref`` release ``AcpiCpuStatus::cpu`` after the
    call, not under the hook (an eject helper whose caller clears the entry)?"""
    from qemu_lint.model.lifetime import order_facts

    edges = list(model.index.callers(ref))
    if not edges:
        return False
    for e in edges:
        order = order_facts(model.index.functions[e.caller])
        if not _released_after(model, e.caller, order, e.call, hook):
            return False
    return True


def _destroyed_before(model: Model, site: Site, obj: Origin) -> Iterator[tuple[Key2, Diagnostic]]:
    from qemu_lint.model.guards import key_of
    from qemu_lint.model.lifetime import DESTROYERS, order_facts

    for up in _walk(model, site.function_ref, obj, lambda e: False):
        if up.call is None:
            continue  # in the releasing function itself nothing runs in between
        point = up.call
        order = order_facts(model.index.functions[up.ref])
        for d in _destroys_of(model, up, site.function_ref):
            if not order.may_follow(key_of(d), key_of(point)):
                continue
            name = d.args[0].text
            msg = (
                f"{name}() {DESTROYERS[name]} a vCPU before AcpiCpuStatus::cpu is released "
                f"({site.file}:{site.expr.line}): the entry points to a destroyed object meanwhile"
            )
            rel = PathStep(site.file, site.expr.line, site.function, f"{site.what}, afterwards")
            calls = [
                PathStep(e.caller[0], e.call.line, e.caller[1], f"calls {callee[1]}()")
                for e, callee in up.chain
            ]
            steps = [
                PathStep(
                    up.ref[0], d.line, up.ref[1], f"{name}() {DESTROYERS[name]} the vCPU first"
                ),
                *calls,
                rel,
            ]
            diag = _diagnostic(model, up, d, "destroyed-before-release", msg, [], None)
            yield (
                (up.ref, key_of(d)),
                Diagnostic(
                    diag.span,
                    diag.message,
                    diag.function,
                    diag.kind,
                    tuple(steps),
                    diag.key,
                    diag.related,
                    diag.properties,
                ),
            )


def check(model: Model, opts: Options) -> Iterator[Diagnostic]:
    referenced = _plug_referenced(model)
    designs = tuple(h for h in model.declared_hooks() if h.spec in opts.hooks)
    seen: set[Key2] = set()
    for site in model.acpi.sites:
        if site.kind != "release" or site.field != "cpu":
            continue
        obj = _vcpu_param(model, site.function_ref) or _entry_vcpu(model, site)
        if obj is None:
            continue
        found = [] if referenced else list(_kept_destroyed(model, site, obj, designs))
        found += list(_destroyed_before(model, site, obj))
        for k, diag in found:
            if k not in seen:
                seen.add(k)
                yield diag


RULE = Rule(
    id="acpi-cpu-kept-alive",
    severity=Severity.ERROR,
    summary="a vCPU that AcpiCpuStatus::cpu still points to is destroyed on unplug",
    doc=__doc__ or "",
    options=Options,
    check=check,
    tags=("correctness", "qemu", "acpi", "cpu-hotplug", "use-after-free"),
    precision="high",
    seeds=Seeds(
        words=("AcpiCpuStatus", "CPUHotplugState", "build_cpus_aml"),
        types=("CPUClass", "CPUState"),
        hooks=True,
    ),
)
