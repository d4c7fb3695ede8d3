"""Everyday flags of ``check`` (docs/usage.md#commands): exit statuses, quiet/silent,
statistics, colour, and the per-file filter with QEMU's ``*.c.inc`` files.

In process through ``qemu_lint.cli.main``, except the colour tests that need a
real terminal: those run the CLI in a subprocess on a pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qemu_lint.cli import main
from tests.conftest import REPO, SAMPLES, materialize

Capsys = pytest.CaptureFixture[str]
CASES = SAMPLES / "rules" / "acpi-cpu-persistence"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
GCC = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<level>error|warning|note): ")


def _tree(tmp_path: Path, case: str = "unguarded") -> Path:
    tree = materialize(CASES / case, tmp_path / "tree")
    (tree / ".git").mkdir()
    return tree


def _run(capsys: Capsys, *args: str) -> tuple[int, str, str]:
    status = main(["check", "--jobs", "1", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _severity(tree: Path, level: str) -> None:
    (tree / ".qemu-lint.toml").write_text(f'[severity]\nacpi-cpu-persistence = "{level}"\n')


# --- exit statuses ------------------------------------------------------------------


def test_exit_zero_keeps_the_output(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    status, out, err = _run(capsys, "--exit-zero", "--color", "never", str(tree))
    assert status == 0
    assert any(GCC.match(line) for line in out.splitlines())
    assert "Found 1 finding in 1 file." in err


@pytest.mark.parametrize(
    ("level", "fail_on", "status"),
    [
        ("error", None, 1),
        ("error", "error", 1),
        ("warning", "error", 0),
        ("warning", "warning", 1),
        ("warning", "note", 1),
        ("note", None, 1),
        ("note", "note", 1),
        ("note", "warning", 0),
        ("note", "error", 0),
    ],
)
def test_fail_on(
    tmp_path: Path, capsys: Capsys, level: str, fail_on: str | None, status: int
) -> None:
    tree = _tree(tmp_path)
    _severity(tree, level)
    args = ["--fail-on", fail_on] if fail_on else []
    got, out, _ = _run(capsys, "--format", "json", *args, str(tree))
    assert got == status
    # the threshold decides the exit status only: the finding is still reported
    assert [f["severity"] for f in json.loads(out)["findings"]] == [level]


def test_clean_tree_exits_zero_whatever_the_threshold(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "d1-if")
    for fail_on in ("error", "warning", "note"):
        assert _run(capsys, "--fail-on", fail_on, str(tree))[0] == 0


def test_bad_fail_on_is_a_usage_error(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    status, out, err = _run(capsys, "--fail-on", "fatal", str(tree))
    assert status == 2 and out == "" and "--fail-on" in err


def test_help_documents_the_exit_statuses(capsys: Capsys) -> None:
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("exit status:") :]
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^  {code}  \S", block, re.M), block
    assert "--fail-on" in block and "--exit-zero" in block


# --- quiet, silent ------------------------------------------------------------------


def test_quiet_drops_the_summary(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    status, out, err = _run(capsys, "-q", "--color", "never", str(tree))
    assert status == 1 and GCC.match(out) and err == ""


def test_silent_prints_nothing(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    for fmt in ("text", "json"):
        assert _run(capsys, "-s", "--format", fmt, str(tree)) == (1, "", "")
    clean = materialize(CASES / "d1-if", tmp_path / "clean")
    assert _run(capsys, "--silent", str(clean)) == (0, "", "")


def test_silent_still_writes_the_output_file(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    out_file = tmp_path / "report.json"
    status, out, err = _run(capsys, "-s", "--format", "json", "-o", str(out_file), str(tree))
    assert (status, out, err) == (1, "", "")
    assert [f["rule"] for f in json.loads(out_file.read_text())["findings"]] == [
        "acpi-cpu-persistence"
    ]


def test_silent_still_names_a_configuration_error(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    (tree / ".qemu-lint.toml").write_text("hookz = []\n")
    status, out, err = _run(capsys, "-s", str(tree))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert "hookz" in line


# --- statistics ---------------------------------------------------------------------


def test_statistics_text(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "alias-and-array")
    (tree / ".qemu-lint.toml").write_text('required-archs = ["i386", "loongarch", "riscv"]\n')
    status, out, _ = _run(capsys, "--statistics", "--color", "never", str(tree))
    assert status == 1
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(int(n), rule.strip(), summary) for n, rule, summary in rows] == [
        (
            4,
            "acpi-cpu-persistence",
            "vCPU _STA.Present released or toggled without the CPU persistence hook",
        ),
        (
            3,
            "persistence-hook-required",
            "a required architecture does not implement the CPU persistence hook",
        ),
    ]
    # ruff's layout: counts right-aligned, rule ids padded to one width
    assert len({len(r[1]) for r in rows}) == 1
    assert not any(GCC.match(line) for line in out.splitlines())


def test_statistics_to_a_file_and_not_for_other_formats(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path)
    out_file = tmp_path / "stats.txt"
    status, out, _ = _run(capsys, "--statistics", "-o", str(out_file), str(tree))
    assert status == 1 and out == ""
    [row] = out_file.read_text().splitlines()
    assert row.split("\t")[:2] == ["1", "acpi-cpu-persistence"]
    status, out, err = _run(capsys, "--statistics", "--format", "sarif", str(tree))
    assert status == 2 and out == "" and "--statistics" in err


def test_statistics_json_and_empty(tmp_path: Path, capsys: Capsys) -> None:
    tree = _tree(tmp_path, "alias-and-array")
    status, out, _ = _run(capsys, "--statistics", "--format", "json", str(tree))
    assert status == 1
    assert json.loads(out) == [
        {
            "count": 4,
            "rule": "acpi-cpu-persistence",
            "summary": "vCPU _STA.Present released or toggled without the CPU persistence hook",
        }
    ]
    clean = materialize(CASES / "d1-if", tmp_path / "clean")
    assert _run(capsys, "--statistics", "-q", str(clean)) == (0, "", "")


# --- the per-file filter and *.c.inc ----------------------------------------------------

INC = """/* included by hw/acpi/cpu.c */

static void acpi_cpu_forget(AcpiCpuStatus *cdev)
{
    cdev->cpu = NULL;
}
"""


def test_site_in_a_c_inc_file(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(tmp_path, "d1-if")
    (tree / "hw" / "acpi" / "cpu-forget.c.inc").write_text(INC)
    monkeypatch.chdir(tree)
    status, out, _ = _run(capsys, "--format", "json", "hw/acpi/cpu-forget.c.inc")
    [f] = json.loads(out)["findings"]
    assert status == 1
    assert (f["file"], f["line"], f["function"]) == (
        "hw/acpi/cpu-forget.c.inc",
        5,
        "acpi_cpu_forget",
    )
    # the finding is not reported for unrelated files
    status, out, _ = _run(capsys, "--format", "json", "hw/acpi/cpu.c", "target/arm/cpu.c")
    assert status == 0 and json.loads(out)["findings"] == []
    # but for its folder, and for the whole tree
    assert _run(capsys, "-q", "hw/acpi")[0] == 1
    assert _run(capsys, "-q")[0] == 1


# --- colour ---------------------------------------------------------------------------


def _color_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    base.update(env, PYTHONPATH=str(REPO), TERM="xterm-256color", COLUMNS="120")
    return base


@pytest.mark.parametrize(
    ("flag", "env", "colored"),
    [
        (None, {}, False),
        (None, {"FORCE_COLOR": "1"}, True),
        (None, {"FORCE_COLOR": ""}, False),  # set but empty: ignored
        (None, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ("always", {}, True),
        ("always", {"NO_COLOR": "1"}, True),  # the flag beats the variables
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_on_a_pipe(
    tmp_path: Path,
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: dict[str, str],
    colored: bool,
) -> None:
    tree = _tree(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    args = ["--color", flag] if flag else []
    status, out, err = _run(capsys, *args, str(tree))
    assert status == 1
    assert bool(ANSI.search(out)) == colored
    assert not ANSI.search(err)
    # a pipe is not interactive: no code frame, whatever the colour
    plain = ANSI.sub("", out)
    assert all(GCC.match(line) for line in plain.splitlines()), plain
    # machine formats never carry colour
    status, out, _ = _run(capsys, *args, "--format", "json", str(tree))
    assert not ANSI.search(out)
    json.loads(out)


def _on_pty(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal; return what it printed there."""
    master, slave = os.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "qemu_lint", *args],
            stdout=slave,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the terminal is drained and closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.returncode == 1, proc.stderr
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="no pseudo-terminals on this platform")
def test_color_auto_on_a_terminal(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    args = ["check", "--jobs", "1", str(tree)]
    out = _on_pty(args, _color_env())
    assert ANSI.search(out)
    # interactive: a code frame of the site follows the header
    assert "cdev->cpu = NULL;" in ANSI.sub("", out)
    assert not ANSI.search(_on_pty(args, _color_env(NO_COLOR="1")))
    assert not ANSI.search(_on_pty([*args, "--color", "never"], _color_env()))
    assert not ANSI.search(_on_pty([*args, "--format", "json"], _color_env()))


def test_frontend_clang_without_libclang_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """libclang is the ``[clang]`` extra: without it, one line says how to get it."""
    import sys

    from qemu_lint.cli import main
    from qemu_lint.frontends.clang import loader

    monkeypatch.setitem(sys.modules, "clang", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "clang.cindex", None)
    loader.load_cindex.cache_clear()
    try:
        status = main(
            ["check", "--frontend", "clang", "--no-cache", str(SAMPLES / "trees" / "demo")]
        )
    finally:
        loader.load_cindex.cache_clear()
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err == (
        "qemu-lint: error: --frontend clang needs libclang (the [clang] extra): "
        "pip install 'libclang>=16'\n"
    )
