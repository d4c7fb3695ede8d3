"""The generic rule test: every sample case, every expectation beside its site.

For each case the engine runs with only that rule enabled, plus the rules the
case's inline suppressions name (judging a suppression of rule X needs X's
findings), and the set of ``(path, line, rule)`` it reports for those rules
must equal the ``/* expect: … */`` (and ``expect-tree-sitter``) markers, give
or take ``todo-expect`` (known misses) and ``todo-ok`` (tolerated false
positives).  Then the findings' text (each finding's line, message and notes,
as ``qemu-lint check`` prints them on a pipe) must equal the case's expected
output file, so a message change is seen in review; ``QEMU_TEST_REGENERATE=1``
rewrites those files.

Every case form of samples/README.md runs: a case folder overlaid on the
rule's ``_base/`` (or standing alone when the rule has no ``_base/``), a
single-file case ``<case>.c`` (see :func:`tests.conftest.materialize`), a
case's own ``.qemu-lint.toml``, and each complete tree of ``samples/trees/``
with every rule.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Report
from qemu_lint.findings.suppress import scan
from qemu_lint.report.base import RenderOptions
from qemu_lint.report.registry import REPORTERS
from qemu_lint.rules import ALL_RULES, SETTINGS, by_id
from qemu_lint.settings import CONFIG_NAME, Config, build_config, resolve_settings
from tests.conftest import SAMPLES, is_case, marker_attrs, markers, materialize


def _cases() -> list[tuple[str, Path]]:
    out = []
    for rule in ALL_RULES:
        folder = SAMPLES / "rules" / rule.id
        for case in sorted(folder.iterdir()) if folder.is_dir() else []:
            if is_case(case):
                out.append((rule.id, case))
    for tree in sorted((SAMPLES / "trees").iterdir()):
        if tree.is_dir():
            for rule in ALL_RULES:
                out.append((rule.id, tree))
    return out


CASES = _cases()


def expected_file(rule_id: str, case: Path) -> Path:
    """Where a case's expected output lives: beside the case, never inside it
    (``<case>.expected`` for ``<case>/`` or ``<case>.c``; for a complete tree,
    ``<tree>.<rule-id>.expected``, since every rule runs on it)."""
    if case.parent.parent == SAMPLES / "rules":
        return case.with_name(case.name.removesuffix(".c") + ".expected")
    return case.with_name(f"{case.name}.{rule_id}.expected")


def findings_text(report: Report, tree: Path) -> str:
    """The findings and problems as ``qemu-lint check`` prints them on a pipe
    (no code frames, no colour), then one line per finding an inline
    suppression silenced, with the case's temporary folder as ``<case>``."""
    out = io.StringIO()
    REPORTERS["text"].render(report, out, RenderOptions())
    for f in report.suppressed:
        out.write(f"{f.file}:{f.line}:{f.column}: suppressed: {f.message} [{f.rule}]\n")
    return out.getvalue().replace(str(tree), "<case>")


def case_config(tree: Path, rule_id: str) -> Config:
    """The engine's configuration for a case: its own ``.qemu-lint.toml`` if it
    has one (``required-archs``, ``presence-fields``…), and only ``rule_id``
    plus the rules its suppressions name (see :func:`_rules_for`)."""
    cfg = tree / CONFIG_NAME
    settings = resolve_settings(str(cfg) if cfg.is_file() else None, declared=SETTINGS)
    config = build_config(str(tree), settings, jobs=1, strict=True)
    return dataclasses.replace(config, select=_rules_for(rule_id, tree), ignore=())


def _rules_for(rule_id: str, tree: Path) -> tuple[str, ...]:
    """``rule_id`` and the known rules named by the tree's suppressions."""
    named: set[str] = set()
    for p in sorted(tree.rglob("*")):
        if p.is_file() and p.suffix in (".c", ".h", ".inc"):
            for sup in scan(p.relative_to(tree).as_posix(), p.read_bytes()):
                named.update(r for r in sup.rules if by_id(r) is not None)
    return (rule_id, *sorted(named - {rule_id}))


@pytest.mark.parametrize(("rule_id", "case"), CASES, ids=[f"{r}/{c.name}" for r, c in CASES])
def test_sample(rule_id: str, case: Path, tmp_path: Path) -> None:
    tree = materialize(case, tmp_path / "tree")
    expected = markers(tree)
    config = case_config(tree, rule_id)
    selected = config.select
    report = run(config)
    actual = {(f.file, f.line, f.rule) for f in report.findings}
    want = {m for m in expected["expect"] | expected["expect-tree-sitter"] if m[2] in selected}
    todo_miss = {m for m in expected["todo-expect"] if m[2] in selected}
    todo_fp = {m for m in expected["todo-ok"] if m[2] in selected}
    missed = sorted(want - actual)
    unexpected = sorted(actual - want - todo_fp - todo_miss)
    lines = [f"missed: {m[0]}:{m[1]} [{m[2]}]" for m in missed]
    lines += [f"unexpected: {u[0]}:{u[1]} [{u[2]}]" for u in unexpected]
    lines += [f"  {f.file}:{f.line}: {f.message}" for f in report.findings]
    if missed or unexpected:
        from qemu_lint.frontends import dump_facts

        for path in sorted({m[0] for m in missed + unexpected}):
            lines.append(f"facts of {path} (qemu-lint dump-facts):")
            lines.append(dump_facts(str(tree / path))[:20000])
    assert not missed and not unexpected, "\n".join(lines)
    by_site = {(f.file, f.line, f.rule): f for f in report.findings}
    for (kind, path, line, rule), attrs in marker_attrs(tree).items():
        if kind not in ("expect", "expect-tree-sitter") or rule not in selected:
            continue
        f = by_site[(path, line, rule)]
        if "archs" in attrs:
            want_archs = [] if attrs["archs"] == "-" else attrs["archs"].split(",")
            assert list(f.archs) == want_archs, f"{path}:{line}: archs {list(f.archs)}"
        if "kind" in attrs:
            assert f.kind == attrs["kind"], f"{path}:{line}: kind {f.kind}"
    assert not [p for p in report.problems if p.level == "error"], report.problems
    _compare_expected(expected_file(rule_id, case), findings_text(report, tree))


def _compare_expected(path: Path, text: str) -> None:
    rel = path.relative_to(SAMPLES.parent)
    if os.environ.get("QEMU_TEST_REGENERATE"):
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{rel} is missing; QEMU_TEST_REGENERATE=1 writes it"
    want = path.read_text(encoding="utf-8")
    assert text == want, f"{rel} differs; QEMU_TEST_REGENERATE=1 to accept"


def test_every_rule_has_positive_and_negative_cases(tmp_path: Path) -> None:
    for rule in ALL_RULES:
        folder = SAMPLES / "rules" / rule.id
        cases = [c for c in folder.iterdir() if is_case(c)]
        positives = negatives = 0
        for n, case in enumerate(cases):
            case_markers = markers(materialize(case, tmp_path / rule.id / str(n)))
            if any(m[2] == rule.id for m in case_markers["expect"]):
                positives += 1
            else:
                negatives += 1
        assert positives and negatives, (
            f"{rule.id}: {positives} positive, {negatives} negative cases"
        )


def test_every_expected_file_has_its_case() -> None:
    """An expected output left behind by a renamed or deleted case fails."""
    want = {expected_file(rule_id, case) for rule_id, case in CASES}
    found = set(SAMPLES.glob("rules/*/*.expected")) | set(SAMPLES.glob("trees/*.expected"))
    assert sorted(p.relative_to(SAMPLES).as_posix() for p in found - want) == []


def test_every_case_form_is_present() -> None:
    """samples/README.md documents four case forms; each has a case, so none goes untested."""
    cases = [case for _, case in CASES]
    rule_cases = [c for c in cases if c.parent.parent == SAMPLES / "rules"]
    assert any(c.is_file() and c.suffix == ".c" for c in rule_cases), "no single-file case"
    assert any(c.is_dir() and (c.parent / "_base").is_dir() for c in rule_cases), "no overlay case"
    assert any((c / CONFIG_NAME).is_file() for c in rule_cases), "no case with its own config"
    assert any(c.parent == SAMPLES / "trees" for c in cases), "no complete tree"
