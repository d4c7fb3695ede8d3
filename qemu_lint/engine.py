"""The pipeline: discover → parse → extract (process pool) → model → rules → report.

Entry points: :func:`collect_facts` (facts of every file of a tree, plus the
problems met), :func:`run` (a whole ``check``: returns a
:class:`~qemu_lint.findings.Report`) and :func:`run_model` (the model only).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qemu_lint import __version__
from qemu_lint.cache import Cache, TreeState, digest
from qemu_lint.settings import Config, check_against_tree
from qemu_lint.discover.files import Skipped, StatKey, discover, load
from qemu_lint.facts import FileFacts
from qemu_lint.findings import Finding, Problem, Report, RuleInfo, Stats, fingerprint
from qemu_lint.findings.linehash import line_hash
from qemu_lint.model import Model, build_model
from qemu_lint.discover.tokens import Query
from qemu_lint.rule import Diagnostic, Rule, RuleOptions
from qemu_lint.source import SourceFile, snippet
from qemu_lint.findings.suppress import UNUSED, Suppression, judge, scan_tree, silence
from qemu_lint.rules import ALL_RULES

if TYPE_CHECKING:
    from qemu_lint.frontends.clang.extract import Command, Plan, Planner

log = logging.getLogger(__name__)

CHUNK = 64


@dataclass(frozen=True, slots=True)
class FactsResult:
    facts: tuple[FileFacts, ...]
    problems: tuple[Problem, ...]
    files: int
    bytes: int
    #: every discovered file, parsed or not
    paths: tuple[str, ...] = ()
    #: the inline suppressions of every discovered file, parsed or not
    suppressions: tuple[Suppression, ...] = ()

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


@dataclass(frozen=True, slots=True)
class FactsSummary:
    """What the report says of the facts (kept in the cache with the results)."""

    tree_files: int
    parsed_files: int
    parsed_bytes: int
    files_with_errors: int
    error_nodes: int
    skipped_bytes: int
    problems: tuple[Problem, ...]


def _extract_chunk(chunk: Sequence[tuple[SourceFile, bytes]]) -> list[FileFacts | Problem]:
    # Imported here so that worker processes load the parser lazily.
    from qemu_lint.frontends.treesitter.extract import extract_file
    from qemu_lint.frontends.treesitter.parse import parse_bytes

    out: list[FileFacts | Problem] = []
    for sf, data in chunk:
        try:
            out.append(extract_file(sf.path, data, parse_bytes(data)))
        except RecursionError:
            out.append(Problem(sf.path, "skipped: nesting too deep to analyse"))
    return out


def _extract_clang_one(item: tuple[Plan, bytes]) -> tuple[FileFacts | Problem, tuple[str, ...]]:
    # Imported here so that worker processes load libclang lazily.
    from qemu_lint.frontends.clang.extract import extract_unit

    plan, data = item
    try:
        got, deps = extract_unit(plan, data)
        return (Problem(plan.path, got) if isinstance(got, str) else got), deps
    except Exception as e:  # a file libclang cannot handle must not stop the run
        log.debug("clang: %s:\n%s", plan.path, traceback.format_exc())
        return Problem(plan.path, f"skipped: libclang could not parse it ({e!r})"), ()


def _extract_clang(
    items: Sequence[tuple[Plan, bytes]], jobs: int
) -> list[tuple[FileFacts | Problem, tuple[str, ...]]]:
    """Parse translation units, in ``jobs`` processes when there are several,
    with a progress bar when stderr is a terminal."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    results: list[tuple[FileFacts | Problem, tuple[str, ...]] | None] = [None] * len(items)
    with _progress(len(items), "clang") as advance:
        if jobs <= 1 or len(items) <= 1:
            for n, item in enumerate(items):
                results[n] = _extract_clang_one(item)
                advance()
        else:
            try:
                with ProcessPoolExecutor(max_workers=min(jobs, len(items))) as pool:
                    futures = {pool.submit(_extract_clang_one, it): n for n, it in enumerate(items)}
                    for fut in as_completed(futures):
                        results[futures[fut]] = fut.result()
                        advance()
            except BrokenProcessPool:  # libclang crashed a worker
                pass
    return [
        r if r is not None else (Problem(items[n][0].path, "skipped: libclang crashed on it"), ())
        for n, r in enumerate(results)
    ]


class _progress:  # noqa: N801 - used as a function
    """A transient progress bar on stderr when it is an interactive terminal
    (never in CI or on a dumb terminal); yields the function that advances it."""

    def __init__(self, total: int, what: str) -> None:
        self.total = total
        self.what = what
        self.bar: object | None = None

    def __enter__(self) -> Callable[[], None]:
        import sys

        term = os.environ.get("TERM", "")
        if self.total < 2 or not sys.stderr.isatty() or os.environ.get("CI") or term == "dumb":
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(
            TextColumn(f"[bold]{self.what}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        bar.start()
        task = bar.add_task(self.what, total=self.total)
        self.bar = bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()  # type: ignore[attr-defined]  # rich.progress.Progress


def _extract_all(items: Sequence[tuple[SourceFile, bytes]], jobs: int) -> list[FileFacts | Problem]:
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    results: list[FileFacts | Problem] = []
    if jobs <= 1 or len(chunks) <= 1:
        for c in chunks:
            results.extend(_extract_chunk(c))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
            for part in pool.map(_extract_chunk, chunks):
                results.extend(part)
    return results


#: Identifiers whose mention makes a file relevant from the start.
SEED_WORDS = ("AcpiCpuStatus", "CPUHotplugState", "build_cpus_aml")
#: Types whose defining headers are relevant from the start.
SEED_TYPES = ("CPUClass", "CPUState")


def collect_facts(
    config: Config, whole_tree: bool = False, hook_tables: bool = False
) -> FactsResult:
    """Discover the tree's files and extract the facts of those that can matter
    (see :func:`_collect`)."""
    return _collect(config, whole_tree, hook_tables)[0]


def _salt(frontend: str) -> str:
    """What facts depend on besides a file's path and bytes."""
    from importlib.metadata import PackageNotFoundError, version

    from qemu_lint.cache import code_digest

    parts = [frontend, code_digest()]
    dists = ("tree-sitter", "tree-sitter-c") if frontend == "tree-sitter" else ("libclang",)
    if frontend == "clang":
        from qemu_lint.frontends.clang.extract import builtin_include_dir, stubs_digest

        parts.append(f"builtins={builtin_include_dir()}")
        parts.append(f"stubs={stubs_digest()}")
    for dist in dists:
        try:
            parts.append(f"{dist}={version(dist)}")
        except PackageNotFoundError:  # pragma: no cover - installed with us
            parts.append(f"{dist}=?")
    return "\0".join(parts)


def _tree_key(config: Config) -> str:
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
    )
    return repr(neutral)


class _Files:
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
    ) -> None:
        self.root = root
        self._real_root = os.path.realpath(root) if root else ""
        self._marks: dict[str, str] = {}  # dependency → digest or stat, once per run
        self.files = files
        self.paths = [f.path for f in files]
        self.contents = contents
        self.stats = stats
        self.cache = cache
        self.jobs = jobs
        self.digests: dict[str, str] = {}
        for f in files:
            if f.path in contents:
                self.digests[f.path] = digest(contents[f.path])
            else:  # unchanged since prev: discovery did not read it
                assert prev is not None
                self.digests[f.path] = prev.files[f.path][1] or ""
        self.changed = [
            i
            for i, p in enumerate(self.paths)
            if prev is None or p not in prev.files or prev.files[p][1] != self.digests[p]
        ]
        #: the clang front-end's planner (None: tree-sitter)
        self.clang: Planner | None = None

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
        if self.clang is not None:
            return self._clang_facts(indexes, self.clang)
        out: list[FileFacts | Problem] = []
        todo: list[int] = []
        for i in indexes:
            got = None
            if self.cache is not None:
                got = self.cache.get_facts(self.paths[i], self.digests[self.paths[i]])
            if got is None:
                todo.append(i)
            else:
                out.append(got)
        items = [(self.files[i], self.read(i)) for i in todo]
        jobs = self.jobs if len(items) > CHUNK else 1
        for r in _extract_all(items, jobs):
            out.append(r)
            if isinstance(r, FileFacts) and self.cache is not None:
                self.cache.put_facts(self.digests[r.path], r)
        return out

    def _clang_facts(self, indexes: Sequence[int], planner: Planner) -> list[FileFacts | Problem]:
        """Facts by translation unit.  Besides the file's bytes they depend on
        its flags (in the key) and on every file the unit included: each entry
        keeps those files' digests (stat for files outside the tree) and is
        used only while they all still match."""
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
        for (_, _, key), (r, deps) in zip(todo, _extract_clang(items, self.jobs), strict=True):
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


def _contents(state: TreeState) -> dict[str, tuple[str | None, str | None]]:
    """What a run saw of each file, without the stat keys: (digest, skip reason)."""
    return {p: (digest_, why) for p, (_, digest_, why) in state.files.items()}


class _Session:
    """One run over a tree: discovery, the cache's record of the last run,
    and what this run will record for the next one."""

    def __init__(self, config: Config) -> None:
        db = _clang_setup(config) if config.frontend == "clang" else None
        self.config = config
        started_ns = time.time_ns()
        self.cache: Cache | None = None
        self.prev: TreeState | None = None
        self.key = _tree_key(config)
        if config.cache_dir:
            salt = _salt(config.frontend)
            if db is not None:
                salt += "\0db=" + db[1]
            self.cache = Cache(config.cache_dir, salt)
            self.cache.validate()
            self.prev = self.cache.get_tree(self.key)
        contents: dict[str, bytes] = {}
        stats: dict[str, StatKey] = {}
        known = None
        if self.prev is not None:
            known = {p: (k, why) for p, (k, _, why) in self.prev.files.items() if k is not None}
        files, skipped = discover(
            config.root, config.excludes, contents=contents, known=known, stats=stats
        )
        self.skipped = [Problem(s.path, f"skipped: {s.reason}") for s in skipped]
        jobs = config.jobs or min(os.cpu_count() or 1, 8)
        self.files = _Files(files, contents, stats, self.prev, self.cache, jobs, config.root)
        if config.frontend == "clang":
            from qemu_lint.frontends.clang.extract import Planner

            self.files.clang = Planner(
                config.root, self.files.paths, self.files.read, db[0] if db else None
            )
        self.state = self.files.state(skipped, started_ns)
        #: nothing changed since the run the cache recorded: the same files with
        #: the same bytes, and the same files skipped for the same reasons
        self.unchanged = self.prev is not None and _contents(self.state) == _contents(self.prev)
        self.suppressions = self._suppressions(contents)
        if self.prev is not None and self.unchanged:
            self.state.answers = dict(self.prev.answers)
            self.state.chosen = dict(self.prev.chosen)
            self.state.results = dict(self.prev.results)
            self.state.summary = self.prev.summary

    def _suppressions(self, contents: Mapping[str, bytes]) -> tuple[Suppression, ...]:
        """The inline suppressions of every discovered file: scanned in the
        files read this run, remembered from the last run for the others."""
        prev = self.prev.suppressions if self.prev is not None else {}
        found: dict[str, tuple[Suppression, ...]] = {}
        for p in self.files.paths:
            if p in contents:
                got: tuple[object, ...] = scan_tree({p: contents[p]})
            else:
                got = prev.get(p, ())
            if got:
                found[p] = tuple(s for s in got if isinstance(s, Suppression))
        self.state.suppressions = dict(found)
        return tuple(s for p in sorted(found) for s in found[p])

    def collect(self, whole_tree: bool, hook_tables: bool) -> tuple[FactsResult, Model | None]:
        """Extract the facts of the files that can matter.

        With ``whole_tree`` every file is parsed.  Otherwise the files are
        chosen by a closure (with ``hook_tables``, it also takes in every file
        naming a CPUClass hook table, where implementations are registered):
        start from the files mentioning the ACPI CPU hotplug state, the hooks
        and the AML builder; build the model; ask it what it still lacks
        (callers of the functions on the way to a site, dispatching field
        calls, definitions of types and cast macros); parse the files that
        mention those; repeat until nothing new is asked for.

        With a cache, facts come from it when a file's bytes are unchanged,
        files whose stat is unchanged since the last run are not read, the
        closure's questions are answered from the last run's answers plus a
        search of the changed files, and with nothing changed the last run's
        choice of files stands (see :mod:`qemu_lint.cache`).

        :return: the facts, and the closure's last model (built from exactly
            those facts), or None when no model was built on the way
        """
        tf, prev = self.files, self.prev
        mode = "tree" if whole_tree else ("hooks" if hook_tables else "check")
        model = None
        if whole_tree:
            # Shipping every file's facts back from worker processes costs
            # about as much as extracting them (measured on QEMU 10.0.13), so
            # the whole tree is extracted in one process unless --jobs asks.
            if self.config.frontend == "tree-sitter":
                tf.jobs = self.config.jobs or 1
            results = tf.facts(range(len(tf.paths)))
        elif prev is not None and self.unchanged and mode in prev.chosen:
            pos = {p: i for i, p in enumerate(tf.paths)}
            results = tf.facts([pos[p] for p in prev.chosen[mode]])
            log.debug("closure: unchanged tree, %d files reused", len(results))
        else:
            results, model, answers = _closure(self.config, tf, prev, hook_tables)
            self.state.answers.update(answers)
        facts = tuple(
            sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path)
        )
        problems = self.skipped + [r for r in results if isinstance(r, Problem)]
        self.state.chosen[mode] = tuple(f.path for f in facts)
        fr = FactsResult(
            facts,
            tuple(problems),
            len(tf.paths),
            sum(f.size for f in tf.files),
            tuple(tf.paths),
            self.suppressions,
        )
        return fr, model

    def save(self) -> None:
        """Record this run for the next one."""
        if self.cache is not None:
            self.cache.put_tree(self.key, self.state)
            log.debug("cache: %d facts hits, %d misses", self.cache.hits, self.cache.misses)


def _clang_setup(config: Config) -> tuple[dict[str, Command], str] | None:
    """Load libclang and the compilation database (with its digest), or say
    once that flags will be derived.

    :raise UsageError: when libclang cannot be loaded
    :raise InputError: when ``-p`` names a folder without a readable
        ``compile_commands.json``
    """
    from qemu_lint.frontends.clang.extract import builtin_include_dir, load_cindex, load_compile_db

    load_cindex()
    if builtin_include_dir() is None:
        log.warning(
            "clang: no system compiler found for the builtin headers (stddef.h, stdarg.h…); "
            "using qemu-lint's minimal stand-ins"
        )
    if config.build_dir is None:
        log.warning(
            "clang: no compilation database (-p BUILD_DIR); flags are derived from the "
            "tree layout and generated headers are missing (counted as parse errors)"
        )
        return None
    db = load_compile_db(config.build_dir, config.root)
    with open(os.path.join(config.build_dir, "compile_commands.json"), "rb") as fh:
        return db, digest(fh.read())


def _collect(
    config: Config, whole_tree: bool, hook_tables: bool
) -> tuple[FactsResult, Model | None]:
    """Discover the tree and extract the facts that can matter (see
    :meth:`_Session.collect`)."""
    session = _Session(config)
    got = session.collect(whole_tree, hook_tables)
    session.save()
    return got


def _closure(
    config: Config,
    tf: _Files,
    prev: TreeState | None,
    hook_tables: bool,
) -> tuple[list[FileFacts | Problem], Model | None, dict[Query, frozenset[str]]]:
    from qemu_lint.model import wanted
    from qemu_lint.discover.tokens import MemoIndex

    results: list[FileFacts | Problem] = []
    tokens = MemoIndex(tf.paths, tf.read, prev.answers if prev else {}, tf.changed)
    chosen: set[int] = set()
    for t in SEED_WORDS + tuple(h.split("::")[-1] for h in config.hooks):
        chosen |= tokens.files_with_word(t)
    # the headers declaring the hook tables and the CPU types
    for t in SEED_TYPES + tuple(h.split("::")[0] for h in config.hooks if "::" in h):
        chosen |= tokens.files_defining(t)
    # the CPU class_init of each required architecture (persistence-hook-required)
    for arch in config.required_archs:
        own = f"target/{arch}/"
        for t in ("CPUClass", "CPU_CLASS"):
            chosen |= {i for i in tokens.files_with_word(t) if tf.paths[i].startswith(own)}
    done: set[int] = set()
    model: Model | None = None
    rounds = 0
    while True:
        todo = sorted(chosen - done)
        if not todo:
            break
        rounds += 1
        results.extend(tf.facts(todo))
        done.update(todo)
        facts = sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path)
        model = build_model(
            config.root,
            facts,
            hooks=config.hooks,
            presence_bit=config.presence_bit,
            all_paths=tf.paths,
            presence_fields=config.presence_fields,
        )
        w = wanted(model, SEED_WORDS, hook_tables)
        nxt: set[int] = set()
        for n in w.names | w.tokens:
            nxt |= tokens.files_with_word(n)
        for f in w.fields:
            nxt |= tokens.files_calling_field(f)
        for t in w.types | w.macros:
            nxt |= tokens.files_defining(t)
        for n in w.definitions:
            nxt |= tokens.files_defining_function(n)
        chosen |= nxt
        if rounds > 50:  # pragma: no cover - the closure is finite; this is a guard
            break
    log.debug(
        "closure: %d rounds, %d of %d files parsed, %d changed, %d full searches",
        rounds,
        len(done),
        len(tf.paths),
        len(tf.changed),
        tokens.full_searches,
    )
    return results, model, tokens.answers


def run_model(
    config: Config, whole_tree: bool = False, hook_tables: bool = False
) -> tuple[Model, FactsResult]:
    """Build the model of ``config.root`` (see :meth:`_Session.collect`)."""
    fr, model = _collect(config, whole_tree, hook_tables)
    return model or _build(config, fr), fr


def _build(config: Config, fr: FactsResult) -> Model:
    return build_model(
        config.root,
        fr.facts,
        hooks=config.hooks,
        presence_bit=config.presence_bit,
        all_paths=fr.paths,
        presence_fields=config.presence_fields,
    )


def _options(rule: Rule, config: Config) -> RuleOptions:
    """The rule's options from the configuration: each field of its ``Options``
    takes the setting of the same name (``required_archs`` ← ``required-archs``)."""
    keys = {f.name: f.name.replace("_", "-") for f in dataclasses.fields(rule.options)}
    declared = {s.key for s in config.declared} | set(config.values)
    return rule.options(**{n: config.value(k) for n, k in keys.items() if k in declared})


def _selected(config: Config) -> list[Rule]:
    rules = [r for r in ALL_RULES if not config.select or r.id in config.select]
    return [r for r in rules if r.id not in config.ignore]


def _frame(
    root: str, path: str, line: int, context: int = 2
) -> tuple[tuple[tuple[int, str], ...], str | None]:
    """The code frame around ``line`` and GitHub's line hash of it ((), None if unreadable)."""
    try:
        with open(os.path.join(root, path), "rb") as fh:
            # decoded as upload-sarif reads it: invalid bytes become U+FFFD, line ends kept
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return (), None
    return tuple(snippet(text, line, context)), line_hash(text, line)


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


def run(config: Config) -> Report:
    """Run a whole check over ``config.root``."""
    t0 = time.monotonic()
    check_against_tree(config)
    session = _Session(config)
    selected = _selected(config)
    cached = session.state.results
    summary = session.state.summary
    diags: list[tuple[Rule, Diagnostic]] = []
    crashes: list[Problem] = []
    ran: set[str] = set()
    if isinstance(summary, FactsSummary) and all(r.id in cached for r in selected):
        # Nothing changed since a run that checked these rules: the same
        # facts would give the same model and the same diagnostics.
        log.debug("cache: unchanged tree, diagnostics reused")
        for rule in selected:
            diags.extend((rule, d) for d in cached[rule.id] if isinstance(d, Diagnostic))
            ran.add(rule.id)
    else:
        fr, model = session.collect(whole_tree=False, hook_tables=False)
        model = model or _build(config, fr)
        summary = fr.summary()
        if model.acpi.unknown_presence_fields:
            warning = Problem(
                config.origin_of("presence-fields"),
                "'presence-fields': AcpiCpuStatus declares no field "
                + ", ".join(repr(f) for f in model.acpi.unknown_presence_fields)
                + " in this tree",
            )
            summary = dataclasses.replace(summary, problems=summary.problems + (warning,))
        session.state.summary = summary
        for rule in selected:
            opts = _options(rule, config)
            try:
                got = tuple(rule.check(model, opts))
            except Exception as e:  # a rule crash must not kill the run
                if config.strict:
                    raise
                log.debug("rule %s crashed:\n%s", rule.id, traceback.format_exc())
                crashes.append(Problem("", f"rule {rule.id} crashed: {e!r}", "error"))
                continue
            session.state.results[rule.id] = got
            diags.extend((rule, d) for d in got)
            ran.add(rule.id)
    session.save()
    problems = list(summary.problems) + crashes
    unused_rule = next((r for r in selected if r.id == UNUSED and r.id in ran), None)
    active, suppressed = _suppress(
        config, _stamp(config, diags), session.suppressions, ran, unused_rule
    )
    findings = []
    for f in sorted(active, key=_order):
        if _relevant(f, config.only):
            frame, lhash = _frame(config.root, f.file, f.line)
            findings.append(dataclasses.replace(f, frame=frame, line_hash=lhash))
    silenced = [f for f in sorted(suppressed, key=_order) if _relevant(f, config.only)]
    stats = Stats(
        files=summary.parsed_files,
        bytes=summary.parsed_bytes,
        seconds=time.monotonic() - t0,
        tree_files=summary.tree_files,
        parsed_files=summary.parsed_files,
        skipped_files=sum(1 for p in summary.problems if p.message.startswith("skipped")),
        files_with_errors=summary.files_with_errors,
        error_nodes=summary.error_nodes,
        skipped_bytes=summary.skipped_bytes,
        suppressed=len(silenced),
    )
    rules = tuple(
        RuleInfo(r.id, r.severity.value, r.summary, r.doc, r.tags, r.precision) for r in ALL_RULES
    )
    return Report(
        config.root,
        tuple(findings),
        tuple(problems),
        stats,
        rules,
        __version__,
        suppressed=tuple(silenced),
    )


def dump_facts(path: str, frontend: str = "tree-sitter") -> str:
    """The facts of one file as indented JSON (the equivalent of an AST dump).

    With the clang front-end the file is parsed with derived flags, inside
    its QEMU tree when it is in one.

    :raise InputError: when the file cannot be read or analysed
    """
    import json

    from qemu_lint.errors import InputError
    from qemu_lint.frontends.treesitter.extract import extract_file
    from qemu_lint.frontends.treesitter.parse import parse_bytes

    if not os.path.isfile(path):
        raise InputError("no such file", path)
    data = load(SourceFile(path, path, os.path.getsize(path)))
    if isinstance(data, str):
        raise InputError(data, path)
    if frontend == "clang":
        from qemu_lint.discover.files import find_root
        from qemu_lint.errors import LintError
        from qemu_lint.frontends.clang.extract import Planner, extract_unit, load_cindex

        load_cindex()
        try:
            root = find_root(path)
        except LintError:
            root = os.path.dirname(os.path.abspath(path))
        rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        got, _ = extract_unit(Planner(root, [rel], lambda i: data, None).plan(rel), data)
        if isinstance(got, str):
            raise InputError(got, path)
        facts = got
    else:
        facts = extract_file(path, data, parse_bytes(data))
    return json.dumps(dataclasses.asdict(facts), indent=1) + "\n"
