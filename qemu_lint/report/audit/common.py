"""Stage 7 (reporters): pieces the audit renderers share.

Entry points: :func:`header`, :func:`notes` (a finding as GCC-style lines),
:func:`verdict_text`, :func:`patch_name` and :func:`patch_line`.  They see
only values of :mod:`qemu_lint.audit.verdicts`.
"""

from __future__ import annotations

from qemu_lint.audit.patch import Patch
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
    Change,
    PatchVerdict,
)
from qemu_lint.findings import Finding
from qemu_lint.report.console import clean, note_lines


def header(f: Finding, level: str | None = None, prefix: str = "") -> str:
    """``file:line:col: error: [prefix]message [rule]``."""
    return (
        f"{clean(f.file)}:{f.line}:{f.column}: {level or f.severity}: "
        f"{prefix}{clean(f.message)} [{f.rule}]"
    )


def notes(f: Finding) -> list[str]:
    """The evidence path and the rule's notes at the site, as ``note:`` lines."""
    return [
        f"{clean(file)}:{line}:{col}: note: {clean(text)}"
        for file, line, col, text in note_lines(f, with_related=False)
    ]


def level(change: Change, result: AuditResult) -> str:
    """error; warning for a finding the base has, and for a transient finding
    when transients are allowed."""
    if change.in_base or (change.other is not None and result.allow_transient):
        return "warning"
    return change.finding.severity


def change_prefix(change: Change) -> str:
    """What a reviewer must know before the message: ``re-introduces a finding
    present in the base: `` for one the base had."""
    return "re-introduces a finding present in the base: " if change.in_base else ""


def other_label(result: AuditResult, index: int | None) -> str:
    if index is None:
        return "the base"
    p = next((v.patch for v in result.patches if v.patch.index == index), None)
    return f"{p.label} ({clean(p.subject)})" if p else str(index)


_WORDS = {
    INTRODUCES: "introduces",
    REINTRODUCES: "re-introduces a finding present in the base",
    TRANSIENT: "transient",
    FIXES: "fixes",
    CLEAN: "clean",
    DOES_NOT_APPLY: "does not apply",
    NOT_CHECKED: "not checked",
    CANNOT_JUDGE: "cannot judge",
}


def verdict_text(v: PatchVerdict) -> str:
    word = _WORDS.get(v.verdict, v.verdict)
    if v.verdict == TRANSIENT:
        later = sorted({c.other for c in v.introduced if c.other is not None})
        return f"{word} (fixed by {', '.join(f'{k}/{v.patch.count}' for k in later)})"
    return word


def patch_name(result: AuditResult, patch: Patch) -> str:
    """How the line formats name a patch: ``-`` for stdin, the file when it
    holds this patch only, else ``k/N``."""
    if result.is_stdin:
        return "-"
    same = sum(1 for v in result.patches if v.patch.source == patch.source)
    if same == 1 and patch.commit is None:
        return patch.source
    return patch.label


def patch_line(patch: Patch, change: Change | None) -> int:
    """The line of the patch text a change points at (else its first diff line, else 1)."""
    if change is not None and change.location is not None:
        return change.location.line.at + patch.line_offset
    if patch.files:
        return patch.files[0].at + patch.line_offset
    return 1
