"""Stage 7 (reporters): the reporter protocol, its options and the registry.

Entry points: :class:`RenderOptions`, :class:`Reporter` and :data:`REPORTERS`
(format name → reporter).  Reporters see only the :class:`~qemu_lint.findings.Report`,
the options and the output stream; the CLI chooses one and owns stdout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TextIO

from qemu_lint.findings import Report
from qemu_lint.report import github as github_report
from qemu_lint.report import gitlab as gitlab_report
from qemu_lint.report import json as json_report
from qemu_lint.report import sarif as sarif_report
from qemu_lint.report import text as text_report


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render: decided by the CLI from flags, environment and the TTY."""

    #: emit ANSI colour and styles
    color: bool = False
    #: add rich context (code frames, summary table) for a human at a terminal
    interactive: bool = False
    #: console width used by rich renderables; plain lines are never wrapped
    width: int = 100
    #: leave out summaries
    quiet: bool = False
    #: SARIF: also list the suppressed findings, marked as suppressed
    include_suppressed: bool = False
    #: gitlab, github: prefix of every reported path (``sub/dir/``), so that paths
    #: read relative to the CI checkout when the QEMU root lies below it
    path_prefix: str = ""
    #: sarif: the analysis' category (``automationDetails.id`` is
    #: ``qemu-lint/<category>/``): ``check``, or ``audit`` for an audit's final state
    category: str = "check"


class Reporter(Protocol):
    """A renderer of one output format (a module with a ``render`` function)."""

    def render(self, report: Report, out: TextIO, opts: RenderOptions) -> None: ...


#: Built explicitly: adding a format means adding a line here.
REPORTERS: Mapping[str, Reporter] = {
    "text": text_report,
    "json": json_report,
    "sarif": sarif_report,
    "gitlab": gitlab_report,
    "github": github_report,
}
