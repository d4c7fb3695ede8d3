"""Shared test helpers: sample discovery, tree overlay, real-QEMU trees, and spies
that show what a run did (which files it parsed, whether its rules ran)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import re
import resource
import shutil
import signal
import subprocess
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
QEMU_SRC = REPO.parent / "shared" / "scripts" / "qemu-src"

T = TypeVar("T")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Spread the tests over one pytest-xdist worker per core (``-n auto``,
    ``--dist worksteal``: each worker starts on its own run of consecutive
    tests, so a module's fixtures are mostly computed once, and a worker that
    is done takes half of what another has left, as a real-QEMU test can take
    a minute) unless the command line says otherwise: ``-n 0`` runs them in
    this process, ``-p no:xdist`` (or xdist not installed) too.
    Runs before xdist's own hook (both try first; a conftest's is registered later)."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.option.numprocesses is None and not config.option.usepdb:
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "worksteal"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the ``memory_heavy`` tests first, by their ``rank`` (default 1),
    then in their order.  Under ``--dist worksteal`` the first run of tests
    goes to the first worker and another worker steals from the end of that
    run, so these run one after the other on one worker, at the start,
    while the other worker is still small: their peaks never add up (each
    is about 1 GB).  The whole-tree model (rank 0, the largest) goes first,
    while the other worker has barely started."""
    heavy = [i for i in items if i.get_closest_marker("memory_heavy")]
    if heavy:
        heavy.sort(key=_heavy_rank)
        items[:] = heavy + [i for i in items if not i.get_closest_marker("memory_heavy")]


def _heavy_rank(item: pytest.Item) -> int:
    mark = item.get_closest_marker("memory_heavy")
    return int(mark.kwargs.get("rank", 1)) if mark else 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """With ``QEMU_LINT_TEST_CPU_LOG=FILE``, append each test's CPU seconds
    (this process and the children it waited for, setup to teardown) to FILE:
    on a loaded machine wall times say little (docs/performance.md)."""
    log = os.environ.get("QEMU_LINT_TEST_CPU_LOG")
    before = _cpu() if log else 0.0
    yield
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{_cpu() - before:.2f} {item.nodeid}\n")


def _cpu() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pytest_configure(config: pytest.Config) -> None:
    """A shell without job control starts a background command (``cmd &``,
    a CI step's ``nohup``) with SIGINT ignored, and an ignored signal stays
    ignored across exec: the tests' audits would then run deaf to the Ctrl-C
    they are sent.  Give this process (each worker too) Python's own handler,
    so that every subprocess starts with SIGINT at its default, as from a
    terminal."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _signal_mask_kept() -> Iterator[None]:
    """A test that leaves SIGINT or SIGTERM blocked (an audit holds them back
    while git runs) would make every later subprocess of its worker deaf to
    them: restore the mask, and say which test left it."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    after = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    if after != before:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        warnings.warn(f"the test left signals blocked: {sorted(after - before)}", stacklevel=1)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """CLI runs in tests (in process or in subprocesses, which inherit the
    environment) use a cache of the test session, never the user's.  Also
    names the folder the whole test run shares (see :func:`once_per_run`)."""
    os.environ["QEMU_LINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("qemu-lint-cache"))
    base = tmp_path_factory.getbasetemp()
    # an xdist worker's basetemp is <the controller's basetemp>/popen-gwN
    run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ[_RUN_DIR] = str(run_dir / "shared")
    (run_dir / "shared").mkdir(exist_ok=True)


#: the environment variable naming the folder that every process of one test
#: run shares (the controller's basetemp/shared under xdist)
_RUN_DIR = "QEMU_LINT_TEST_RUN_DIR"


def run_dir() -> Path:
    """The folder every process of this test run shares (see :func:`once_per_run`)."""
    return Path(os.environ[_RUN_DIR])


#: what :func:`once_per_run` computed or read in this process
_ONCE: dict[str, Any] = {}


def once_per_run(name: str, make: Callable[[], T]) -> T:
    """``make()``, computed by one process of the test run and read back by
    every other one (the xdist workers), which wait for it.

    The value is pickled to ``<run folder>/<name>.pickle`` under an exclusive
    lock of ``<name>.lock`` (``flock``); the first process to take the lock
    computes it, the others find the file.  If ``make()`` raises (or skips),
    nothing is written and the next caller tries again.  Use it for the cold
    analysis of a real tree that several tests read: one cold run per test
    run instead of one per module and worker."""
    if name in _ONCE:
        return _ONCE[name]  # type: ignore[no-any-return]
    folder = Path(os.environ[_RUN_DIR])
    path = folder / f"{name}.pickle"
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if path.exists():
            value = pickle.loads(path.read_bytes())
        else:
            value = make()
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(value))
            tmp.replace(path)
    _ONCE[name] = value
    return value


def cold_report(version: str) -> Any:
    """The report of a cold ``check`` of real QEMU ``version`` (every file
    parsed, no facts cache), computed once per test run (:func:`once_per_run`)
    and shared by every test that reads it.  For 10.0.13 that run also fills
    the run's facts cache (:func:`shared_facts`): it starts empty, so the run
    is as cold as one without a cache.  Each runs in a child process
    (:func:`in_child`)."""
    root = qemu_tree(version)
    if version == "10.0.13":
        return once_per_run("facts-10.0.13", lambda: in_child(_fill_facts, root))[0]
    return once_per_run(f"cold-{version}", lambda: in_child(_cold_check, root))


def in_child(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a process of its own (spawned: a worker has threads),
    its result pickled back.  For a whole analysis of a real tree: what it
    allocates (a few hundred MB) goes back to the system when the child
    ends, where this process's heap would keep most of it for the rest of
    the run, beside the tests that come after it (the suite's peak summed
    RSS)."""
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def _cold_check(root: Path) -> Any:
    from qemu_lint.engine import run
    from qemu_lint.rules import default_config

    return run(default_config(root=str(root), cache_dir=None))


def cold_model_10013() -> dict[str, Any]:
    """The model of 10.0.13 with its hook tables, as ``qemu-lint model``
    exports it (JSON), built cold: by the run that fills the facts cache."""
    root = qemu_tree("10.0.13")
    made = once_per_run("facts-10.0.13", lambda: in_child(_fill_facts, root))
    return made[1]  # type: ignore[no-any-return]


def _fill_facts(root: Path) -> tuple[Any, dict[str, Any]]:
    """The cold check of ``root`` (10.0.13) into the run's empty facts cache,
    then its hook-table model (the files registering hook implementations;
    its closure starts cold too, as no run of that mode was recorded), so
    that the cache holds every file either needs: the report and the model."""
    from qemu_lint.engine import run, run_model
    from qemu_lint.model.export import model_to_json
    from qemu_lint.rules import default_config

    facts = Path(os.environ[_RUN_DIR]) / "facts"
    assert not facts.exists(), f"{facts} is filled once, by this function"
    config = default_config(root=str(root), cache_dir=str(facts))
    report = run(config)
    model, _ = run_model(config, hook_tables=True)
    return report, model_to_json(model)


def shared_facts() -> str:
    """The test run's facts cache, shared by every xdist worker and filled
    once by the cold check of 10.0.13 (:func:`cold_report`), for checks of
    real-tree variants that need a result, not a cold run: facts are keyed by
    content, so a variant parses only the files its edits changed and takes
    the others from the cache.  Concurrent runs on one cache are safe (each
    entry is written to a temporary file and renamed into place).  What the
    cache itself must get right is tested in tests/test_cache.py; the checks
    of the released trees stay cold."""
    cold_report("10.0.13")
    folder = str(Path(os.environ[_RUN_DIR]) / "facts")
    _memo_facts(folder)
    return folder


#: facts read from the run's facts cache in this process, by entry file
_FACTS_READ: dict[str, Any] = {}


def _memo_facts(folder: str) -> None:
    """Keep, in this process, the facts each check reads from the run's
    facts cache ``folder``, and hand the same objects to the next check that
    asks for that entry (counted as a hit, as a read is) instead of
    unpickling the file again: about 20 ms a file, 150-odd files per check
    of a variant of 10.0.13, 40-odd such checks in a run, was half of each.
    An entry is named by the file's path and content digest (and the
    front-end's salt and the facts' version): what it holds never changes,
    and facts are frozen dataclasses of strings, ints and tuples, so sharing
    them between checks is safe.  Only that folder: every other cache (the
    cache tests', a test's own ``--cache-dir``) reads its files each time,
    and so does a subprocess."""
    from qemu_lint.cache.store import Cache

    real = Cache.get_facts_with  # what get_facts and the session's loads call
    if getattr(real, "memo_of", None) == folder:
        return
    where = os.path.abspath(folder)

    def get_facts_with(self: Cache, path: str, content: str) -> Any:
        if self.directory != where:
            return real(self, path, content)
        entry = self._facts_path(path, content)
        got = _FACTS_READ.get(entry)
        if got is None:
            got = real(self, path, content)
            if got is not None:
                _FACTS_READ[entry] = got
        else:
            self.hits += 1
        return got

    get_facts_with.memo_of = folder  # type: ignore[attr-defined]
    Cache.get_facts_with = get_facts_with  # type: ignore[method-assign]


def variant_config(root: Path | str, **settings: Any) -> Any:
    """``default_config(root, cache_dir=shared_facts(), **settings)`` for a
    variant of 10.0.13 (a hard-linked copy, ``tests/qemu_variants.py``),
    with the build configuration the cold check of 10.0.13 recorded in that
    cache also recorded under the variant's key: the variants' ``meson.build``
    and Kconfig files are the released tree's, and reading them all again
    took about 0.9 s of each variant's check (40-odd in a run).  The check
    still decides: it reuses a recorded build configuration only when the
    digests of the variant's own build inputs equal the recorded ones
    (``select.build_facts``), and else computes it, as for a variant that
    edits a build file.  The variant's own check stays cold otherwise (no
    tree state of it is recorded)."""
    from qemu_lint.cache.session import salt, tree_key
    from qemu_lint.cache.store import Cache
    from qemu_lint.rules import default_config

    facts = shared_facts()
    config = default_config(root=str(root), cache_dir=facts, **settings)
    cache = Cache(facts, salt(config.frontend))
    key = tree_key(config)
    if cache.get_build(key) is None:
        base = default_config(root=str(qemu_tree("10.0.13")), cache_dir=facts)
        recorded = cache.get_build(tree_key(base))
        if recorded is not None:
            cache.put_build(key, recorded)
    return config


MARKER = re.compile(
    r"/\*\s*(expect-clang|expect-tree-sitter|expect|todo-expect|todo-ok):\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)"
    r"((?:\s+[a-z]+=[^\s*]*)*)\s*\*/"
)


@pytest.fixture(autouse=True)
def _no_user_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's own ``~/.config/qemu-lint/config.toml``."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "no-xdg-config"))


def is_case(path: Path) -> bool:
    """Is ``path`` (an entry of ``samples/rules/<rule-id>/``) a case: a folder
    other than ``_base``, or a single ``<case>.c`` file?"""
    if path.name.startswith(("_", ".")):
        return False
    return path.is_dir() or (path.is_file() and path.suffix == ".c")


def materialize(case: Path, dest: Path) -> Path:
    """Copy a sample case into ``dest``: ``_base`` overlaid with the case's files.

    A single-file case ``<case>.c`` lands at the top of the tree, as
    ``<case>.c`` (qemu-lint reads the C files at the top of a QEMU root): over
    the rule's ``_base/`` when it has one, else in a tree holding only that file
    and an empty ``include/hw/core/cpu.h``, which makes it a QEMU root.
    """
    base = case.parent / "_base"
    if base.is_dir() and case != base:
        shutil.copytree(base, dest, dirs_exist_ok=True)
    if case.is_file():
        root_marker = dest / "include" / "hw" / "core" / "cpu.h"
        if not root_marker.exists():
            root_marker.parent.mkdir(parents=True, exist_ok=True)
            root_marker.write_text("")
        shutil.copy2(case, dest / case.name)
    else:
        shutil.copytree(case, dest, dirs_exist_ok=True)
    return dest


def markers(tree: Path) -> dict[str, set[tuple[str, int, str]]]:
    """``{kind: {(path, line, rule)}}`` from the ``/* expect: … */`` comments of a tree.

    ``expect-clang`` and ``expect-tree-sitter`` mark a finding only that
    front-end reports, on purpose (a release written through a macro, code an
    ``#ifdef`` compiles out); ``expect`` is for both.
    """
    out: dict[str, set[tuple[str, int, str]]] = {
        k: set() for k in ("expect", "todo-expect", "todo-ok", "expect-clang", "expect-tree-sitter")
    }
    for key in marker_attrs(tree):
        out[key[0]].add(key[1:])
    return out


def marker_attrs(tree: Path) -> dict[tuple[str, str, int, str], dict[str, str]]:
    """Every marker with its optional attributes.

    ``/* expect: RULE archs=i386,loongarch kind=release */`` pins, besides the
    line, the finding's architectures (``archs=-`` for none) and kind.
    """
    out: dict[tuple[str, str, int, str], dict[str, str]] = {}
    for p in sorted(tree.rglob("*")):
        if p.suffix not in (".c", ".h", ".inc") or not p.is_file():
            continue
        rel = p.relative_to(tree).as_posix()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            for m in MARKER.finditer(line):
                attrs = dict(a.split("=", 1) for a in m.group(3).split())
                for rule in m.group(2).split(","):
                    out[(m.group(1), rel, n, rule.strip())] = attrs
    return out


def _tree_version(path: Path) -> str:
    """The release a QEMU tree says it is (its VERSION file), "" when unreadable."""
    try:
        return (path / "VERSION").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def qemu_tree(version: str) -> Path:
    """The path of a real QEMU tree, or skip the test with the reason.

    ``QEMU_LINT_TEST_QEMU`` names QEMU checkouts the developer already has
    (paths separated by ``os.pathsep``); the one whose VERSION file says
    ``version`` is used (``7.2`` matches ``7.2.0``).  Else the tree comes from
    ``../shared/scripts/qemu-src``; else the test is skipped, with the reason.
    """
    if os.environ.get("QEMU_LINT_SKIP_REAL"):
        pytest.skip("QEMU_LINT_SKIP_REAL is set")
    given = [Path(p) for p in os.environ.get("QEMU_LINT_TEST_QEMU", "").split(os.pathsep) if p]
    for path in given:
        found = _tree_version(path)
        if found == version or found.startswith(version + "."):
            return path.resolve()
    if not QEMU_SRC.exists():
        if given:
            have = ", ".join(f"{p} ({_tree_version(p) or 'no VERSION'})" for p in given)
            pytest.skip(f"QEMU {version} needed; QEMU_LINT_TEST_QEMU has {have}")
        pytest.skip(
            f"QEMU {version} unavailable: set QEMU_LINT_TEST_QEMU to a checkout of it "
            f"({QEMU_SRC} not found)"
        )
    try:
        r = subprocess.run([str(QEMU_SRC), version], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"qemu-src {version} could not run: {e}")
    if r.returncode != 0 or not r.stdout.strip():
        pytest.skip(f"qemu-src {version} failed: {(r.stderr or r.stdout).strip()[-300:]}")
    return Path(r.stdout.strip().splitlines()[-1])


Capsys = pytest.CaptureFixture[str]


def run_check(capsys: Capsys, *args: str) -> tuple[int, str, str]:
    """``qemu-lint check`` in process, one job, no colour: status, stdout, stderr."""
    from qemu_lint.cli import main

    status = main(["check", "--jobs", "1", "--color", "never", *args])
    out, err = capsys.readouterr()
    return status, out, err


def run_check_json(capsys: Capsys, *args: str) -> tuple[int, dict[str, Any]]:
    """:func:`run_check` with ``--format json``: status and the parsed report."""
    status, out, err = run_check(capsys, "--format", "json", *args)
    assert out, err
    return status, json.loads(out)


@contextlib.contextmanager
def files_parsed() -> Iterator[list[str]]:
    """Record, in order, the path of every file the tree-sitter front-end
    extracts facts from in this process (runs with ``jobs=1`` extract in
    process).  A file whose facts come from the cache is not in the list.
    """
    import qemu_lint.frontends.treesitter.extract as front

    real = front.extract_file
    seen: list[str] = []

    def spy(path: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(path)
        return real(path, *args, **kwargs)

    front.extract_file = spy  # a spy with the same behaviour, restored below
    try:
        yield seen
    finally:
        front.extract_file = real


@contextlib.contextmanager
def rules_fail() -> Iterator[None]:
    """Make every rule raise when it is run.  A run that still reports its
    findings, and no crashed rule, did not run its rules: it reused their
    results."""
    from qemu_lint.rules import ALL_RULES

    def crash(model: Any, opts: Any) -> Any:
        raise AssertionError("a rule was run")

    saved = [(rule, rule.check) for rule in ALL_RULES]
    try:
        for rule, _ in saved:
            object.__setattr__(rule, "check", crash)  # Rule is frozen; restored below
        yield
    finally:
        for rule, check in saved:
            object.__setattr__(rule, "check", check)
