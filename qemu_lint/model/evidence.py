"""Stage 4 (model): the evidence a finding about a vCPU unplug site carries.

Entry points: :func:`attributed` (the architectures reaching a function, with
their paths down to it), :func:`related` (the secondary places that explain
a finding: the hook's declaration, where each architecture enters the path,
emits the CPU hotplug AML and implements the hook), :func:`hook_status`
(does an architecture implement the design that matters at a site) and
:func:`enclosing` (the function holding a line).  Shared by the rules
``acpi-cpu-persistence`` and ``acpi-cpu-kept-alive``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from qemu_lint.facts import Expr
from qemu_lint.model.callgraph import CallEdge, FnRef
from qemu_lint.model.hooks import Hook
from qemu_lint.model.reach import Attribution
from qemu_lint.rule import PathStep

if TYPE_CHECKING:
    from qemu_lint.model import Model

#: a path from a function down: (edge to the callee, callee) each
Chain = tuple[tuple[CallEdge, FnRef], ...]


def enclosing(model: Model, file: str, line: int) -> str:
    """The function of ``file`` whose body holds ``line`` ("" at file scope)."""
    for (path, name), fn in model.index.functions.items():
        if path == file and fn.line <= line <= fn.end_line:
            return name
    return ""


def related(
    model: Model,
    declared: tuple[Hook, ...],
    arch_list: tuple[str, ...],
    chains: Mapping[str, Chain],
    reached: Sequence[Attribution] = (),
    consulted: tuple[str, ...] = (),
) -> tuple[PathStep, ...]:
    """Secondary places that explain a finding, each a fact of the model.

    The declaration (or definition) of each persistence hook the tree has;
    then per architecture named by the finding: where its code enters the
    path to the site, where it emits the CPU hotplug AML, and where it
    implements a persistence hook.
    """
    out: list[PathStep] = []
    for h in declared:
        if not h.file:
            continue
        if h.function:
            out.append(
                PathStep(h.file, h.line, h.function, f"defines the persistence hook {h.spec}()")
            )
        else:
            kind = "hook" if h.is_fnptr else "flag"
            out.append(PathStep(h.file, h.line, "", f"declares the persistence {kind} {h.spec}"))
    for arch in arch_list:
        chain = chains.get(arch)
        if chain:
            edge, callee = chain[0]
            via = f"{edge.via} (to {callee[1]}())" if edge.via else f"{callee[1]}()"
            out.append(
                PathStep(
                    edge.caller[0],
                    edge.call.line,
                    edge.caller[1],
                    f"{arch} enters the path to the site: "
                    + (edge.note if edge.note else f"calls {via}"),
                )
            )
        att = next((a for a in reached if a.arch == arch), None)
        if att is not None:
            for step in att.steps[1:]:
                out.append(
                    PathStep(step.caller[0], step.line, step.caller[1], f"{arch}: {step.note}")
                )
            for file, why in att.build:
                out.append(PathStep(file, 1, "", why))
        for file, line in sorted(model.acpi.emits_cpu_aml.get(arch, []))[:1]:
            out.append(
                PathStep(
                    file,
                    line,
                    enclosing(model, file, line),
                    f"{arch} emits the CPU hotplug AML: calls {model.acpi.cpu_aml_builder}()",
                )
            )
        for spec, file, line in sorted(model.acpi.hook_implementers.get(arch, [])):
            out.append(
                PathStep(
                    file,
                    line,
                    enclosing(model, file, line),
                    f"{arch} implements the persistence hook {spec}",
                )
            )
    return tuple(out)


def hook_status(model: Model, arch: str, consulted: tuple[str, ...]) -> tuple[bool, str]:
    """Does ``arch`` implement a design that matters here, and the words saying so.

    A design matters when it is one the path consults (with none consulted:
    any declared design); an architecture implementing only another one has
    implemented nothing that matters at this site.
    """
    impl = sorted(model.acpi.hook_implementers.get(arch, []))
    if not impl:
        return False, ""
    designs = dict.fromkeys(spec for spec, _, _ in impl)
    if not consulted or any(d in consulted for d in designs):
        return True, ""
    where = ", ".join(f"{spec} at {file}:{line}" for spec, file, line in impl[:2])
    return False, (
        f"{arch} implements {where}, but the path consults {', '.join(consulted)}: "
        "its design is not the one that matters here"
    )


def attributed(
    model: Model, ref: FnRef
) -> tuple[tuple[str, ...], dict[str, Chain], list[Attribution]]:
    """The architectures reaching function ``ref``: those emitting CPU hotplug
    AML whose path (built for them, typed) reaches it, plus its file's own;
    their paths down to it (as call chains), and their attributions."""
    found = [model.attribute(ref, a) for a in sorted(model.acpi.emits_cpu_aml)]
    reached = [a for a in found if a.reached]
    archs = {a.arch for a in reached}
    own = model.arch(ref[0])
    if own is not None:
        archs.add(own)
    return tuple(sorted(archs)), {a.arch: as_chain(a) for a in reached}, reached


def as_chain(a: Attribution) -> Chain:
    """An attribution's steps as the call chain a finding's path is built from."""
    out = []
    for s in a.steps:
        call = Expr("call", s.line, 1, s.line, 1)
        out.append((CallEdge(s.caller, call, "", None, s.note), s.callee))
    return tuple(out)
