"""An architecture the configuration requires to implement the persistence hook does not.

## What it does
For each architecture listed in the `required-archs` setting, checks that its
own code (`target/<arch>/`, `hw/<arch>/`) implements one of the persistence
hooks that count (the `hooks` setting): registers a function for a
function-pointer hook (`cc->cpu_persistent_status = arm_cpu_persistent_status;`
on a `CPUClass`), or sets a flag hook (`cs->acpi_persistent = true` on a
`CPUState`, `always_present_cpus` on the `CPUHotplugState`, directly or
through the field a board sets and generic code passes on to
`cpu_hotplug_hw_init()`). Fields are resolved by type: an `X86CPUClass` field
of the same name does not count.

Designs are told apart: when the generic ACPI code consults some designs on
the way to its sites (a release of `AcpiCpuStatus::cpu`, a Present toggle),
only those count. An architecture that sets `CPUState::acpi_persistent` while
`hw/acpi/cpu.c` asks `CPUClass::cpu_persistent_status` has implemented
nothing the generic code asks, and is reported, the message naming both
(a real ARM series did exactly this). With no design consulted anywhere,
every design that counts does.

A finding is reported at the architecture's CPU class_init, the function of
its code that assigns its `CPUClass` hooks (the one assigning the most, when
there are several), which is where a function-pointer hook is registered. It
names the hooks that count and says which of them the tree declares. With
`required-archs` empty (the default) the rule reports nothing. An architecture
named in `required-archs` that the tree does not have (no `target/<arch>/`)
is a configuration error (exit status 2).

## Why is this bad?
Some architectures must keep every vCPU `_STA.Present` for the life of the VM
(ARM64: GIC redistributors and other per-CPU parts cannot be reconfigured
after boot). The generic ACPI CPU hotplug code keeps a vCPU present only when
its architecture says so through the persistence hook; an architecture that
needs that and does not implement the hook gets vCPUs that disappear from the
guest on unplug, whatever the generic code does.

## Example
```toml
# .qemu-lint.toml
required-archs = ["arm"]
```
```c
static void arm_cpu_class_init(ObjectClass *oc, void *data)
{
    CPUClass *cc = CPU_CLASS(oc);

    cc->get_arch_id = arm_cpu_get_arch_id;
    cc->set_pc = arm_cpu_set_pc;        /* no persistence hook registered */
}
```

## Use instead
```c
static bool arm_cpu_persistent_status(CPUState *cs)
{
    return true;
}

static void arm_cpu_class_init(ObjectClass *oc, void *data)
{
    CPUClass *cc = CPU_CLASS(oc);

    cc->get_arch_id = arm_cpu_get_arch_id;
    cc->cpu_persistent_status = arm_cpu_persistent_status;
}
```

## Options
- `required-archs` (list of architecture names, default empty): the
  architectures (`target/` names) that must implement a persistence hook.
- `hooks` / `extend-hooks` (lists of strings, default
  `CPUClass::cpu_persistent_status`, `CPUState::acpi_persistent`,
  `CPUHotplugState::always_present_cpus`): the persistence-hook designs that
  count, shared with `acpi-cpu-persistence`.

## Known limitations
- A flag hook set through a QOM property (`object_property_set_bool(…,
  "cpus-always-present", true, …)`) is not seen: only assignments to the
  field, or to a field that generic code passes on to the function storing the
  flag, count.
- A hook registered in code the architecture shares with others (hw/core/,
  generic accelerator code) does not count for it.
- An architecture whose code assigns no `CPUClass` hook is reported at line 1
  of one of its files (`target/<arch>/cpu.c` when there is one).

## References
- QEMU commit 2d6cfbaf17 "hw/acpi: Make CPUs ACPI `presence` conditional
  during vCPU hot-unplug" (Nov 2024), which added
  `CPUClass::cpu_persistent_status`; reverted by f2ba6ab621.
- docs/specs/acpi_cpu_hotplug.rst (the CPU hotplug register block and `_STA`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from qemu_lint.model.settings import DEFAULT_HOOKS
from qemu_lint.rule import Diagnostic, PathStep, Properties, Rule, RuleOptions, Seeds, Severity
from qemu_lint.settings import Setting, string_list
from qemu_lint.source import Span

if TYPE_CHECKING:  # the model's code loads when the rule runs (docs/performance.md)
    from qemu_lint.model import Model
    from qemu_lint.model.hooks import Hook


def _missing_arch(archs: tuple[str, ...], tree: Sequence[str]) -> str | None:
    """A required architecture the tree does not have, as the error text."""
    for a in archs:
        if a not in tree:
            return (
                f"'required-archs': no architecture '{a}' in this tree "
                f"(no target/{a}/; architectures: {', '.join(tree) or 'none'})"
            )
    return None


REQUIRED_ARCHS: Setting[tuple[str, ...]] = Setting(
    "required-archs",
    "a list of architecture names (target/<arch>/)",
    (),
    string_list(re.compile(r"[a-z0-9_]+")),
    against_tree=_missing_arch,
)


@dataclass(frozen=True, slots=True)
class Options(RuleOptions):
    settings: ClassVar[tuple[Setting[Any], ...]] = (REQUIRED_ARCHS,)

    hooks: tuple[str, ...] = DEFAULT_HOOKS
    required_archs: tuple[str, ...] = REQUIRED_ARCHS.default


def _fallback_file(model: Model, arch: str) -> str:
    """A file of the architecture to report at when no class_init was found."""
    own = [f for f in model.files if f.startswith(f"target/{arch}/")]
    preferred = f"target/{arch}/cpu.c"
    if preferred in own or not own:
        return preferred
    return own[0]


def _related(
    model: Model, declared: tuple[Hook, ...], hooks: tuple[str, ...]
) -> tuple[PathStep, ...]:
    """The declarations of the hooks that count, then, per architecture that
    implements one, where it does (an example to follow)."""
    out: list[PathStep] = []
    for h in declared:
        if h.file and h.function:
            out.append(
                PathStep(h.file, h.line, h.function, f"defines the persistence hook {h.spec}()")
            )
        elif h.file:
            kind = "hook" if h.is_fnptr else "flag"
            out.append(PathStep(h.file, h.line, "", f"declares the persistence {kind} {h.spec}"))
    for arch, impls in sorted(model.acpi.hook_implementers.items()):
        for spec, file, line in sorted(i for i in impls if i[0] in hooks)[:1]:
            out.append(PathStep(file, line, "", f"{arch} implements the persistence hook {spec}"))
    return tuple(out)


def _consulted(model: Model, hooks: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """The designs the generic ACPI code consults on the way to its sites
    (releases, Present toggles), each with the first site it guards."""
    from qemu_lint.model.guards import OTHER_VCPU

    out: dict[str, tuple[str, int]] = {}
    for site in sorted(model.acpi.sites, key=lambda s: (s.file, s.expr.line)):
        for spec in model.verdict(site).consulted:
            if spec in hooks and not spec.endswith(OTHER_VCPU):
                out.setdefault(spec, (site.file, site.expr.line))
    return out


def _why(
    model: Model, arch: str, opts: Options, consulted: dict[str, tuple[str, int]]
) -> str | None:
    """Why ``arch`` has not implemented a hook that matters (None: it has).

    A design matters when the generic code consults it (with none consulted,
    every design that counts does): an architecture implementing only
    another one has implemented nothing the generic code asks."""
    impl = sorted(x for x in model.acpi.hook_implementers.get(arch, []) if x[0] in opts.hooks)
    if impl and (not consulted or any(x[0] in consulted for x in impl)):
        return None
    counted = tuple(h for h in model.hooks if h.spec in opts.hooks)
    declared = tuple(h for h in counted if h.declared)
    if impl:
        where = ", ".join(f"{spec} at {file}:{line}" for spec, file, line in impl[:2])
        asked = ", ".join(f"{spec} (at {f}:{n})" for spec, (f, n) in sorted(consulted.items()))
        return (
            f"its code implements {where}, but the generic code consults {asked}: its design "
            "is not the one that matters"
        )
    if declared:
        return (
            f"its code implements none of the persistence hooks that count "
            f"({', '.join(h.spec for h in counted)}; "
            f"declared in this tree: {', '.join(h.spec for h in declared)})"
        )
    looked_for = ", ".join(h.spec for h in counted)
    return f"no CPU persistence hook is declared in this tree (looked for {looked_for})"


def check(model: Model, opts: Options) -> Iterator[Diagnostic]:
    counted = tuple(h for h in model.hooks if h.spec in opts.hooks)
    declared = tuple(h for h in counted if h.declared)
    related = _related(model, declared, opts.hooks)
    consulted = _consulted(model, opts.hooks) if opts.required_archs else {}
    for arch in sorted(set(opts.required_archs)):
        if arch not in model.archs:  # a configuration error, raised by the engine
            continue
        why = _why(model, arch, opts, consulted)
        if why is None:
            continue
        message = f"{arch} is required to implement a CPU persistence hook (required-archs): {why}"
        inits = model.class_inits(arch)
        path: tuple[PathStep, ...] = ()
        if inits:
            ci = inits[0]
            span = Span(ci.file, ci.line, ci.col, ci.line, ci.col)
            function = ci.function
            path = (
                PathStep(
                    ci.file,
                    ci.line,
                    ci.function,
                    f"assigns the CPUClass hooks of {arch}: {', '.join(ci.hooks)}",
                ),
            )
        else:
            span = Span(_fallback_file(model, arch), 1, 1, 1, 1)
            function = ""
            message += f"; no function of {arch}'s code assigns CPUClass hooks"
        yield Diagnostic(
            span=span,
            message=message,
            function=function,
            kind="hook-not-implemented",
            path=path,
            key=f"required-arch:{arch}",
            related=related,
            properties=Properties(
                archs=(arch,),
                hook=declared[0].spec if declared else None,
                arch_hooks={arch: False},
            ),
        )


RULE = Rule(
    id="persistence-hook-required",
    severity=Severity.ERROR,
    summary="a required architecture does not implement the CPU persistence hook",
    doc=__doc__ or "",
    options=Options,
    check=check,
    tags=("correctness", "qemu", "acpi", "cpu-hotplug", "configuration"),
    precision="high",
    # the CPU class_init of each required architecture, and the hooks' tables
    seeds=Seeds(types=("CPUClass",), arch_words=("CPUClass", "CPU_CLASS"), hooks=True),
)
