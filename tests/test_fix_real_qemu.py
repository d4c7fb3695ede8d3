"""``check --diff`` and ``check --fix`` on an edited copy of QEMU 10.0.13 (issue 15 item 3).

The variant has the seed commit's design (2d6cfbaf17: ``CPUClass::
cpu_persistent_status`` declared in include/hw/core/cpu.h, target/arm
implementing it, the wrapper ``should_remain_acpi_present()`` in
hw/acpi/cpu.c) with the release in ``acpi_cpu_unplug_cb()`` left unguarded.
One module-scoped run of each command: ``--diff``, then ``--fix``, then
``check``, on the test run's facts cache (``conftest.shared_facts``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import qemu_variants as qv
from tests.conftest import qemu_tree, shared_facts

pytestmark = pytest.mark.real_qemu

SEED_UNGUARDED = qv.merge(qv.HOOK_DECL, qv.ARM_IMPL, qv.wrapper())


def _state(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file's inode, size and mtime: any write (or replace) changes one."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            st = os.lstat(os.path.join(dirpath, n))
            out[os.path.join(dirpath, n)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def _cli(root: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qemu_lint", "check", "--cache-dir", str(cache), *args, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    src = qemu_tree("10.0.13")
    root = qv.make_variant(src, tmp_path_factory.mktemp("qemu-fix"), SEED_UNGUARDED)
    cache = Path(shared_facts())  # the files the edits left alone are cached
    before = _state(root)
    before_text = qv.read_text(root / qv.ACPI_CPU_C)
    diff = _cli(root, cache, "--diff")
    after_diff = _state(root)
    fix = _cli(root, cache, "--fix")
    check = _cli(root, cache, "--format", "json")
    return {
        "src": src,
        "root": root,
        "before": before,
        "before_text": before_text,
        "diff": diff,
        "after_diff": after_diff,
        "fix": fix,
        "check": check,
    }


def test_diff_is_the_guard_and_writes_nothing(runs: dict[str, object]) -> None:
    diff = runs["diff"]
    assert isinstance(diff, subprocess.CompletedProcess)
    assert diff.returncode == 1, diff.stderr
    assert runs["after_diff"] == runs["before"]
    lines = diff.stdout.splitlines()
    assert lines[:2] == [f"--- a/{qv.ACPI_CPU_C}", f"+++ b/{qv.ACPI_CPU_C}"]
    assert [ln for ln in lines[2:] if ln[:1] in "+-"] == [
        "-    cdev->cpu = NULL;",
        "+    if (!should_remain_acpi_present(dev)) {",
        "+        cdev->cpu = NULL;",
        "+    }",
    ]
    assert "Would fix 1 finding in 1 file." in diff.stderr


def test_fix_gives_the_seed_design_which_the_kept_alive_rule_then_reports(
    runs: dict[str, object],
) -> None:
    """The fix writes the seed's guard, and the flagship finding is gone.  The
    tree is not clean: 10.0.13's eject path (``cpu_hotplug_wr()``) unparents
    the vCPU after ``hotplug_handler_unplug()`` returns, so a vCPU the hook
    keeps present is destroyed while ``AcpiCpuStatus::cpu`` still points at it
    (the hazard of acpi-cpu-kept-alive, which the seed design had).  The
    re-check says so, and its exit status is the run's."""
    fix, check, root, src = runs["fix"], runs["check"], runs["root"], runs["src"]
    assert isinstance(fix, subprocess.CompletedProcess)
    assert isinstance(check, subprocess.CompletedProcess)
    assert isinstance(root, Path) and isinstance(src, Path)
    assert f"fixed 1 finding in 1 file ({qv.ACPI_CPU_C})" in fix.stderr
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert check.returncode == 1, check.stdout + check.stderr
    findings = json.loads(check.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["acpi-cpu-kept-alive"], findings
    [kept] = findings
    assert kept["file"] == qv.ACPI_CPU_C
    assert kept["function"] == "cpu_hotplug_wr"
    line = qv.read_text(root / qv.ACPI_CPU_C).splitlines()[kept["line"] - 1]
    assert "object_unparent(" in line, line
    # the file is exactly the seed's guarded release (D1_GUARDED's text)
    want = qv.apply_edits(
        qv.ACPI_CPU_C, qv.read_text(src / qv.ACPI_CPU_C), qv.D1_GUARDED[qv.ACPI_CPU_C]
    )
    assert qv.read_text(root / qv.ACPI_CPU_C) == want
    # only that file changed, and the real tree's file is untouched
    before, now = runs["before"], _state(root)
    assert isinstance(before, dict)
    changed = sorted(p for p in now if now[p] != before.get(p))
    assert changed == [str(root / qv.ACPI_CPU_C)]
    assert qv.read_text(src / qv.ACPI_CPU_C) != want


def test_usage_shows_this_diff(runs: dict[str, object]) -> None:
    """docs/usage.md's example is this run's output (stdout, then stderr)."""
    from tests.test_doc_snippets import _blocks

    diff = runs["diff"]
    assert isinstance(diff, subprocess.CompletedProcess)
    assert _blocks("docs/usage.md", "## Fixing findings")[0] == diff.stdout + diff.stderr
