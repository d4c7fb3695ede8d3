"""Stage 7 (reporters): ``check --format json``, the versioned machine contract.

Entry point: :func:`render`.  Field names are fixed by docs/output.md; adding a field
is compatible, renaming or removing one needs a new ``version``.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from qemu_lint.findings import Report
from qemu_lint.report.base import RenderOptions

VERSION = 1


def to_json(report: Report) -> dict[str, Any]:
    """The JSON document for a report, as plain Python values."""
    return {
        "version": VERSION,
        "tool": {"name": "qemu-lint", "version": report.tool_version},
        "root": report.root,
        "stats": report.stats.to_json(),
        "findings": [f.to_json() for f in report.findings],
        "problems": [
            {"file": p.file, "message": p.message, "level": p.level, "untrusted": p.untrusted}
            for p in report.problems
        ],
        # Findings silenced by inline suppressions, each with the suppression's reason.
        "suppressed": [{**f.to_json(), "suppression": f.suppression} for f in report.suppressed],
        # added last (fields are only ever added): false when a problem keeps the run
        # from saying "clean" (a rule crashed, a file or function the analysis needed
        # was left out); the run then exits 2 or 3, and SARIF's executionSuccessful
        # is false too
        "trusted": not report.distrust,
    }


def render(report: Report, out: TextIO, opts: RenderOptions) -> None:
    """Write the report as one JSON object (``opts`` is ignored: no colour, no summary).

    :param out: the stream to write to
    """
    out.write(json.dumps(to_json(report), indent=2, sort_keys=False) + "\n")
