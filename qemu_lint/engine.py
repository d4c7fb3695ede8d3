"""Stage 7 (engine): discover → select and extract → model → rules → findings → report.

Entry points: :func:`run` (a whole ``check``: returns a
:class:`~qemu_lint.findings.Report`), :func:`run_model` (the model only) and
:func:`collect_facts` (the facts of the files that can matter).  Each step
lives in its stage: the session in :mod:`qemu_lint.cache.session`, the file
selection in :mod:`qemu_lint.select`, the stamping and suppressions in
:mod:`qemu_lint.findings.stamp`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qemu_lint import __version__
from qemu_lint.cache.session import FactsResult, Session
from qemu_lint.cache.state import FactsSummary
from qemu_lint.errors import Problem
from qemu_lint.findings import Finding, Report, RuleInfo, Stats
from qemu_lint.findings.stamp import Frames, _order, _relevant, _stamp, _suppress
from qemu_lint.findings.suppress import UNUSED, Suppression, scan_tree
from qemu_lint.rule import Diagnostic, Rule, RuleOptions, Seeds
from qemu_lint.rules import ALL_RULES
from qemu_lint.settings import Config, check_against_tree

if TYPE_CHECKING:  # the file selection and the model load when a run builds a model
    from qemu_lint.frontends.pool import Progress
    from qemu_lint.model import Model

log = logging.getLogger(__name__)


def seeds() -> Seeds:
    """Where the selection starts: the seeds of every rule, selected or not
    (the cache's record of a tree does not depend on --select)."""
    from qemu_lint.select import merged

    return merged(r.seeds for r in ALL_RULES)


class Chain:
    """The runs of one command, in order: a ``--diff-base`` run (the tree at
    a revision) takes the work tree's discovery, digests and build
    configuration from the run before it instead of listing the tree again."""

    def __init__(self) -> None:
        self.last: Session | None = None


def _open(
    config: Config, on_progress: Progress | None = None, chain: Chain | None = None
) -> tuple[Session, tuple[Suppression, ...]]:
    """A session over ``config.root`` and the inline suppressions of its files."""
    session = Session(config, on_progress, work=chain.last if chain is not None else None)
    if chain is not None:
        chain.last = session
    return session, session.suppressions(scan_tree, Suppression)


def _save(session: Session) -> None:
    session.save()
    if session.cache is not None:
        log.debug("cache: %d facts hits, %d misses", session.cache.hits, session.cache.misses)


def _collect(
    config: Config,
    whole_tree: bool,
    hook_tables: bool,
    on_progress: Progress | None = None,
    need_model: bool = True,
) -> tuple[FactsResult, Model | None]:
    from qemu_lint.select import build, build_facts, collect

    session, _ = _open(config, on_progress)
    fr, model = collect(session, seeds(), whole_tree, hook_tables)
    if model is None and need_model:
        model = build(config, fr.facts, fr.paths, build_facts(session))
    _save(session)
    return fr, model


def collect_facts(
    config: Config, whole_tree: bool = False, hook_tables: bool = False
) -> FactsResult:
    """Discover the tree's files and extract the facts of those that can matter
    (see :func:`qemu_lint.select.collect`)."""
    return _collect(config, whole_tree, hook_tables, need_model=False)[0]


def run_model(
    config: Config,
    whole_tree: bool = False,
    hook_tables: bool = False,
    on_progress: Progress | None = None,
) -> tuple[Model, FactsResult]:
    """Build the model of ``config.root`` (see :func:`qemu_lint.select.collect`)."""
    fr, model = _collect(config, whole_tree, hook_tables, on_progress)
    assert model is not None
    return model, fr


def _options(rule: Rule, config: Config) -> RuleOptions:
    """The rule's options from the configuration: each field of its ``Options``
    takes the setting of the same name (``required_archs`` ← ``required-archs``)."""
    keys = {f.name: f.name.replace("_", "-") for f in dataclasses.fields(rule.options)}
    declared = {s.key for s in config.declared} | set(config.values)
    return rule.options(**{n: config.value(k) for n, k in keys.items() if k in declared})


def _selected(config: Config) -> list[Rule]:
    rules = [
        r for r in ALL_RULES if (r.id in config.select if config.select else r.default_enabled)
    ]
    return [r for r in rules if r.id not in config.ignore]


def _analyse(
    config: Config, session: Session, selected: Sequence[Rule]
) -> tuple[FactsSummary, list[tuple[Rule, Diagnostic]], list[Problem], set[str]]:
    """The facts' summary and what each selected rule yields: recorded by the
    last run when nothing changed since one that checked these rules (the same
    facts would give the same model and the same diagnostics), else computed.

    :return: the summary, the diagnostics, the rules' crashes, the rules that ran
    """
    diags: list[tuple[Rule, Diagnostic]] = []
    crashes: list[Problem] = []
    session.replay()  # the recorded results, if this run's changes cannot change them
    recorded, summary = session.state.results, session.state.summary
    if summary is not None and all(r.id in recorded for r in selected):
        log.debug("cache: unchanged tree, diagnostics reused")
        for rule in selected:
            diags.extend((rule, d) for d in recorded[rule.id])
        return summary, diags, crashes, {r.id for r in selected}
    from qemu_lint.select import build, build_facts, collect

    fr, model = collect(session, seeds(), whole_tree=False, hook_tables=False)
    model = model or build(config, fr.facts, fr.paths, build_facts(session))
    summary = fr.summary()
    if model.acpi.unknown_presence_fields:
        warning = Problem(
            config.origin_of("presence-fields"),
            "'presence-fields': AcpiCpuStatus declares no field "
            + ", ".join(repr(f) for f in model.acpi.unknown_presence_fields)
            + " in this tree",
        )
        summary = dataclasses.replace(summary, problems=summary.problems + (warning,))
    presence = model.acpi.presence
    if (
        presence is not None
        and presence.problems
        and model.acpi.status_declared
        and any(r.id == "acpi-cpu-persistence" for r in selected)
    ):
        # a derivation that failed is never a silent "clean"
        derived = tuple(
            Problem(p.file, f"_STA.Present: {p.message}" + (f" (line {p.line})" if p.line else ""))
            for p in presence.problems
        )
        summary = dataclasses.replace(summary, problems=summary.problems + derived)
    session.state.summary = summary
    ran: set[str] = set()
    for rule in selected:
        try:
            got = tuple(rule.check(model, _options(rule, config)))
        except Exception as e:  # a rule crash must not kill the run
            if config.strict:
                raise
            log.debug("rule %s crashed:\n%s", rule.id, traceback.format_exc())
            crashes.append(Problem("", f"rule {rule.id} crashed: {e!r}", "error", "crash"))
            continue
        session.state.results[rule.id] = got
        diags.extend((rule, d) for d in got)
        ran.add(rule.id)
    return summary, diags, crashes, ran


def _build_counts(session: Session) -> tuple[int, int]:
    """:func:`qemu_lint.select.build_counts`, from the tree's record when it
    has them (an unchanged tree imports neither the selection nor the model)."""
    if session.state.build_counts is not None:
        return session.state.build_counts
    from qemu_lint.select import build_counts

    return build_counts(session)


def _stats(summary: FactsSummary, seconds: float, suppressed: int) -> Stats:
    return Stats(
        files=summary.parsed_files,
        bytes=summary.parsed_bytes,
        seconds=seconds,
        tree_files=summary.tree_files,
        parsed_files=summary.parsed_files,
        skipped_files=sum(1 for p in summary.problems if p.message.startswith("skipped")),
        files_with_errors=summary.files_with_errors,
        error_nodes=summary.error_nodes,
        skipped_bytes=summary.skipped_bytes,
        suppressed=suppressed,
    )


def run(config: Config, on_progress: Progress | None = None, chain: Chain | None = None) -> Report:
    """Run a whole check over ``config.root``.

    :param on_progress: told how extraction advances (``(done, total, what)``)
    :param chain: the command's earlier runs (see :class:`Chain`)
    """
    t0 = time.monotonic()
    check_against_tree(config)
    session, suppressions = _open(config, on_progress, chain)
    selected = _selected(config)
    summary, diags, crashes, ran = _analyse(config, session, selected)
    build_problems, uncertain = _build_counts(session)
    _save(session)
    unused_rule = next((r for r in selected if r.id == UNUSED and r.id in ran), None)
    active, suppressed = _suppress(config, _stamp(config, diags), suppressions, ran, unused_rule)
    findings: list[Finding] = []
    frames = Frames(config.root)
    relevant = [f for f in sorted(active, key=_order) if _relevant(f, config.only)]
    last: dict[str, int] = {}
    for f in relevant:
        last[f.file] = max(last.get(f.file, 0), f.line)
    for f in relevant:
        frame, lhash = frames.frame(f.file, f.line, last[f.file])
        findings.append(dataclasses.replace(f, frame=frame, line_hash=lhash))
    silenced = [f for f in sorted(suppressed, key=_order) if _relevant(f, config.only)]
    rules = tuple(
        RuleInfo(r.id, r.severity.value, r.summary, r.doc, r.tags, r.precision, r.default_enabled)
        for r in ALL_RULES
    )
    return Report(
        config.root,
        tuple(findings),
        tuple(summary.problems) + tuple(crashes),
        dataclasses.replace(
            _stats(summary, time.monotonic() - t0, len(silenced)),
            build_not_understood=build_problems,
            build_uncertain_files=uncertain,
        ),
        rules,
        __version__,
        suppressed=tuple(silenced),
    )
