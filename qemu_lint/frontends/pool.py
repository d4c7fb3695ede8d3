"""Stage 2 (front-ends): extraction in worker processes.

Entry points: :func:`extract_files` (tree-sitter, by chunks of files) and
:func:`extract_units` (clang, one translation unit per task, with progress
reported through a callback).  Workers import their parser lazily: importing
this module loads neither tree-sitter nor libclang.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from qemu_lint.errors import Problem
from qemu_lint.facts import FileFacts
from qemu_lint.source import SourceFile

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from qemu_lint.frontends.clang.compdb import Plan

log = logging.getLogger(__name__)

#: files per tree-sitter task
CHUNK = 64

#: ``on_progress(done, total, what)``: called with 0 when a batch starts, after
#: each item, and with ``done == total`` when it ends (also on failure)
Progress = Callable[[int, int, str], None]

#: what a clang task returns: the facts or why the file was skipped, and the
#: files the parse read
UnitResult = tuple[FileFacts | Problem, tuple[str, ...]]


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the process that started it
    ends, even by SIGKILL (no worker left running with PPID 1).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; elsewhere, or when that
    fails, a daemon thread that checks the parent every second.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # 1: PR_SET_PDEATHSIG
                if os.getppid() != parent:  # it died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="qemu-lint-parent-watch").start()


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process (the pool's modules
    imported here: a run extracting nothing does not pay for them)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),)
    )


def _extract_chunk(chunk: Sequence[tuple[SourceFile, bytes]]) -> list[FileFacts | Problem]:
    # Imported here so that worker processes load the parser lazily.
    from qemu_lint.frontends.treesitter.extract import extract_file
    from qemu_lint.frontends.treesitter.parse import parse_bytes

    out: list[FileFacts | Problem] = []
    for sf, data in chunk:
        try:
            out.append(extract_file(sf.path, data, parse_bytes(data)))
        except RecursionError:
            out.append(Problem(sf.path, "skipped: nesting too deep to analyse", untrusted="input"))
    return out


def extract_files(
    items: Sequence[tuple[SourceFile, bytes]], jobs: int
) -> list[FileFacts | Problem]:
    """The tree-sitter facts of ``items``, in ``jobs`` processes when there
    are several chunks of :data:`CHUNK` files (in the order of ``items``)."""
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    results: list[FileFacts | Problem] = []
    if jobs <= 1 or len(chunks) <= 1:
        for c in chunks:
            results.extend(_extract_chunk(c))
    else:
        with _pool(min(jobs, len(chunks))) as pool:
            for part in pool.map(_extract_chunk, chunks):
                results.extend(part)
    return results


def _extract_unit(item: tuple[Plan, bytes]) -> UnitResult:
    # Imported here so that worker processes load libclang lazily.
    from qemu_lint.frontends.clang import extract

    plan, data = item
    try:
        got, deps = extract.extract_unit(plan, data)
        return (Problem(plan.path, got, untrusted="input") if isinstance(got, str) else got), deps
    except Exception as e:  # a file libclang cannot handle must not stop the run
        log.debug("clang: %s:\n%s", plan.path, traceback.format_exc())
        return Problem(
            plan.path, f"skipped: libclang could not parse it ({e!r})", untrusted="input"
        ), ()


def extract_units(
    items: Sequence[tuple[Plan, bytes]], jobs: int, on_progress: Progress | None = None
) -> list[UnitResult]:
    """Parse translation units, in ``jobs`` processes when there are several
    (in the order of ``items``); a unit that crashed its worker is a Problem."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    total = len(items)
    note = on_progress or (lambda done, total, what: None)
    results: list[UnitResult | None] = [None] * total
    done = 0
    note(0, total, "clang")
    try:
        if jobs <= 1 or total <= 1:
            for n, item in enumerate(items):
                results[n] = _extract_unit(item)
                done += 1
                note(done, total, "clang")
        else:
            try:
                with _pool(min(jobs, total)) as pool:
                    futures = {pool.submit(_extract_unit, it): n for n, it in enumerate(items)}
                    for fut in as_completed(futures):
                        results[futures[fut]] = fut.result()
                        done += 1
                        note(done, total, "clang")
            except BrokenProcessPool:  # libclang crashed a worker
                pass
    finally:
        if done < total:
            note(total, total, "clang")
    return [
        r
        if r is not None
        else (Problem(items[n][0].path, "skipped: libclang crashed on it", untrusted="input"), ())
        for n, r in enumerate(results)
    ]
