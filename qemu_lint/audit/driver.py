"""Audit stage, the driver: a series → one check per state → per-patch verdicts.

Entry point: :func:`run_audit`.  It sits where :func:`qemu_lint.engine.run`
sits, one level above it: the base commit and the state after each patch are
commits of a temporary index and object directory
(:class:`qemu_lint.audit.apply.IndexState`), never checked out; each is
analysed as a revision of the user's tree (as ``check --diff-base`` analyses
one: the work tree's files, those that differ read from git's object store),
and :func:`qemu_lint.audit.verdicts.compare` turns the reports into verdicts.

Every state is analysed under one cache record (``<root>@audit``), so each
run after the first finds the previous state recorded: it reads again only the
files the patch changed, takes the facts of every other file from the cache,
and answers the file selection's questions from the record (see
:mod:`qemu_lint.cache`).  That is what keeps the cost of a patch far below that
of a full check.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from qemu_lint.audit.apply import IndexState
from qemu_lint.audit.series import Series
from qemu_lint.audit.verdicts import AuditResult, StateRun, compare
from qemu_lint.engine import Chain, run
from qemu_lint.findings import Report
from qemu_lint.findings.stamp import Frames
from qemu_lint.settings import Config

#: ``progress(done, total, what)``: called before each state is analysed.
Progress = Callable[[int, int, str], None]


def _reframe(report: Report, state: IndexState, rev: str, prefix: str) -> Report:
    """The report with its findings' code frames and line hashes taken from
    the files at ``rev`` (the analysis framed them from the work tree)."""
    if not report.findings:
        return report
    lead = f"{prefix}/" if prefix else ""
    files = sorted({f.file for f in report.findings})
    blobs = state.read(rev, [lead + p for p in files])
    frames = Frames(report.root, read=lambda p: blobs.get(lead + p))
    last: dict[str, int] = {}
    for f in report.findings:
        last[f.file] = max(last.get(f.file, 0), f.line)
    findings = []
    for f in report.findings:
        frame, lhash = frames.frame(f.file, f.line, last[f.file])
        findings.append(dataclasses.replace(f, frame=frame, line_hash=lhash))
    sources = tuple((p, data) for p in files if (data := blobs.get(lead + p)) is not None)
    return dataclasses.replace(report, findings=tuple(findings), sources=sources)


def run_audit(
    config: Config,
    series: Series,
    allow_transient: bool = False,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit ``series``: analyse its base, then the tree after each patch.

    The audit stops at the first patch that does not apply; the verdicts of
    the patches before it are kept.

    :param config: the check's configuration; ``root`` is the user's QEMU root
        (paths in the result are relative to it; its files that differ from a
        state are read from git's object store, never written)
    :raise InputError: when the temporary index cannot be made
    """
    total = len(series.patches) + 1
    runs: list[StateRun] = []

    def note(done: int, what: str) -> None:
        if progress is not None:
            progress(done, total, what)

    with IndexState(series.top, series.base) as state:
        cfg = dataclasses.replace(
            config, only=(), git_objects=state.objects, cache_key=f"{config.root}@audit"
        )

        # the states share the facts of the files they have unchanged
        chain = Chain()

        def check(rev: str) -> Report:
            report = run(dataclasses.replace(cfg, revision=rev), chain=chain)
            return _reframe(report, state, rev, series.prefix)

        note(0, f"base {series.base[:12]}")
        t0 = time.monotonic()
        base_report = check(series.base)
        base_seconds = time.monotonic() - t0
        for i, patch in enumerate(series.patches, 1):
            note(i, f"{patch.label} {patch.subject}")
            t0 = time.monotonic()
            reason, head = state.apply(patch)
            if reason is not None or head is None:
                runs.append(StateRun(patch, None, reason, None, time.monotonic() - t0))
                break
            report = check(head)
            runs.append(StateRun(patch, report, None, head, time.monotonic() - t0))
        note(total, "done")
    return compare(
        label=series.label,
        root=config.root,
        base=series.base,
        base_source=series.base_source,
        base_report=base_report,
        runs=runs,
        patches=series.patches,
        allow_transient=allow_transient,
        is_stdin=series.is_stdin,
        base_seconds=base_seconds,
        cover_subject=series.cover_subject,
    )
