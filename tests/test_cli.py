"""The command line, in process: ``qemu_lint.cli.main([...])`` with captured output.

Covers the contracts of docs/output.md (commands, exit statuses, JSON field
names), per-file filtering as pre-commit uses it, and bad input: unreadable,
binary, non-UTF-8, empty or huge files and symlink loops are skipped with a
problem naming the file, counted in ``stats``, and the run goes on.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main
from qemu_lint.discover import files as discovery
from tests.conftest import SAMPLES, materialize
from tests.conftest import run_check as _check
from tests.conftest import run_check_json as _check_json

CASES = SAMPLES / "rules" / "acpi-cpu-persistence"
Capsys = pytest.CaptureFixture[str]

HEADER = re.compile(r"^hw/acpi/cpu.c:\d+:\d+: error: .* \[acpi-cpu-persistence\]$")

FINDING_KEYS = {
    "rule",
    "severity",
    "kind",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "function",
    "message",
    "archs",
    "hook",
    "path",
    "fingerprint",
}


def _tree(tmp_path: Path, case: str) -> Path:
    return materialize(CASES / case, tmp_path / "tree")


# --- check ------------------------------------------------------------------


def test_check_unguarded_reports_the_release(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "unguarded")
    status, out, err = _check(capsys, str(tree))
    assert status == 1
    headers = [line for line in out.splitlines() if HEADER.match(line)]
    assert len(headers) == 1, out
    assert "Found 1 finding in 1 file." in err


def test_check_guarded_is_clean(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "d1-if")
    status, out, _ = _check(capsys, str(tree))
    assert status == 0
    assert ": error: " not in out


def test_check_json_follows_the_contract(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "unguarded")
    status, doc = _check_json(capsys, str(tree))
    assert status == 1
    assert doc["version"] == 1
    assert doc["tool"]["name"] == "qemu-lint" and isinstance(doc["tool"]["version"], str)
    assert doc["root"] == str(tree.resolve())
    assert {"files", "bytes", "seconds"} <= doc["stats"].keys()
    [f] = doc["findings"]
    assert FINDING_KEYS <= f.keys()
    assert f["rule"] == "acpi-cpu-persistence" and f["severity"] == "error"
    assert f["kind"] in ("release", "presence-toggle")
    assert f["file"] == "hw/acpi/cpu.c"
    assert f["function"] == "acpi_cpu_unplug_cb"
    assert f["line"] <= f["end_line"] and f["column"] >= 1
    assert f["archs"] == ["i386", "loongarch"]
    assert f["path"] and all({"file", "line", "function", "note"} <= s.keys() for s in f["path"])
    assert f["path"][-1]["file"] == "hw/acpi/cpu.c"
    assert re.fullmatch(r"[0-9a-f]+", f["fingerprint"])


def test_named_file_on_the_path_keeps_the_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path, "unguarded")
    _, doc = _check_json(capsys, str(tree))
    [f] = doc["findings"]
    # a file that is evidence (a caller on the path), not the site itself
    on_path = next(s["file"] for s in f["path"] if s["file"] != f["file"])
    assert on_path.startswith("hw/i386/"), f["path"]
    monkeypatch.chdir(tmp_path)
    status, doc = _check_json(capsys, f"tree/{on_path}")
    assert status == 1
    assert [g["fingerprint"] for g in doc["findings"]] == [f["fingerprint"]]


def test_named_unrelated_file_drops_the_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, "unguarded")
    monkeypatch.chdir(tmp_path)
    status, doc = _check_json(capsys, "tree/target/riscv/cpu.c")
    assert status == 0
    assert doc["findings"] == []


def test_not_a_qemu_root(tmp_path: Path, capsys: Capsys) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "x.c").write_text("int x;\n")
    status, out, err = _check(capsys, str(tmp_path))
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path) in lines[0], err


def test_missing_path(tmp_path: Path, capsys: Capsys) -> None:
    missing = tmp_path / "no-such-dir"
    status, _, err = _check(capsys, str(missing))
    assert status == 2
    assert str(missing) in err


def test_unknown_rule_in_select(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "unguarded")
    status, out, err = _check(capsys, "--select", "no-such-rule", str(tree))
    assert status == 2
    assert out == ""
    assert "no-such-rule" in err


# --- rules, explain ---------------------------------------------------------


def test_rules_lists_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert any(line.split("\t")[0] == "acpi-cpu-persistence" for line in out.splitlines())


def test_in_process_main_leaves_the_garbage_collector_on(capsys: Capsys) -> None:
    """Only the console script turns the collector off (the process ends with it)."""
    import gc

    assert gc.isenabled()
    assert main(["rules"]) == 0
    assert gc.isenabled()
    capsys.readouterr()


def test_logging_is_set_up_once(capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs in one process install one handler; the second sets its own level."""
    import logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as outside pytest: no handler yet
    monkeypatch.setattr(root, "level", root.level)
    assert main(["rules"]) == 0
    assert len(root.handlers) == 1 and root.level == logging.WARNING
    assert main(["explain", "unused-suppression"]) == 0
    assert len(root.handlers) == 1
    assert main(["check", "--debug", "--show-config", str(SAMPLES / "trees" / "demo")]) == 0
    assert len(root.handlers) == 1 and root.level == logging.DEBUG
    capsys.readouterr()


def test_explain_prints_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "acpi-cpu-persistence"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Options",
        "## Known limitations",
        "## References",
    ):
        assert heading in out


def test_explain_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


# --- model ------------------------------------------------------------------


def test_model_json_has_the_contract_keys(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "unguarded")
    assert main(["model", str(tree), "--format", "json", "--jobs", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"version", "root", "hook_tables", "implementations", "archs"} <= doc.keys()
    cpu_class = next(t for t in doc["hook_tables"] if t["struct"] == "CPUClass")
    assert cpu_class["file"] == "include/hw/core/cpu.h"
    assert all({"name", "signature", "line"} <= h.keys() for h in cpu_class["hooks"])
    assert all(
        {"struct", "hook", "arch", "function", "file", "line"} <= i.keys()
        for i in doc["implementations"]
    )
    i386 = doc["archs"]["i386"]
    assert i386["emits_cpu_aml"] is True
    assert i386["unplug_reaches"] == ["hw/acpi/cpu.c:acpi_cpu_unplug_cb"]
    assert i386["implements_persistence_hook"] is False


def test_model_table_renders(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "unguarded")
    assert main(["model", str(tree), "--format", "table", "--jobs", "1", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "CPUClass (include/hw/core/cpu.h:" in out
    assert "ACPI CPU hotplug" in out
    assert "\x1b[" not in out


# --- bad input --------------------------------------------------------------


def _deny(monkeypatch: pytest.MonkeyPatch, file: Path, folder: Path) -> None:
    """Make opening ``file`` and listing ``folder`` fail with EACCES, as for a non-root user."""
    real_open, real_scandir = builtins.open, os.scandir

    def open_(path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(path) == str(file):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_open(path, *args, **kwargs)

    def scandir(path: Any = ".") -> Any:
        if os.fspath(path) == str(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(discovery, "open", open_, raising=False)  # discovery.load's open()
    monkeypatch.setattr(os, "scandir", scandir)  # what os.walk lists folders with


def test_bad_files_are_skipped_and_counted(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    tree = _tree(tmp_path, "unguarded")
    largest = max(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    monkeypatch.setattr(discovery, "MAX_BYTES", largest + 1)
    bad = tree / "hw" / "bad"
    bad.mkdir()
    (bad / "binary.c").write_bytes(b"int x;\0\0\0\n")
    (bad / "latin1.c").write_bytes(b"/* caf\xe9 */\n")  # read as bytes: analysed
    (bad / "empty.c").write_bytes(b"")
    (bad / "huge.c").write_bytes(b"/* padding */\n" * (largest // 14 + 2))
    (bad / "dangling.c").symlink_to("no-such-file.c")
    (bad / "self.c").symlink_to("self.c")  # ELOOP
    (bad / "loop").symlink_to("..")  # hw/bad/loop -> hw: a folder loop
    expected = {
        "hw/bad/binary.c": "binary",
        "hw/bad/empty.c": "empty",
        "hw/bad/huge.c": "too large",
        "hw/bad/dangling.c": "",
        "hw/bad/self.c": "",
        "hw/bad/loop": "loop",
    }
    (bad / "unreadable.c").write_text("int y;\n")
    (bad / "secret").mkdir()
    (bad / "secret" / "hidden.c").write_text("int z;\n")
    expected["hw/bad/unreadable.c"] = "unreadable: Permission denied"
    expected["hw/bad/secret"] = "unreadable folder: Permission denied"
    if os.geteuid() != 0:
        (bad / "unreadable.c").chmod(0)
        (bad / "secret").chmod(0)
        # tmp_path cleanup needs to get back in
        request.addfinalizer(lambda: (bad / "secret").chmod(0o755))
    else:  # root reads mode-000 files and folders anyway: make them fail as they would
        _deny(monkeypatch, bad / "unreadable.c", bad / "secret")

    status, doc = _check_json(capsys, str(tree))

    # unreadable, binary and too large files may hold a site: not "clean"
    assert status == 2
    assert [(f["file"], f["function"]) for f in doc["findings"]] == [
        ("hw/acpi/cpu.c", "acpi_cpu_unplug_cb")
    ]
    problems = {p["file"]: p for p in doc["problems"]}
    for path, why in expected.items():
        assert path in problems, f"{path} not reported: {doc['problems']}"
        assert why in problems[path]["message"]
        assert problems[path]["level"] == "warning"
    assert doc["stats"]["skipped_files"] == len(expected)

    status, out, _ = _check(capsys, str(tree))
    assert status == 2
    assert "hw/bad/latin1.c" not in out
    for path in expected:
        assert any(line.startswith(f"{path}: warning: ") for line in out.splitlines()), out


def test_start_up_imports_no_reporter_it_does_not_render() -> None:
    """Start-up (docs/performance.md): the command line imports no reporter
    module until one renders, and the text reporter no syntax highlighter
    until a code frame is shown."""
    code = (
        "import sys, qemu_lint.cli.main, qemu_lint.report.text\n"
        "bad = [m for m in sys.modules if m.startswith(('qemu_lint.report.audit.', "
        "'qemu_lint.report.sarif', 'qemu_lint.report.json', 'qemu_lint.audit.', "
        "'rich.syntax', 'pygments'))]\n"
        "print(bad)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "['qemu_lint.report.audit.base']"
