"""Stage 1 (discover) for audits: one patch e-mail → a :class:`Patch` value.

Entry points: :func:`parse_message` (the bytes of one message, as ``git
mailsplit`` leaves them, or a bare diff → a :class:`Message`), :func:`parse_diff`
(unified-diff text → :class:`FileDiff` values, refusing paths that escape the
tree) and :class:`Patch` (a message placed in its series).  Pure: no git, no
files; :mod:`qemu_lint.audit.series` does the I/O.

Line numbers are 1-based lines of the *patch text*: for a plain (7bit/8bit)
single-part message they are lines of the message as given (headers
included), as ``checkpatch.pl`` counts them; for a quoted-printable, base64 or
multipart message they count in the decoded body.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

from qemu_lint.errors import InputError


@dataclass(frozen=True, slots=True)
class HunkLine:
    """One line of a hunk: its marker (`` ``, ``-``, ``+`` or ``\\``), text
    without the marker, its line in the old and new file (None where it has
    none) and its line in the patch text."""

    kind: str
    text: str
    old: int | None
    new: int | None
    at: int


@dataclass(frozen=True, slots=True)
class Hunk:
    header: str
    #: line of the ``@@`` header in the patch text
    at: int
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[HunkLine, ...]


@dataclass(frozen=True, slots=True)
class FileDiff:
    """The change of one file: its path before and after (None: created /
    deleted), where its ``diff --git`` (or ``---``) line is, and its hunks."""

    old_path: str | None
    new_path: str | None
    at: int
    hunks: tuple[Hunk, ...]
    is_binary: bool = False
    #: git's ``rename from``/``rename to``: ``old_path`` became ``new_path``
    #: (a copy leaves ``old_path`` where it was)
    renamed: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed message, before it is placed in a series."""

    #: the subject as sent (``[PATCH v2 3/7] hw/acpi: …``)
    full_subject: str
    #: the subject without ``Re:`` and ``[…]`` prefixes, as ``git am`` keeps it
    subject: str
    message_id: str | None
    #: ``(k, n)`` from a ``[PATCH k/n]`` prefix
    numbered: tuple[int, int] | None
    is_reply: bool
    #: the bytes ``git am`` applies
    raw: bytes
    #: the decoded text holding the diff (see the module docstring)
    text: str
    #: lines of ``raw`` before the first line of ``text`` (0 when not exact)
    line_offset: int
    files: tuple[FileDiff, ...]
    #: ``base-commit:`` read from the body, if any
    base_commit: str | None

    @property
    def is_cover_letter(self) -> bool:
        return (self.numbered is not None and self.numbered[0] == 0) or not self.files


@dataclass(frozen=True, slots=True)
class Patch:
    """A patch of the series being audited."""

    #: 1-based position in the series, and the series' length
    index: int
    count: int
    subject: str
    full_subject: str
    message_id: str | None
    #: the user's commit, when the series is a revision range
    commit: str | None
    raw: bytes
    text: str
    line_offset: int
    files: tuple[FileDiff, ...]
    #: where it came from: ``-``, a file path, or the revision range
    source: str
    #: for a commit of a range: the commit as ``scripts/checkpatch.pl`` reads
    #: it (``git show --patch-with-stat``), whose lines its ``#N`` count
    show_text: str | None = None

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def text_lines(self) -> int:
        return len(self.text.splitlines())


def place(
    msg: Message,
    index: int,
    count: int,
    source: str,
    commit: str | None = None,
    numbered: bool = False,
    show_text: str | None = None,
) -> Patch:
    """A message as patch ``index`` of ``count``.

    :param numbered: give it the ``[PATCH k/N]`` subject ``git format-patch
        --numbered`` would (for commits of a range, which were never mailed)
    """
    full = f"[PATCH {index}/{count}] {msg.subject}" if numbered and count > 1 else msg.full_subject
    return Patch(
        index=index,
        count=count,
        subject=msg.subject,
        full_subject=full,
        message_id=msg.message_id,
        commit=commit,
        raw=msg.raw,
        text=msg.text,
        line_offset=msg.line_offset,
        files=msg.files,
        source=source,
        show_text=show_text,
    )


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------

_BRACKET = re.compile(r"^\s*\[([^\]]*)\]")
_NUMBERED = re.compile(r"(?:^|\s)0*(\d+)/0*(\d+)(?:\s|$)")
_RE = re.compile(r"^\s*(re|aw|fwd?)\s*:", re.IGNORECASE)
_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-fA-F]{7,64})\s*$", re.MULTILINE)
_SIMPLE_CTE = ("", "7bit", "8bit", "binary")


def clean_subject(subject: str) -> tuple[str, tuple[int, int] | None, bool]:
    """Strip ``Re:`` and ``[…]`` prefixes as ``git mailinfo`` does.

    :return: the subject, ``(k, n)`` from a ``k/n`` inside a bracket, and
        whether a ``Re:`` prefix came first
    """
    s = " ".join(subject.split())
    numbered: tuple[int, int] | None = None
    is_reply = bool(_RE.match(s))
    while True:
        m = _RE.match(s)
        if m:
            s = s[m.end() :]
            continue
        m = _BRACKET.match(s)
        if m:
            n = _NUMBERED.search(m.group(1))
            if n and numbered is None:
                numbered = (int(n.group(1)), int(n.group(2)))
            s = s[m.end() :]
            continue
        break
    return s.strip(), numbered, is_reply


def _header_lines(raw: bytes) -> int:
    """Lines up to and including the blank line that ends the headers."""
    n = 0
    for line in raw.split(b"\n"):
        n += 1
        if line in (b"", b"\r"):
            return n
    return 0


def _looks_like_headers(raw: bytes) -> bool:
    first, _, rest = raw.partition(b"\n")
    if first.startswith(b"From ") and not first.startswith(b"From :"):
        first = rest.split(b"\n", 1)[0]  # the mbox separator line git mailsplit keeps
    return bool(re.match(rb"^[!-9;-~]+:", first)) and not first.startswith(
        (b"diff ", b"--- ", b"Index:")
    )


def _part_text(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def parse_message(raw: bytes, source: str) -> Message:
    """Parse one message (or a bare diff, as ``git diff`` writes it).

    A bare diff gets minimal headers (subject: the file's name) so that ``git
    am`` takes it like a mail.

    :param source: names the input in errors
    :raise InputError: on a malformed diff or a path escaping the tree
    """
    if not _looks_like_headers(raw):
        text = raw.decode("utf-8", errors="replace")
        files = parse_diff(text, source)
        name = source.rsplit("/", 1)[-1] or "patch"
        wrapped = (
            b"From: qemu-lint <qemu-lint@invalid>\n"
            + b"Subject: "
            + name.encode("utf-8", errors="replace")
            + b"\n\n"
            + raw
        )
        return Message(name, name, None, None, False, wrapped, text, 0, files, None)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    try:
        full_subject = " ".join(str(msg.get("subject", "") or "").split())
        message_id = str(msg.get("message-id", "") or "").strip() or None
    except (ValueError, IndexError, TypeError) as e:  # a header the parser cannot decode
        raise InputError(f"unreadable message header: {e}", source) from e
    subject, numbered, is_reply = clean_subject(full_subject)
    parts = [p for p in msg.walk() if not p.is_multipart()]
    texts = [_part_text(p) for p in parts if isinstance(p, EmailMessage)]
    text = "\n".join(texts)
    cte = str(msg.get("content-transfer-encoding", "") or "").strip().lower()
    exact = not msg.is_multipart() and cte in _SIMPLE_CTE
    offset = _header_lines(raw) if exact else 0
    files = parse_diff(text, source)
    base = _BASE_COMMIT.search(text)
    return Message(
        full_subject,
        subject,
        message_id,
        numbered,
        is_reply,
        raw,
        text,
        offset,
        files,
        base.group(1).lower() if base else None,
    )


# --------------------------------------------------------------------------
# Diffs
# --------------------------------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(s: str) -> str:
    """Undo git's C-style quoting of a path (``"a/t\\303\\251st"``)."""
    if not (len(s) >= 2 and s[0] == '"' and s[-1] == '"'):
        return s
    out = bytearray()
    body = s[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            digits = body[i + 1 : i + 4]
            if len(digits) == 3 and all(d in "01234567" for d in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return out.decode("utf-8", errors="replace")


def _check(path: str, source: str, at: int, strip: bool) -> str:
    """The tree-relative path of a diff header path, or InputError if it escapes.

    :param strip: drop the first component (``a/``, ``b/``), as ``git am`` (-p1) does
    """
    raw = _unquote(path.strip())
    if raw.startswith("/"):
        raise InputError(f"line {at}: absolute path '{raw}' in the patch: refused", source)
    rel = raw
    if strip:
        rel = raw.split("/", 1)[1] if "/" in raw else raw
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts:
        raise InputError(f"line {at}: path '{raw}' escapes the tree: refused", source)
    if any(p.lower() == ".git" for p in parts):
        raise InputError(f"line {at}: path '{raw}' points into .git: refused", source)
    return rel


def _split_git_line(rest: str) -> tuple[str, str]:
    """The two paths of ``diff --git A B`` (quoted, or split where both agree)."""
    if rest.startswith('"'):
        end = rest.find('"', 1)
        while end > 0 and rest[end - 1] == "\\":
            end = rest.find('"', end + 1)
        if end > 0:
            return rest[: end + 1], rest[end + 1 :].strip()
    cands = [i for i in range(len(rest)) if rest.startswith(" ", i)]
    for i in cands:
        a, b = rest[:i], rest[i + 1 :]
        if a.split("/", 1)[-1] == b.split("/", 1)[-1]:
            return a, b
    if cands:
        mid = cands[len(cands) // 2]
        return rest[:mid], rest[mid + 1 :]
    return rest, rest


@dataclass(slots=True)
class _Building:
    """A file change being read (mutable; only inside :func:`parse_diff`)."""

    at: int
    old: str | None = None
    new: str | None = None
    is_binary: bool = False
    renamed: bool = False


def parse_diff(text: str, source: str) -> tuple[FileDiff, ...]:
    """The file changes of a unified diff (git or plain), with their hunks.

    Every path named by ``diff --git``, ``---``/``+++``, ``rename``/``copy``
    lines is checked: absolute paths, ``..`` components and paths into
    ``.git`` are refused.

    :raise InputError: naming ``source`` and the line, for a path escaping the
        tree or a malformed hunk header
    """
    lines = text.split("\n")
    files: list[FileDiff] = []
    cur: _Building | None = None
    hunks: list[Hunk] = []

    def flush() -> None:
        nonlocal cur, hunks
        if cur is not None:
            files.append(
                FileDiff(cur.old, cur.new, cur.at, tuple(hunks), cur.is_binary, cur.renamed)
            )
        cur, hunks = None, []

    i, n = 0, len(lines)
    while i < n:
        line = lines[i].rstrip("\r")
        at = i + 1
        if line.startswith("diff --git "):
            flush()
            a, b = _split_git_line(line[len("diff --git ") :])
            cur = _Building(at, _check(a, source, at, True), _check(b, source, at, True))
        elif line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            old = line[4:].split("\t", 1)[0]
            new = lines[i + 1].rstrip("\r")[4:].split("\t", 1)[0]
            if cur is None or hunks:
                flush()
                cur = _Building(at)
            # creation and deletion name /dev/null on one side
            cur.old = None if old == "/dev/null" else _check(old, source, at, True)
            cur.new = None if new == "/dev/null" else _check(new, source, at + 1, True)
            i += 2
            continue
        elif cur is not None and line.startswith(("rename from ", "copy from ")):
            cur.old = _check(line.split(" ", 2)[2], source, at, False)
            cur.renamed = line.startswith("rename")
        elif cur is not None and line.startswith(("rename to ", "copy to ")):
            cur.new = _check(line.split(" ", 2)[2], source, at, False)
        elif cur is not None and line.startswith(("GIT binary patch", "Binary files ")):
            cur.is_binary = True
        elif cur is not None and line.startswith("@@"):
            hunk, i = _hunk(lines, i, source)
            hunks.append(hunk)
            continue
        i += 1
    flush()
    return tuple(files)


def _hunk(lines: list[str], i: int, source: str) -> tuple[Hunk, int]:
    header = lines[i].rstrip("\r")
    m = _HUNK.match(header)
    if not m:
        raise InputError(f"line {i + 1}: malformed hunk header '{header[:60]}'", source)
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_count = int(m.group(2)) if m.group(2) is not None else 1
    new_count = int(m.group(4)) if m.group(4) is not None else 1
    o_left, n_left = old_count, new_count
    o, nn = old_start, new_start
    out: list[HunkLine] = []
    j = i + 1
    while j < len(lines) and (o_left > 0 or n_left > 0):
        raw = lines[j].rstrip("\r")
        kind = raw[:1] if raw else " "
        if kind == " ":
            out.append(HunkLine(" ", raw[1:], o, nn, j + 1))
            o, nn, o_left, n_left = o + 1, nn + 1, o_left - 1, n_left - 1
        elif kind == "-":
            out.append(HunkLine("-", raw[1:], o, None, j + 1))
            o, o_left = o + 1, o_left - 1
        elif kind == "+":
            out.append(HunkLine("+", raw[1:], None, nn, j + 1))
            nn, n_left = nn + 1, n_left - 1
        elif kind == "\\":
            out.append(HunkLine("\\", raw[1:], None, None, j + 1))
        else:
            break  # a truncated hunk: git am will say so
        j += 1
    if j < len(lines) and lines[j].startswith("\\"):
        out.append(HunkLine("\\", lines[j][1:].rstrip("\r"), None, None, j + 1))
        j += 1
    hunk = Hunk(header, i + 1, old_start, old_count, new_start, new_count, tuple(out))
    return hunk, j
