"""Stage 7 (reporters): ``check --statistics``, counts per rule as ruff prints them.

Entry point: :func:`render`.  Text is one line per rule that has findings:
``count<TAB>rule-id<TAB>summary``, the count right-aligned, most frequent
first (ties by rule id); JSON is a list of ``{"count", "rule", "summary"}``
in the same order.  Suppressed findings are not counted.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from qemu_lint.findings import Report


def rows(report: Report) -> list[tuple[int, str, str]]:
    """``(count, rule, summary)`` per rule with findings, most frequent first."""
    summaries = {r.id: r.summary for r in report.rules}
    counts = Counter(f.rule for f in report.findings)
    return sorted(
        ((n, rule, summaries.get(rule, "")) for rule, n in counts.items()),
        key=lambda r: (-r[0], r[1]),
    )


def render(report: Report, out: TextIO, fmt: str = "text") -> None:
    """Write the statistics of ``report`` to ``out``.

    :param fmt: ``text`` or ``json``
    """
    table = rows(report)
    if fmt == "json":
        doc = [{"count": n, "rule": rule, "summary": summary} for n, rule, summary in table]
        out.write(json.dumps(doc, indent=2) + "\n")
        return
    width = max((len(str(n)) for n, _, _ in table), default=1)
    rule_width = max((len(rule) for _, rule, _ in table), default=1)
    for n, rule, summary in table:
        out.write(f"{n:>{width}}\t{rule:<{rule_width}}\t{summary}\n")
