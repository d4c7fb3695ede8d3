"""Stage 3 (cache): one run over a tree.

Entry point: :class:`Session`: discovery, the cache's record of the last run
(:class:`~qemu_lint.cache.state.TreeState`), the files of this run with their
bytes, digests and facts (:class:`Files`), and what this run records for the
next one.  Which files get their facts extracted is decided by
:mod:`qemu_lint.select`.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from qemu_lint.cache.state import FactsSummary, TreeState
from qemu_lint.cache.store import Cache, code_digest, digest
from qemu_lint.discover.files import Skipped, StatKey, discover, load
from qemu_lint.errors import Problem
from qemu_lint.frontends import FRONTENDS
from qemu_lint.frontends.pool import Progress, Workers, extract_files, extract_units
from qemu_lint.settings import Config
from qemu_lint.source import SourceFile

if TYPE_CHECKING:
    from qemu_lint.facts import FileFacts
    from qemu_lint.frontends.clang.compdb import Command, Plan, Planner

log = logging.getLogger(__name__)

S = TypeVar("S")

#: files above which a facts request outside a file selection (the whole
#: tree) is spread over --jobs processes
WHOLE_TREE_CHUNK = 64

#: the most changed files for which a run checks whether the recorded run's
#: outcome still stands (see :meth:`Session.replay`): each is searched for
#: every recorded question, and parsed if the selection chose it
REPLAY_FILES = 32


@dataclass(frozen=True, slots=True)
class FactsResult:
    facts: tuple[FileFacts, ...]
    problems: tuple[Problem, ...]
    files: int
    bytes: int
    #: every discovered file, parsed or not
    paths: tuple[str, ...] = ()

    def summary(self) -> FactsSummary:
        return FactsSummary(
            tree_files=self.files,
            parsed_files=len(self.facts),
            parsed_bytes=sum(f.size for f in self.facts),
            files_with_errors=sum(1 for f in self.facts if f.error_nodes),
            error_nodes=sum(f.error_nodes for f in self.facts),
            skipped_bytes=sum(f.skipped_bytes for f in self.facts),
            problems=self.problems,
        )


def salt(frontend: str) -> str:
    """What facts depend on besides a file's path and bytes."""
    fe = FRONTENDS[frontend]
    parts = [frontend, code_digest(), *fe.salt()]
    parts += [f"{dist}={dist_version(dist)}" for dist in fe.dists]
    return "\0".join(parts)


def dist_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, "?" if none is.

    Read from the name of its ``NAME-VERSION.dist-info`` folder on
    ``sys.path`` (the first one, as the import system finds its modules):
    ``importlib.metadata`` gives the same answer but costs about 25 ms of
    start-up (it imports the email parser), a tenth of a warm run.
    """
    import sys

    prefix = dist.replace("-", "_").replace(".", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            low = name.lower()
            if low.startswith(prefix) and low.endswith(".dist-info"):
                version = name[len(prefix) : -len(".dist-info")]
                if version and "-" not in version:
                    return version
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as metadata_version

    try:  # an egg-info or other layout: ask importlib.metadata
        return metadata_version(dist)
    except PackageNotFoundError:  # pragma: no cover - installed with us
        return "?"


def tree_key(config: Config) -> str:
    """The tree and every setting that can change which files are chosen."""
    neutral = dataclasses.replace(
        config,
        root=config.cache_key or config.root,
        only=(),
        jobs=0,
        select=(),
        ignore=(),
        strict=False,
        source="",
        severity=(),
        origins=(),
        cache_dir=None,
        cache_key="",
        revision="",
        overlay=(),
        git_objects="",
    )
    return repr(neutral)


class _Digests(dict[str, str]):
    """Path → digest of its bytes, each computed on its first lookup: a run
    with no record of the tree to compare with (``--no-cache``, a first run)
    needs the digests of the files it parses, not of all (QEMU 10.0.13's
    3,580 files take about 0.1 s to digest)."""

    def __init__(self, contents: Mapping[str, bytes]) -> None:
        super().__init__()
        self._contents = contents

    def __missing__(self, path: str) -> str:
        got = digest(self._contents[path])
        self[path] = got
        return got

    def get(self, path: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self[path] if path in self or path in self._contents else default


@runtime_checkable
class Derives(Protocol):
    """A later stage's per-run memo (:attr:`Files.memo`) that derives data
    from a file's facts: :meth:`derive` is called when the facts are
    extracted, and its result (builtin containers and the facts' own
    objects) is stored with them in the cache, then found again in
    :attr:`Files.derived` when they are loaded."""

    def derive(self, ff: FileFacts) -> object: ...


class Files:
    """The discovered files of one run: their bytes (read lazily when an
    earlier run's record says they are unchanged), digests and facts."""

    def __init__(
        self,
        files: Sequence[SourceFile],
        contents: dict[str, bytes],
        stats: dict[str, StatKey],
        prev: TreeState | None,
        cache: Cache | None,
        jobs: int,
        root: str = "",
        on_progress: Progress | None = None,
        known: Mapping[str, str] | None = None,
    ) -> None:
        """:param known: path → digest of files whose bytes are known unchanged
        (the work tree's, when a ``--diff-base`` run shares its discovery)"""
        self.root = root
        self._real_root = os.path.realpath(root) if root else ""
        self._marks: dict[str, str] = {}  # dependency → digest or stat, once per run
        self.files = files
        self.paths = [f.path for f in files]
        self.contents = contents
        self.stats = stats
        self.cache = cache
        self.jobs = jobs
        self.on_progress = on_progress
        #: path → digest of its bytes; without a record to compare with, each
        #: is computed when first looked up (see :class:`_Digests`)
        self.digests: dict[str, str] = _Digests(contents) if prev is None else {}
        known = known or {}
        for f in files:
            if f.path in known:
                self.digests[f.path] = known[f.path]
            elif prev is None:
                continue  # digested on first use
            elif f.path in contents:
                self.digests[f.path] = digest(contents[f.path])
            else:  # unchanged since prev: discovery did not read it
                self.digests[f.path] = prev.files[f.path][1] or ""
        self.changed = [
            i
            for i, p in enumerate(self.paths)
            if prev is None or p not in prev.files or prev.files[p][1] != self.digests[p]
        ]
        #: the clang front-end's planner (None: tree-sitter)
        self.clang: Planner | None = None
        #: the facts this run (and the runs of its chain) loaded or extracted,
        #: by path and digest: a ``--diff-base`` run's state at the revision
        #: takes its unchanged files' facts from the work tree's run
        self.loaded: dict[tuple[str, str], FileFacts] = {}
        #: the file selection's worker processes, while it runs (None: none)
        self.workers: Workers | None = None
        #: the model stage's per-run memo over those facts (opaque here; see
        #: :class:`qemu_lint.model.IndexMemo`), shared along the chain too;
        #: when it :class:`Derives`, what it derives from a file's facts is
        #: stored with them
        self.memo: object = None
        #: id of loaded facts → (those facts, what the memo derived from them
        #: when they were stored), for the memo to take instead of deriving
        self.derived: dict[int, tuple[FileFacts, object]] = {}

    def read(self, i: int) -> bytes:
        f = self.files[i]
        data = self.contents.get(f.path)
        if data is None:
            got = load(f)
            # Changed since discovery saw it unchanged: analyse what is there.
            data = b"" if isinstance(got, str) else got
            self.contents[f.path] = data
        return data

    def facts(self, indexes: Sequence[int]) -> list[FileFacts | Problem]:
        """The facts of the files ``indexes``: from the cache, else extracted
        (in parallel when there are many) and stored."""
        from qemu_lint.facts import FileFacts

        if self.clang is not None:
            return self._clang_facts(indexes, self.clang)
        out: list[FileFacts | Problem] = []
        todo: list[int] = []
        for i in indexes:
            key = (self.paths[i], self.digests[self.paths[i]])
            got = self.loaded.get(key)
            if got is None and self.cache is not None:
                entry = self.cache.get_facts_with(*key)
                if entry is not None:
                    got = entry[0]
                    if entry[1] is not None:
                        self.derived[id(got)] = entry
            if got is None:
                todo.append(i)
            else:
                self.loaded[key] = got
                out.append(got)
        items = [(self.files[i], self.read(i)) for i in todo]
        if self.workers is not None:
            extracted = extract_files(items, self.jobs, self.workers)
        else:  # no selection's workers (the whole tree): made for these files
            jobs = self.jobs if len(items) > WHOLE_TREE_CHUNK else 1
            with Workers(jobs) as workers:
                extracted = extract_files(items, jobs, workers)
        derive = self.memo if isinstance(self.memo, Derives) else None
        for r in extracted:
            out.append(r)
            if isinstance(r, FileFacts):
                self.loaded[(r.path, self.digests[r.path])] = r
                if self.cache is not None:
                    extra = derive.derive(r) if derive is not None else None
                    self.cache.put_facts(self.digests[r.path], r, extra)
        return out

    def _clang_facts(self, indexes: Sequence[int], planner: Planner) -> list[FileFacts | Problem]:
        """Facts by translation unit.  Besides the file's bytes they depend on
        its flags (in the key) and on every file the unit included: each entry
        keeps those files' digests (stat for files outside the tree) and is
        used only while they all still match."""
        from qemu_lint.facts import FileFacts

        out: list[FileFacts | Problem] = []
        todo: list[tuple[int, Plan, str]] = []
        for i in indexes:
            path = self.paths[i]
            plan = planner.plan(path)
            key = f"{self.digests[path]}-{plan.key()}"
            got = None
            if self.cache is not None:
                got = self.cache.get_facts(path, key)
                if got is not None and not self._deps_match(self.cache.get_deps(path, key)):
                    got = None
            if got is None:
                todo.append((i, plan, key))
            else:
                out.append(got)
        items = [(plan, self.read(i)) for i, plan, _ in todo]
        scratch = self.cache.directory if self.cache is not None else None
        got_all = extract_units(items, self.jobs, self.on_progress, scratch, self.workers)
        for (_, _, key), (r, deps) in zip(todo, got_all, strict=True):
            out.append(r)
            if isinstance(r, FileFacts) and self.cache is not None:
                self.cache.put_facts(key, r)
                self.cache.put_deps(r.path, key, tuple((d, self._dep_mark(d)) for d in deps))
        return out

    def _dep_mark(self, abspath: str) -> str:
        got = self._marks.get(abspath)
        if got is None:
            rel = os.path.relpath(abspath, self._real_root).replace(os.sep, "/")
            got = self.digests.get(rel)
            if got is None:
                try:
                    st = os.stat(abspath)
                    got = f"stat:{st.st_size}:{st.st_mtime_ns}"
                except OSError:
                    got = "missing"
            self._marks[abspath] = got
        return got

    def _deps_match(self, deps: tuple[tuple[str, str], ...] | None) -> bool:
        if deps is None:
            return False
        return all(self._dep_mark(d) == mark for d, mark in deps)

    def state(self, skipped: Sequence[Skipped], started_ns: int) -> TreeState:
        """What to record for the next run.  A file modified less than two
        seconds before this run started may be modified again within the same
        timestamp tick, so its stat key is not trusted (git's "racy clean")."""
        st = TreeState()
        if self.cache is None:  # nothing is recorded: the files' digests are not needed
            return st
        horizon = started_ns - 2_000_000_000

        def trusted(p: str) -> StatKey | None:
            key = self.stats.get(p)
            return key if key is not None and key[1] < horizon and key[2] < horizon else None

        for p in self.paths:
            st.files[p] = (trusted(p), self.digests[p], None)
        for sk in skipped:
            if sk.path in self.stats:
                st.files[sk.path] = (trusted(sk.path), None, sk.reason)
        return st


def _at_revision(
    config: Config,
    files: list[SourceFile],
    skipped: list[Skipped],
    contents: dict[str, bytes],
    stats: dict[str, StatKey],
    build: dict[str, bytes | None] | None = None,
) -> tuple[list[SourceFile], list[Skipped]]:
    """The work tree's files as they were at ``config.revision``: those that
    differ replaced by their bytes in git's object store (never written to
    disk), the others shared with the work tree (and its cache record); then
    those of ``config.overlay`` replaced by its bytes.

    :param build: filled with the build configuration's inputs that differ
    """
    from qemu_lint.discover.files import excluded
    from qemu_lint.discover.revisions import changes_at

    changes = (
        changes_at(config.root, config.revision, config.git_objects, build)
        if config.revision
        else {}
    )
    changes.update(config.overlay)  # check --fix's rounds: the fixed bytes
    files = [f for f in files if f.path not in changes]
    skipped = [s for s in skipped if s.path not in changes]
    for path, data in changes.items():
        stats.pop(path, None)  # its stat key is the work tree's, not the revision's
        contents.pop(path, None)
        if data is None or excluded(path, config.excludes):
            continue
        if not data:
            skipped.append(Skipped(path, "empty file"))
            continue
        contents[path] = data
        files.append(SourceFile(path, os.path.join(config.root, path), len(data)))
    files.sort(key=lambda f: f.path)
    return files, skipped


def input_digests(
    root: str, inputs: Iterable[str], overrides: Mapping[str, bytes | None] | None = None
) -> dict[str, str]:
    """Root-relative path → digest of its bytes ("" when it cannot be read).

    :param overrides: path → its bytes instead of the file's (None: absent)
    """
    out: dict[str, str] = {}
    for rel in inputs:
        if overrides and rel in overrides:
            data = overrides[rel]
            out[rel] = digest(data) if data is not None else ""
            continue
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                out[rel] = digest(fh.read())
        except OSError:
            out[rel] = ""
    return out


def _shares_discovery(work: Config, config: Config) -> bool:
    """Can a ``--diff-base`` run over ``config`` take its discovery from the
    work tree's run over ``work`` (the same tree, listed the same way)?"""
    return (
        bool(config.revision)
        and not work.revision
        and not work.overlay
        and work.root == config.root
        and tuple(work.excludes) == tuple(config.excludes)
    )


def _contents(state: TreeState) -> dict[str, tuple[str | None, str | None]]:
    """What a run saw of each file, without the stat keys: (digest, skip reason)."""
    return {p: (digest_, why) for p, (_, digest_, why) in state.files.items()}


def _clang_db(config: Config) -> tuple[dict[str, Command] | None, str]:
    """The clang front-end's compile commands and the digest of their file
    ("" without a build folder); libclang loaded (see ``compdb.prepare``)."""
    from qemu_lint.frontends.clang.compdb import prepare

    db = prepare(config.build_dir, config.root)
    if db is None or config.build_dir is None:
        return None, ""
    with open(os.path.join(config.build_dir, "compile_commands.json"), "rb") as fh:
        return db, digest(fh.read())


#: the fields of facts holding a line number (columns stay as they were)
_LINE_FIELDS = frozenset({"line", "end_line"})
#: values compared as they are
_PLAIN = (str, int, bool, type(None))


def line_mapped(old: object, new: object) -> bool:
    """Are the facts ``new`` those of ``old`` but for their ``size`` and their
    lines, renumbered by one strictly increasing map?

    That is what inserting or removing lines that hold no facts (a comment,
    a blank line) does to a tree-sitter file's facts: every later line
    moves, nothing else does.  Every other field, columns included, must be
    equal; a line inside a plain tuple (``FileFacts.cut``) must be equal too.
    """
    from qemu_lint.facts import FileFacts

    if not isinstance(old, FileFacts) or not isinstance(new, FileFacts) or old.path != new.path:
        return False
    lines: dict[int, int] = {}
    layout: dict[type, tuple[Callable[[object], tuple[object, ...]], frozenset[int]]] = {}
    stack: list[tuple[object, object]] = [(old, dataclasses.replace(new, size=old.size))]
    pop, push = stack.pop, stack.append
    while stack:
        a, b = pop()
        kind = type(a)
        if kind is not type(b):
            return False
        if kind is tuple:
            assert isinstance(a, tuple) and isinstance(b, tuple)
            if len(a) != len(b):
                return False
            for x, y in zip(a, b, strict=True):
                if x is not y:
                    push((x, y))
            continue
        if kind in _PLAIN or kind.__module__ != "qemu_lint.facts":
            if a != b:
                return False
            continue
        got = layout.get(kind)
        if got is None:
            names: tuple[str, ...] = kind.__slots__  # type: ignore[attr-defined]
            at = frozenset(i for i, n in enumerate(names) if n in _LINE_FIELDS)
            got = layout[kind] = (operator.attrgetter(*names), at)
        values, at = got
        for i, (x, y) in enumerate(zip(values(a), values(b), strict=True)):
            if i in at:
                assert isinstance(x, int) and isinstance(y, int)
                if lines.setdefault(x, y) != y:
                    return False
            elif x is not y:
                if type(x) in _PLAIN and type(y) is type(x):
                    if x != y:
                        return False
                else:
                    push((x, y))
    return all(p[1] < q[1] for p, q in pairwise(sorted(lines.items())))


class Session:
    """One run over a tree: discovery, the cache's record of the last run,
    and what this run will record for the next one.

    :param on_progress: told how extraction advances (clang front-end)
    :param work: the run over the work tree that this ``--diff-base`` run
        follows in the same process: its discovery is reused
    """

    #: the discovered files (declared here: a later session reads an earlier one's)
    files: Files
    #: the record kept under this run's key (``prev`` may be the work tree's)
    _recorded: TreeState | None = None
    #: what :meth:`replay` found (None: not asked yet)
    _replayed: bool | None = None
    #: whether every question of the recorded run still has its answer
    #: (None: not compared yet; see :meth:`_same_answers`)
    _answers_same: bool | None = None

    def __init__(
        self,
        config: Config,
        on_progress: Progress | None = None,
        work: Session | None = None,
    ) -> None:
        db, db_digest = _clang_db(config) if config.frontend == "clang" else (None, "")
        self.config = config
        #: the build configuration, once loaded (see :func:`qemu_lint.select.build_facts`)
        self.build: object = None
        started_ns = time.time_ns()
        self.cache: Cache | None = None
        self.prev: TreeState | None = None
        self.key = tree_key(config)
        if config.cache_dir:
            run_salt = salt(config.frontend)
            if db is not None:
                run_salt += "\0db=" + db_digest
            self.cache = Cache(config.cache_dir, run_salt)
            self.cache.validate()
            self.prev = self.cache.get_tree(self.key)
            self._recorded = self.prev
            if self.prev is None and (config.revision or config.overlay):
                # the state at a revision shares the work tree's unchanged files
                work_cfg = dataclasses.replace(
                    config, cache_key="", revision="", overlay=(), git_objects=""
                )
                self.prev = self.cache.get_tree(tree_key(work_cfg))
        shared = work if work is not None and _shares_discovery(work.config, config) else None
        files, skipped, contents, stats, known_digests = self._discover(shared)
        #: what discovery skipped in the work tree (before any --diff-base change)
        self.discovered_skips: tuple[Skipped, ...] = tuple(skipped)
        #: the build configuration's inputs that differ at the revision
        self.build_changes: dict[str, bytes | None] = {}
        if config.revision or config.overlay:
            files, skipped = _at_revision(
                config, files, skipped, contents, stats, self.build_changes
            )
            if self.build_changes:
                self.build = None  # the work tree's (shared) does not hold
            # a file that differs at the revision lost its stat key there
            known_digests = {p: d for p, d in known_digests.items() if p in stats}
        self.skipped = [
            Problem(s.path, f"skipped: {s.reason}", untrusted="input" if s.is_needed else "")
            for s in skipped
        ]
        jobs = config.jobs or min(os.cpu_count() or 1, 8)
        self.files = Files(
            files,
            contents,
            stats,
            self.prev,
            self.cache,
            jobs,
            config.root,
            on_progress,
            known_digests,
        )
        self._share(work, shared)
        #: the bytes discovery read (the files new or changed since the last run)
        self.read_by_discovery: Mapping[str, bytes] = dict(contents)
        if config.frontend == "clang":
            from qemu_lint.frontends.clang.compdb import Planner

            self.files.clang = Planner(config.root, self.files.paths, self.files.read, db)
        self.state = self.files.state(skipped, started_ns)
        #: the digests of the recorded run's other inputs, as they are now
        self.inputs_now: dict[str, str] = {}
        #: the recorded facts of changed files, by path (see :meth:`_recorded_facts`)
        self._old_facts: dict[str, FileFacts] = {}
        #: nothing changed since the run the cache recorded: the same files with
        #: the same bytes, the same files skipped for the same reasons, and the
        #: same bytes in its other inputs (the build configuration's)
        self.unchanged = self._compare(shared)

    def _share(self, work: Session | None, shared: Session | None) -> None:
        """Take the facts (and their call-graph parts) of the earlier run
        ``work`` of the chain over the same tree: a file's facts are those
        of its bytes, by path and digest.  A ``--diff-base`` state that
        shares the work tree's discovery (``shared``) also reads its changed
        files now; the states of one audit share only the facts."""
        if work is None or work.config.root != self.config.root:
            return
        self.files.loaded = work.files.loaded
        self.files.memo = work.files.memo
        self.files.derived = work.files.derived
        if shared is not None:
            # Unchanged since the work tree's record but not since this
            # state's: read now, as a discovery of its own would have (their
            # inline suppressions are scanned again).
            for i in self.files.changed:
                self.files.read(i)

    def _discover(
        self, shared: Session | None
    ) -> tuple[
        list[SourceFile], list[Skipped], dict[str, bytes], dict[str, StatKey], dict[str, str]
    ]:
        """The files, the files skipped, the bytes read, the stat keys, and
        the digests known without reading (see :class:`Files`)."""
        if shared is not None:
            # The work tree was discovered a moment ago in this process:
            # the same files, stat keys and digests, not listed again.
            self.build = shared.build
            return (
                list(shared.files.files),
                list(shared.discovered_skips),
                dict(shared.read_by_discovery),
                dict(shared.files.stats),
                dict(shared.files.digests),
            )
        contents: dict[str, bytes] = {}
        stats: dict[str, StatKey] = {}
        known = None
        if self.prev is not None:
            known = {p: (k, why) for p, (k, _, why) in self.prev.files.items() if k is not None}
        files, skipped = discover(
            self.config.root, self.config.excludes, contents=contents, known=known, stats=stats
        )
        return files, skipped, contents, stats, {}

    def _compare(self, shared: Session | None) -> bool:
        """Is the tree as the recorded run saw it?  If so, take over what that
        run recorded of the selection, the results and the build."""
        prev = self.prev
        if shared is not None and shared.build is not None and not self.build_changes:
            self.state.inputs = dict(shared.state.inputs)  # those of the build shared
        if prev is None or _contents(self.state) != _contents(prev):
            return False
        if (
            shared is not None
            and not self.build_changes
            and shared.inputs_now.keys() == prev.inputs.keys()
        ):
            self.inputs_now = shared.inputs_now
        else:
            self.inputs_now = input_digests(self.config.root, prev.inputs, self.build_changes)
        if self.inputs_now != prev.inputs:
            return False
        self._take_over(prev, prev.summary)
        return True

    def _take_over(self, prev: TreeState, summary: FactsSummary | None) -> None:
        """Record what ``prev`` recorded of the selection, the results and the build."""
        self.state.inputs = dict(prev.inputs)
        self.state.build_counts = prev.build_counts
        self.state.build_answers = dict(prev.build_answers)
        self.state.answers = dict(prev.answers)
        self.state.chosen = dict(prev.chosen)
        self.state.rounds = dict(prev.rounds)
        self.state.results = dict(prev.results)
        self.state.summary = summary

    def replay(self) -> bool:
        """Does the recorded run's outcome stand for this run: nothing changed
        (:attr:`unchanged`), or only files whose changes cannot change it?

        The selection and the rules are functions of the facts of the files
        chosen, the answers of the token index and the build configuration.
        When the same files are discovered and skipped, the build
        configuration's inputs are unchanged, every question the recorded
        run asked still has its recorded answer in the changed files, and
        each changed file the selection chose has the facts it had but for
        its size (a comment or spaces within lines), the selection would
        choose the same files and the rules yield the same diagnostics: they
        are taken over (the summary's parsed bytes corrected).  Tree-sitter
        facts only (a unit's clang facts depend on its includes), and at
        most :data:`REPLAY_FILES` changed files.
        """
        if self._replayed is None:
            self._replayed = self.unchanged or self._replayable()
        return self._replayed

    def _replayable(self) -> bool:
        prev, tf = self.prev, self.files
        if prev is None or prev.summary is None or tf.clang is not None or self.cache is None:
            return False
        now, then = _contents(self.state), _contents(prev)
        if now.keys() != then.keys() or len(tf.changed) > REPLAY_FILES:
            return False
        if any(now[p][1] != then[p][1] for p in now):  # a skip reason changed
            return False
        changed = [tf.paths[i] for i in tf.changed]
        if any(p.file in changed for p in prev.summary.problems):
            return False
        inputs_now = input_digests(self.config.root, prev.inputs, self.build_changes)
        self.inputs_now = inputs_now  # the build configuration's check reuses them
        if inputs_now != prev.inputs or not self._same_answers(prev):
            return False
        delta = self._size_change(prev, then)
        if delta is None:
            return False
        log.debug("cache: %d files changed, with the same facts and answers", len(changed))
        self.inputs_now = inputs_now
        summary = prev.summary
        self._take_over(
            prev, dataclasses.replace(summary, parsed_bytes=summary.parsed_bytes + delta)
        )
        return True

    def _same_answers(self, prev: TreeState) -> bool:
        """Does every question of the recorded run have its recorded answer?
        (One search of the changed files, done once per run.)"""
        from qemu_lint.discover.tokens import MemoIndex

        if self._answers_same is None:
            tf = self.files
            tokens = MemoIndex(tf.paths, tf.read, prev.answers, tf.changed)
            tokens.prefetch(prev.answers)
            for q in prev.answers:
                tokens.answer(q)
            self._answers_same = tokens.answers == prev.answers
        return self._answers_same

    def _size_change(
        self, prev: TreeState, then: Mapping[str, tuple[str | None, str | None]]
    ) -> int | None:
        """How many bytes the changed files chosen by the ``check`` selection
        grew by, or None if one of the chosen changed files has other facts."""
        from qemu_lint.facts import FileFacts

        assert self.cache is not None
        chosen = {p for paths in prev.chosen.values() for p in paths}
        check = set(prev.chosen.get("check", ()))
        delta = 0
        for path, old, new in self._changed_facts(chosen):
            if old is None or not isinstance(new, FileFacts):
                return None
            if dataclasses.replace(new, size=old.size) != old:
                return None
            delta += new.size - old.size if path in check else 0
        return delta

    def _changed_facts(
        self, chosen: Collection[str]
    ) -> Iterator[tuple[str, FileFacts | None, FileFacts | Problem]]:
        """The changed files among ``chosen``, one at a time: the path, the
        recorded facts and the facts now (parsed when asked for)."""
        tf = self.files
        for i in tf.changed:
            path = tf.paths[i]
            if path in chosen:
                yield path, self._recorded_facts(path), tf.facts([i])[0]

    def _recorded_facts(self, path: str) -> FileFacts | None:
        """The facts of ``path`` as the recorded run saw it (from the cache,
        loaded once per run)."""
        got = self._old_facts.get(path)
        if got is None and self.cache is not None and self.prev is not None:
            entry = self.prev.files.get(path)
            got = self.cache.get_facts(path, entry[1] or "") if entry is not None else None
            if got is not None:
                self._old_facts[path] = got
        return got

    def selection_stands(self, mode: str) -> bool:
        """Would the file selection ``mode`` choose the files, in the rounds,
        that the recorded run's chose?  (Then :mod:`qemu_lint.select` takes
        them without running its closure; the rules still run.)

        Yes when the same files are discovered and skipped for the same
        reasons, every question of the recorded run has its recorded answer
        (:meth:`_same_answers`), and each changed file the selection chose
        has the recorded facts but for its size and its lines, renumbered by
        one strictly increasing map (:func:`line_mapped`: lines inserted or
        removed that hold no facts, a comment or blank line).  Why the
        closure's questions cannot change then is argued (and tested) at
        :func:`qemu_lint.select.replayed_choice`.  The build configuration
        is not an input of the closure.  Tree-sitter facts only, at most
        :data:`REPLAY_FILES` changed files.
        """
        prev, tf = self.prev, self.files
        if prev is None or self.cache is None or tf.clang is not None:
            return False
        if mode not in prev.chosen or mode not in prev.rounds or len(tf.changed) > REPLAY_FILES:
            return False
        now, then = _contents(self.state), _contents(prev)
        if now.keys() != then.keys() or any(now[p][1] != then[p][1] for p in now):
            return False
        if not self._same_answers(prev):
            return False
        changed = self._changed_facts(set(prev.chosen[mode]))
        if not all(old is not None and line_mapped(old, new) for _, old, new in changed):
            return False
        log.debug("cache: the selection's choice stands (%d files changed)", len(tf.changed))
        return True

    def suppressions(
        self, scan: Callable[[Mapping[str, bytes]], Sequence[S]], kind: type[S]
    ) -> tuple[S, ...]:
        """The inline suppressions of every discovered file: scanned (with
        ``scan``) in the files discovery read, remembered from the last run for
        the others; recorded for the next run.

        :param kind: their type (the record keeps them opaque)
        """
        prev = self.prev.suppressions if self.prev is not None else {}
        contents = self.read_by_discovery
        found: dict[str, tuple[S, ...]] = {}
        for p in self.files.paths:
            got: Sequence[object] = scan({p: contents[p]}) if p in contents else prev.get(p, ())
            if got:
                found[p] = tuple(s for s in got if isinstance(s, kind))
        self.state.suppressions = dict(found)
        return tuple(s for p in sorted(found) for s in found[p])

    def save(self) -> None:
        """Record this run for the next one, unless the record under its key
        already says the same (an unchanged tree: the record is about 380 kB
        on QEMU 10.0.13, pickled and written again for nothing)."""
        if self.cache is not None and self.state != self._recorded:
            self.cache.put_tree(self.key, self.state)
