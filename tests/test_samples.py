"""The generic rule test: every sample case, every expectation beside its site.

For each case (``samples/rules/<rule>/<case>/`` overlaid on ``_base``, and each
``samples/trees/<tree>/``) the engine runs with only that rule enabled, plus
the rules the case's inline suppressions name (judging a suppression of rule X
needs X's findings), and the set of ``(path, line, rule)`` it reports for
those rules must equal the ``/* expect: … */`` (and ``expect-tree-sitter``)
markers, give or take ``todo-expect`` (known misses) and ``todo-ok``
(tolerated false positives).
A case that needs settings carries its own ``.qemu-lint.toml`` (read as
qemu-lint reads it).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from qemu_lint.settings import CONFIG_NAME, Config, build_config, resolve_settings
from qemu_lint.engine import run
from qemu_lint.findings.suppress import scan
from qemu_lint.rules import ALL_RULES, SETTINGS, by_id
from tests.conftest import SAMPLES, marker_attrs, markers, materialize


def _cases() -> list[tuple[str, Path]]:
    out = []
    for rule in ALL_RULES:
        folder = SAMPLES / "rules" / rule.id
        for case in sorted(folder.iterdir()) if folder.is_dir() else []:
            if case.is_dir() and not case.name.startswith("_"):
                out.append((rule.id, case))
    for tree in sorted((SAMPLES / "trees").iterdir()):
        if tree.is_dir():
            for rule in ALL_RULES:
                out.append((rule.id, tree))
    return out


CASES = _cases()


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
        from qemu_lint.engine import dump_facts

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


def test_every_rule_has_positive_and_negative_cases() -> None:
    for rule in ALL_RULES:
        folder = SAMPLES / "rules" / rule.id
        cases = [c for c in folder.iterdir() if c.is_dir() and not c.name.startswith("_")]
        positives = negatives = 0
        for case in cases:
            case_markers = markers(materialize(case, Path(__import__("tempfile").mkdtemp()) / "t"))
            if any(m[2] == rule.id for m in case_markers["expect"]):
                positives += 1
            else:
                negatives += 1
        assert positives and negatives, (
            f"{rule.id}: {positives} positive, {negatives} negative cases"
        )
