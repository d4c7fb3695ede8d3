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
            "bit": model.acpi.presence_bit,
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
