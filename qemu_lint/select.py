"""File selection: which files of the tree can matter to the rules.

Entry point: :func:`collect` (the facts of the chosen files, and the model
built from them).  The choice is a closure: start from the files the rules
declare as seeds (:class:`~qemu_lint.rule.Seeds`), build the model, ask it
what it still lacks (:func:`wanted`), add the files that mention that (the
token index of :mod:`qemu_lint.discover.tokens`), and repeat until nothing
new is asked for.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qemu_lint.cache.session import FactsResult, Files, Session, input_digests
from qemu_lint.cache.state import TreeState
from qemu_lint.discover.matcher import ENGINE
from qemu_lint.discover.tokens import MemoIndex, Query
from qemu_lint.errors import Problem
from qemu_lint.facts import Expr, FileFacts, FunctionDef, TypeRef
from qemu_lint.frontends.pool import Workers
from qemu_lint.model import IndexMemo, Model, build_model
from qemu_lint.model.callgraph import FnRef
from qemu_lint.model.export import acpi_device_types
from qemu_lint.model.qom import QOM_ROOTS
from qemu_lint.model.reach import (
    CREATION_HOOKS,
    DYNAMIC_CASTS,
    HANDLER_LOOKUPS,
    MACHINE_HANDLER,
    BuildAnswers,
)
from qemu_lint.rule import Seeds
from qemu_lint.settings import Config

if TYPE_CHECKING:  # loaded by build_facts when a run needs the build configuration
    from concurrent.futures import Future

    from qemu_lint.build import BuildConfig

log = logging.getLogger(__name__)


def merged(seeds: Iterable[Seeds]) -> Seeds:
    """The seeds of several rules as one (each list in first-seen order)."""
    got = list(seeds)

    def union(part: Callable[[Seeds], tuple[str, ...]]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for s in got for w in part(s)))

    return Seeds(
        words=union(lambda s: s.words),
        types=union(lambda s: s.types),
        arch_words=union(lambda s: s.arch_words),
        hooks=any(s.hooks for s in got),
    )


def build_facts(session: Session) -> BuildConfig:
    """What each system emulator of the tree builds (:mod:`qemu_lint.build`).

    Computing it reads every ``meson.build``, Kconfig and ``.mak`` file
    (about 0.3 s on QEMU 10.0.13); the cache keeps it with the digests of
    those inputs and reuses it while they are unchanged.  A file selection
    computes it in a worker process beside its rounds (:func:`_start_build`);
    this takes that result, or computes it here.
    """
    from qemu_lint.build import BuildConfig

    if isinstance(session.build, BuildConfig):
        return session.build
    pending = session.build if isinstance(session.build, _Pending) else None
    session.build = None
    recorded = _recorded_build(session) if pending is None else None
    if recorded is not None:
        bc, digests = recorded
    else:
        got = pending.result() if pending is not None else None
        bc = (
            got
            if got is not None
            else load_build_config(Path(session.config.root), overrides=session.build_changes)
        )
        digests = input_digests(session.config.root, bc.inputs, session.build_changes)
        if session.cache is not None:
            session.cache.put_build(session.key, (digests, bc))
    session.build = bc
    session.state.inputs = digests  # a change to one of them is a changed tree
    return bc


def _inputs_now(session: Session, names: Collection[str]) -> dict[str, str]:
    """The digests of the build inputs ``names`` as they are now: those the
    run made when it compared its tree (:attr:`Session.inputs_now`) when
    they are of the same files, else made here."""
    now = session.inputs_now
    if now and now.keys() == set(names):
        return now
    return input_digests(session.config.root, names, session.build_changes)


def _recorded_build(session: Session) -> tuple[BuildConfig, dict[str, str]] | None:
    """The cache's build configuration of the tree and its inputs' digests,
    if those inputs are unchanged."""
    from qemu_lint.build import BuildConfig

    got = session.cache.get_build(session.key) if session.cache is not None else None
    if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], BuildConfig):
        recorded, old = got
        digests = _inputs_now(session, old.inputs)
        if digests == recorded:
            return old, digests
    return None


class _Pending:
    """The build configuration being computed in a worker process."""

    def __init__(self, future: Future[BuildConfig]) -> None:
        self.future = future

    def result(self) -> BuildConfig | None:
        """It, or None when the worker failed (then :func:`build_facts`
        computes it in this process, so that an error is the same as ever)."""
        try:
            return self.future.result()
        except Exception:  # a worker's error, its pool broken, cancelled
            log.debug("build configuration in a worker failed", exc_info=True)
            return None


def _start_build(session: Session, workers: Workers) -> None:
    """Start computing the build configuration in one of ``workers``, unless
    it is known (computed by this run's chain, or recorded by the cache) or
    there are no workers (then :func:`build_facts` does it all, as ever)."""
    if session.build is not None or workers.jobs <= 1:
        return
    recorded = _recorded_build(session)
    if recorded is not None:
        session.build, session.state.inputs = recorded
        return
    future = workers.submit(load_build_config, Path(session.config.root), session.build_changes)
    if future is not None:
        session.build = _Pending(future)


def load_build_config(root: Path, overrides: dict[str, bytes | None] | None = None) -> BuildConfig:
    """:func:`qemu_lint.build.load_build_config`: the build configuration's
    modules are imported only by a run that computes it."""
    from qemu_lint.build import load_build_config as load

    return load(root, overrides=overrides)


def build_counts(session: Session) -> tuple[int, int]:
    """What the report says of the build configuration: the constructs not
    understood and the files whose build is uncertain.  Recorded with the
    tree, so that a run on an unchanged tree (whose diagnostics are reused)
    does not load the build configuration at all."""
    if session.state.build_counts is not None:
        return session.state.build_counts
    bc = build_facts(session)
    counts = (len(bc.problems), len({f for t in bc.targets for f in t.uncertain}))
    session.state.build_counts = counts
    return counts


def build(
    config: Config,
    facts: Sequence[FileFacts],
    all_paths: Sequence[str],
    build_config: BuildConfig | None = None,
    memo: IndexMemo | None = None,
) -> Model:
    """The model of ``facts`` with the configuration's settings (``memo``:
    the run's call-graph parts, see :func:`~qemu_lint.model.build_model`)."""
    return build_model(
        config.root,
        facts,
        hooks=config.hooks,
        presence_bit=config.presence_bit,
        all_paths=all_paths,
        presence_fields=config.presence_fields,
        build=build_config,
        memo=memo,
    )


def collect(
    session: Session, seeds: Seeds, whole_tree: bool, hook_tables: bool
) -> tuple[FactsResult, Model | None]:
    """Extract the facts of the files that can matter.

    With ``whole_tree`` every file is parsed.  Otherwise the files are
    chosen by a closure (with ``hook_tables``, it also takes in every file
    naming a CPUClass hook table, where implementations are registered):
    start from the rules' seeds (the files mentioning the ACPI CPU hotplug
    state, the hooks and the AML builder); build the model; ask it what it
    still lacks (callers of the functions on the way to a site, dispatching
    field calls, definitions of types and cast macros); parse the files that
    mention those; repeat until nothing new is asked for.

    With a cache, facts come from it when a file's bytes are unchanged,
    files whose stat is unchanged since the last run are not read, the
    closure's questions are answered from the last run's answers plus a
    search of the changed files, and with nothing changed the last run's
    choice of files stands (see :mod:`qemu_lint.cache`).

    :return: the facts, and the closure's last model (built from exactly
        those facts), or None when no model was built on the way
    """
    config, tf, prev = session.config, session.files, session.prev
    mode = "tree" if whole_tree else ("hooks" if hook_tables else "check")
    model = None
    if whole_tree:
        # Shipping every file's facts back from worker processes costs
        # about as much as extracting them (measured on QEMU 10.0.13), so
        # the whole tree is extracted in one process unless --jobs asks.
        if config.frontend == "tree-sitter":
            tf.jobs = config.jobs or 1
        results = tf.facts(range(len(tf.paths)))
    elif prev is not None and mode in prev.chosen and session.replay():
        pos = {p: i for i, p in enumerate(tf.paths)}
        results = tf.facts([pos[p] for p in prev.chosen[mode]])
        log.debug("closure: unchanged tree, %d files reused", len(results))
    else:
        results, model, answers = _chosen(session, seeds, hook_tables, mode)
        session.state.answers.update(answers)
    facts = tuple(sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path))
    problems = session.skipped + [r for r in results if isinstance(r, Problem)]
    problems += [
        Problem(f.path, f"function {name} (line {line}) left out: {why}", untrusted="input")
        for f in results
        if isinstance(f, FileFacts)
        for name, line, why in f.cut
    ]
    session.state.chosen[mode] = tuple(f.path for f in facts)
    fr = FactsResult(
        facts, tuple(problems), len(tf.paths), sum(f.size for f in tf.files), tuple(tf.paths)
    )
    return fr, model


def _chosen(
    session: Session, seeds: Seeds, hook_tables: bool, mode: str
) -> tuple[list[FileFacts | Problem], Model | None, dict[Query, frozenset[str]]]:
    """:func:`closure` with the run's worker processes (made when the first
    round or the build configuration needs them, ended with the closure):
    the build configuration is computed in one of them beside the rounds,
    and the last model gets it.  When the recorded run's choice provably
    stands (:meth:`~qemu_lint.cache.session.Session.selection_stands`), its
    rounds' files are taken instead (:func:`replayed_choice`)."""
    tf = session.files
    rounds: list[tuple[str, ...]] = []
    recorded = _recorded_answers(session) if mode == "check" else None
    with Workers(tf.jobs) as workers:
        tf.workers = workers
        try:
            if recorded is None:
                _start_build(session, workers)
            if session.selection_stands(mode):
                assert session.prev is not None
                got = replayed_choice(session.config, tf, session.prev, mode, rounds)
            else:
                got = closure(session.config, seeds, tf, session.prev, hook_tables, rounds)
            bc = recorded if recorded is not None else _answering(session, mode)
        finally:
            tf.workers = None
            if isinstance(session.build, _Pending):  # not taken: the closure failed
                session.build = None
    results, model, answers = got
    session.state.rounds[mode] = tuple(rounds)
    return results, (model.with_build(bc) if model is not None else None), answers


def _recorded_answers(session: Session) -> BuildAnswers | None:
    """The attribution's answers from the build configuration, as the
    recorded run gave them, when its build inputs are unchanged (the same
    digests: the same configuration); the configuration itself is loaded
    only for a question not recorded (:class:`BuildAnswers`).  None when
    the inputs changed or nothing was recorded: the configuration is then
    loaded or computed as ever."""
    prev = session.prev
    if prev is None or not prev.inputs or prev.build_counts is None or session.build_changes:
        return None
    if _inputs_now(session, prev.inputs) != prev.inputs:
        return None
    session.state.inputs = dict(prev.inputs)
    session.state.build_counts = prev.build_counts
    session.state.build_answers = dict(prev.build_answers)
    return BuildAnswers(lambda: build_facts(session), session.state.build_answers)


def _answering(session: Session, mode: str) -> BuildConfig | BuildAnswers:
    """The build configuration (loaded or computed), for a check through
    answers recorded for the next run (:func:`_recorded_answers`)."""
    bc = build_facts(session)
    if mode != "check":
        return bc  # the model command's export reads the configuration itself
    session.state.build_answers = {}
    return BuildAnswers(lambda: bc, session.state.build_answers)


def _seeded(config: Config, seeds: Seeds, tokens: MemoIndex, paths: Sequence[str]) -> set[int]:
    """The files the closure starts from."""
    hooks = config.hooks if seeds.hooks else ()
    words = seeds.words + tuple(h.split("::")[-1] for h in hooks)
    # the headers declaring the hook tables and the CPU types
    types = seeds.types + tuple(h.split("::")[0] for h in hooks if "::" in h)
    # per required architecture (persistence-hook-required: its CPU class_init)
    archs = config.required_archs if seeds.arch_words else ()
    queries = [("files_with_word", t) for t in words] + [("files_defining", t) for t in types]
    arch_queries = [("files_with_word", t) for t in seeds.arch_words] if archs else []
    tokens.prefetch(queries + arch_queries)
    chosen: set[int] = set()
    for q in queries:
        chosen |= tokens.answer(q)
    for arch in archs:
        own = f"target/{arch}/"
        for q in arch_queries:
            chosen |= {i for i in tokens.answer(q) if paths[i].startswith(own)}
    return chosen


def questions(w: Wanted) -> list[Query]:
    """The token index's questions whose answers hold what the model lacks."""
    return (
        [("files_with_word", n) for n in sorted(w.names | w.tokens)]
        + [("files_calling_field", f) for f in sorted(w.fields)]
        + [("files_defining", t) for t in sorted(w.types | w.macros)]
        + [("files_defining_function", n) for n in sorted(w.definitions)]
        + [("files_registering_type", t) for t in sorted(w.qom_types)]
    )


def _asked(w: Wanted, tokens: MemoIndex) -> set[int]:
    """The files that hold what the model lacks: a round's questions are
    searched together, in one scan of the files."""
    qs = questions(w)
    tokens.prefetch(qs)
    nxt: set[int] = set()
    for q in qs:
        nxt |= tokens.answer(q)
    return nxt


def _memo(tf: Files) -> IndexMemo:
    """The run's call-graph parts: the rounds' models (and a --diff-base
    chain's) share what each file adds to the call graph."""
    memo = tf.memo if isinstance(tf.memo, IndexMemo) else IndexMemo(tf.derived)
    tf.memo = memo
    return memo


def closure(
    config: Config,
    seeds: Seeds,
    tf: Files,
    prev: TreeState | None,
    hook_tables: bool,
    added: list[tuple[str, ...]] | None = None,
) -> tuple[list[FileFacts | Problem], Model | None, dict[Query, frozenset[str]]]:
    """The facts of the files the closure chooses (see :func:`collect`), its
    last model (built without the build configuration: no question depends
    on it; see :meth:`~qemu_lint.model.Model.with_build`), and the questions
    it asked of the token index with their answers.

    :param added: filled with the files each round added (for the record)
    """
    results: list[FileFacts | Problem] = []
    tokens = MemoIndex(tf.paths, tf.read, prev.answers if prev else {}, tf.changed)
    chosen = _seeded(config, seeds, tokens, tf.paths)
    done: set[int] = set()
    model: Model | None = None
    memo = _memo(tf)
    rounds = 0
    while True:
        todo = sorted(chosen - done)
        if not todo:
            break
        rounds += 1
        if added is not None:
            added.append(tuple(tf.paths[i] for i in todo))
        results.extend(tf.facts(todo))
        done.update(todo)
        facts = sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path)
        model = build(config, facts, tf.paths, None, memo)
        chosen |= _asked(wanted(model, seeds.words, hook_tables), tokens)
        if rounds > 50:  # pragma: no cover - the closure is finite; this is a guard
            break
    log.debug(
        "closure: %d rounds, %d of %d files parsed, %d changed, %d full searches, %d scans (%s)",
        rounds,
        len(done),
        len(tf.paths),
        len(tf.changed),
        tokens.full_searches,
        tokens.scans,
        ENGINE,
    )
    return results, model, tokens.answers


def replayed_choice(
    config: Config,
    tf: Files,
    prev: TreeState,
    mode: str,
    added: list[tuple[str, ...]] | None = None,
) -> tuple[list[FileFacts | Problem], Model | None, dict[Query, frozenset[str]]]:
    """What :func:`closure` returns, when the recorded run's choice stands
    (:meth:`~qemu_lint.cache.session.Session.selection_stands`): the facts
    of the files its rounds added, in their order, and one model of them
    all (the closure's last round builds exactly that one), without the
    rounds' models and questions.

    Why the closure would choose the same files, round by round.  A round's
    questions are a function of its model, and its model of the facts of
    the files chosen so far (and of the tree's paths and the configuration,
    unchanged); the files a round adds are the answers to its questions,
    which :meth:`~qemu_lint.cache.session.Session.selection_stands` checked
    are the recorded ones in every changed file.  So by induction on the
    rounds, if every round's model asks what it asked, the same files are
    chosen in the same rounds.  A model is built from different facts only
    where a changed chosen file's facts differ, and they differ only by
    their lines, renumbered by a strictly increasing map ``m`` of that file
    (columns, texts, kinds, types and the order of everything unchanged).
    The model and :func:`wanted` use a line only

    * to compare it with another line of the same file: sort keys that
      name the file or the function first (``(caller, line, col)`` of the
      call edges, ``(file, line, col)`` of the sites, ``(function, line)``
      of the QOM creations), scopes (``Var.line <= line`` in
      ``TypeEnv.var_type``, a ``goto`` label after a statement in
      ``guards``), and the positions keying one function's flow facts
      (``guards.FlowFacts.at``, the ``(line, col)`` of the sites kept
      once): ``m`` keeps every such order and equality;
    * to copy it into what the rules report (the lines of sites, hooks,
      registrations, packings, problems and their messages): :func:`wanted`
      reads none of them, its questions are names (functions, fields,
      types, macros, words);
    * never in arithmetic: the one difference of lines
      (``end_line - line``, a wrapper's length in ``model.consult``) is in
      the rules' code, which no round runs; and the formulas' atoms are
      position-free (``guards.expr_key``).

    Expressions compare equal by value, positions included, so two of
    different files could become equal under ``m``; but the model keys no
    container by an expression (only by function, file or the positions of
    one function).  Hence each round's model asks the same questions.
    ``tests/test_edit_replay.py`` checks the round-by-round equality on
    the demo tree with lines inserted in every chosen file (between and
    inside functions), and the report against a run without cache.

    :param added: filled with the files each round added (the recorded ones)
    """
    pos = {p: i for i, p in enumerate(tf.paths)}
    rounds = prev.rounds[mode]
    if added is not None:
        added.extend(rounds)
    memo = _memo(tf)
    results: list[FileFacts | Problem] = []
    for r in rounds:  # one request a round, as the closure makes them
        results.extend(tf.facts([pos[p] for p in r]))
    facts = sorted((r for r in results if isinstance(r, FileFacts)), key=lambda f: f.path)
    model = build(config, facts, tf.paths, None, memo)
    log.debug("closure: the recorded %d rounds stand, %d files", len(rounds), len(facts))
    return results, model, dict(prev.answers)


# -- what the model lacks -----------------------------------------------------

_BUILTIN_TYPES = frozenset(
    "void char short int long float double signed unsigned bool _Bool size_t ssize_t "
    "uintptr_t intptr_t ptrdiff_t off_t hwaddr vaddr g_autofree g_autoptr gboolean gpointer "
    "gchar guint gint".split()
)
_STDINT = re.compile(r"^u?int(8|16|32|64|128|ptr|max)_t$")


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the model still lacks: identifiers whose definitions or uses it needs.

    The selection looks for files mentioning them (whole words) and parses those.
    """

    #: functions whose callers, registrations or definitions are needed
    names: frozenset[str]
    #: struct fields through which registered functions are called (``->unplug(``)
    fields: frozenset[str]
    #: type names not yet defined
    types: frozenset[str]
    #: cast macros (``CPU_GET_CLASS``…) not yet known
    macros: frozenset[str]
    #: plain tokens: containers of the ACPI CPU state and hook names
    tokens: frozenset[str]
    #: functions whose definitions are needed (wrappers called in conditions)
    definitions: frozenset[str] = frozenset()
    #: ``TYPE_*`` constants whose ``TypeInfo`` registrations are needed
    qom_types: frozenset[str] = frozenset()


class _Types:
    """The type names wanted: those used but not yet defined."""

    def __init__(self, model: Model) -> None:
        self.env = model.env
        self.names: set[str] = set()

    def want(self, t: TypeRef | None, ctx: str) -> None:
        if (
            t is None
            or not t.name.isidentifier()
            or t.name in _BUILTIN_TYPES
            or _STDINT.match(t.name)
        ):
            return
        c = self.env.canon(t, ctx)
        if c is not None and c.name not in self.env.structs:
            self.names.add(c.name)


def wanted(model: Model, seed_tokens: Sequence[str], hook_tables: bool = False) -> Wanted:
    """What to look for next to complete the model around the sites.

    :param seed_tokens: words whose files are always wanted (the rules' seeds)
    :param hook_tables: also every file naming a hook table struct (where
        implementations are registered), for the ``model`` command
    """
    from qemu_lint.model.acpi import STATUS_STRUCT

    env = model.env
    callers: set[FnRef] = set()
    for site in model.acpi.sites:
        parent, _, _ = model._backward(site.function_ref, stop_at_guards=False)
        callers.update(st[0] for st in parent)
    names: set[str] = {ref[1] for ref in callers}
    names.update(ref[1] for ref in model.acpi.setters)
    tokens_extra = _entry_words(model, names)
    fields: set[str] = set()
    for (_struct, fld), regs in model.index.registrations.items():
        # a realize is entered from the places creating its device (found
        # through the type constants of _entry_words), never through the
        # dispatching ``dc->realize()`` calls of qdev and the buses
        if fld in CREATION_HOOKS:
            continue
        if any((r.file, r.function) in callers or r.function in names for r in regs):
            fields.add(fld)
    types = _Types(model)
    fields |= _stored_fields(model, names, types)
    macros, definitions = _called(model, callers, types)
    qom_types = _qom_wanted(model, callers, macros, tokens_extra)
    # one level of field types of the structs the closure uses
    for name in list(types.names) + [STATUS_STRUCT]:
        s = env.struct(name)
        if s is not None:
            for f in s.fields:
                types.want(f.type, "")
    tokens = _tokens(model, seed_tokens) | tokens_extra
    more_defs, constants = _presence_wants(model)
    definitions |= more_defs
    macros |= constants
    if hook_tables:
        tokens.update(t.struct for t in model.hook_tables)
        # the boards creating the ACPI devices (``qemu-lint model``'s per-arch facts)
        tokens.update(model.qom.spelling(t) for t in acpi_device_types(model))
        root = env.struct("CPUClass")
        for f in root.fields if root is not None else ():
            if f.type.pointers and f.type.name != "<fn>":
                types.want(f.type, "")
    return Wanted(
        frozenset(names),
        frozenset(fields),
        frozenset(types.names),
        frozenset(macros),
        frozenset(tokens),
        frozenset(definitions - names),
        frozenset(qom_types),
    )


def _presence_wants(model: Model) -> tuple[set[str], set[str]]:
    """What deriving ``_STA.Present`` reads beyond the AML builder and the read
    handler: the functions they call (a helper packing the bit, a ``static
    inline`` in a header) and the constants they name (``CPU_ENABLED``,
    ``ACPI_CPU_FLAGS_OFFSET_RW``), whose ``#define`` may live in another file."""
    from qemu_lint.facts import iter_exprs, iter_stmts

    idx = model.index
    p = model.acpi.presence
    refs = list(idx.by_name.get(model.acpi.cpu_aml_builder, []))
    if p is not None and p.read_handler is not None:
        refs.append(p.read_handler)
    definitions: set[str] = set()
    tokens: set[str] = set()
    callees: set[str] = set()
    for ref in refs:
        fn = idx.functions.get(ref)
        if fn is None:
            continue
        for st in iter_stmts(fn.body):
            for e in iter_exprs(st.expr) if st.expr is not None else ():
                if e.kind == "call" and e.args and e.args[0].kind == "name":
                    name = e.args[0].text
                    callees.add(name)
                    if not name.startswith("aml_") and name not in idx.by_name:
                        definitions.add(name)
                elif e.kind == "name" and e.text.isupper() and not e.text.startswith("AML_"):
                    tokens.add(e.text)
    return definitions, tokens - callees


def _entry_words(model: Model, names: set[str]) -> set[str]:
    """Guest and creation entries (:mod:`qemu_lint.model.reach`): the
    functions mapping a register block whose handlers are wanted join
    ``names``; the type constants of devices whose realize (or instance_init)
    calls one of them are returned, to find the boards creating those devices."""
    from qemu_lint.model.reach import MMIO_INITS

    idx = model.index
    if model.reach is None:
        return set()
    for table, handlers in model.reach.mmio_tables.items():
        if not any(h in names for h in handlers):
            continue
        for fname, pos in MMIO_INITS.items():
            for caller, call in idx.direct_calls.get(fname, []):
                args = call.args[1:]
                a = args[pos] if 0 <= pos < len(args) else None
                if a is not None and a.kind == "unary" and a.args and a.args[0].text == table:
                    names.add(caller[1])
    words: set[str] = set()
    for reg in idx.registrations.get(("DeviceClass", "realize"), []):
        fn = idx.functions.get((reg.file, reg.function))
        if fn is None or not any(
            c.args[0].text in names for c in _calls_of(fn) if c.args[0].kind == "name"
        ):
            continue
        names.add(reg.function)
        for t in model.qom.by_class_init.get(reg.by, []):
            words.add(model.qom.spelling(t))
    for init, types in model.qom.by_instance_init.items():
        for ref in idx.by_name.get(init, []):
            if any(c.args[0].text in names for c in _calls_of(idx.functions[ref])):
                names.add(init)
                words.update(model.qom.spelling(t) for t in types)
    return words


def _qom_wanted(model: Model, callers: set[FnRef], macros: set[str], tokens: set[str]) -> set[str]:
    """The ``TYPE_*`` constants whose registrations the device-type branches
    on the way to a site need (:mod:`qemu_lint.model.reach`): the types the
    callers test with ``object_dynamic_cast()``, the machines whose hotplug
    handler a caller looks up (their boards join ``tokens``), and their
    ancestors up to a QOM root, one level a round.  Constants not yet defined
    join ``macros``."""
    qom = model.qom
    constant = {v: k for k, v in qom.names.items()}
    todo: list[str] = []
    for ref in callers:
        for c in _calls_of(model.index.functions[ref]):
            if c.args[0].kind == "name" and c.args[0].text in DYNAMIC_CASTS and len(c.args) >= 3:
                t = qom.type_name(c.args[2])
                if t is not None:
                    todo.append(t)
            elif c.args[0].kind == "name" and c.args[0].text in HANDLER_LOOKUPS:
                tokens.add(MACHINE_HANDLER[1])
                for reg in model.index.registrations.get(MACHINE_HANDLER, []):
                    # the boards of the architectures attributed (emitting the AML)
                    if model.arch(reg.file) in model.acpi.emits_cpu_aml:
                        todo.extend(qom.by_class_init.get(reg.by, []))
    out: set[str] = set()
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t in seen or t in QOM_ROOTS:
            continue
        seen.add(t)
        info = qom.types.get(t)
        if info is not None:
            todo.extend(i for i in (info.parent, *info.interfaces) if i is not None)
            continue
        if t.startswith("TYPE_"):
            macros.add(t)  # its #define first: the literal names the type
            out.add(t)
        elif t in constant:
            out.add(constant[t])
    return out


def _calls_of(fn: FunctionDef) -> Iterable[Expr]:
    from qemu_lint.facts import stmt_exprs

    return (e for e in stmt_exprs(fn.body) if e.kind == "call" and e.args)


def _stored_fields(model: Model, names: set[str], types: _Types) -> set[str]:
    """A closure function stored into a struct field is called through it:
    want the dispatching calls, and the base's type to type the store."""
    idx, env = model.index, model.env
    fields: set[str] = set()
    for ref, e in idx.assigns:
        lhs, rhs = e.args[0], e.args[1]
        if lhs.kind == "field" and rhs.kind in ("name", "unary") and lhs.args:
            target = rhs.args[0] if rhs.kind == "unary" and rhs.args else rhs
            if target.kind == "name" and target.text in names:
                if lhs.text in CREATION_HOOKS:
                    continue
                fields.add(lhs.text)
                base = lhs.args[0]
                if base.kind == "name":
                    fn = idx.functions[ref]
                    types.want(env.var_type(base.text, base.line, fn, ref[0]), ref[0])
    return fields


def _called(model: Model, callers: set[FnRef], types: _Types) -> tuple[set[str], set[str]]:
    """The types the closure's functions use (into ``types``), and the cast
    macros and condition wrappers they call that are not known yet."""
    from qemu_lint.facts import iter_stmts

    idx, env = model.index, model.env
    macros: set[str] = set()
    definitions: set[str] = set()
    for ref in callers:
        fn = idx.functions[ref]
        for v in fn.params + fn.locals:
            types.want(v.type, ref[0])
        for st in iter_stmts(fn.body):
            if st.expr is None:
                continue
            for sub in _calls(st.expr):
                callee = sub.args[0]
                if callee.kind != "name":
                    continue
                if callee.text.isupper():
                    if callee.text not in env.casts:
                        macros.add(callee.text)
                elif (
                    st.kind in ("if", "loop", "return", "decl", "switch")
                    and callee.text not in idx.by_name
                ):
                    definitions.add(callee.text)
    return macros, definitions


def _tokens(model: Model, seed_tokens: Sequence[str]) -> set[str]:
    """Plain words wanted: the seeds, the structs containing the ACPI CPU
    state (and the fields holding it), the hooks' names, the flag feeders."""
    from qemu_lint.model.acpi import STATUS_STRUCT

    env = model.env
    tokens = set(seed_tokens)
    containers = {STATUS_STRUCT, "CPUHotplugState"}
    direct = set(containers)
    for _ in range(3):
        for sname, locs in env.structs.items():
            for f in locs[0].struct.fields:
                c = env.canon(f.type)
                if c is not None and c.name in containers and sname not in containers:
                    containers.add(sname)
                    tokens.add(sname)
                    if c.name in direct:  # e.g. AcpiGedState::cpuhp_state
                        tokens.add(f.name)
    for h in model.hooks:
        tokens.update(x for x in (h.field, h.function) if x)
    tokens.update(f[1] for f in model.acpi.flag_feeders)
    return tokens


def _calls(e: Expr) -> Iterable[Expr]:
    from qemu_lint.facts import iter_exprs

    return (x for x in iter_exprs(e) if x.kind == "call" and x.args)
