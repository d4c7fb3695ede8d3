"""Stage 4 (model): the model as the ``model --format json`` document.

Entry point: :func:`model_to_json` (shape fixed by docs/output.md; fields are
only ever added).
"""

from __future__ import annotations

from typing import Any

from qemu_lint.model import Model


def _derivation(model: Model) -> dict[str, Any]:
    """How the Present bit was found: the AML fields, the source, the steps, the problems."""
    p = model.acpi.presence
    if p is None:
        return {}
    return {
        "aml_field": p.field or None,
        "aml_fields": list(p.aml_fields),
        "feeds": [{"field": f, "aml_field": a} for f, a in p.feeds],
        "fixed": p.fixed,
        "sta_value": p.sta_value,
        "enabled_bit": p.enabled_bit,
        "enabled_field": p.enabled_field or None,
        "enabled_fields": list(p.enabled_fields),
        "source": p.source,
        "derivation": [{"file": w.file, "line": w.line, "note": w.note} for w in p.derivation],
        "problems": [{"file": q.file, "line": q.line, "message": q.message} for q in p.problems],
    }


def model_to_json(model: Model) -> dict[str, Any]:
    """The hook tables, implementations per architecture and ACPI facts per architecture."""
    sites = sorted({(s.file, s.function) for s in model.acpi.sites})
    reach: dict[str, list[str]] = {}
    for file, function in sites:
        for a in model.reaching_archs((file, function)):
            reach.setdefault(a, []).append(f"{file}:{function}")
    archs: dict[str, dict[str, Any]] = {}
    for a in model.archs:
        archs[a] = {
            "emits_cpu_aml": a in model.acpi.emits_cpu_aml,
            "unplug_reaches": sorted(reach.get(a, [])),
            "implements_persistence_hook": model.implements_hook(a),
            **_build_facts(model, a),
        }
    rh = model.acpi.read_handler
    return {
        "version": 1,
        "root": model.root,
        "hook_tables": [
            {
                "struct": t.struct,
                "file": t.file,
                "line": t.line,
                "hooks": [
                    {"name": h.name, "signature": h.signature, "line": h.line} for h in t.hooks
                ],
            }
            for t in model.hook_tables
        ],
        "implementations": [
            {
                "struct": i.struct,
                "hook": i.hook,
                "arch": i.arch,
                "function": i.function,
                "file": i.file,
                "line": i.line,
            }
            for i in model.implementations()
        ],
        "archs": archs,
        "persistence_hooks": [
            {"hook": h.spec, "declared": h.declared, "file": h.file or None, "line": h.line or None}
            for h in model.hooks
        ],
        "presence": {
            "read_handler": None
            if rh is None
            else {"file": rh.function[0], "function": rh.function[1], "line": rh.line},
            "bit": None
            if model.acpi.presence is not None and model.acpi.presence.fixed is not None
            else model.acpi.presence_bit,
            "fields": list(model.acpi.presence_fields),
            "configured_fields": list(model.acpi.configured_presence_fields),
            **_derivation(model),
        },
        "sites": [
            {
                "kind": s.kind,
                "file": s.file,
                "line": s.expr.line,
                "function": s.function,
                "what": s.what,
            }
            for s in model.acpi.sites
        ],
    }


#: the class hook an ACPI device registers to take unplugs (GED, PIIX4 PM, ICH9 LPC)
_UNPLUG = ("HotplugHandlerClass", "unplug")
_ACPI_IF = "TYPE_ACPI_DEVICE_IF"


def acpi_device_types(model: Model) -> set[str]:
    """QOM types taking unplugs (``HotplugHandlerClass::unplug``) that are ACPI
    devices (implement ``TYPE_ACPI_DEVICE_IF``): the GED, PIIX4 PM, ICH9 LPC."""
    qom = model.qom
    iface = qom.names.get(_ACPI_IF, _ACPI_IF)
    out: set[str] = set()
    for reg in model.index.registrations.get(_UNPLUG, []):
        for t in qom.by_class_init.get(reg.by, []) if reg.by else ():
            if iface in qom.ancestors(t)[0]:
                out.add(t)
    return out


def _build_facts(model: Model, arch: str) -> dict[str, Any]:
    """What the architecture builds and creates (issue 10's per-architecture facts):
    the files of its own code creating an ACPI device (its boards), the device
    types they create, the ``hw/acpi/`` files it builds (None without a build
    configuration for it), and the persistence-hook designs it implements."""
    qom = model.qom
    handlers = acpi_device_types(model)
    boards: set[str] = set()
    devices: set[str] = set()
    for c in qom.creations:
        if c.type in handlers and model.arch(c.function[0]) == arch:
            boards.add(c.function[0])
            devices.add(qom.spelling(c.type))
    built = model.build.files(arch) if model.build is not None else frozenset()
    acpi_files = sorted(f for f in built if f.startswith("hw/acpi/") and f.endswith(".c"))
    has_build = model.build is not None and bool(model.build.for_arch(arch))
    return {
        "boards": sorted(boards),
        "acpi_devices": sorted(devices),
        "acpi_files": acpi_files if has_build else None,
        "hook_designs": [
            {"hook": spec, "file": file, "line": line}
            for spec, file, line in sorted(model.acpi.hook_implementers.get(arch, []))
        ],
    }
