"""Stage 7 (reporters): ``check --format gitlab``, GitLab Code Quality JSON.

Entry points: :func:`render` and :func:`to_gitlab`.  A JSON array (no byte-order
mark), one element per finding: ``description`` (the message, then the rule id
in brackets, because GitLab's widget does not show ``check_name``),
``check_name``, ``fingerprint`` (:attr:`Finding.fingerprint
<qemu_lint.findings.Finding>`: unique per finding, stable across line shifts),
``severity`` and ``location`` (``path`` and ``lines``).  Paths are the report's
root-relative paths behind ``opts.path_prefix``, which the CLI sets so that they
read relative to ``CI_PROJECT_DIR``.  Suppressed findings and problems have no
place in the format and are left out.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from qemu_lint.findings import Finding, Report
from qemu_lint.report.base import RenderOptions

#: qemu-lint severity → Code Quality severity (info, minor, major, critical, blocker)
SEVERITY = {"error": "major", "warning": "minor", "note": "info"}


def _issue(f: Finding, prefix: str) -> dict[str, Any]:
    return {
        "description": f"{f.message} [{f.rule}]",
        "check_name": f.rule,
        "fingerprint": f.fingerprint,
        "severity": SEVERITY.get(f.severity, "minor"),
        "location": {
            "path": prefix + f.file,
            "lines": {"begin": f.line, "end": max(f.end_line, f.line)},
        },
    }


def to_gitlab(report: Report, path_prefix: str = "") -> list[dict[str, Any]]:
    """The Code Quality issues of a report, as plain Python values.

    :param path_prefix: prepended to every root-relative path (``""`` or ``"dir/"``)
    """
    return [_issue(f, path_prefix) for f in report.findings]


def render(report: Report, out: TextIO, opts: RenderOptions) -> None:
    """Write the report as a Code Quality JSON array (no colour, no summary).

    :param out: the stream to write to
    """
    out.write(json.dumps(to_gitlab(report, opts.path_prefix), indent=2) + "\n")
