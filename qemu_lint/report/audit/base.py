"""Stage 7 (reporters): the audit reporters' protocol and registry.

Entry points: :class:`AuditReporter` and :data:`AUDIT_REPORTERS` (format name →
reporter).  An audit reporter sees only the
:class:`~qemu_lint.audit.verdicts.AuditResult`, the options and the output stream.
``sarif`` and ``gitlab`` are not here: for them the CLI renders the final
state's report with the check reporters (:data:`qemu_lint.report.registry.REPORTERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TextIO

from qemu_lint.audit.verdicts import AuditResult
from qemu_lint.report.audit import checkpatch as audit_checkpatch
from qemu_lint.report.audit import email as audit_email
from qemu_lint.report.audit import json as audit_json
from qemu_lint.report.audit import terse as audit_terse
from qemu_lint.report.audit import text as audit_text
from qemu_lint.report.base import RenderOptions


class AuditReporter(Protocol):
    """A renderer of one audit output format (a module with a ``render`` function)."""

    def render(self, result: AuditResult, out: TextIO, opts: RenderOptions) -> None: ...


#: Built explicitly: adding a format means adding a line here.
AUDIT_REPORTERS: Mapping[str, AuditReporter] = {
    "text": audit_text,
    "json": audit_json,
    "checkpatch": audit_checkpatch,
    "email": audit_email,
    "terse": audit_terse,
}
