"""Stage 6 (findings): what the engine hands to reporters.

Entry points: :class:`Finding` (a diagnostic stamped with rule id, severity and
fingerprint), :class:`Problem` (something that limits trust in the run: a
skipped file, a parse error region, a rule crash), :class:`Report`,
:func:`fingerprint` and :func:`key` (what identifies a finding across edits,
for baselines and audits).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qemu_lint.errors import Problem as Problem  # re-exported: defined with the errors
from qemu_lint.rule import Fix, PathStep, Properties


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    kind: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    function: str
    message: str
    path: tuple[PathStep, ...]
    fingerprint: str
    #: the rule-specific facts (architectures, hook…), as the rule filled them
    properties: Properties = field(default_factory=Properties)
    #: source lines around the site, ``(line, text)``, for code frames
    frame: tuple[tuple[int, str], ...] = ()
    #: the reason given by the inline suppression that silences it, if any
    suppression: str | None = None
    #: secondary places that explain the finding (the hook, the architectures)
    related: tuple[PathStep, ...] = ()
    #: GitHub's ``primaryLocationLineHash`` of the site's line (see
    #: :mod:`qemu_lint.findings.linehash`), or None when the file could not be read
    line_hash: str | None = None
    #: the edit the rule proposes (``check --fix``), None when it has none
    fix: Fix | None = None
    #: :attr:`fingerprint` without the file's path: the same site in a file
    #: a patch renamed has the same one (audit verdicts follow renames)
    site: str = ""

    @property
    def archs(self) -> tuple[str, ...]:
        return self.properties.archs

    @property
    def hook(self) -> str | None:
        return self.properties.hook

    @property
    def arch_hooks(self) -> Mapping[str, bool]:
        return self.properties.arch_hooks

    @property
    def notes(self) -> tuple[str, ...]:
        """What the rule notes at the site (after the path, before the related places)."""
        return self.properties.notes()

    def to_json(self) -> dict[str, Any]:
        """The finding as the JSON formats give it (field names and order are a contract)."""
        props = self.properties
        return {
            "rule": self.rule,
            "severity": self.severity,
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "function": self.function,
            "message": self.message,
            "archs": list(props.archs),
            "hook": props.hook,
            "path": [
                {"file": s.file, "line": s.line, "function": s.function, "note": s.note}
                for s in self.path
            ],
            "fingerprint": self.fingerprint,
            "arch_implements_hook": dict(sorted(props.arch_hooks.items())),
            "related": [
                {"file": s.file, "line": s.line, "function": s.function, "note": s.note}
                for s in self.related
            ],
        }


@dataclass(frozen=True, slots=True)
class Stats:
    files: int
    bytes: int
    seconds: float
    #: files of the tree considered (the closure parses only those that can matter)
    tree_files: int = 0
    parsed_files: int = 0
    skipped_files: int = 0
    files_with_errors: int = 0
    error_nodes: int = 0
    skipped_bytes: int = 0
    #: findings silenced by inline suppressions (they are in Report.suppressed)
    suppressed: int = 0
    #: findings left out because the --baseline file lists them
    baselined: int = 0
    #: findings left out because they already exist at the --diff-base revision
    preexisting: int = 0
    #: build configuration (qemu_lint.build): constructs not understood, and the
    #: files whose being built rests on one (the folder rule decides those)
    build_not_understood: int = 0
    build_uncertain_files: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "tree_files": self.tree_files,
            "parsed_files": self.parsed_files,
            "skipped_files": self.skipped_files,
            "files_with_parse_errors": self.files_with_errors,
            "error_nodes": self.error_nodes,
            "skipped_bytes": self.skipped_bytes,
            "suppressed": self.suppressed,
            "baselined": self.baselined,
            "preexisting": self.preexisting,
            "build_not_understood": self.build_not_understood,
            "build_uncertain_files": self.build_uncertain_files,
        }


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    severity: str
    summary: str
    doc: str
    tags: tuple[str, ...] = ()
    precision: str = "high"
    #: False for an opt-in rule (it runs only when ``select`` names it)
    default_enabled: bool = True


@dataclass(frozen=True, slots=True)
class Report:
    root: str
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    stats: Stats
    rules: tuple[RuleInfo, ...]
    tool_version: str
    #: findings silenced by an inline suppression (each with ``suppression`` set);
    #: reporters leave them out unless asked
    suppressed: tuple[Finding, ...] = ()
    #: ``(path, bytes)`` of findings' files whose analysed state is not the
    #: tree's on disk (an audit's states, read from git): what a proposed
    #: edit (SARIF ``fixes``) is made against
    sources: tuple[tuple[str, bytes], ...] = ()

    @property
    def distrust(self) -> tuple[Problem, ...]:
        """The problems that keep this run from saying "clean" (a rule crash,
        a file or function the analysis needed left out), crashes first."""
        bad = [p for p in self.problems if p.untrusted]
        return tuple(sorted(bad, key=lambda p: p.untrusted != "crash"))


#: ``(rule, path, fingerprint)``: what identifies a finding across edits
Key = tuple[str, str, str]


def key(f: Finding) -> Key:
    """The identity of a finding that survives line shifts (baselines, audit verdicts)."""
    return (f.rule, f.file, f.fingerprint)


_WS = re.compile(r"\s+")


def fingerprint(rule: str, path: str, function: str, key: str, occurrence: int) -> str:
    """A key stable across line shifts and whitespace changes.

    :param key: the normalised text of the matched construct
    :param occurrence: index among identical (rule, path, function, key) tuples
    """
    norm = _WS.sub("", key)
    h = hashlib.sha256(f"{rule}\0{path}\0{function}\0{norm}\0{occurrence}".encode())
    return h.hexdigest()[:32]
