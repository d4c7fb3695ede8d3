"""Stage 6 (findings): diagnostics → findings.

Entry points: :func:`_stamp` (rule id, severity, fingerprint),
:func:`_suppress` (the inline suppressions, in two passes, and the
``unused-suppression`` findings), :class:`Frames` (code frames and line
hashes, each file read once),
:func:`_relevant` (is a finding in the files asked about) and :func:`_order`
(the report's order).  Moved verbatim from the engine, names included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from qemu_lint.findings import Finding, fingerprint
from qemu_lint.findings.linehash import line_hashes
from qemu_lint.findings.suppress import UNUSED, Suppression, judge, silence
from qemu_lint.rule import Diagnostic, Rule
from qemu_lint.rules import ALL_RULES
from qemu_lint.settings import Config


class Frames:
    """Code frames and GitHub line hashes of the findings of one run.

    Each file is read once, and its line hashes are computed once, up to the
    last line a finding asks for: the time is linear in the findings of a
    file, not quadratic (1,000 findings in one file used to take 6.9 s).

    :param root: the folder the findings' paths are relative to
    :param read: path → its bytes (None: unreadable), instead of reading
        ``root`` (the audit reads a state's files from git's object store)
    """

    def __init__(self, root: str, read: Callable[[str], bytes | None] | None = None) -> None:
        self.root = root
        self._read = read
        self._files: dict[str, tuple[str, list[str], dict[int, str]] | None] = {}

    def _load(self, path: str, last: int) -> tuple[str, list[str], dict[int, str]] | None:
        if path not in self._files:
            data = self._read(path) if self._read is not None else None
            try:
                if self._read is None:
                    with open(os.path.join(self.root, path), "rb") as fh:
                        data = fh.read()
            except OSError:
                data = None
            if data is None:
                self._files[path] = None
                return None
            # decoded as upload-sarif reads it: invalid bytes become U+FFFD, line ends kept
            text = data.decode("utf-8", errors="replace")
            self._files[path] = (text, text.splitlines(), dict(line_hashes(text, last)))
        return self._files[path]

    def frame(
        self, path: str, line: int, last: int = 0, context: int = 2
    ) -> tuple[tuple[tuple[int, str], ...], str | None]:
        """The code frame around ``line`` and its line hash ((), None if unreadable).

        :param last: the last line any finding of ``path`` will ask for (hashes
            are computed up to it on the first call; 0: all lines)
        """
        got = self._load(path, max(last, line) if last else 0)
        if got is None:
            return (), None
        _, lines, hashes = got
        lo, hi = max(line - context, 1), min(line + context, len(lines))
        return tuple((n, lines[n - 1]) for n in range(lo, hi + 1)), hashes.get(line)


def _relevant(f: Finding, only: Sequence[str]) -> bool:
    if not only:
        return True
    places = [f.file] + [s.file for s in f.path]

    def inside(p: str) -> bool:
        return any(p == o or p.startswith(o.rstrip("/") + "/") for o in only)

    return any(inside(p) for p in places)


def _stamp(config: Config, diags: Sequence[tuple[Rule, Diagnostic]]) -> list[Finding]:
    """Findings from diagnostics: rule id, severity (the configured one, else
    the rule's) and fingerprint.

    The occurrence index of each fingerprint counts over every diagnostic of
    the tree, so that naming files on the command line does not change it.
    """
    counts: dict[tuple[str, str, str, str], int] = {}
    out: list[Finding] = []
    for rule, d in sorted(diags, key=lambda x: (x[1].span.path, x[1].span.line, x[1].span.col)):
        k = (rule.id, d.span.path, d.function, d.key)
        occ = counts.get(k, 0)
        counts[k] = occ + 1
        out.append(
            Finding(
                rule=rule.id,
                severity=config.severity_of(rule.id, rule.severity.value),
                kind=d.kind,
                file=d.span.path,
                line=d.span.line,
                column=d.span.col,
                end_line=d.span.end_line,
                end_column=d.span.end_col,
                function=d.function,
                message=d.message,
                path=d.path,
                fingerprint=fingerprint(rule.id, d.span.path, d.function, d.key, occ),
                properties=d.properties,
                related=d.related,
                fix=d.fix,
                site=fingerprint(rule.id, "", d.function, d.key, occ),
            )
        )
    return out


def _suppress(
    config: Config,
    findings: Sequence[Finding],
    suppressions: Sequence[Suppression],
    ran: set[str],
    unused_rule: Rule | None,
) -> tuple[list[Finding], list[Finding]]:
    """Apply the inline suppressions, and add the ``unused-suppression``
    findings when that rule ran.

    :param ran: the rules that ran to completion
    :return: the active and the suppressed findings
    """
    known = {r.id for r in ALL_RULES}
    done = silence(findings, suppressions, ran - {UNUSED})
    active, suppressed = list(done.active), list(done.suppressed)
    if unused_rule is None:
        return active, suppressed
    # Judge the suppressions of the other rules, then let suppressions naming
    # unused-suppression silence those findings; their own use is judged last
    # (and what that finds cannot be silenced).
    first = judge(suppressions, done.used, ran - {UNUSED}, known)
    second = silence(_stamp(config, [(unused_rule, d) for d in first]), suppressions, {UNUSED})
    last = judge(suppressions, second.used, {UNUSED}, known, syntax=False)
    active += second.active
    active += _stamp(config, [(unused_rule, d) for d in last])
    suppressed += second.suppressed
    return active, suppressed


def _order(f: Finding) -> tuple[str, int, int, str]:
    return (f.file, f.line, f.column, f.rule)
