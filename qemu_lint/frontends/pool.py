"""Stage 2 (front-ends): extraction in worker processes.

Entry points: :func:`extract_files` (tree-sitter: a round's files shared by
size between this process and the :class:`Workers` of a file selection) and
:func:`extract_units` (clang, one translation unit per task, with progress
reported through a callback).  Workers import their parser lazily: importing
this module loads neither tree-sitter nor libclang.  :class:`Workers` also
runs other work of the selection beside its rounds (the build
configuration, :func:`qemu_lint.select.build_facts`).
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
from typing import TYPE_CHECKING, Any

from qemu_lint.errors import Problem
from qemu_lint.source import SourceFile

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from qemu_lint.facts import FileFacts
    from qemu_lint.frontends.clang.compdb import Plan
    from qemu_lint.frontends.clang.pch import Pch

log = logging.getLogger(__name__)

#: files per round below which a round is extracted in this process alone
#: (see :func:`extract_files`)
PARALLEL = 8

#: ``on_progress(done, total, what)``: called with 0 when a batch starts, after
#: each item, and with ``done == total`` when it ends (also on failure)
Progress = Callable[[int, int, str], None]

#: what a clang task returns: the facts or why the file was skipped, and the
#: files the parse read
UnitResult = tuple["FileFacts | Problem", tuple[str, ...]]
#: what a clang task is given: the plan, the file's bytes, and the precompiled
#: osdep.h it may use with the files that one read
UnitTask = tuple["Plan", bytes, tuple[str, tuple[str, ...]] | None]


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


class Precompiled:
    """The precompiled headers of one file selection (clang front-end), in
    one temporary folder inside ``scratch`` (the cache folder; else the
    system's): each built once, for every round that can use it; the folder
    removed by :meth:`close`."""

    def __init__(self, scratch: str | None) -> None:
        self.scratch = scratch if scratch is not None and os.path.isdir(scratch) else None
        self._folder: str | None = None
        #: each header built or tried: the files it read, None when it failed
        self.built: dict[Pch, tuple[str, ...] | None] = {}

    @property
    def folder(self) -> str:
        if self._folder is None:
            import tempfile

            self._folder = tempfile.mkdtemp(prefix="qemu-lint-pch-", dir=self.scratch)
        return self._folder

    def close(self) -> None:
        if self._folder is not None:
            import shutil

            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self.built.clear()


class Workers:
    """The worker processes of one file selection: forked on first use,
    shared by its rounds (and by the build configuration computed beside
    them), ended by :meth:`close` (or the ``with`` block), which also
    removes the selection's precompiled headers.  With ``jobs`` of 1 there
    are none: :meth:`submit` then returns None."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._precompiled: Precompiled | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """``fn(*args)`` in a worker (its result pickled back), or None
        without workers."""
        if self.jobs <= 1:
            return None
        if self._pool is None:
            self._pool = _pool(self.jobs)
        return self._pool.submit(fn, *args)

    def precompiled(self, scratch: str | None) -> Precompiled:
        """The selection's precompiled headers (made on first use)."""
        if self._precompiled is None:
            self._precompiled = Precompiled(scratch)
        return self._precompiled

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._precompiled is not None:
            self._precompiled.close()
            self._precompiled = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shares(sizes: Sequence[int], n: int) -> list[list[int]]:
    """``n`` groups of the indexes of ``sizes`` with sums as even as greedy
    placement makes them (largest first, each to the smallest group), each
    group in index order."""
    groups: list[list[int]] = [[] for _ in range(n)]
    sums = [0] * n
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        k = sums.index(min(sums))
        groups[k].append(i)
        sums[k] += sizes[i]
    return [sorted(g) for g in groups if g]


def extract_files(
    items: Sequence[tuple[SourceFile, bytes]], jobs: int, workers: Workers | None = None
) -> list[FileFacts | Problem]:
    """The tree-sitter facts of ``items`` (in their order).  With ``workers``
    and at least :data:`PARALLEL` files, the files are shared by size among
    this process and ``jobs - 1`` workers: this process extracts its share
    while the workers extract theirs, whose facts come back pickled."""
    if workers is None or jobs <= 1 or len(items) < PARALLEL:
        return _extract_chunk(items)
    shares = _shares([len(d) for _, d in items], jobs)
    pending = [workers.submit(_extract_chunk, [items[i] for i in s]) for s in shares[1:]]
    got = [_extract_chunk([items[i] for i in shares[0]])]
    got += [
        f.result() if f is not None else _extract_chunk([items[i] for i in s])
        for f, s in zip(pending, shares[1:], strict=True)
    ]
    results: list[FileFacts | Problem | None] = [None] * len(items)
    for share, facts in zip(shares, got, strict=True):
        for i, r in zip(share, facts, strict=True):
            results[i] = r
    return [r for r in results if r is not None]


def _extract_unit(item: UnitTask) -> UnitResult:
    # Imported here so that worker processes load libclang lazily.
    from qemu_lint.frontends.clang import extract

    plan, data, pch = item
    try:
        got, deps = extract.extract_unit(plan, data, pch)
        return (Problem(plan.path, got, untrusted="input") if isinstance(got, str) else got), deps
    except Exception as e:  # a file libclang cannot handle must not stop the run
        log.debug("clang: %s:\n%s", plan.path, traceback.format_exc())
        return Problem(
            plan.path, f"skipped: libclang could not parse it ({e!r})", untrusted="input"
        ), ()


def _build_pch(pch: Pch) -> tuple[str, ...] | None:
    from qemu_lint.frontends.clang import pch as pchs

    try:
        return pchs.build(pch)
    except Exception:  # without it the units are parsed whole
        log.debug("clang: precompiling %s:\n%s", pch.osdep, traceback.format_exc())
        return None


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(65536)
    except OSError:
        return None


def _cost(plan: Plan, data: bytes) -> int:
    """How long a unit takes, roughly: the size of its main file."""
    try:
        return os.path.getsize(plan.main) if plan.main and plan.main != plan.abspath else len(data)
    except OSError:
        return 0


def extract_units(
    items: Sequence[tuple[Plan, bytes]],
    jobs: int,
    on_progress: Progress | None = None,
    scratch: str | None = None,
    workers: Workers | None = None,
) -> list[UnitResult]:
    """Parse translation units, in ``jobs`` processes when there are several
    (results in the order of ``items``, work largest main file first); a unit
    that crashed its worker is a Problem.  Units sharing their flags share a
    precompiled ``qemu/osdep.h`` (:mod:`qemu_lint.frontends.clang.pch`),
    written in a temporary folder inside ``scratch`` (the cache folder; else
    the system's).

    :param workers: the file selection's workers, whose rounds share the
        precompiled headers they build (removed when the selection ends);
        without them this batch builds and removes its own.  The units are
        parsed in processes of this batch, ended with it: libclang's memory
        goes with them (processes kept for the whole selection grew to
        twice the peak RSS on QEMU 10.0.13)
    """
    from qemu_lint.frontends.clang import pch as pchs

    store = workers.precompiled(scratch) if workers is not None else Precompiled(scratch)
    try:
        heads = {p.abspath: d[:65536] for p, d in items}
        specs = pchs.plan_pchs(
            [p for p, _ in items],
            store.folder,
            lambda m: heads[m] if m in heads else _head(m),
            store.built,
        )
        order = sorted(range(len(items)), key=lambda n: -_cost(*items[n]))
        return _run_units(items, specs, order, jobs, store.built, on_progress)
    finally:
        if workers is None:
            store.close()


def _run_units(
    items: Sequence[tuple[Plan, bytes]],
    specs: Sequence[Pch | None],
    order: Sequence[int],
    jobs: int,
    built: dict[Pch, tuple[str, ...] | None],
    on_progress: Progress | None,
) -> list[UnitResult]:
    """Build the precompiled headers not in ``built`` yet (adding them),
    then parse the units in ``order``."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    total = len(items)
    note = on_progress or (lambda done, total, what: None)
    results: list[UnitResult | None] = [None] * total
    todo = [s for s in dict.fromkeys(s for s in specs if s is not None) if s not in built]
    done = 0
    note(0, total, "clang")

    def task(n: int) -> UnitTask:
        spec = specs[n]
        deps = built.get(spec) if spec is not None else None
        return items[n][0], items[n][1], (spec.path, deps) if spec and deps else None

    try:
        if jobs <= 1 or total <= 1:
            built.update((s, _build_pch(s)) for s in todo)
            for n in order:
                results[n] = _extract_unit(task(n))
                done += 1
                note(done, total, "clang")
        else:
            try:
                with _pool(min(jobs, total)) as pool:
                    built.update(zip(todo, pool.map(_build_pch, todo), strict=True))
                    futures = {pool.submit(_extract_unit, task(n)): n for n in order}
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
