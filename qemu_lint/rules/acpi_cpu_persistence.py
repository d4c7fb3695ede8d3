"""No architecture may release a vCPU's ACPI presence without the persistence hook.

## What it does
Flags every statement that releases `AcpiCpuStatus::cpu` (sets it to NULL/0,
directly, through a pointer alias, an array element, `memset`, a whole-struct
assignment whose value has no `.cpu`, `g_clear_pointer(&cdev->cpu, …)`, a
`g_free`/`g_clear_pointer` of the `devs` array or an entry, or a setter
function called with NULL, directly or through a local function pointer) or
toggles another `_STA.Present` field of
`AcpiCpuStatus` (a presence flag set to false/0) on a path where no CPU
persistence hook said "this vCPU is not persistent".

The fields that feed `_STA.Present` are not a fixed list. The bit is read off
the AML `build_cpus_aml()` builds (the register field, `CPEN` in QEMU 10.0,
whose value `CSTA` turns into bit 0 of `_STA`; every field bit 0 can follow
when there are several, as with `CPEN && CPRS`), then the fields off the
flags-register MMIO read handler (`cpu_hotplug_rd()` in hw/acpi/cpu.c), as
the `AcpiCpuStatus` fields packed into those bits (all of them, as with
`cdev->cpu && cdev->is_present`): clearing any of them is a finding, whose
message names the bit it clears. Each step is a note of the finding; a step
that cannot be followed is a warning of the run, and the fallback
(`presence-fields`, else bit 0 with `cpu`) is said.

When `_STA` does not depend on the register at all (`aml_return(aml_int(0xF))`,
an AML option keeping every vCPU present), Present is *fixed*: that is an
answer, not a failed derivation. No field then toggles what the guest sees,
so only releases of `AcpiCpuStatus::cpu` are findings (releasing the vCPU's
status without the hook is still half the invariant), and their message says
that `_STA` returns 0xF whatever the register holds, never that they clear a
Present bit.

A site counts as guarded when every path to it passes a condition that implies
the hook returned false about the vCPU being released (the same `dev`/`cpu`,
through casts and aliases): in the same function (if/else, early return,
`goto` past the site, `&&`/`||`/`!`/ternary, a local bool holding the result,
a `switch` on the verdict, including what a returning `case` rules out past
it) or in every caller on the way to it, at any number of calls above it,
through wrappers of any depth wherever they are defined (another file, a
`static inline` of a header, a function-like macro), including wrappers that
negate or check the object for NULL (`cpu && cpu->acpi_persistent`). Asking
the hook about another vCPU is not going through it, and the message says so.
Each finding names the architectures that reach the site — those whose board
code calls `build_cpus_aml()` and whose unplug path (through
`hotplug_handler_unplug()` and the functions registered as
`HotplugHandlerClass::unplug`) reaches it unguarded, plus the architecture
whose own code contains it — and says whether each implements the hook.

## Why is this bad?
Some architectures (ARM64 in particular) forbid changing a CPU's presence
after boot: GIC redistributors and other per-CPU parts cannot be
reconfigured. Clearing `cdev->cpu` flips the `_STA.Present` bit the guest sees
(`CSTA` returns 0 instead of 0xF), so the guest firmware and kernel observe a
vCPU disappear. The persistence hook is the one place an architecture can
veto that; code that bypasses it breaks those architectures silently.

## Example
```c
void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev, Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (!cdev) {
        return;
    }
    cdev->cpu = NULL;           /* released for every architecture */
}
```

## Use instead
```c
    if (!should_remain_acpi_present(dev)) {  /* CPUClass::cpu_persistent_status */
        cdev->cpu = NULL;
    }
```
or an early return on `cpu_st->always_present_cpus`, or on
`qemu_persistent_cpu(CPU(dev))` (`CPUState::acpi_persistent`).

**Fix.** `check --fix` guards the site with the one design the tree declares, the way
the tree consults it: through its wrapper function when there is one (a
function returning the hook's verdict: `if (!should_remain_acpi_present(dev))
{ … }` around the statement), else by reading the flag (an early return
`if (cpu_st->always_present_cpus) { return; }` before a site that ends a
`void` function, `if (!…) { … }` around it elsewhere). The statement is
re-indented by four spaces inside braces (QEMU's coding style), the file must
still parse, and the tree is checked again. `--diff` prints the change
instead. No fix is made where the tree declares no hook or several designs,
where no vCPU or hotplug state is in scope to ask about, or where the site is
part of a larger statement; each such finding is named on stderr with the
cause (docs/usage.md, "Fixing findings").

## Options
- `hooks` (list of strings, default `CPUClass::cpu_persistent_status`,
  `CPUState::acpi_persistent`, `CPUHotplugState::always_present_cpus`): the
  persistence-hook designs that count. `Struct::field` names a function-pointer
  hook (called) or a flag (read); a bare name is a function whose true result
  means "persistent". `extend-hooks` adds designs to the list.
- `presence-bit` (integer 0..31, default unset): the flags-register bit that
  `CSTA` turns into `_STA.Present`, overriding the one derived from the AML.
- `presence-fields` (list of field names, default empty): `AcpiCpuStatus`
  fields that count as feeding `_STA.Present` besides those read off the read
  handler (for a handler that computes the bit in a way the analysis does not
  follow), and the fallback when none can be read off it. Clearing one is a
  `presence-toggle` finding whose message says the configuration counts it.

## Known limitations
- Calls through `HotplugHandlerClass::unplug` dispatch to the handlers of
  the types the object can have (docs/attribution.md), the handler
  `qdev_get_hotplug_handler()` finds for a vCPU included (the boards'
  `MachineClass::get_hotplug_handler`); where that type is not known — a bus
  handler, a field stored through a pointer — every handler built for the
  architecture is followed, and the path note says so.
- A function pointer held in a local is followed when the local is given
  one function once (`void (*fn)(…) = release_helper;` or one assignment, its
  address never taken): a call through it is then a call edge (of the search
  for guards and architectures) and a verdict read through it counts. A
  pointer assigned twice, passed in, or kept in a struct other than a
  registration table is not followed.
- With the tree-sitter front-end, macros are not expanded: a release written
  inside a macro body is invisible (the clang front-end sees it).
- The vCPU the hook is asked about must be a parameter of the function
  deciding, `cdev->cpu`, or a local alias of one (through casts): a vCPU
  computed some other way (`qemu_get_cpu(0)`, a global) counts as another
  vCPU.
- Paths confined to an architecture that emits no CPU hotplug AML are not
  followed (its guests never see `_STA`), unless no architecture emits it.
- Which GED events a board enables (`ged-event`) is not read: a board
  creating a GED counts as mapping the CPU hotplug register block.
- Where the build configuration does not understand a construct, the files
  it governs count as built for every architecture (the folder rule); the
  path note and `stats.build_not_understood` say so.

## References
- QEMU commit 2d6cfbaf17 "hw/acpi: Make CPUs ACPI `presence` conditional
  during vCPU hot-unplug" (Nov 2024), reverted by f2ba6ab621.
- docs/specs/acpi_cpu_hotplug.rst (the CPU hotplug register block and `_STA`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qemu_lint.model.settings import DEFAULT_HOOKS
from qemu_lint.rule import Diagnostic, PathStep, Properties, Rule, RuleOptions, Seeds, Severity
from qemu_lint.source import Span

if TYPE_CHECKING:  # the model's code loads when the rule runs (docs/performance.md)
    from qemu_lint.model import Model
    from qemu_lint.model.acpi import Site
    from qemu_lint.model.callgraph import CallEdge, FnRef


@dataclass(frozen=True, slots=True)
class Options(RuleOptions):
    hooks: tuple[str, ...] = DEFAULT_HOOKS


def _site_note(model: Model, site: Site) -> str:
    if site.field in model.acpi.configured_presence_fields:
        return f"{site.what}; the configuration counts {site.field} as feeding _STA.Present"
    rh = model.acpi.read_handler
    if rh is None:
        return site.what
    p = model.acpi.presence
    if site.field in model.acpi.presence_fields:
        if p is not None:
            return f"{site.what}; {site.field} feeds {p.feeds_phrase(site.field, rh.function[1])}"
        bit = f"bit {model.acpi.presence_bit} of the flags register read by {rh.function[1]}()"
        return f"{site.what}; {site.field} feeds {bit}, the bit _STA reads Present from"
    if p is not None and p.fixed is not None:
        return f"{site.what}; {p.fixed_phrase}"
    return site.what


def _clears(model: Model, fld: str) -> str:
    """``CPEN, the bit `_STA` reads Present from``: the Present bit(s) ``fld`` feeds."""
    p = model.acpi.presence
    if p is not None:
        return p.clears_phrase(fld)
    return f"bit {model.acpi.presence_bit}, the bit `_STA` reads Present from"


def _explained_by_presence(model: Model, fld: str) -> bool:
    """Does the Present derivation explain a site of ``fld`` (it feeds a
    Present bit, or Present is fixed)?"""
    p = model.acpi.presence
    return fld in model.acpi.presence_fields or (p is not None and p.fixed is not None)


def _derivation(model: Model) -> tuple[PathStep, ...]:
    """Where the Present bit and its fields were read (the AML, ``CSTA``, the read handler)."""
    from qemu_lint.model.evidence import enclosing

    p = model.acpi.presence
    if p is None:
        return ()
    return tuple(
        PathStep(w.file, w.line, enclosing(model, w.file, w.line), w.note)
        for w in p.derivation
        if w.file
    )


def _path(
    model: Model, site: Site, chain: tuple[tuple[CallEdge, FnRef], ...]
) -> tuple[PathStep, ...]:
    """Steps from an architecture's entry function down to the site."""
    steps: list[PathStep] = []
    for edge, callee in chain:
        if edge.note:
            note = edge.note
        elif edge.via:
            note = f"calls {edge.via} (dispatches to {callee[1]}()"
            if edge.registration is not None:
                note += f", registered at {edge.registration.file}:{edge.registration.line}"
            note += ")"
        else:
            note = f"calls {callee[1]}()"
        steps.append(PathStep(edge.caller[0], edge.call.line, edge.caller[1], note))
    steps.append(PathStep(site.file, site.expr.line, site.function, _site_note(model, site)))
    return tuple(steps)


def _what(model: Model, site: Site) -> str:
    """What the site does, with what it does to `_STA.Present`."""
    what = site.what
    if site.field in model.acpi.configured_presence_fields:
        what += ", which the configuration counts as clearing _STA.Present (presence-fields)"
    elif site.field in model.acpi.presence_fields:
        what += f", which clears {_clears(model, site.field)}"
    elif model.acpi.presence is not None and model.acpi.presence.fixed is not None:
        what += f" ({model.acpi.presence.fixed_phrase})"
    elif model.acpi.read_handler is None:
        what += " (no flags-register read handler found: which fields feed _STA.Present is unknown)"
    return what


def check(model: Model, opts: Options) -> Iterator[Diagnostic]:
    from qemu_lint.model.consult import propose_fix
    from qemu_lint.model.evidence import attributed, hook_status, related
    from qemu_lint.model.guards import OTHER_VCPU

    declared = tuple(h for h in model.declared_hooks() if h.spec in opts.hooks)
    hook_name = declared[0].spec if declared else None
    for site in model.acpi.sites:
        verdict = model.verdict(site)
        if verdict.guarded:
            continue
        arch_list, chains, reached = attributed(model, site.function_ref)
        chain = next(
            (chains[a] for a in arch_list if a in chains),
            verdict.chains.get("", ()),
        )
        path = _path(model, site, chain)
        # The message stays one short line; the lists go in notes at the site.
        site_notes: list[str] = []
        if not declared:
            hook_text = "no CPU persistence hook is declared in this tree"
            site_notes.append(
                "looked for the persistence hooks " + ", ".join(h.spec for h in model.hooks)
            )
        elif verdict.consulted and all(c.endswith(OTHER_VCPU) for c in verdict.consulted):
            specs = ", ".join(c.removesuffix(OTHER_VCPU) for c in verdict.consulted)
            hook_text = (
                f"{specs} is asked about another vCPU than the one released, "
                "which is not going through the hook"
            )
        elif verdict.consulted:
            hook_text = (
                f"{', '.join(c for c in verdict.consulted if not c.endswith(OTHER_VCPU))} "
                "is consulted on the way, but the site also runs "
                "when it says the vCPU is persistent (or without its verdict)"
            )
        elif calls := model.hook_calls(site.function_ref):
            line, spec, callee = calls[0]
            hook_text = (
                f"{callee}() at line {line} computes the {spec} verdict, "
                "but it does not decide whether the site runs"
            )
        else:
            hook_text = (
                f"without consulting the persistence hook {', '.join(h.spec for h in declared)}"
            )
        what = _what(model, site)
        if not arch_list:
            site_notes.append(
                "no call path from architecture code (hw/<arch>/, target/<arch>/) to it was found"
            )
        status = {a: hook_status(model, a, verdict.consulted)[0] for a in arch_list}
        site_notes.extend(
            t for a in arch_list if (t := hook_status(model, a, verdict.consulted)[1])
        )
        message = f"{what}: {hook_text}"
        e = site.expr
        yield Diagnostic(
            span=Span(site.file, e.line, e.col, e.end_line, e.end_col),
            message=message,
            function=site.function,
            kind=site.kind,
            path=path,
            key=site.key,
            related=related(model, declared, arch_list, chains, reached, verdict.consulted)
            + (_derivation(model) if _explained_by_presence(model, site.field) else ()),
            properties=Properties(
                archs=arch_list,
                hook=hook_name,
                arch_hooks=status,
                site_notes=tuple(site_notes),
                hooks=tuple(h.spec for h in model.hooks),
            ),
            fix=propose_fix(model, site, declared),
        )


RULE = Rule(
    id="acpi-cpu-persistence",
    severity=Severity.ERROR,
    summary="vCPU _STA.Present released or toggled without the CPU persistence hook",
    doc=__doc__ or "",
    options=Options,
    check=check,
    tags=("correctness", "qemu", "acpi", "cpu-hotplug"),
    precision="high",
    seeds=Seeds(
        words=("AcpiCpuStatus", "CPUHotplugState", "build_cpus_aml"),
        types=("CPUClass", "CPUState"),
        hooks=True,
    ),
)
