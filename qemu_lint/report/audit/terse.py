"""Stage 7 (reporters): ``audit --format terse``, one line per problem, for b4.

Entry point: :func:`render`.  Each finding a patch introduces is one line
``NAME:LINE: ERROR: message [rule]`` (``WARNING:`` for a transient one with
``--allow-transient``), where NAME is ``-`` for a patch read from stdin, the
patch file when it holds only that patch, else ``k/N``, and LINE the line of
the patch text it points at.  A patch that does not apply is one ``ERROR:``
line.  Nothing at all is written when there is nothing to say, which is what
b4's ``am-perpatch-check-cmd`` expects of a clean patch (``checkpatch.pl
--terse --mailback``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from qemu_lint.audit.verdicts import CANNOT_JUDGE, DOES_NOT_APPLY, AuditResult
from qemu_lint.report.audit.common import change_prefix, level, other_label, patch_line, patch_name
from qemu_lint.report.console import clean

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions


def render(result: AuditResult, out: TextIO, opts: RenderOptions) -> None:
    """Write one line per introduced finding and per patch that does not apply.

    :param out: the stream to write to
    """
    for v in result.patches:
        name = clean(patch_name(result, v.patch))
        if v.verdict == DOES_NOT_APPLY:
            out.write(
                f"{name}:{patch_line(v.patch, None)}: ERROR: patch does not apply on "
                f"{result.base[:12]}: {clean(v.reason or '')}\n"
            )
        if v.verdict == CANNOT_JUDGE:
            out.write(f"{name}:1: ERROR: cannot judge: {clean(v.reason or '')}\n")
        for c in v.introduced:
            f = c.finding
            tail = ""
            if c.other is not None:
                tail = f" (transient: removed again by {other_label(result, c.other)})"
            out.write(
                f"{name}:{patch_line(v.patch, c)}: {level(c, result).upper()}: "
                f"{clean(f.file)}:{f.line}: {change_prefix(c)}{clean(f.message)} [{f.rule}]{tail}\n"
            )
