"""Stage 7 (reporters): ``audit --format checkpatch``, the layout reviewers know
from QEMU's ``scripts/checkpatch.pl`` and patchew.

Entry point: :func:`render`.  Per patch checked::

    3/5 Checking commit 1f35da6165f3 (hw/acpi/cpu: release the vCPU …)
    ERROR: sets AcpiCpuStatus::cpu to NULL, … [acpi-cpu-persistence]
    #16: FILE: hw/acpi/cpu.c:175:
    +    cdev->cpu = NULL;

    total: 1 errors, 0 warnings, 24 lines checked

    Patch 3/5 has style problems, please review.  …

``#N`` is the line of the patch text the finding points at (the added line at
the site, else the nearest changed line of the hunk that touches the site or
its evidence path); ``FILE:`` is the site in the tree after the patch.  For
the commits of a revision range both ``#N`` and ``lines checked`` count as
``scripts/checkpatch.pl`` does: lines of ``git show --patch-with-stat`` (its
diff options), and the hunks' body lines; a single commit is named ``Commit
<sha12> (<subject>)`` without a ``1/1 Checking`` header, as checkpatch does.  Only
findings a patch introduces are errors; a transient one (removed again later
in the series) is a warning with ``--allow-transient``.  A patch that does not
apply gets one error and ends the output, as the audit ends there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from qemu_lint.audit.patch import Patch, parse_diff
from qemu_lint.audit.verdicts import DOES_NOT_APPLY, AuditResult, Change, PatchVerdict
from qemu_lint.report.audit.common import change_prefix, level, other_label, patch_line
from qemu_lint.report.console import clean

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions


class _Numbering:
    """``#N`` and ``lines checked`` as checkpatch.pl counts them for a patch."""

    def __init__(self, patch: Patch) -> None:
        self.patch = patch
        self.lines: dict[tuple[str, str, int | None, int | None], int] = {}
        text = patch.show_text
        files = parse_diff(text, patch.source) if text is not None else patch.files
        for f in files:
            for h in f.hunks:
                for hl in h.lines:
                    self.lines.setdefault((f.path, hl.kind, hl.old, hl.new), hl.at)
        self.checked = sum(1 for f in files for h in f.hunks for hl in h.lines if hl.kind in " -+")
        self.exact = text is not None

    def line(self, c: Change) -> int:
        loc = c.location
        if self.exact and loc is not None:
            at = self.lines.get((loc.file, loc.line.kind, loc.line.old, loc.line.new))
            if at is not None:
                return at
        return patch_line(self.patch, c)


def _patch(result: AuditResult, v: PatchVerdict) -> list[str]:
    sha = v.patch.commit or v.applied_as
    what = f"commit {sha[:12]}" if sha else "patch"
    alone = v.patch.commit is not None and v.patch.count == 1
    out = [] if alone else [f"{v.patch.label} Checking {what} ({clean(v.patch.subject)})"]
    numbering = _Numbering(v.patch)
    errors = warnings = 0
    if v.verdict == DOES_NOT_APPLY:
        out.append(f"ERROR: patch does not apply on {result.base[:12]}: {clean(v.reason or '')}")
        errors += 1
    for c in v.introduced:
        lvl = level(c, result)
        f = c.finding
        out.append(f"{lvl.upper()}: {change_prefix(c)}{clean(f.message)} [{f.rule}]")
        out.append(f"#{numbering.line(c)}: FILE: {clean(f.file)}:{f.line}:")
        if c.location is not None:
            hl = c.location.line
            out.append(clean(f"{hl.kind}{hl.text}"))
        if c.other is not None:
            out.append(
                f"NOTE: transient: removed again by {other_label(result, c.other)}; "
                "the commits in between keep it"
            )
        out.append("")
        if lvl == "error":
            errors += 1
        else:
            warnings += 1
    if out and out[-1] != "":
        out.append("")
    out.append(f"total: {errors} errors, {warnings} warnings, {numbering.checked} lines checked")
    out.append("")
    label = f"Commit {what[7:]} ({clean(v.patch.subject)})" if alone else f"Patch {v.patch.label}"
    if errors or warnings:
        rules = sorted({c.finding.rule for c in v.introduced})
        out.append(f"{label} has style problems, please review.  If any of these errors")
        out.append(
            "are false positives, see "
            + (", ".join(f"'qemu-lint explain {r}'" for r in rules) or "'qemu-lint rules'")
            + "."
        )
    else:
        out.append(f"{label} has no obvious style problems and is ready for submission.")
    out.append("")
    return out


def render(result: AuditResult, out: TextIO, opts: RenderOptions) -> None:
    """Write one block per patch checked, up to the first that does not apply.

    :param out: the stream to write to
    """
    for v in result.patches:
        if not v.applied and v.verdict != DOES_NOT_APPLY:
            break
        out.write("\n".join(_patch(result, v)) + "\n")
