"""Stage 7 (reporters): ``audit --format email``, review replies ready to send.

Entry point: :func:`render`.  One plain-text reply per offending patch (one
that introduces a finding, transient or not, or does not apply), written as
an mbox (each reply starts with a ``From qemu-lint …`` line, as ``git
format-patch`` output does), so a mail client or ``git mailsplit`` can take
it.  A reply has ``Subject: Re: <the patch's subject>`` and, when the patch
carried a Message-Id, ``In-Reply-To``/``References``; its body quotes the hunk
that introduced the site (trimmed around the line it points at) and puts the
finding beneath, with its evidence path.  Patches that change nothing, or only
fix findings, get no reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from qemu_lint.audit.patch import Hunk, HunkLine, Patch
from qemu_lint.audit.verdicts import DOES_NOT_APPLY, AuditResult, Change, Location, PatchVerdict
from qemu_lint.report.audit.common import change_prefix, header, level, notes, other_label
from qemu_lint.report.console import clean

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions

#: Hunk lines quoted before and after the line a finding points at.
BEFORE, AFTER = 8, 3
#: The separator line of each reply (git format-patch's fixed date).
FROM_LINE = "From qemu-lint Mon Sep 17 00:00:00 2001"


def _quote(patch: Patch, loc: Location) -> list[str]:
    lines = patch.text.split("\n")
    fd = next(
        (f for f in patch.files if loc.hunk in f.hunks),
        None,
    )
    out: list[str] = []
    if fd is not None and 0 < fd.at <= len(lines):
        out.append("> " + lines[fd.at - 1].rstrip("\r"))
    hunk: Hunk = loc.hunk
    out.append("> " + hunk.header)
    body: tuple[HunkLine, ...] = hunk.lines
    pos = body.index(loc.line)
    lo, hi = max(0, pos - BEFORE), min(len(body), pos + AFTER + 1)
    if lo > 0:
        out.append("> [...]")
    out += [("> " + hl.kind + hl.text).rstrip() for hl in body[lo:hi]]
    if hi < len(body):
        out.append("> [...]")
    return [clean(line) for line in out]


def _finding(result: AuditResult, v: PatchVerdict, c: Change) -> list[str]:
    out: list[str] = []
    if c.location is not None:
        out += _quote(v.patch, c.location)
        out.append("")
        if not c.location.is_exact:
            out.append(
                "(The patch does not touch the site's own line; this is the hunk "
                "nearest to it or to a step of its path.)"
            )
    else:
        out.append("(No hunk of this patch touches the site or its path.)")
    out.append(header(c.finding, level(c, result), change_prefix(c)))
    out += ["  " + n for n in notes(c.finding)]
    if c.other is not None:
        out.append(
            f"  transient: removed again by {other_label(result, c.other)}, but every "
            "commit in between has it, which hurts bisection."
        )
    out.append("")
    return out


def _reply(result: AuditResult, v: PatchVerdict) -> list[str]:
    p = v.patch
    out = [FROM_LINE, f"Subject: Re: {clean(p.full_subject)}"]
    if p.message_id:
        out += [f"In-Reply-To: {clean(p.message_id)}", f"References: {clean(p.message_id)}"]
    out += ["Content-Type: text/plain; charset=utf-8", ""]
    if v.verdict == DOES_NOT_APPLY:
        out += [
            f"Patch {p.label} does not apply on {result.base[:12]}:",
            f"  {clean(v.reason or '')}",
            "so it and the patches after it were not checked.",
            "",
        ]
    else:
        n = len(v.introduced)
        out += [
            f"qemu-lint {result.final_report.tool_version} finds that patch {p.label} "
            f"introduces {n} problem{'' if n == 1 else 's'}:",
            "",
        ]
        for c in v.introduced:
            out += _finding(result, v, c)
    return out


def render(result: AuditResult, out: TextIO, opts: RenderOptions) -> None:
    """Write one reply per offending patch (nothing when no patch offends).

    :param out: the stream to write to
    """
    first = True
    for v in result.patches:
        if not v.introduced and v.verdict != DOES_NOT_APPLY:
            continue
        if not first:
            out.write("\n")
        first = False
        reply = _reply(result, v)
        # mboxo: a body line starting with "From " would start a new message
        body = [">" + ln if ln.startswith("From ") else ln for ln in reply[1:]]
        out.write("\n".join([reply[0], *body]) + "\n")
