"""Stage 7 (reporters): the audit reporters' protocol and registry.

Entry points: :class:`AuditReporter` and :data:`AUDIT_REPORTERS` (format name →
reporter).  An audit reporter sees only the
:class:`~qemu_lint.audit.verdicts.AuditResult`, the options and the output stream.
``sarif`` and ``gitlab`` are not here: for them the CLI renders the final
state's report with the check reporters (:data:`qemu_lint.report.registry.REPORTERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, TextIO

from qemu_lint.report.registry import LazyRegistry

if TYPE_CHECKING:
    from qemu_lint.audit.verdicts import AuditResult
    from qemu_lint.report.base import RenderOptions


class AuditReporter(Protocol):
    """A renderer of one audit output format (a module with a ``render`` function)."""

    def render(self, result: AuditResult, out: TextIO, opts: RenderOptions) -> None: ...


#: Built explicitly: adding a format means adding a line here.  Each
#: reporter's module is imported on first lookup (:class:`LazyRegistry`).
AUDIT_REPORTERS: Mapping[str, AuditReporter] = LazyRegistry(
    {
        "text": "qemu_lint.report.audit.text",
        "json": "qemu_lint.report.audit.json",
        "checkpatch": "qemu_lint.report.audit.checkpatch",
        "email": "qemu_lint.report.audit.email",
        "terse": "qemu_lint.report.audit.terse",
    }
)
