"""Stage 6 (findings): baseline files and known-finding filters.

Entry points: :func:`load_baseline` and :func:`write_baseline` (the
``--baseline`` / ``--write-baseline`` file), :func:`keys` (the identity of a
report's findings), :func:`hide` (drop the findings a baseline already has)
and :func:`hide_preexisting` (those the ``--diff-base`` revision has, in the
same file or in one the work tree no longer has: moved code).

A baseline file is JSON, ``"version": 1``, listing each finding by rule, path
(relative to the QEMU root) and fingerprint — never by line, so it survives
edits above a site — plus, per file, how many findings it lists::

    {"version": 1, "tool": "qemu-lint",
     "findings": [{"rule": "acpi-cpu-persistence", "path": "hw/acpi/cpu.c",
                   "fingerprint": "651244c2…", "function": "acpi_cpu_eject",
                   "kind": "release"}],
     "counts": {"hw/acpi/cpu.c": 1}}

``function`` and ``kind`` are for the reader; ``counts`` is checked against
the entries when the file is read, so that a hand edit or a bad merge that
lost or duplicated entries is caught rather than silently trusted.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import replace
from typing import Any

from qemu_lint.errors import InputError
from qemu_lint.findings import Finding, Key, Report, key
from qemu_lint.source import write_atomic

VERSION = 1


def keys(findings: Iterable[Finding]) -> frozenset[Key]:
    return frozenset(key(f) for f in findings)


def to_json(findings: Iterable[Finding]) -> dict[str, Any]:
    """The baseline document for ``findings``, sorted so that diffs stay small."""
    entries = sorted(
        {key(f): f for f in findings}.values(), key=lambda f: (f.file, f.rule, f.fingerprint)
    )
    counts = Counter(f.file for f in entries)
    return {
        "version": VERSION,
        "tool": "qemu-lint",
        "findings": [
            {
                "rule": f.rule,
                "path": f.file,
                "fingerprint": f.fingerprint,
                "function": f.function,
                "kind": f.kind,
            }
            for f in entries
        ],
        "counts": dict(sorted(counts.items())),
    }


def write_baseline(path: str, findings: Iterable[Finding]) -> int:
    """Write a baseline atomically (a temporary file in the same folder, then
    ``os.replace``): the file is either the old one or the whole new one.

    :return: the number of findings written
    :raise InputError: when the file cannot be written
    """
    doc = to_json(findings)
    try:
        data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
        # the mode a plain open() would give (write_atomic alone makes it private)
        write_atomic(path, data, mode=_mode(path), prefix=".qemu-lint-baseline-")
    except OSError as e:
        raise InputError(f"cannot write the baseline: {e.strerror or e}", path) from e
    return len(doc["findings"])


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load_baseline(path: str) -> frozenset[Key]:
    """Read and check a baseline file.

    :return: the keys it lists
    :raise InputError: naming the file and what is wrong with it
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise InputError(f"cannot read the baseline: {e.strerror or e}", path) from e
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"not a baseline: invalid JSON ({e})", path) from e
    if not isinstance(doc, dict):
        raise InputError("not a baseline: expected a JSON object", path)
    if doc.get("version") != VERSION:
        raise InputError(
            f"unsupported baseline version {doc.get('version')!r} (expected {VERSION})", path
        )
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise InputError("not a baseline: 'findings' must be a list", path)
    out: set[Key] = set()
    listed: Counter[str] = Counter()
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry.get(k) for k in ("rule", "path", "fingerprint")
        ):
            raise InputError(
                f"finding {n}: needs non-empty strings 'rule', 'path' and 'fingerprint'", path
            )
        k = (entry["rule"], entry["path"], entry["fingerprint"])
        if k not in out:
            listed[entry["path"]] += 1
        out.add(k)
    counts = doc.get("counts")
    if not isinstance(counts, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in counts.values()
    ):
        raise InputError("not a baseline: 'counts' must map paths to integers", path)
    for p in sorted(set(counts) | set(listed)):
        if counts.get(p, 0) != listed.get(p, 0):
            raise InputError(
                f"'counts' disagrees with 'findings' for {p} ({counts.get(p, 0)} counted, "
                f"{listed.get(p, 0)} listed); rewrite it with --write-baseline",
                path,
            )
    return frozenset(out)


def hide(report: Report, known: Set[Key]) -> Report:
    """The report without the findings whose key is in ``known`` (a
    baseline's), counted in ``stats.baselined``."""
    kept = tuple(f for f in report.findings if key(f) not in known)
    stats = replace(
        report.stats, baselined=report.stats.baselined + len(report.findings) - len(kept)
    )
    return replace(report, findings=kept, stats=stats)


def hide_preexisting(
    report: Report, old: Sequence[Finding], exists: Callable[[str], bool]
) -> Report:
    """The report without the findings the diff base (``old``) already has,
    counted in ``stats.preexisting``: the same key (rule, path, fingerprint),
    or the same rule and site (:attr:`Finding.site`, the fingerprint without
    the path) as a finding of the diff base whose file the work tree no longer
    has (``exists`` false: renamed or deleted), each of those taken once.  So
    a ``git mv`` of a file, or code moved out of a file that went, adds no
    finding."""
    known = keys(old)
    moved = Counter((g.rule, g.site) for g in old if g.site and not exists(g.file))
    kept = []
    for f in report.findings:
        if key(f) in known:
            continue
        if f.site and moved[(f.rule, f.site)] > 0:
            moved[(f.rule, f.site)] -= 1
            continue
        kept.append(f)
    n = len(report.findings) - len(kept)
    stats = replace(report.stats, preexisting=report.stats.preexisting + n)
    return replace(report, findings=tuple(kept), stats=stats)
