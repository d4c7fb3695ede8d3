"""Meta tests: rule registration, rule docs (and their generated pages in
docs/rules/), the README's rules table and its commands."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest

from qemu_lint.rule import Rule
from qemu_lint.rules import ALL_RULES
from tests import gen_rule_docs
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
    return sorted(
        p.stem for p in (REPO / "qemu_lint" / "rules").glob("*.py") if p.stem != "__init__"
    )


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


def test_rule_pages_are_generated_from_the_docstrings() -> None:
    """docs/rules/<id>.md is the rule's docstring as ``explain`` prints it;
    ``QEMU_TEST_REGENERATE=1`` (or ``python -m tests.gen_rule_docs``) rewrites them."""
    if os.environ.get("QEMU_TEST_REGENERATE"):
        gen_rule_docs.main()
    want = gen_rule_docs.pages()
    have = {p: p.read_text(encoding="utf-8") for p in gen_rule_docs.DOCS.glob("*.md")}
    stale = sorted(p.name for p in set(want) | set(have) if want.get(p) != have.get(p))
    assert not stale, f"docs/rules/ out of date: {stale}; run python -m tests.gen_rule_docs"


def test_rule_pages_match_explain(capsys: pytest.CaptureFixture[str]) -> None:
    """The generated page is exactly ``qemu-lint explain``'s output, under its notice."""
    from qemu_lint.cli import main

    for rule in ALL_RULES:
        assert main(["explain", rule.id]) == 0
        out = capsys.readouterr().out
        page = gen_rule_docs.rule_doc(rule)
        assert page.endswith(out) and page[: -len(out)].startswith("<!-- Generated"), rule.id


def _anchors(md: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    text = re.sub(r"```.*?```", "", md.read_text(encoding="utf-8"), flags=re.S)
    heads = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_docs_links_resolve() -> None:
    """Every relative link of README.md, CONTRIBUTING.md and docs/ names a file
    that exists, and a heading of it when it has a ``#fragment``."""
    link = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")
    docs = sorted((REPO / "docs").rglob("*.md"))
    for md in [REPO / "README.md", REPO / "CONTRIBUTING.md", *docs]:
        where = md.relative_to(REPO)
        text = re.sub(r"```.*?```|`[^`]*`", "", md.read_text(encoding="utf-8"), flags=re.S)
        for target, fragment in link.findall(text):
            if "://" in target:
                continue
            path = md.parent / target if target else md
            assert path.exists(), f"{where}: broken link {target}"
            if fragment and path.is_file():
                assert fragment in _anchors(path), f"{where}: no #{fragment} in {target}"


def test_readme_is_short() -> None:
    """README.md is the front page; the rest of the documentation lives in docs/."""
    assert (REPO / "README.md").stat().st_size < 12 * 1024
