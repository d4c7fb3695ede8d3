"""The audit pipeline: a series → one check per state → per-patch verdicts.

Entry point: :func:`run_audit`.  It sits where :func:`qemu_lint.engine.run`
sits, one level above it: the base commit is checked out in a temporary
worktree (:class:`qemu_lint.audit.series.Worktree`), analysed, then each patch is
applied and the tree analysed again; :func:`qemu_lint.audit.verdicts.compare` turns
the reports into verdicts.

Every state is analysed at the same path with the same cache folder, so each
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

from qemu_lint.settings import Config
from qemu_lint.engine import run
from qemu_lint.findings import Report
from qemu_lint.audit.series import Series, Worktree
from qemu_lint.audit.verdicts import AuditResult, StateRun, compare

#: ``progress(done, total, what)``: called before each state is analysed.
Progress = Callable[[int, int, str], None]


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
        (paths in the result are relative to it), the analysis runs in the
        temporary worktree
    :raise InputError: when the worktree cannot be created
    """
    total = len(series.patches) + 1
    runs: list[StateRun] = []

    def note(done: int, what: str) -> None:
        if progress is not None:
            progress(done, total, what)

    with Worktree(series.top, series.base, stable=config.cache_dir is not None) as wt:
        root = wt.path if not series.prefix else f"{wt.path}/{series.prefix}"
        cfg = dataclasses.replace(config, root=root, only=())

        def check() -> Report:
            return dataclasses.replace(run(cfg), root=config.root)

        note(0, f"base {series.base[:12]}")
        t0 = time.monotonic()
        base_report = check()
        base_seconds = time.monotonic() - t0
        for i, patch in enumerate(series.patches, 1):
            note(i, f"{patch.label} {patch.subject}")
            t0 = time.monotonic()
            reason, head = wt.apply(patch)
            if reason is not None:
                runs.append(StateRun(patch, None, reason, None, time.monotonic() - t0))
                break
            report = check()
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
