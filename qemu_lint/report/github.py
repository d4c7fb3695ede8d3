"""Stage 7 (reporters): ``check --format github``, GitHub Actions workflow commands.

Entry points: :func:`render` (stdout: one annotation per finding, then the full
plain-text report in a collapsed group) and :func:`render_summary` (the
Markdown table the CLI appends to ``$GITHUB_STEP_SUMMARY``).

GitHub shows at most 10 error and 10 warning annotations per step, so the
annotations are the headline, the group holds everything, and the step
summary lists every finding that fits in its size limit.  An annotation is
``::error file=…,line=…,col=…,endLine=…,endColumn=…,title=qemu-lint (<rule>)::message``
(``warning`` or ``notice`` for lower severities), escaped as the runner expects:
``%``, CR and LF in the message, and also ``:`` and ``,`` in property values.
"""

from __future__ import annotations

import dataclasses
from typing import TextIO

from qemu_lint.findings import Finding, Problem, Report
from qemu_lint.report import text as text_report
from qemu_lint.report.base import RenderOptions

#: qemu-lint severity → workflow command
COMMAND = {"error": "error", "warning": "warning", "note": "notice"}
GROUP = "qemu-lint report"
#: GitHub refuses step summaries of 1 MiB or more
SUMMARY_LIMIT = 1024 * 1024


def escape_data(s: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF)."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """Escape a workflow command's property value (the message escapes, ``:`` and ``,``)."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: list[tuple[str, str]], message: str) -> str:
    """One workflow command line (without the line break)."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(f: Finding, prefix: str) -> str:
    props = [
        ("file", prefix + f.file),
        ("line", str(f.line)),
        ("col", str(f.column)),
        ("endLine", str(max(f.end_line, f.line))),
        ("endColumn", str(f.end_column)),
        ("title", f"qemu-lint ({f.rule})"),
    ]
    message = f.message
    if f.path:  # the evidence, one step a line (GitHub shows line breaks)
        steps = [f"{prefix}{s.file}:{s.line}: {s.text}" for s in f.path]
        message += "\n\npath:\n" + "\n".join(steps)
    return command(COMMAND.get(f.severity, "warning"), props, message)


def _problem(p: Problem, prefix: str) -> str:
    props = [("file", prefix + p.file)] if p.file else []
    props.append(("title", "qemu-lint"))
    return command("error" if p.level == "error" else "warning", props, p.message)


def render(report: Report, out: TextIO, opts: RenderOptions) -> None:
    """Write the annotations, then the plain-text report in a group (never colour).

    :param out: the stream to write to
    """
    for f in report.findings:
        out.write(_annotation(f, opts.path_prefix) + "\n")
    for p in report.problems:
        out.write(_problem(p, opts.path_prefix) + "\n")
    out.write(f"::group::{GROUP}\n")
    plain = dataclasses.replace(opts, color=False, interactive=False)
    text_report.render(report, out, plain)
    out.write("::endgroup::\n")


_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_SPECIAL = set("\\`*_[]|~")


def markdown_cell(s: str) -> str:
    """Plain text as the content of a Markdown table cell: one line, no markup, no HTML."""
    out = []
    for ch in " ".join(s.split()):
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def render_summary(report: Report, limit: int = SUMMARY_LIMIT, path_prefix: str = "") -> str:
    """The Markdown step summary: a heading, the summary line, a table of findings.

    Rows that do not fit in ``limit`` bytes (UTF-8) are left out and counted in
    a last line pointing to the log.

    :param limit: the byte budget (what the summary file can still take)
    :return: the Markdown, or "" if not even the heading fits
    """
    n = len(report.findings)
    head = f"### qemu-lint\n\n{text_report.summary_line(report)}\n"
    if report.problems:
        k = len(report.problems)
        head += (
            f"\n{k} problem{'' if k == 1 else 's'} limit{'s' if k == 1 else ''} the results "
            "(see the log).\n"
        )
    if not n:
        return head if len(head.encode()) < limit else ""
    head += "\n| severity | location | rule | message |\n|---|---|---|---|\n"
    rows = [
        f"| {f.severity} | {markdown_cell(f'{path_prefix}{f.file}:{f.line}:{f.column}')} "
        f"| {markdown_cell(f.rule)} | {markdown_cell(f.message)} |\n"
        for f in report.findings
    ]

    def tail(left: int) -> str:
        return f"\n… and {left} more (see the log of this step).\n" if left else ""

    size = len(head.encode())
    if size + len(tail(n).encode()) >= limit:
        return ""
    kept: list[str] = []
    for i, row in enumerate(rows):
        grown = size + len(row.encode())
        if grown + len(tail(n - i - 1).encode()) >= limit:
            break
        kept.append(row)
        size = grown
    return head + "".join(kept) + tail(n - len(kept))
