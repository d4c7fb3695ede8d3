"""Inline suppressions: the comment syntax, the engine's suppression stage and
the ``unused-suppression`` rule as the command line shows them.

The sample cases under ``samples/rules/unused-suppression/`` and
``samples/rules/acpi-cpu-persistence/suppressed/`` are checked by the generic
test; these tests pin what the markers cannot: the reason carried by a
suppressed finding, the JSON and summary counts, the exit status, and which
suppressions are judged when rules are left out or files are named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main
from qemu_lint.engine import collect_facts, run
from qemu_lint.findings.suppress import scan
from qemu_lint.rules import default_config
from tests.conftest import SAMPLES, materialize

ACPI = SAMPLES / "rules" / "acpi-cpu-persistence"
UNUSED = SAMPLES / "rules" / "unused-suppression"
Capsys = pytest.CaptureFixture[str]


def _json(capsys: Capsys, *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["check", "--jobs", "1", "--color", "never", "--format", "json", *args])
    out = capsys.readouterr().out
    return status, json.loads(out)


# --- syntax -----------------------------------------------------------------


def test_scan_reads_rules_reason_and_the_lines_covered() -> None:
    src = (
        b"int a; /* qemu-lint: allow acpi-cpu-persistence -- the board never unplugs */\n"
        b"// qemu-lint: allow one-rule,  other-rule -- r\n"
        b"  /*\n"
        b"   * qemu-lint: allow x\n"
        b"   *   -- a reason on\n"
        b"   *      two lines\n"
        b"   */\n"
    )
    a, b, c = scan("hw/x.c", src)
    assert (a.rules, a.reason, a.first, a.last) == (
        ("acpi-cpu-persistence",),
        "the board never unplugs",
        1,
        2,
    )
    assert (a.span.line, a.span.col) == (1, 11)  # where "qemu-lint:" starts
    assert (b.rules, b.reason, b.first, b.last) == (("one-rule", "other-rule"), "r", 2, 3)
    # a block comment covers its own lines (from its opener) and the next one
    assert (c.rules, c.reason, c.first, c.last) == (("x",), "a reason on two lines", 3, 8)
    assert not (a.malformed or b.malformed or c.malformed)


@pytest.mark.parametrize(
    ("comment", "rules", "reason", "malformed"),
    [
        (b"/* qemu-lint: allow r */", ("r",), "", ""),
        (b"/* qemu-lint: allow r -- */", ("r",), "", ""),
        (b"/* qemu-lint: allow r--why */", ("r--why",), "", ""),  # "--" inside an id
        (b"/* qemu-lint: allow -- why */", (), "why", "it names no rule"),
        (b"/* qemu-lint: alow r -- why */", (), "", "unknown directive 'alow'"),
        (b"/* qemu-lint: allowing r -- why */", (), "", "unknown directive 'allowing'"),
        (b"/* qemu-lint: */", (), "", "no directive"),
    ],
)
def test_scan_keeps_what_is_wrong(
    comment: bytes, rules: tuple[str, ...], reason: str, malformed: str
) -> None:
    [s] = scan("hw/x.c", b"int a;\n" + comment + b"\n")
    assert (s.rules, s.reason, s.malformed) == (rules, reason, malformed)


def test_scan_ignores_strings_and_prose() -> None:
    src = (
        b'const char *s = "/* qemu-lint: allow r -- not a comment */";\n'
        b"/* see qemu-lint: allow r -- only at the start of a comment line */\n"
        b"char c = '\"'; /* a quote char does not open a string */\n"
    )
    assert scan("hw/x.c", src) == []


# --- the engine -------------------------------------------------------------


def test_suppressed_release_goes_to_report_suppressed_with_its_reason(tmp_path: Path) -> None:
    tree = materialize(ACPI / "suppressed", tmp_path / "tree")
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    assert report.findings == ()
    [f] = report.suppressed
    assert (f.rule, f.file, f.function) == (
        "acpi-cpu-persistence",
        "hw/acpi/cpu.c",
        "acpi_cpu_unplug_cb",
    )
    assert f.suppression == (
        "the boards of this tree never need a vCPU to stay present after unplug"
    )
    assert report.stats.suppressed == 1
    # the same release, unsuppressed, has the same fingerprint
    base = run(default_config(root=str(materialize(ACPI / "unguarded", tmp_path / "b")), jobs=1))
    assert [g.fingerprint for g in base.findings] == [f.fingerprint]


def test_check_json_lists_suppressed_findings_and_exits_0(tmp_path: Path, capsys: Capsys) -> None:
    tree = materialize(ACPI / "suppressed", tmp_path / "tree")
    status, doc = _json(capsys, str(tree))
    assert status == 0
    assert doc["findings"] == []
    [s] = doc["suppressed"]
    assert s["rule"] == "acpi-cpu-persistence" and s["function"] == "acpi_cpu_unplug_cb"
    assert s["suppression"].startswith("the boards of this tree")
    assert doc["stats"]["suppressed"] == 1


def test_text_summary_counts_suppressed(tmp_path: Path, capsys: Capsys) -> None:
    tree = materialize(ACPI / "suppressed", tmp_path / "tree")
    assert main(["check", "--jobs", "1", "--color", "never", str(tree)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "Found 0 findings in 0 files (1 suppressed)."


def test_unused_suppression_findings_in_json(tmp_path: Path, capsys: Capsys) -> None:
    tree = materialize(UNUSED / "unknown-rule", tmp_path / "tree")
    status, doc = _json(capsys, str(tree))
    assert status == 1
    unused = [f for f in doc["findings"] if f["rule"] == "unused-suppression"]
    assert {f["kind"] for f in unused} == {"unknown-rule", "malformed"}
    assert all(f["severity"] == "warning" and f["file"] == "hw/acpi/cpu_slots.c" for f in unused)
    messages = sorted(f["message"] for f in unused)
    assert any("unknown rule 'acpi-cpu-persistance'" in m for m in messages), messages
    assert any("unknown rule 'no-such-rule'" in m for m in messages), messages
    assert any("unknown directive 'alow'" in m for m in messages), messages
    # the list naming a real and an unknown rule still silences the release under it
    [s] = doc["suppressed"]
    assert s["function"] == "cpu_slot_forget_two" and s["suppression"] == "reused slot"


def test_reasonless_suppression_silences_nothing(tmp_path: Path) -> None:
    tree = materialize(UNUSED / "no-reason", tmp_path / "tree")
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    assert report.suppressed == ()
    released = {f.function for f in report.findings if f.rule == "acpi-cpu-persistence"}
    assert {"cpu_slot_forget", "cpu_slot_forget_above"} <= released
    kinds = [f.kind for f in report.findings if f.rule == "unused-suppression"]
    assert kinds == ["no-reason", "no-reason"]


def test_suppression_of_a_rule_that_did_not_run_is_not_judged(tmp_path: Path) -> None:
    tree = materialize(UNUSED / "unused", tmp_path / "tree")
    both = run(default_config(root=str(tree), jobs=1))
    assert [f.kind for f in both.findings if f.rule == "unused-suppression"] == ["unused"] * 3
    alone = run(default_config(root=str(tree), jobs=1, select=("unused-suppression",)))
    assert alone.findings == ()
    # unknown rules and missing reasons do not depend on which rules ran
    tree2 = materialize(UNUSED / "no-reason", tmp_path / "tree2")
    alone2 = run(default_config(root=str(tree2), jobs=1, select=("unused-suppression",)))
    assert [f.kind for f in alone2.findings] == ["no-reason", "no-reason"]


def test_ignoring_unused_suppression_still_applies_suppressions(tmp_path: Path) -> None:
    tree = materialize(UNUSED / "used", tmp_path / "tree")
    report = run(default_config(root=str(tree), jobs=1, ignore=("unused-suppression",)))
    assert {f.rule for f in report.findings} == {"acpi-cpu-persistence"}
    assert [f.file for f in report.findings] == ["hw/acpi/cpu.c"]
    assert len(report.suppressed) == 4


def test_unused_suppression_can_be_silenced_but_not_its_own_use(tmp_path: Path) -> None:
    tree = materialize(UNUSED / "used", tmp_path / "tree")
    report = run(default_config(root=str(tree), jobs=1))
    [own] = [f for f in report.suppressed if f.rule == "unused-suppression"]
    assert own.kind == "unused" and own.suppression == "kept for the out-of-tree board"
    # naming unused-suppression where nothing needs it is itself reported
    slots = tree / "hw" / "acpi" / "cpu_slots.c"
    slots.write_text(
        slots.read_text().replace(
            "/* qemu-lint: allow acpi-cpu-persistence -- slot reused at once */\n",
            "/* qemu-lint: allow acpi-cpu-persistence, unused-suppression -- reused */\n",
            1,
        )
    )
    again = run(default_config(root=str(tree), jobs=1))
    [f] = [f for f in again.findings if f.rule == "unused-suppression"]
    assert f.message.startswith("unused suppression: no unused-suppression finding")


def test_named_files_narrow_unused_suppressions_but_not_their_use(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    materialize(UNUSED / "used", tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    # Only hw/acpi/cpu.c named: the suppressions in cpu_slots.c still count as used
    # (no unused-suppression finding appears anywhere) and the base release is reported.
    status, doc = _json(capsys, "tree/hw/acpi/cpu.c")
    assert status == 1
    assert [(f["rule"], f["file"]) for f in doc["findings"]] == [
        ("acpi-cpu-persistence", "hw/acpi/cpu.c")
    ]
    assert doc["suppressed"] == []  # the silenced releases lie outside the named file
    materialize(UNUSED / "unused", tmp_path / "tree2")
    status, doc = _json(capsys, "tree2/hw/acpi/cpu.c")
    assert [f["rule"] for f in doc["findings"]] == ["acpi-cpu-persistence"]
    status, doc = _json(capsys, "tree2/hw/acpi/cpu_slots.c")
    assert (
        sorted(f["rule"] for f in doc["findings"])
        == ["acpi-cpu-persistence"] + ["unused-suppression"] * 3
    )


def test_suppression_in_a_file_the_closure_does_not_parse(tmp_path: Path) -> None:
    tree = materialize(ACPI / "unguarded", tmp_path / "tree")
    # hw/core/ has no business with the rule: the engine never parses this file
    (tree / "hw" / "core" / "unrelated.c").write_text(
        "int unrelated(void)\n{\n"
        "    return 0;  /* qemu-lint: allow acpi-cpu-persistence -- x */\n"
        "}\n"
    )
    config = default_config(root=str(tree), jobs=1)
    assert "hw/core/unrelated.c" not in {f.path for f in collect_facts(config).facts}
    report = run(config)
    [f] = [f for f in report.findings if f.rule == "unused-suppression"]
    assert (f.file, f.line, f.kind) == ("hw/core/unrelated.c", 3, "unused")
