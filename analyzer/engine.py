"""The pipeline: discover → parse → extract (process pool) → model → rules → report.

Entry points: :func:`collect_facts` (facts of every file of a tree, plus the
problems met), :func:`run` (a whole ``check``: returns a
:class:`~analyzer.findings.Report`) and :func:`run_model` (the model only).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from analyzer import __version__
from analyzer.config import Config, check_against_tree
from analyzer.discovery import discover, load
from analyzer.facts import FileFacts
from analyzer.findings import Finding, Problem, Report, RuleInfo, Stats, fingerprint
from analyzer.model import Model, build_model
from analyzer.rule import Diagnostic, Rule, RuleOptions
from analyzer.source import SourceFile, snippet
from rules import ALL_RULES

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


def _extract_chunk(chunk: Sequence[tuple[SourceFile, bytes]]) -> list[FileFacts | Problem]:
    # Imported here so that worker processes load the parser lazily.
    from analyzer.extract import extract_file
    from analyzer.parse.treesitter import parse_bytes

    out: list[FileFacts | Problem] = []
    for sf, data in chunk:
        try:
            out.append(extract_file(sf.path, data, parse_bytes(data)))
        except RecursionError:
            out.append(Problem(sf.path, "skipped: nesting too deep to analyse"))
    return out


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


def _collect(
    config: Config, whole_tree: bool, hook_tables: bool
) -> tuple[FactsResult, Model | None]:
    """Discover the tree's files and extract the facts of those that can matter.

    With ``whole_tree`` every file is parsed.  Otherwise the files are
    chosen by a closure (with ``hook_tables``, it also takes in every file
    naming a CPUClass hook table, where implementations are registered): start
    from the files mentioning the ACPI CPU hotplug state, the hooks and the
    AML builder; build the model; ask it what it still lacks (callers of the
    functions on the way to a site, dispatching field calls, definitions of
    types and cast macros); parse the files that mention those; repeat until
    nothing new is asked for.

    :return: the facts, and the closure's last model (built from exactly
        those facts), or None for the whole tree
    """
    if config.frontend != "tree-sitter":
        from analyzer.errors import UsageError

        raise UsageError(f"front-end '{config.frontend}' is not available yet (use tree-sitter)")
    contents: dict[str, bytes] = {}
    files, skipped = discover(config.root, config.excludes, contents=contents)
    problems = [Problem(s.path, f"skipped: {s.reason}") for s in skipped]
    jobs = config.jobs or min(os.cpu_count() or 1, 8)
    if whole_tree:
        # Shipping every file's facts back from worker processes costs about
        # as much as extracting them (measured on QEMU 10.0.13), so the whole
        # tree is extracted in one process unless --jobs asks otherwise.
        items = [(f, contents[f.path]) for f in files]
        results = _extract_all(items, config.jobs or 1)
        model = None
    else:
        results, model = _closure(
            config, files, [contents[f.path] for f in files], jobs, hook_tables
        )
    facts = tuple(sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path))
    problems.extend(r for r in results if isinstance(r, Problem))
    paths = tuple(f.path for f in files)
    fr = FactsResult(facts, tuple(problems), len(files), sum(f.size for f in files), paths)
    return fr, model


def _closure(
    config: Config,
    files: Sequence[SourceFile],
    contents: Sequence[bytes],
    jobs: int,
    hook_tables: bool,
) -> tuple[list[FileFacts | Problem], Model | None]:
    from analyzer.model import wanted
    from analyzer.prefilter import TokenIndex

    results: list[FileFacts | Problem] = []
    tokens = TokenIndex([f.path for f in files], contents)
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
            chosen |= {i for i in tokens.files_with_word(t) if files[i].path.startswith(own)}
    done: set[int] = set()
    model: Model | None = None
    rounds = 0
    while True:
        todo = sorted(chosen - done)
        if not todo:
            break
        rounds += 1
        batch = [(files[i], contents[i]) for i in todo]
        results.extend(_extract_all(batch, jobs if len(todo) > CHUNK else 1))
        done.update(todo)
        facts = sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path)
        model = build_model(
            config.root,
            facts,
            hooks=config.hooks,
            presence_bit=config.presence_bit,
            all_paths=[f.path for f in files],
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
    log.debug("closure: %d rounds, %d of %d files parsed", rounds, len(done), len(files))
    return results, model


def run_model(
    config: Config, whole_tree: bool = False, hook_tables: bool = False
) -> tuple[Model, FactsResult]:
    fr, model = _collect(config, whole_tree, hook_tables)
    if model is None:  # the closure's last model already covers exactly fr.facts
        model = build_model(
            config.root,
            fr.facts,
            hooks=config.hooks,
            presence_bit=config.presence_bit,
            all_paths=fr.paths,
            presence_fields=config.presence_fields,
        )
    return model, fr


def _options(rule: Rule, config: Config) -> RuleOptions:
    """The rule's options from the configuration (only the keys it declares)."""
    known = {f.name for f in dataclasses.fields(rule.options)}
    settings: dict[str, object] = {
        "hooks": config.hooks,
        "required_archs": config.required_archs,
    }
    return rule.options(**{k: v for k, v in settings.items() if k in known})


def _selected(config: Config) -> list[Rule]:
    rules = [r for r in ALL_RULES if not config.select or r.id in config.select]
    return [r for r in rules if r.id not in config.ignore]


def _frame(root: str, path: str, line: int, context: int = 2) -> tuple[tuple[int, str], ...]:
    try:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
            return tuple(snippet(fh.read(), line, context))
    except OSError:
        return ()


def _relevant(d: Diagnostic, only: Sequence[str]) -> bool:
    if not only:
        return True
    places = [d.span.path] + [s.file for s in d.path]

    def inside(p: str) -> bool:
        return any(p == o or p.startswith(o.rstrip("/") + "/") for o in only)

    return any(inside(p) for p in places)


def run(config: Config) -> Report:
    """Run a whole check over ``config.root``."""
    t0 = time.monotonic()
    check_against_tree(config)
    model, fr = run_model(config)
    problems = list(fr.problems)
    if model.acpi.unknown_presence_fields:
        problems.append(
            Problem(
                config.origin_of("presence-fields"),
                "'presence-fields': AcpiCpuStatus declares no field "
                + ", ".join(repr(f) for f in model.acpi.unknown_presence_fields)
                + " in this tree",
            )
        )
    diags: list[tuple[Rule, Diagnostic]] = []
    for rule in _selected(config):
        opts = _options(rule, config)
        try:
            diags.extend((rule, d) for d in rule.check(model, opts))
        except Exception as e:  # a rule crash must not kill the run
            if config.strict:
                raise
            log.debug("rule %s crashed:\n%s", rule.id, traceback.format_exc())
            problems.append(Problem("", f"rule {rule.id} crashed: {e!r}", "error"))
    counts: dict[tuple[str, str, str, str], int] = {}
    findings: list[Finding] = []
    for rule, d in sorted(diags, key=lambda x: (x[1].span.path, x[1].span.line, x[1].span.col)):
        if not _relevant(d, config.only):
            continue
        k = (rule.id, d.span.path, d.function, d.key)
        occ = counts.get(k, 0)
        counts[k] = occ + 1
        findings.append(
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
                archs=d.archs,
                hook=d.hook,
                path=d.path,
                fingerprint=fingerprint(rule.id, d.span.path, d.function, d.key, occ),
                arch_hooks=d.arch_hooks,
                frame=_frame(config.root, d.span.path, d.span.line),
            )
        )
    with_errors = [f for f in fr.facts if f.error_nodes]
    stats = Stats(
        files=len(fr.facts),
        bytes=sum(f.size for f in fr.facts),
        seconds=time.monotonic() - t0,
        tree_files=fr.files,
        parsed_files=len(fr.facts),
        skipped_files=sum(1 for p in fr.problems if p.message.startswith("skipped")),
        files_with_errors=len(with_errors),
        error_nodes=sum(f.error_nodes for f in fr.facts),
        skipped_bytes=sum(f.skipped_bytes for f in fr.facts),
    )
    rules = tuple(RuleInfo(r.id, r.severity.value, r.summary, r.doc) for r in ALL_RULES)
    return Report(config.root, tuple(findings), tuple(problems), stats, rules, __version__)


def dump_facts(path: str) -> str:
    """The facts of one file as indented JSON (the equivalent of an AST dump).

    :raise InputError: when the file cannot be read or analysed
    """
    import json

    from analyzer.errors import InputError
    from analyzer.extract import extract_file
    from analyzer.parse.treesitter import parse_bytes

    if not os.path.isfile(path):
        raise InputError("no such file", path)
    data = load(SourceFile(path, path, os.path.getsize(path)))
    if isinstance(data, str):
        raise InputError(data, path)
    facts = extract_file(path, data, parse_bytes(data))
    return json.dumps(dataclasses.asdict(facts), indent=1) + "\n"
