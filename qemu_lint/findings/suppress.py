"""Stage 6 (findings): inline suppressions, ``/* qemu-lint: allow RULE -- reason */``.

Entry points: :func:`scan_tree` (find the suppressions of a tree, given the
bytes discovery read), :func:`silence` (split findings into active and
suppressed ones, noting which suppressions were used) and :func:`judge` (the
``unused-suppression`` diagnostics: unused, reasonless, unknown-rule and
malformed suppressions).

The syntax, in a ``/* */`` or ``//`` comment (the directive starts a comment
line; several rules are separated by commas)::

    cdev->cpu = NULL;  /* qemu-lint: allow acpi-cpu-persistence -- why */

    /* qemu-lint: allow acpi-cpu-persistence, other-rule -- why */
    cdev->cpu = NULL;

A suppression covers the lines its comment spans and the line after it, and
silences the findings of the named rules whose span touches one of those
lines.  The reason after ``--`` is required: a suppression without one
silences nothing.  Comments are found by a byte search for ``qemu-lint:``
over every discovered file (the engine parses only the files that can matter
to its rules, but a suppression may sit in any file), then by a small
comment/string tokenizer over the few files that contain it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace

from qemu_lint.findings import Finding
from qemu_lint.rule import Diagnostic
from qemu_lint.source import Span

MARK = b"qemu-lint:"

#: The rule whose findings the suppression stage produces.
UNUSED = "unused-suppression"

# Comments and the literals that may contain comment-like text.
_TOKENS = re.compile(rb"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
# A directive starts a comment line: after the opener, or after a block
# comment's leading " * " decoration.
_DIRECTIVE = re.compile(rb"^[ \t]*\**[ \t]*(qemu-lint:)", re.M)
# "--" separates the reason; inside a rule id it does not ("a--b" is one bad id).
_ALLOW = re.compile(r"allow\b(?P<rules>.*?)(?:\s*(?<![\w-])--(?P<reason>.*))?")
_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Suppression:
    """One ``qemu-lint:`` directive.

    ``span`` runs from ``qemu-lint:`` to the end of its comment; ``first`` and
    ``last`` are the lines it covers (the comment's lines and the next one).
    """

    span: Span
    first: int
    last: int
    #: the rule ids named, in order (empty when malformed)
    rules: tuple[str, ...]
    #: the text after ``--``, whitespace collapsed ("" when missing)
    reason: str
    #: the directive's text after ``qemu-lint:``, whitespace collapsed
    text: str
    #: why the directive could not be read ("" when it is well-formed)
    malformed: str = ""

    def covers(self, f: Finding) -> bool:
        return f.file == self.span.path and f.line <= self.last and f.end_line >= self.first


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _clean(body: bytes) -> str:
    """A directive's text with comment decoration and line breaks removed."""
    text = body.decode("utf-8", errors="replace")
    lines = [re.sub(r"^[ \t]*\*+(?!/)[ \t]?", "", ln) for ln in text.split("\n")]
    return _WS.sub(" ", " ".join(lines)).strip()


def _parse(path: str, data: bytes, start: int, stop: int, first: int, end: int) -> Suppression:
    """The directive whose ``qemu-lint:`` starts at offset ``start``.

    :param stop: where its text ends (before ``*/`` or the next directive)
    :param first: the line of its comment's opener
    :param end: where its comment ends (after ``*/``)
    """
    text = _clean(data[start + len(MARK) : stop])
    line, col = _line_col(data, start)
    end_line, end_col = _line_col(data, end)
    span = Span(path, line, col, end_line, end_col)
    m = _ALLOW.fullmatch(text)
    if m is None:
        word = text.split(" ", 1)[0]
        why = f"unknown directive '{word}'" if word else "no directive"
        return Suppression(span, first, end_line + 1, (), "", text, why)
    rules = tuple(r.strip() for r in m.group("rules").split(",") if r.strip())
    reason = (m.group("reason") or "").strip()
    return Suppression(
        span, first, end_line + 1, rules, reason, text, "" if rules else "it names no rule"
    )


def scan(path: str, data: bytes) -> list[Suppression]:
    """The suppressions in one file's bytes."""
    out: list[Suppression] = []
    if MARK not in data:
        return out
    for tok in _TOKENS.finditer(data):
        s = tok.group()
        if not s.startswith((b"//", b"/*")) or MARK not in s:
            continue
        body_end = tok.end() - 2 if s.startswith(b"/*") and s.endswith(b"*/") else tok.end()
        body = data[tok.start() + 2 : body_end]
        starts = [tok.start() + 2 + m.start(1) for m in _DIRECTIVE.finditer(body)]
        first = _line_col(data, tok.start())[0]
        for i, start in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else body_end
            out.append(_parse(path, data, start, stop, first, tok.end()))
    return out


def scan_tree(contents: Mapping[str, bytes]) -> tuple[Suppression, ...]:
    """The suppressions of every file (``path`` → bytes), sorted by place."""
    out: list[Suppression] = []
    for path in sorted(p for p, data in contents.items() if MARK in data):
        out.extend(scan(path, contents[path]))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Silenced:
    """What :func:`silence` did."""

    active: tuple[Finding, ...]
    #: each with ``suppression`` set to the reason
    suppressed: tuple[Finding, ...]
    #: ``(index of the suppression, rule)`` pairs that silenced something
    used: frozenset[tuple[int, str]]


def silence(
    findings: Iterable[Finding], suppressions: Sequence[Suppression], rules: Set[str]
) -> Silenced:
    """Apply the suppressions to the findings of ``rules``.

    A suppression with no reason or malformed silences nothing.  Findings of
    other rules pass through as active.
    """
    by_file: dict[str, list[int]] = {}
    for i, s in enumerate(suppressions):
        if s.reason and not s.malformed:
            by_file.setdefault(s.span.path, []).append(i)
    active: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[tuple[int, str]] = set()
    for f in findings:
        hits = [
            i
            for i in by_file.get(f.file, ())
            if f.rule in rules and f.rule in suppressions[i].rules and suppressions[i].covers(f)
        ]
        if not hits:
            active.append(f)
            continue
        used.update((i, f.rule) for i in hits)
        suppressed.append(replace(f, suppression=suppressions[hits[0]].reason))
    return Silenced(tuple(active), tuple(suppressed), frozenset(used))


def _diag(s: Suppression, kind: str, message: str, rule: str = "") -> Diagnostic:
    return Diagnostic(
        span=s.span,
        message=message,
        function="",
        kind=kind,
        key=f"{kind}:{rule}:{s.text}",
    )


def judge(
    suppressions: Sequence[Suppression],
    used: Set[tuple[int, str]],
    ran: Set[str],
    known: Set[str],
    syntax: bool = True,
) -> list[Diagnostic]:
    """The ``unused-suppression`` diagnostics.

    :param used: the pairs :func:`silence` reported as used
    :param ran: the rules that ran to completion: a suppression of another
        rule is not judged unused
    :param known: every rule id
    :param syntax: also report malformed suppressions, unknown rules and
        missing reasons (else only unused ones)
    """
    out: list[Diagnostic] = []
    for i, s in enumerate(suppressions):
        if not syntax:
            if s.reason and not s.malformed:
                out.extend(_unused(s, i, used, ran, known))
            continue
        if s.malformed:
            out.append(
                _diag(
                    s,
                    "malformed",
                    f"malformed suppression: {s.malformed} "
                    "(expected 'qemu-lint: allow RULE[, RULE…] -- reason'); it silences nothing",
                )
            )
            continue
        for rule in s.rules:
            if rule not in known:
                what = "unknown rule" if _RULE_ID.fullmatch(rule) else "not a rule id:"
                out.append(
                    _diag(
                        s,
                        "unknown-rule",
                        f"suppression names {what} '{rule}' (see 'qemu-lint rules'); "
                        "it silences nothing",
                        rule,
                    )
                )
        named = [r for r in s.rules if r in known]
        if not s.reason:
            if named:
                out.append(
                    _diag(
                        s,
                        "no-reason",
                        f"suppression of {', '.join(named)} gives no reason "
                        "('-- why' after the rule ids); it silences nothing",
                    )
                )
            continue
        out.extend(_unused(s, i, used, ran, known))
    return out


def _unused(
    s: Suppression, i: int, used: Set[tuple[int, str]], ran: Set[str], known: Set[str]
) -> list[Diagnostic]:
    lines = f"line {s.first}" if s.first == s.last else f"lines {s.first}-{s.last}"
    return [
        _diag(s, "unused", f"unused suppression: no {rule} finding on {lines}", rule)
        for rule in s.rules
        if rule in known and rule in ran and (i, rule) not in used
    ]
