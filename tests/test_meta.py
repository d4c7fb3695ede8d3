"""Meta tests: rule registration, rule docs, the README's rules table and its commands."""

from __future__ import annotations

import importlib
import os
import re

import pytest

from qemu_lint.rule import Rule
from qemu_lint.rules import ALL_RULES
from tests.conftest import REPO

HEADINGS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Options",
    "## Known limitations",
    "## References",
)


def _rule_modules() -> list[str]:
    return sorted(p.stem for p in (REPO / "qemu_lint" / "rules").glob("*.py") if p.stem != "__init__")


def test_every_rule_module_is_registered() -> None:
    registered = {r.id.replace("-", "_") for r in ALL_RULES}
    assert set(_rule_modules()) == registered


def test_rule_ids_are_unique() -> None:
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("module", _rule_modules())
def test_rule_id_is_module_name(module: str) -> None:
    mod = importlib.import_module(f"qemu_lint.rules.{module}")
    rule = mod.RULE
    assert rule.id == module.replace("_", "-")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id)
    assert rule in ALL_RULES


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.id for r in ALL_RULES])
def test_rule_doc_has_the_headings_in_order(rule: Rule) -> None:
    doc = rule.doc
    lines = doc.splitlines()
    positions = []
    for heading in HEADINGS:
        assert heading in lines, f"{rule.id}: missing '{heading}'"
        positions.append(lines.index(heading))
    assert positions == sorted(positions), f"headings out of order: {positions}"
    # every section has content
    for start, end in zip(positions, positions[1:] + [len(lines)], strict=True):
        assert any(line.strip() for line in lines[start + 1 : end]), lines[start]


def _readme_rules_table() -> list[tuple[str, str, str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^## Rules\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, "README.md has no '## Rules' section"
    rows = [line for line in m.group(1).splitlines() if line.startswith("|")]
    assert len(rows) >= 2, "README.md '## Rules' has no table"
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header == ["id", "severity", "summary"], header
    out = []
    for row in rows[2:]:  # after the header and the |---| line
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 3, row
        out.append((cells[0].strip("`"), cells[1], cells[2]))
    return out


def test_readme_rules_table_matches_all_rules() -> None:
    want = [(r.id, r.severity.value, r.summary) for r in ALL_RULES]
    assert _readme_rules_table() == want


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.match(r"```sh\n(.*?)\n```\n", text, re.S)
    assert m, "README.md must start with a fenced block of commands"
    lines = m.group(1).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("qemu-lint check samples/trees/demo")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci.splitlines()
    assert "set -euo pipefail" in ci
    assert os.access(REPO / ".ci" / "run", os.X_OK)
