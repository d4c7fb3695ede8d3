"""Stage 7 (reporters): ``audit --format email``, review replies ready to send.

Entry point: :func:`render`.  One plain-text reply per offending patch (one
that introduces a finding, transient or not, or does not apply), each an
:class:`email.message.EmailMessage`, written as an mbox (each reply starts
with a ``From qemu-lint …`` line, as ``git format-patch`` output does, and a
body line starting with "From " is quoted ``>From``), so a mail client, ``git
mailsplit`` or ``git send-email`` can take it.

A reply is addressed as a reply to the patch: ``To:`` its author, ``Cc:`` its
``To:`` and ``Cc:``; ``Subject: Re: <the patch's subject>`` (RFC 2047-encoded
when it is not ASCII), ``In-Reply-To``/``References`` (the patch's id) when
the patch carried a Message-Id, a ``Date`` (``$SOURCE_DATE_EPOCH`` when set, else now), and a
``Message-ID`` made from the patch and its findings (the same audit gives the
same id).  ``From:`` is ``$EMAIL`` when set, else ``qemu-lint``'s own
address; a mail client or ``git send-email`` replaces it with yours.

Every line is at most 72 columns, but for a Message-Id longer than that
(never folded).  The body quotes the hunk that *caused* each
finding, trimmed around the line it points at: the hunk touching the site,
else the hunk touching a step of its evidence path (a guard removed on the
way), else the hunk changing a line that names a persistence hook (its
declaration removed); a patch touching none of them gets no quote, rather
than the nearest unrelated hunk.  The finding follows, with its evidence path.
"""

from __future__ import annotations

import email.generator
import email.headerregistry
import email.policy
import email.utils
import hashlib
import io
import os
import textwrap
import time
from email.message import EmailMessage
from typing import TYPE_CHECKING, TextIO

from qemu_lint.audit.patch import FileDiff, Hunk, HunkLine, Patch
from qemu_lint.audit.verdicts import DOES_NOT_APPLY, AuditResult, Change, PatchVerdict
from qemu_lint.findings import Finding
from qemu_lint.report.audit.common import change_prefix, header, level, notes, other_label
from qemu_lint.report.console import clean

if TYPE_CHECKING:
    from qemu_lint.report.base import RenderOptions

#: Hunk lines quoted before and after the line a finding points at.
BEFORE, AFTER = 8, 3
#: The separator line of each reply (git format-patch's fixed date).
FROM_LINE = "From qemu-lint Mon Sep 17 00:00:00 2001"
#: The longest line of a reply, headers (folded) and body alike.
WIDTH = 72
#: The sender when ``$EMAIL`` is not set.
SENDER = "qemu-lint <qemu-lint@invalid>"
_HEADERS = email.headerregistry.HeaderRegistry()
# A Message-Id is one token: never folded nor RFC 2047-encoded, however long.
for _name in ("in-reply-to", "references"):
    _HEADERS.map_to_type(_name, email.headerregistry.MessageIDHeader)  # type: ignore[arg-type]  # typeshed: a header class, not a BaseHeader
POLICY = email.policy.default.clone(max_line_length=WIDTH, linesep="\n", header_factory=_HEADERS)


def _wrap(line: str, indent: str) -> list[str]:
    """``line`` in pieces of at most :data:`WIDTH` columns, continued with ``indent``."""
    if len(line) <= WIDTH:
        return [line]
    return textwrap.wrap(
        line, WIDTH, subsequent_indent=indent, break_on_hyphens=False, break_long_words=True
    )


def _covers(h: Hunk, line: int) -> bool:
    return h.new_start <= line <= h.new_start + max(h.new_count, 1) - 1


def _cause(patch: Patch, c: Change) -> tuple[FileDiff, Hunk, HunkLine] | None:
    """The hunk that caused the finding, and the line in it to centre the quote on."""
    f = c.finding
    loc = c.location
    if loc is not None and loc.is_exact:
        fd = next((fd for fd in patch.files if loc.hunk in fd.hunks), None)
        if fd is not None:
            return fd, loc.hunk, loc.line
    for step in reversed(f.path):  # a guard removed, or added wrongly, on the way
        for fd in patch.files:
            for h in fd.hunks if fd.new_path == step.file else ():
                if _covers(h, step.line):
                    return fd, h, _nearest_change(h, step.line)
    names = [spec.rsplit("::", 1)[-1] for spec in f.properties.hooks]
    for fd in patch.files:  # the hook declaration (or implementation) changed
        for h in fd.hunks:
            hit = [
                hl for hl in h.lines if hl.kind in "+-" and any(n in hl.text for n in names if n)
            ]
            if hit:
                return fd, h, hit[0]
    return None


def _nearest_change(h: Hunk, line: int) -> HunkLine:
    """The changed line of ``h`` nearest to ``line`` of the new file."""
    changed = [hl for hl in h.lines if hl.kind in "+-"] or list(h.lines)
    return min(changed, key=lambda hl: abs((hl.new or hl.old or 0) - line))


def _quote(patch: Patch, fd: FileDiff, hunk: Hunk, line: HunkLine) -> list[str]:
    lines = patch.text.split("\n")
    out: list[str] = []
    if 0 < fd.at <= len(lines):
        out.append("> " + lines[fd.at - 1].rstrip("\r"))
    head = "> " + hunk.header
    if len(head) > WIDTH:  # the function context after "@@ … @@" is a hint: shorten it
        head = head[: WIDTH - 3].rstrip() + "..."
    out.append(head)
    body = hunk.lines
    pos = body.index(line)
    lo, hi = max(0, pos - BEFORE), min(len(body), pos + AFTER + 1)
    if lo > 0:
        out.append("> [...]")
    out += [("> " + hl.kind + hl.text).rstrip() for hl in body[lo:hi]]
    if hi < len(body):
        out.append("> [...]")
    return [w for q in out for w in _wrap(clean(q), "> ")]


def _finding(result: AuditResult, v: PatchVerdict, c: Change) -> list[str]:
    out: list[str] = []
    cause = _cause(v.patch, c)
    if cause is not None:
        out += _quote(v.patch, *cause)
        out.append("")
    else:
        out += _wrap(
            "(No hunk of this patch touches the site, its evidence path or the "
            "persistence hook: the finding is in the tree after it.)",
            "",
        )
    out += _wrap(header(c.finding, level(c, result), change_prefix(c)), "    ")
    for n in notes(c.finding):
        out += _wrap("  " + n, "      ")
    if c.other is not None:
        out += _wrap(
            f"  transient: removed again by {other_label(result, c.other)}, but every "
            "commit in between has it, which hurts bisection.",
            "  ",
        )
    out.append("")
    return out


def _body(result: AuditResult, v: PatchVerdict) -> str:
    p = v.patch
    if v.verdict == DOES_NOT_APPLY:
        out = [
            *_wrap(f"Patch {p.label} does not apply on {result.base[:12]}:", ""),
            *_wrap(f"  {clean(v.reason or '')}", "  "),
            "so it and the patches after it were not checked.",
            "",
        ]
    else:
        n = len(v.introduced)
        out = [
            *_wrap(
                f"qemu-lint {result.final_report.tool_version} finds that patch {p.label} "
                f"introduces {n} problem{'' if n == 1 else 's'}:",
                "",
            ),
            "",
        ]
        for c in v.introduced:
            out += _finding(result, v, c)
    return "\n".join(out).rstrip("\n") + "\n"


def _addresses(*values: str | None, but: frozenset[str] = frozenset()) -> dict[str, str]:
    """Address (lower case) → ``Name <addr>``, for the address headers
    ``values``, in order, each once, leaving out the addresses ``but``."""
    seen: dict[str, str] = {}
    for name, addr in email.utils.getaddresses([v for v in values if v]):
        if addr and addr.lower() not in seen and addr.lower() not in but:
            seen[addr.lower()] = email.utils.formataddr((name, addr))
    return seen


def _message_id(p: Patch, findings: tuple[Finding, ...]) -> str:
    seed = "\0".join([p.message_id or p.full_subject, *(f.fingerprint for f in findings)])
    return f"<qemu-lint.{hashlib.sha256(seed.encode()).hexdigest()[:20]}@qemu-lint.invalid>"


def _reply(result: AuditResult, v: PatchVerdict) -> EmailMessage:
    p = v.patch
    orig = email.message_from_bytes(p.raw, policy=email.policy.default)
    msg = EmailMessage(policy=POLICY)
    sender = os.environ.get("EMAIL", "")
    msg["From"] = sender if "@" in sender else SENDER
    author = _addresses(str(orig.get("From", "") or ""))
    if author:
        msg["To"] = ", ".join(author.values())
    cc = _addresses(
        str(orig.get("To", "") or ""), str(orig.get("Cc", "") or ""), but=frozenset(author)
    )
    if cc:
        msg["Cc"] = ", ".join(cc.values())
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    msg["Date"] = email.utils.formatdate(int(epoch) if epoch.isdigit() else time.time())
    msg["Message-ID"] = _message_id(p, tuple(c.finding for c in v.introduced))
    subject = clean(p.full_subject)
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    if p.message_id:  # References: the parent alone threads the reply under it
        msg["In-Reply-To"] = clean(p.message_id)
        msg["References"] = clean(p.message_id)
    msg.set_content(_body(result, v), charset="utf-8")
    return msg


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
        buf = io.StringIO()
        # mangle_from_: a body line starting with "From " would start a new message
        email.generator.Generator(buf, mangle_from_=True, policy=POLICY).flatten(_reply(result, v))
        out.write(FROM_LINE + "\n" + buf.getvalue())
