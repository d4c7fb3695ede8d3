"""``check --fix`` and ``check --diff`` (issue 15 item 3) on sample trees.

Each tree is a sample case of acpi-cpu-persistence with the guard taken out
(``_unguard``): the fix must put back the design's guard the way the tree
consults it, and leave the tree clean; the refusals leave every byte as it was.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main
from qemu_lint.engine import run
from qemu_lint.fix import plan_fixes
from qemu_lint.rule import Fix
from qemu_lint.rules import default_config
from tests.conftest import SAMPLES, materialize

CASES = SAMPLES / "rules" / "acpi-cpu-persistence"
CPU_C = "hw/acpi/cpu.c"
Capsys = pytest.CaptureFixture[str]

D1_GUARDED = """\
    if (!should_remain_acpi_present(dev)) {
        cdev->cpu = NULL;  /* ok: guarded by should_remain_acpi_present() */
    }
"""
D3_RETURN = """\
    if (cpu_st->always_present_cpus) {
        return;
    }
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _tree(tmp_path: Path, case: str, old: str, new: str) -> Path:
    root = materialize(CASES / case, tmp_path / case)
    _edit(root / CPU_C, old, new)
    return root


def _d1(tmp_path: Path, release: str = "    cdev->cpu = NULL;\n") -> Path:
    """Design 1 (CPUClass hook, wrapper should_remain_acpi_present()), release unguarded."""
    return _tree(tmp_path, "d1-if", D1_GUARDED, release)


def _digests(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath, n)
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _check(capsys: Capsys, root: Path, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    # the flagship rule's fix; acpi-cpu-kept-alive (on by default) judges the
    # eject path's object_unparent() these trees keep, which --fix leaves
    rc = main(["check", "--select", "acpi-cpu-persistence", *extra, str(root)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_diff_prints_the_guard_and_writes_nothing(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    before = _digests(root)
    rc, out, err = _check(capsys, root, "--diff")
    assert rc == 1
    assert _digests(root) == before
    body = [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(("---", "+++"))]
    assert out.startswith(f"--- a/{CPU_C}\n+++ b/{CPU_C}\n@@ ")
    assert body == [
        "-    cdev->cpu = NULL;",
        "+    if (!should_remain_acpi_present(dev)) {",
        "+        cdev->cpu = NULL;",
        "+    }",
    ]
    assert "Would fix 1 finding in 1 file." in err


def test_fix_guards_the_release_and_the_tree_is_clean(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(
        tmp_path, "    cdev->cpu = NULL;  /* ok: guarded by should_remain_acpi_present() */\n"
    )
    mode = os.stat(root / CPU_C).st_mode
    rc, out, err = _check(capsys, root, "--fix")
    assert rc == 0, out + err
    assert f"fixed 1 finding in 1 file ({CPU_C})" in err
    assert "Found 0 findings" in err  # the re-check's summary
    # exactly the case as it was written, guard and all
    assert (root / CPU_C).read_text() == (CASES / "d1-if" / CPU_C).read_text()
    assert os.stat(root / CPU_C).st_mode == mode
    assert not [p for p in (root / "hw" / "acpi").iterdir() if p.name.startswith(".tmp-")]
    assert _check(capsys, root)[0] == 0
    rc, out, _ = _check(capsys, root, "--diff")
    assert (rc, out) == (0, "")


def test_flag_design_gets_the_early_return(tmp_path: Path, capsys: Capsys) -> None:
    root = _tree(tmp_path, "d3-early-return", D3_RETURN, "")
    rc, out, _ = _check(capsys, root, "--diff")
    assert rc == 1
    assert "+" + D3_RETURN.replace("\n", "\n+").removesuffix("+") in out
    assert _check(capsys, root, "--fix")[0] == 0
    assert _check(capsys, root)[0] == 0


def test_flag_design_wraps_a_release_that_is_not_last(tmp_path: Path, capsys: Capsys) -> None:
    release = "    cdev->cpu = NULL;  /* ok: always_present_cpus returned above */\n"
    root = _tree(tmp_path, "d3-early-return", D3_RETURN, "")
    _edit(root / CPU_C, release, "    cdev->cpu = NULL;\n    cdev->is_removing = false;\n")
    assert _check(capsys, root, "--fix")[0] == 0
    text = (root / CPU_C).read_text()
    assert "    if (!cpu_st->always_present_cpus) {\n        cdev->cpu = NULL;\n    }\n" in text
    assert _check(capsys, root)[0] == 0


def test_wrapper_of_another_file_gets_the_vcpu_cast(tmp_path: Path, capsys: Capsys) -> None:
    # design 2: qemu_persistent_cpu(CPUState *) in hw/core/cpu-common.c, dev a DeviceState
    root = _tree(
        tmp_path,
        "d2-helper",
        "    if (qemu_persistent_cpu(CPU(dev))) {\n        return;\n    }\n",
        "",
    )
    assert _check(capsys, root, "--fix")[0] == 0
    assert (
        "    if (!qemu_persistent_cpu(CPU(dev))) {\n        cdev->cpu = NULL;"
        in (root / CPU_C).read_text()
    )
    assert _check(capsys, root)[0] == 0


def _refused(capsys: Capsys, root: Path, cause: str) -> None:
    before = _digests(root)
    rc, _, err = _check(capsys, root, "--fix")
    assert rc == 1, err
    assert _digests(root) == before
    lines = [ln for ln in err.splitlines() if "not fixed" in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"qemu-lint: {CPU_C}:"), lines
    assert cause in lines[0], lines
    assert lines[0].endswith("[acpi-cpu-persistence]")


def test_no_hook_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    root = materialize(CASES / "_base", tmp_path / "base")
    _refused(capsys, root, "no CPU persistence hook is declared in this tree")


def test_two_designs_are_refused(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    d3_header = "include/hw/acpi/cpu.h"
    (root / d3_header).write_bytes((CASES / "d3-early-return" / d3_header).read_bytes())
    _refused(capsys, root, "2 persistence-hook designs are declared")


def test_a_hook_without_a_wrapper_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    head = "static bool should_remain_acpi_present(DeviceState *dev)"
    wrapper = (root / CPU_C).read_text().split(head + "\n{")[1]
    _edit(root / CPU_C, head + "\n{" + wrapper.split("}\n")[0] + "}\n", "")
    _edit(root / CPU_C, head + ";\n", "\n")  # and its declaration
    _refused(capsys, root, "no wrapper function returning the CPUClass::cpu_persistent_status")


def test_a_result_that_would_not_parse_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    # the comment after the statement runs on: the closing brace would land inside it
    root = _d1(tmp_path, "    cdev->cpu = NULL; /* released\n                         here */\n")
    _refused(capsys, root, "the result would not parse")


def test_a_statement_sharing_its_line_is_refused(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path, "    cdev->is_removing = false; cdev->cpu = NULL;\n")
    _refused(capsys, root, "shares its first line with other code")


def test_a_file_turned_into_a_symlink_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    root = _d1(tmp_path)
    report = run(default_config(root=str(root)))
    assert [f.fix.guard for f in report.findings if f.fix] == ["!should_remain_acpi_present(dev)"]
    outside = tmp_path / "outside.c"
    outside.write_bytes((root / CPU_C).read_bytes())
    (root / CPU_C).unlink()
    (root / CPU_C).symlink_to(outside)
    plan = plan_fixes(report)
    assert plan.files == ()
    assert [r.text for r in plan.refusals] == [
        f"{CPU_C}:{report.findings[0].line}: not fixed: {CPU_C} resolves to {outside}, "
        "outside the tree (a symlink out of it) [acpi-cpu-persistence]"
    ]


def test_the_report_file_is_never_fixed(tmp_path: Path) -> None:
    root = _d1(tmp_path)
    report = run(default_config(root=str(root)))
    plan = plan_fixes(report, protected=[str(root / CPU_C)])
    assert plan.files == ()
    assert "is the report file given to -o" in plan.refusals[0].cause
    assert len(plan_fixes(report).files) == 1


def test_fix_and_write_baseline_contradict(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    rc, _, err = _check(capsys, root, "--fix", "--write-baseline", str(tmp_path / "b.json"))
    assert rc == 2
    assert "--write-baseline" in err


def test_only_the_files_named_are_fixed(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    before = _digests(root)
    # the GED is on the finding's path, so the finding is reported; its site is not in it
    capsys.readouterr()
    rc = main(["check", "--fix", str(root / "hw/acpi/generic_event_device.c")])
    err = capsys.readouterr().err
    assert rc == 1
    assert _digests(root) == before
    assert f"{CPU_C}:" in err and f"not fixed: {CPU_C} is not among the files named" in err
    capsys.readouterr()
    assert main(["check", "--fix", str(root / CPU_C)]) == 0


def test_a_guard_the_recheck_does_not_accept_is_said(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from qemu_lint.model import consult  # the rule imports propose_fix when it runs

    real = consult.propose_fix

    def not_a_hook(*args: Any) -> Fix:
        return dataclasses.replace(real(*args), guard="!unplug_is_rare(dev)")

    monkeypatch.setattr(consult, "propose_fix", not_a_hook)
    root = _d1(tmp_path)
    rc, _, err = _check(capsys, root, "--no-cache", "--fix")
    assert rc == 1
    assert "if (!unplug_is_rare(dev)) {" in (root / CPU_C).read_text()
    assert f"{CPU_C}:165: warning: guarded by --fix, but still reported" in err


def test_neighbouring_sites_share_one_block(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path, "    cdev->cpu = NULL;\n    cdev->is_inserting = false;\n")
    (root / ".qemu-lint.toml").write_text('presence-fields = ["is_inserting"]\n')
    rc, out, err = _check(capsys, root, "--diff")
    assert rc == 1
    assert [ln for ln in out.splitlines() if ln.startswith("+ ")] == [
        "+    if (!should_remain_acpi_present(dev)) {",
        "+        cdev->cpu = NULL;",
        "+        cdev->is_inserting = false;",
        "+    }",
    ]
    # the guest's write handler clears is_inserting too, above the static wrapper
    assert (
        f"{CPU_C}:63: not fixed: should_remain_acpi_present() is static and defined later "
        "in the file: cpu_hotplug_wr() cannot call it" in err
    )
    assert "Would fix 2 findings in 1 file." in err


def test_diff_to_a_file_applies_with_git_apply(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    patch = tmp_path / "fix.patch"
    rc, out, _ = _check(capsys, root, "--diff", "-o", str(patch))
    assert (rc, out) == (1, "")
    subprocess.run(["git", "apply", "-p1", str(patch)], cwd=root, check=True)
    assert _check(capsys, root)[0] == 0


def test_crlf_lines_stay_crlf(tmp_path: Path, capsys: Capsys) -> None:
    root = _d1(tmp_path)
    path = root / CPU_C
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert _check(capsys, root, "--fix")[0] == 0
    data = path.read_bytes()
    assert (
        b"    if (!should_remain_acpi_present(dev)) {\r\n        cdev->cpu = NULL;\r\n    }\r\n"
        in data
    )
    assert b"\n" not in data.replace(b"\r\n", b"")


# -- acpi-cpu-kept-alive's fix, and the rounds ---------------------------------

KEPT = SAMPLES / "rules" / "acpi-cpu-kept-alive"
KEPT_MARK = "  /* expect: acpi-cpu-kept-alive archs=loongarch kind=kept-destroyed */"
GUARDED_KEEP = "    if (!should_remain_acpi_present(dev)) {\n        cdev->cpu = NULL;"


def _kept(tmp_path: Path, case: str = "seed-design") -> Path:
    """A kept-alive case, its marker turned into the prose the fixed case has."""
    root = materialize(KEPT / case, tmp_path / case)
    if case == "seed-design":
        _edit(root / CPU_C, KEPT_MARK, "  /* ok: only when not persistent */")
    return root


def _all_rules(capsys: Capsys, root: Path, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["check", "--no-cache", *extra, str(root)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_kept_alive_fix_guards_the_destroy_and_declares_the_wrapper(
    tmp_path: Path, capsys: Capsys
) -> None:
    """The eject path's object_unparent() goes under the release's guard; the
    static wrapper is defined below cpu_hotplug_wr(), so its prototype is
    added before it (the fixed-seed-design case is the expected file)."""
    root = _kept(tmp_path)
    rc, out, err = _all_rules(capsys, root, "--fix")
    assert rc == 0, out + err
    assert f"fixed 1 finding in 1 file ({CPU_C})" in err
    assert (root / CPU_C).read_text() == (KEPT / "fixed-seed-design" / CPU_C).read_text()
    assert _all_rules(capsys, root)[0] == 0


def test_kept_alive_fix_reads_the_flag_of_a_flag_design(tmp_path: Path, capsys: Capsys) -> None:
    # the maintainers' flag, but the unparent left in the eject path after the unplug
    root = materialize(KEPT / "maintainers-alternative", tmp_path / "flag")
    _edit(
        root / CPU_C, "    object_unparent(OBJECT(dev));  /* ok: skipped with the release */\n", ""
    )
    unplug = "        hotplug_handler_unplug(qdev_get_hotplug_handler(dev), dev, NULL);\n"
    _edit(root / CPU_C, unplug, unplug + "        object_unparent(OBJECT(dev));\n")
    # the base declares CPUClass::cpu_persistent_status too: count the flag only
    (root / ".qemu-lint.toml").write_text('hooks = ["CPUHotplugState::always_present_cpus"]\n')
    rc, out, _ = _all_rules(capsys, root, "--diff")
    assert rc == 1
    assert [ln for ln in out.splitlines() if ln[:1] in "+-" and ln[1:2] == " "] == [
        "-        object_unparent(OBJECT(dev));",
        "+        if (!cpu_st->always_present_cpus) {",
        "+            object_unparent(OBJECT(dev));",
        "+        }",
    ]
    assert _all_rules(capsys, root, "--fix")[0] == 0


def test_kept_alive_fix_refusals(tmp_path: Path, capsys: Capsys) -> None:
    """Two designs declared, a result that would not parse: nothing written,
    the finding named on stderr; the other kind gets no fix at all."""
    root = _kept(tmp_path)
    d3_header = "include/hw/acpi/cpu.h"
    (root / d3_header).write_bytes((CASES / "d3-early-return" / d3_header).read_bytes())
    before = _digests(root)
    rc, _, err = _all_rules(capsys, root, "--fix")
    assert rc == 1 and _digests(root) == before
    assert "not fixed: 2 persistence-hook designs are declared" in err
    assert err.count("[acpi-cpu-kept-alive]") == 1, err

    root = _kept(tmp_path / "parse")
    _edit(
        root / CPU_C,
        "  /* ok: only when not persistent */\n",
        " /* unparented\n                                 here */\n",
    )
    before = _digests(root)
    rc, _, err = _all_rules(capsys, root, "--fix")
    assert rc == 1 and _digests(root) == before
    assert "the result would not parse" in err and "[acpi-cpu-kept-alive]" in err

    report = run(
        default_config(root=str(materialize(KEPT / "destroyed-before-release", tmp_path / "b")))
    )
    kinds = {(f.kind, f.fix) for f in report.findings if f.rule == "acpi-cpu-kept-alive"}
    assert kinds == {("destroyed-before-release", None)}


def test_maintainers_alternative_gets_no_fix(tmp_path: Path, capsys: Capsys) -> None:
    root = materialize(KEPT / "maintainers-alternative", tmp_path / "rfc7")
    assert _all_rules(capsys, root, "--diff")[:2] == (0, "")


def _seed_unguarded(tmp_path: Path) -> Path:
    """The seed design with the release unguarded: round 1 guards the
    release, round 2 the eject path's unparent the guard then keeps."""
    root = _kept(tmp_path)
    _edit(
        root / CPU_C,
        GUARDED_KEEP + "  /* ok: kept when the vCPU is persistent */\n    }\n",
        "    cdev->cpu = NULL;\n",
    )
    return root


def test_rounds_reach_a_fixed_point_and_diff_writes_nothing(tmp_path: Path, capsys: Capsys) -> None:
    root = _seed_unguarded(tmp_path)
    before = _digests(root)
    rc, out, err = _all_rules(capsys, root, "--diff")
    assert rc == 1, err
    assert _digests(root) == before
    assert [ln for ln in out.splitlines() if ln.startswith("+") and ln != "+++ b/" + CPU_C] == [
        "+static bool should_remain_acpi_present(DeviceState *dev);",
        "+",
        "+        if (!should_remain_acpi_present(dev)) {",
        "+            object_unparent(OBJECT(dev));  /* ok: only when not persistent */",
        "+        }",
        "+    if (!should_remain_acpi_present(dev)) {",
        "+        cdev->cpu = NULL;",
        "+    }",
    ]
    assert "Would fix 2 findings in 1 file." in err
    rc, out, err = _all_rules(capsys, root, "--fix")
    assert rc == 0, out + err
    assert f"fixed 2 findings in 1 file ({CPU_C})" in err
    assert _all_rules(capsys, root)[0] == 0
    assert _all_rules(capsys, root, "--diff")[:2] == (0, "")


def test_rounds_are_bounded(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qemu_lint.cli import fix

    monkeypatch.setattr(fix, "MAX_ROUNDS", 1)
    root = _seed_unguarded(tmp_path)
    before = _digests(root)
    for mode in ("--fix", "--diff"):
        rc, out, err = _all_rules(capsys, root, mode)
        assert (rc, out) == (2, ""), err
        assert "the fixes still change the tree after 1 round " in err
        assert _digests(root) == before


def test_sarif_carries_the_fix(tmp_path: Path, capsys: Capsys) -> None:
    """SARIF ``fixes``: the replacements, applied to the file, give what
    ``--fix`` writes; a finding whose fix is refused has none."""
    import json

    from tests import sarif_schema

    root = _kept(tmp_path)
    rc, out, _ = _all_rules(capsys, root, "--format", "sarif")
    doc = json.loads(out)
    assert rc == 1 and sarif_schema.errors(doc) == []
    [result] = doc["runs"][0]["results"]
    [fix] = result["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": CPU_C, "uriBaseId": "%SRCROOT%"}
    text = (root / CPU_C).read_text()
    for r in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["charOffset"]):
        at, n = r["deletedRegion"]["charOffset"], r["deletedRegion"]["charLength"]
        text = text[:at] + r.get("insertedContent", {}).get("text", "") + text[at + n :]
    assert text == (KEPT / "fixed-seed-design" / CPU_C).read_text()

    root = materialize(CASES / "_base", tmp_path / "no-hook")
    doc = json.loads(_all_rules(capsys, root, "--format", "sarif")[1])
    results = doc["runs"][0]["results"]
    assert results and not [r for r in results if "fixes" in r]


def test_the_prototype_goes_above_the_function_comment(tmp_path: Path, capsys: Capsys) -> None:
    root = _kept(tmp_path)
    head = "static void cpu_hotplug_wr(void *opaque,"
    comment = "/*\n * The guest's writes to the register block.\n */\n"
    _edit(root / CPU_C, head, comment + head)
    assert _all_rules(capsys, root, "--fix")[0] == 0
    proto = "static bool should_remain_acpi_present(DeviceState *dev);\n\n"
    assert proto + comment + head in (root / CPU_C).read_text()
