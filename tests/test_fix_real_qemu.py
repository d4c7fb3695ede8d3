"""``check --diff`` and ``check --fix`` on an edited copy of QEMU 10.0.13 (issue 15 item 3).

The variant has the seed commit's design (2d6cfbaf17: ``CPUClass::
cpu_persistent_status`` declared in include/hw/core/cpu.h, target/arm
implementing it, the wrapper ``should_remain_acpi_present()`` in
hw/acpi/cpu.c) with the release in ``acpi_cpu_unplug_cb()`` left unguarded.
One module-scoped run of each command: ``--diff`` (its rounds run in memory),
then ``--fix``, then ``check``, on the test run's facts cache
(``conftest.shared_facts``).
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
    before_text_src = qv.read_text(src / qv.ACPI_CPU_C)
    diff = _cli(root, cache, "--diff")
    after_diff = _state(root)
    fix = _cli(root, cache, "--fix")
    check = _cli(root, cache, "--format", "json")
    return {
        "src": src,
        "root": root,
        "before": before,
        "before_text": before_text,
        "before_text_src": before_text_src,
        "diff": diff,
        "after_diff": after_diff,
        "fix": fix,
        "check": check,
    }


#: what --fix makes of hw/acpi/cpu.c: the seed's guarded release (round 1),
#: then the eject path's unparent under the same guard, with a prototype of
#: the static wrapper (defined further down) before cpu_hotplug_wr() (round 2)
FIXED = qv.merge(
    qv.D1_GUARDED,
    {
        qv.ACPI_CPU_C: [
            (
                "static void cpu_hotplug_wr(void *opaque,",
                "static bool should_remain_acpi_present(DeviceState *dev);\n\n"
                "static void cpu_hotplug_wr(void *opaque,",
            ),
            (
                "            object_unparent(OBJECT(dev));\n",
                "            if (!should_remain_acpi_present(dev)) {\n"
                "                object_unparent(OBJECT(dev));\n"
                "            }\n",
            ),
        ]
    },
)


def test_diff_is_the_two_guards_and_writes_nothing(runs: dict[str, object]) -> None:
    diff = runs["diff"]
    assert isinstance(diff, subprocess.CompletedProcess)
    assert diff.returncode == 1, diff.stderr
    assert runs["after_diff"] == runs["before"]
    lines = diff.stdout.splitlines()
    assert lines[:2] == [f"--- a/{qv.ACPI_CPU_C}", f"+++ b/{qv.ACPI_CPU_C}"]
    assert [ln for ln in lines[2:] if ln[:1] in "+-"] == [
        "+",
        "+static bool should_remain_acpi_present(DeviceState *dev);",
        "-            object_unparent(OBJECT(dev));",
        "+            if (!should_remain_acpi_present(dev)) {",
        "+                object_unparent(OBJECT(dev));",
        "+            }",
        "-    cdev->cpu = NULL;",
        "+    if (!should_remain_acpi_present(dev)) {",
        "+        cdev->cpu = NULL;",
        "+    }",
    ]
    assert "Would fix 2 findings in 1 file." in diff.stderr


def test_fix_leaves_a_clean_tree(runs: dict[str, object]) -> None:
    """Round 1 guards the release (the seed's design); the re-check in memory
    then reports the eject path's ``object_unparent()`` in cpu_hotplug_wr()
    (acpi-cpu-kept-alive: a vCPU the hook keeps is destroyed), which round 2
    puts under the same guard; round 3 has nothing to change.  The tree
    written is clean, and only hw/acpi/cpu.c changed."""
    fix, check, root, src = runs["fix"], runs["check"], runs["root"], runs["src"]
    assert isinstance(fix, subprocess.CompletedProcess)
    assert isinstance(check, subprocess.CompletedProcess)
    assert isinstance(root, Path) and isinstance(src, Path)
    assert f"fixed 2 findings in 1 file ({qv.ACPI_CPU_C})" in fix.stderr
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert "Found 0 findings" in fix.stderr  # the re-check's summary
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["findings"] == []
    want = qv.apply_edits(qv.ACPI_CPU_C, qv.read_text(src / qv.ACPI_CPU_C), FIXED[qv.ACPI_CPU_C])
    assert qv.read_text(root / qv.ACPI_CPU_C) == want
    # only that file changed, and the real tree's file is untouched
    before, now = runs["before"], _state(root)
    assert isinstance(before, dict)
    changed = sorted(p for p in now if now[p] != before.get(p))
    assert changed == [str(root / qv.ACPI_CPU_C)]
    assert qv.read_text(src / qv.ACPI_CPU_C) == runs["before_text_src"]
    assert qv.read_text(src / qv.ACPI_CPU_C) != want


def test_usage_shows_this_diff(runs: dict[str, object]) -> None:
    """docs/usage.md's example is this run's output (stdout, then stderr)."""
    from tests.test_doc_snippets import _blocks

    diff = runs["diff"]
    assert isinstance(diff, subprocess.CompletedProcess)
    assert _blocks("docs/usage.md", "## Fixing findings")[0] == diff.stdout + diff.stderr
