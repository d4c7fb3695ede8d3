"""Stage 7 (reporters): the reporter protocol and its options.

Entry points: :class:`RenderOptions` and :class:`Reporter`; the registry of
formats is :data:`qemu_lint.report.registry.REPORTERS`.  Reporters see only
the :class:`~qemu_lint.findings.Report`, the options and the output stream;
the CLI chooses one and owns stdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TextIO

from qemu_lint.findings import Report


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
