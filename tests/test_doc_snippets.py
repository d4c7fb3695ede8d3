"""The outputs README.md and docs/ show are the outputs the commands print.

Each documented output block is compared with a run of the command it names
(or with the golden file a test pins it to).  Other snippets are run where
they are used: docs/ci.md's ``.pre-commit-config.yaml`` by
tests/test_precommit.py, docs/audit.md's ``git config --add b4.…`` lines by
tests/test_b4.py, README.md's install commands by tests/test_meta.py.
"""

from __future__ import annotations

import re

import pytest

from qemu_lint.cli import main
from tests.conftest import REPO, SAMPLES, qemu_tree, shared_facts

Capsys = pytest.CaptureFixture[str]


def _blocks(doc: str, after: str, indent: str = "") -> list[str]:
    """The ```` ```text ```` blocks of ``doc`` after the line holding ``after``."""
    text = (REPO / doc).read_text(encoding="utf-8")
    text = text[text.index(after) :]
    fence = re.escape(indent + "```")
    out = re.findall(rf"(?ms)^{fence}text\n(.*?)^{fence}$", text)
    return [re.sub(rf"(?m)^{re.escape(indent)}", "", b) for b in out]


def _check(capsys: Capsys, *args: str) -> str:
    """stdout, then stderr, as a terminal shows them when piped (no colour)."""
    main(["check", "--color", "never", *args])
    out, err = capsys.readouterr()
    return out + err


@pytest.mark.parametrize("doc", ["README.md", "docs/usage.md"])
def test_reading_a_finding_is_the_demo_output(
    doc: str, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    block = _blocks(doc, "## Reading a finding")[0]
    assert block == _check(capsys, str(SAMPLES.relative_to(REPO) / "trees" / "demo"))


def test_audit_text_output_is_the_golden_one() -> None:
    """tests/test_audit.py pins audit-text.txt to the audit of the demo series."""
    golden = (REPO / "tests" / "golden" / "audit-text.txt").read_text(encoding="utf-8")
    assert _blocks("docs/audit.md", "## What you get")[0] == golden


def test_ci_pre_commit_note_is_the_summary_line() -> None:
    """tests/test_precommit.py checks pre-commit prints this line."""
    from qemu_lint.findings import Report, Stats
    from qemu_lint.report.text import summary_line

    [block] = _blocks("docs/ci.md", "`qemu-lint` runs at commit time", indent="  ")[:1]
    stats = Stats(files=0, bytes=0, seconds=0.0, preexisting=1)
    report = Report(root=".", findings=(), problems=(), stats=stats, rules=(), tool_version="")
    assert block == summary_line(report, base="HEAD") + "\n"


@pytest.mark.real_qemu
def test_qemu_10_0_13_finding_in_usage_is_the_real_output(capsys: Capsys) -> None:
    block = _blocks("docs/usage.md", "On the QEMU 10.0.13 tree", indent="  ")[0]
    out = _check(capsys, "--cache-dir", shared_facts(), str(qemu_tree("10.0.13")))
    assert block == "".join(ln + "\n" for ln in out.splitlines() if not ln.startswith("Found "))


def test_audit_email_reply_is_the_golden_one() -> None:
    """tests/test_audit.py pins audit-email.txt to the demo series' replies."""
    golden = (REPO / "tests" / "golden" / "audit-email.txt").read_text(encoding="utf-8")
    first = golden.split("\n\nFrom qemu-lint")[0].rstrip("\n") + "\n"
    assert _blocks("docs/audit.md", "- `email`: a plain-text review reply", indent="  ")[0] == first
