"""Stage 7 (reporters): ``audit --format json``, the versioned machine contract.

Entry points: :func:`to_json` and :func:`render`.  The fields of docs/output.md
(``version``, ``base``, ``patches[]`` with ``index``, ``count``, ``subject``,
``commit``, ``applied``, ``introduced``, ``fixed``, and ``final``) are fixed;
everything else here is an addition:

* top level: ``tool``, ``root``, ``series`` (what was audited),
  ``base_source``, ``complete``, ``final_vs_base`` (``introduced``,
  ``fixed``), ``transient`` (each finding introduced and removed again
  within the series, with ``introduced_by`` and ``fixed_by``) and ``stats``;
* per patch: ``verdict``, ``reason`` (why it did not apply or was not
  checked), ``message_id``, ``applied_as`` (the commit it became: the one
  ``git am`` would have made), ``seconds``;
* per finding of ``introduced``: ``fixed_by`` (the index of the patch that
  removes it later, or null), ``in_base`` (the base had it: the patch
  re-introduces it; verdict ``reintroduces``) and ``patch_line``; of ``fixed``:
  ``introduced_by`` (null: present in the base) and ``patch_line``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from qemu_lint.audit.verdicts import AuditResult, Change, PatchVerdict

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions

VERSION = 1


def _change(c: Change, other: str, v: PatchVerdict) -> dict[str, Any]:
    doc = c.finding.to_json()
    doc[other] = c.other
    if other == "fixed_by":
        doc["in_base"] = c.in_base
    doc["patch_line"] = c.location.line.at + v.patch.line_offset if c.location is not None else None
    return doc


def _patch(v: PatchVerdict) -> dict[str, Any]:
    return {
        "index": v.patch.index,
        "count": v.patch.count,
        "subject": v.patch.subject,
        "commit": v.patch.commit,
        "applied": v.applied,
        "introduced": [_change(c, "fixed_by", v) for c in v.introduced],
        "fixed": [_change(c, "introduced_by", v) for c in v.fixed],
        "verdict": v.verdict,
        "reason": v.reason,
        "message_id": v.patch.message_id,
        "applied_as": v.applied_as,
        "seconds": round(v.seconds, 3),
    }


def to_json(result: AuditResult) -> dict[str, Any]:
    """The JSON document for an audit, as plain Python values."""
    transient = [
        {"introduced_by": v.patch.index, "fixed_by": c.other, "finding": c.finding.to_json()}
        for v in result.patches
        for c in v.transient
    ]
    return {
        "version": VERSION,
        "tool": {"name": "qemu-lint", "version": result.final_report.tool_version},
        "root": result.root,
        "series": result.label,
        "base": result.base,
        "base_source": result.base_source,
        "complete": result.is_complete,
        "patches": [_patch(v) for v in result.patches],
        "final": [f.to_json() for f in result.final],
        "final_vs_base": {
            "introduced": [f.to_json() for f in result.new_at_tip],
            "fixed": [f.to_json() for f in result.gone_at_tip],
        },
        "transient": transient,
        "stats": {
            "base_seconds": round(result.base_seconds, 3),
            "patch_seconds": [round(v.seconds, 3) for v in result.patches if v.applied],
        },
    }


def render(result: AuditResult, out: TextIO, opts: RenderOptions) -> None:
    """Write the audit as one JSON object (``opts`` is ignored).

    :param out: the stream to write to
    """
    out.write(json.dumps(to_json(result), indent=2) + "\n")
