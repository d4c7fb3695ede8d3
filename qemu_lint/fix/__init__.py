"""Stage 6b (fix, after findings): the edits that ``check --fix`` and ``--diff`` make.

Entry points: :func:`plan_fixes` (a report's findings with a proposed
:class:`~qemu_lint.rule.Fix` → a :class:`FixPlan`: per file the old and new
bytes, and the findings not fixed with the cause), :func:`unified_diff`
(the plan as a patch, ``a/``/``b/`` paths relative to the root) and
:func:`apply_fixes` (write the new files atomically).

A rule proposes a guard for a statement; this stage reads the file, wraps
the statement's lines in ``if (…) {`` … ``}`` (or puts an early return before
them) re-indented by four spaces as QEMU's coding style wants, and re-parses
the result with tree-sitter: a file that would gain a syntax error is not
touched.  Only regular files inside the root are written, never through a
symlink that leaves it, never a file named in ``protected`` (``-o``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from qemu_lint.findings import Finding, Report
from qemu_lint.rule import Fix
from qemu_lint.source import write_atomic

_INDENT = "    "  # QEMU's CODING_STYLE: four spaces, braces always


@dataclass(frozen=True, slots=True)
class Refusal:
    """A finding ``check --fix`` leaves as it is, and why."""

    file: str
    line: int
    rule: str
    cause: str

    @property
    def text(self) -> str:
        """One line: ``hw/acpi/cpu.c:292: not fixed: <cause> [rule]``."""
        return f"{self.file}:{self.line}: not fixed: {self.cause} [{self.rule}]"


@dataclass(frozen=True, slots=True)
class FileFix:
    """One file's change: the bytes before and after, and the findings it fixes."""

    path: str
    #: where the new bytes go (the file's real path, inside the root)
    target: str
    old: bytes
    new: bytes
    fixed: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class FixPlan:
    files: tuple[FileFix, ...]
    refusals: tuple[Refusal, ...]

    @property
    def fixed(self) -> int:
        """How many findings the plan fixes."""
        return sum(len(f.fixed) for f in self.files)


def plan_fixes(
    report: Report,
    protected: Sequence[str] = (),
    only: Sequence[str] = (),
    contents: Mapping[str, bytes] | None = None,
) -> FixPlan:
    """What ``check --fix`` would change for ``report``'s findings.

    :param protected: paths never to write (the report file given to ``-o``)
    :param only: the files and folders named on the command line, relative to
        the root (empty: the whole tree); a site elsewhere (reported because
        its path passes through one) is not edited
    :param contents: the bytes of files as ``report`` saw them, where they
        are not the tree's (the earlier rounds' fixes, not written yet)
    """
    by_file: dict[str, list[Finding]] = {}
    refusals: list[Refusal] = []
    for f in report.findings:
        if f.fix is None:
            continue
        if only and not any(f.file == o or f.file.startswith(o.rstrip("/") + "/") for o in only):
            refusals.append(_refuse(f, f"{f.file} is not among the files named to check"))
        elif f.fix.refusal or f.fix.span is None:
            refusals.append(_refuse(f, f.fix.refusal or "no edit proposed"))
        else:
            by_file.setdefault(f.file, []).append(f)
    files: list[FileFix] = []
    for path, findings in sorted(by_file.items()):
        got, refused = _plan_file(
            report.root, path, findings, protected, (contents or {}).get(path)
        )
        if got is not None:
            files.append(got)
        refusals.extend(refused)
    return FixPlan(tuple(files), tuple(sorted(refusals, key=lambda r: (r.file, r.line))))


def _refuse(f: Finding, cause: str) -> Refusal:
    return Refusal(f.file, f.line, f.rule, cause)


def _plan_file(
    root: str,
    path: str,
    findings: Sequence[Finding],
    protected: Sequence[str],
    data: bytes | None = None,
) -> tuple[FileFix | None, list[Refusal]]:
    """One file's change (None: none), and the findings of it left as they are.

    :param data: the file's bytes, when they are not the tree's
    """
    target, cause = _target(root, path, protected)
    if target is None:
        return None, [_refuse(f, cause) for f in findings]
    try:
        if data is None:
            with open(target, "rb") as fh:
                data = fh.read()
        old = data
        text = old.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return None, [_refuse(f, f"{path} cannot be read as UTF-8 text: {why}") for f in findings]
    lines = text.splitlines(keepends=True)
    edits, refused = _edits(lines, findings)
    if not edits:
        return None, refused
    for start, end, new_lines in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start - 1 : end] = new_lines
    new = "".join(lines).encode("utf-8")
    left = {(r.line, r.rule) for r in refused}
    fixed = tuple(f for f in findings if (f.line, f.rule) not in left)
    broken = _new_syntax_error(old, new)
    if broken:
        cause = f"the result would not parse (syntax error at line {broken})"
        return None, refused + [_refuse(f, cause) for f in fixed]
    return FileFix(path, target, old, new, fixed), refused


def _target(root: str, path: str, protected: Sequence[str]) -> tuple[str | None, str]:
    """The real path to write ``path`` to, or None and why it must not be written."""
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([real_root, target]) != real_root:
        return None, f"{path} resolves to {target}, outside the tree (a symlink out of it)"
    if not os.path.isfile(target):
        return None, f"{path} is not a regular file"
    for p in protected:
        if os.path.exists(p) and os.path.samefile(p, target):
            return None, f"{path} is the report file given to -o"
    return target, ""


def _edits(
    lines: list[str], findings: Sequence[Finding]
) -> tuple[list[tuple[int, int, list[str]]], list[Refusal]]:
    """The line replacements ``(first, last, new lines)`` for ``findings``,
    neighbouring statements with the same guard in one block."""
    edits: list[tuple[int, int, list[str]]] = []
    refused: list[Refusal] = []
    taken: list[tuple[int, int, Fix]] = []
    declares: dict[str, int] = {}  # prototype → the line it goes before
    for f in sorted(findings, key=lambda f: f.line):
        fix = f.fix
        assert fix is not None and fix.span is not None
        first, last = fix.span.line, fix.span.end_line
        cause = _own_lines(lines, fix)
        proto = _prototype(lines, fix) if fix.declare is not None else ""
        if not cause and fix.declare is not None and not proto:
            cause = "the prototype of the function its guard calls cannot be read"
        if cause:
            refused.append(_refuse(f, cause))
            continue
        if taken and first <= taken[-1][1]:
            if (first, last) != taken[-1][:2]:
                refused.append(_refuse(f, "its statement overlaps another fix"))
                continue
        elif taken and first == taken[-1][1] + 1 and _same_guard(fix, taken[-1][2]):
            taken[-1] = (taken[-1][0], last, fix)
        else:
            taken.append((first, last, fix))
        if proto:
            at = _above_comment(lines, fix.declare_at)
            declares[proto] = min(declares.get(proto, at), at)
    for first, last, fix in taken:
        edits.append((first, last, _guarded(lines[first - 1 : last], fix)))
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    for proto, at in declares.items():
        edits.append(
            (at, at - 1, [proto.replace("\n", eol) + eol, eol])
        )  # inserted before line ``at``
    return edits, refused


def _prototype(lines: Sequence[str], fix: Fix) -> str:
    """``static bool f(DeviceState *dev);``: the head of the definition
    ``fix.declare`` spans, ended by ``;`` ("" when it is not there)."""
    d = fix.declare
    if d is None or d.end_line > len(lines) or fix.declare_at < 1:
        return ""
    text = "".join(lines[d.line - 1 : d.end_line])
    # cut at the body's ``{`` (end_col), from the head's first character (col)
    tail = len(lines[d.end_line - 1]) - (d.end_col - 1)
    head = text[d.col - 1 : len(text) - tail].rstrip()
    if not head or "{" in head or ";" in head:
        return ""
    return "\n".join(ln.rstrip("\r") for ln in head.split("\n")) + ";"


def _above_comment(lines: Sequence[str], line: int) -> int:
    """``line``, or the first line of the comment just above it (a prototype
    goes before a function's comment, not between the two)."""
    while line > 1:
        above = lines[line - 2].strip()
        if not above.startswith(("/*", "*", "//")) and not above.endswith("*/"):
            break
        line -= 1
    return line


def _same_guard(a: Fix, b: Fix) -> bool:
    return (a.guard, a.early_return) == (b.guard, b.early_return)


def _own_lines(lines: Sequence[str], fix: Fix) -> str:
    """Why the statement does not stand on lines of its own ("" when it does)."""
    span = fix.span
    assert span is not None
    if span.end_line > len(lines):
        return "the file changed since it was checked"
    before = lines[span.line - 1][: span.col - 1]
    # a front-end may end the statement before its ``;`` (clang's spans do)
    after = lines[span.end_line - 1][span.end_col - 1 :].strip().removeprefix(";").strip()
    if before.strip():
        return "the statement shares its first line with other code"
    if after and not after.startswith(("/*", "//")):
        return "the statement shares its last line with other code"
    return ""


def _guarded(stmt_lines: Sequence[str], fix: Fix) -> list[str]:
    """The statement's lines inside the guard, re-indented one level."""
    first = stmt_lines[0]
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    eol = "\r\n" if first.endswith("\r\n") else "\n"
    if fix.early_return:
        head = [
            f"{indent}if ({fix.early_return}) {{{eol}",
            f"{indent}{_INDENT}return;{eol}",
            f"{indent}}}{eol}",
        ]
        return head + list(stmt_lines)
    body = [_INDENT + ln if ln.strip() else ln for ln in stmt_lines]
    if not body[-1].endswith(("\n", "\r")):
        body[-1] += eol
    return [f"{indent}if ({fix.guard}) {{{eol}", *body, f"{indent}}}{eol}"]


def _new_syntax_error(old: bytes, new: bytes) -> int:
    """The first line of a syntax error ``new`` has and ``old`` has not (0: none)."""
    from qemu_lint.frontends.treesitter.parse import parse_bytes

    new_errors = _error_lines(parse_bytes(new).root_node)
    if not new_errors:
        return 0
    old_errors = _error_lines(parse_bytes(old).root_node)
    if len(new_errors) > len(old_errors):
        return new_errors[0]
    return 0


def _error_lines(root: object) -> list[int]:
    """The 1-based lines of the ERROR and MISSING nodes under ``root``."""
    out: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if not getattr(node, "has_error", False):
            continue
        if getattr(node, "type", "") == "ERROR" or getattr(node, "is_missing", False):
            out.append(int(node.start_point[0]) + 1)  # type: ignore[attr-defined]
            continue
        stack.extend(getattr(node, "children", ()))
    return sorted(out)


def unified_diff(plan: FixPlan) -> str:
    """The plan as a unified diff, ``a/`` and ``b/`` paths relative to the root."""
    out: list[str] = []
    for f in plan.files:
        old = f.old.decode("utf-8").splitlines(keepends=True)
        new = f.new.decode("utf-8").splitlines(keepends=True)
        out.extend(difflib.unified_diff(old, new, f"a/{f.path}", f"b/{f.path}"))
    return "".join(out)


def apply_fixes(files: Iterable[FileFix]) -> None:
    """Write each file's new bytes in one atomic replace, keeping its permission bits.

    :raise OSError: when a file cannot be written (those before it are written)
    """
    for f in files:
        mode = os.stat(f.target).st_mode & 0o7777
        write_atomic(f.target, f.new, mode=mode)
