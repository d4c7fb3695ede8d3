"""Stage 7 (reporters): ``audit --format text``, for a reviewer at a terminal or in a log.

Entry points: :func:`render` and :func:`summary_line` (the CLI sends the
summary to stderr).

A table (index, subject, findings introduced and fixed, verdict), then for
each patch that changes something its findings as GCC-style lines (introduced:
``error:``, with the evidence path as ``note:`` lines; fixed: a ``note:``
line), then the final state against the base.  Introduced findings carry the
lines of the tree after that patch, fixed ones those of the tree before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.table import Table
from rich.text import Text

from qemu_lint.audit.verdicts import (
    CANNOT_JUDGE,
    CLEAN,
    DOES_NOT_APPLY,
    FIXES,
    INTRODUCES,
    NOT_CHECKED,
    REINTRODUCES,
    TRANSIENT,
    AuditResult,
    PatchVerdict,
)
from qemu_lint.report.audit.common import (
    change_prefix,
    header,
    level,
    notes,
    other_label,
    verdict_text,
)
from qemu_lint.report.console import clean, new_console, print_block, table_box

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions

_STYLE = {
    INTRODUCES: "bold red",
    REINTRODUCES: "bold yellow",
    TRANSIENT: "bold yellow",
    DOES_NOT_APPLY: "bold red",
    FIXES: "green",
}
_BASE_FROM = {
    "--base": "from --base",
    "base-commit": "the cover letter's base-commit",
    "range": "the parent of the range's first commit",
    "HEAD": "HEAD",
}


def _plural(n: int, word: str, words: str = "") -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def title(result: AuditResult) -> str:
    n = len(result.patches)
    return (
        f"Audit of {clean(result.label)}: {_plural(n, 'patch', 'patches')} "
        f"on {result.base[:12]} ({_BASE_FROM.get(result.base_source, result.base_source)})"
    )


def _table(result: AuditResult, opts: RenderOptions) -> Table:
    table = Table(box=table_box(opts), title=None)
    table.add_column("#", justify="right")
    table.add_column("subject", overflow="fold")
    table.add_column("+", justify="right")
    table.add_column("-", justify="right")
    table.add_column("verdict")
    for v in result.patches:
        table.add_row(
            Text(v.patch.label),
            Text(clean(v.patch.subject)),
            Text(str(len(v.introduced)) if v.applied else ""),
            Text(str(len(v.fixed)) if v.applied else ""),
            Text(verdict_text(v), style=_STYLE.get(v.verdict, "")),
        )
    return table


def _details(result: AuditResult, v: PatchVerdict) -> list[tuple[str, str]]:
    """(line, style) pairs for one patch; nothing for a patch that changes nothing."""
    if v.verdict == DOES_NOT_APPLY:
        return [
            (f"Patch {v.patch.label} {clean(v.patch.subject)}: does not apply", "bold"),
            (f"{v.patch.label}: error: {clean(v.reason or 'git am failed')}", "red"),
        ]
    if not v.introduced and not v.fixed:
        return []
    commit = (
        f" ({(v.patch.commit or v.applied_as or '')[:12]})"
        if (v.patch.commit or v.applied_as)
        else ""
    )
    out = [(f"Patch {v.patch.label} {clean(v.patch.subject)}{commit}: {verdict_text(v)}", "bold")]
    for c in v.introduced:
        out.append((header(c.finding, level(c, result), change_prefix(c)), ""))
        out += [(n, "dim") for n in notes(c.finding)]
        if c.other is not None:
            f = c.finding
            out.append(
                (
                    f"{clean(f.file)}:{f.line}:{f.column}: note: transient: removed again by "
                    f"{other_label(result, c.other)}; the commits in between keep it",
                    "yellow",
                )
            )
    for c in v.fixed:
        f = c.finding
        since = (
            "present in the base"
            if c.other is None
            else f"introduced by {other_label(result, c.other)}"
        )
        out.append(
            (
                f"{clean(f.file)}:{f.line}:{f.column}: note: fixed; {since}: "
                f"{clean(f.message)} [{f.rule}]",
                "green",
            )
        )
    return out


def _final(result: AuditResult) -> list[str]:
    last = next((v for v in reversed(result.patches) if v.applied), None)
    state = f"after {last.patch.label}" if last else "the base"
    if not result.is_complete:
        state += ", where the audit stopped"
    lines = [
        f"Final state ({state}) versus the base: {len(result.new_at_tip)} introduced, "
        f"{len(result.gone_at_tip)} fixed; {_plural(len(result.final), 'finding')} in all."
    ]
    for f in result.new_at_tip:
        lines.append(header(f))
    return lines


def render(result: AuditResult, out: TextIO, opts: RenderOptions) -> None:
    """Write the table, the details and the final state.

    :param out: the stream to write to
    """
    console = new_console(out, opts)

    def emit(line: str, style: str = "") -> None:
        if opts.color:
            console.print(Text(line, style=style))
        else:
            out.write(line + "\n")

    emit(title(result), "bold")
    if result.cover_subject:
        emit(f"Cover letter (skipped): {clean(result.cover_subject)}")
    if result.patches:
        print_block(console, _table(result, opts), opts)
    for v in result.patches:
        lines = _details(result, v)
        if lines:
            emit("")
            for line, style in lines:
                emit(line, style)
    emit("")
    for line in _final(result):
        emit(line)


def summary_line(result: AuditResult) -> str:
    """``Audited 5 of 5 patches: 1 introduces, 1 transient, 2 fix, 1 clean.``"""
    order = (
        INTRODUCES,
        REINTRODUCES,
        TRANSIENT,
        FIXES,
        CLEAN,
        CANNOT_JUDGE,
        DOES_NOT_APPLY,
        NOT_CHECKED,
    )
    counts = {v: sum(1 for p in result.patches if p.verdict == v) for v in order}
    parts = [f"{n} {verdict}" for verdict, n in counts.items() if n]
    total = len(result.patches)
    return f"Audited {result.checked} of {total} patch{'' if total == 1 else 'es'}" + (
        f": {', '.join(parts)}." if parts else "."
    )
