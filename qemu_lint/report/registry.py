"""Stage 7 (reporters): the check formats' registry.

Entry point: :data:`REPORTERS` (format name → reporter), read by the CLI for
its ``--format`` choices and to render.
"""

from __future__ import annotations

from collections.abc import Mapping

from qemu_lint.report import github as github_report
from qemu_lint.report import gitlab as gitlab_report
from qemu_lint.report import json as json_report
from qemu_lint.report import sarif as sarif_report
from qemu_lint.report import text as text_report
from qemu_lint.report.base import Reporter

#: Built explicitly: adding a format means adding a line here.
REPORTERS: Mapping[str, Reporter] = {
    "text": text_report,
    "json": json_report,
    "sarif": sarif_report,
    "gitlab": gitlab_report,
    "github": github_report,
}
