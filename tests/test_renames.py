"""Renamed files keep their findings' identity.

Audit verdicts follow git's renames: a patch that only renames a file
neither introduces nor fixes its findings (qemu_lint/audit/verdicts.py).
Each series is audited as a revision range and as the mbox ``git
format-patch`` makes of it (applied with ``git apply --3way``, renames
included).  ``check --diff-base`` takes a site of a file the work tree no
longer has for the same site elsewhere (qemu_lint/findings/baseline.py
``hide_preexisting``).

The demo tree's hw/acpi/cpu.c has one finding in the base (acpi_cpu_eject).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main
from tests.audit_series import CPU_C, DEMO, edit, git, init_repo

NEW = "hw/acpi/cpu-hotplug.c"
UNGUARDED = "    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n"
GUARDED = "    if (!should_remain_acpi_present(dev)) {\n        cdev->cpu = NULL;\n    }\n"

Capsys = pytest.CaptureFixture[str]


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo)
    return repo, init_repo(repo)


def _commit(repo: Path, subject: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject)


def _audits(capsys: Capsys, repo: Path, base: str, n: int, *find: str) -> list[dict[str, Any]]:
    """The JSON of the audit of the last ``n`` commits as a range, then as
    an mbox of ``git format-patch`` (``find``: its -M/-C options) on ``base``."""
    docs = []
    argv = ["audit", "--root", str(repo), "--jobs", "1", "--format", "json"]
    assert main([*argv, f"HEAD~{n}..HEAD"]) in (0, 1)
    docs.append(json.loads(capsys.readouterr().out))
    mbox = repo.parent / "series.mbox"
    out = subprocess.run(
        ["git", "-C", str(repo), "format-patch", "--stdout", *find, f"HEAD~{n}"],
        check=True,
        capture_output=True,
    ).stdout
    mbox.write_bytes(out)
    assert main([*argv, "--base", base, str(mbox)]) in (0, 1)
    docs.append(json.loads(capsys.readouterr().out))
    return docs


def _fns(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["file"], c["function"]) for c in changes]


def test_a_rename_neither_introduces_nor_fixes(tmp_path: Path, capsys: Capsys) -> None:
    repo, base = _repo(tmp_path)
    git(repo, "mv", CPU_C, NEW)
    _commit(repo, "hw/acpi: rename cpu.c to cpu-hotplug.c")
    for doc in _audits(capsys, repo, base, 1, "-M"):
        [p] = doc["patches"]
        assert (p["verdict"], p["introduced"], p["fixed"]) == ("clean", [], [])
        assert [(f["file"], f["function"]) for f in doc["final"]] == [(NEW, "acpi_cpu_eject")]
        assert doc["final_vs_base"] == {"introduced": [], "fixed": []}


def test_a_fix_after_a_rename_fixes_the_base_finding(tmp_path: Path, capsys: Capsys) -> None:
    repo, base = _repo(tmp_path)
    git(repo, "mv", CPU_C, NEW)
    _commit(repo, "hw/acpi: rename cpu.c to cpu-hotplug.c")
    # the rename, then the fix in the renamed file
    edit(repo / NEW, ((UNGUARDED, GUARDED),))
    _commit(repo, "hw/acpi/cpu-hotplug: consult the persistence hook on eject")
    for doc in _audits(capsys, repo, base, 2, "-M"):
        p1, p2 = doc["patches"]
        assert p1["verdict"] == "clean"
        assert _fns(p2["fixed"]) == [(NEW, "acpi_cpu_eject")]
        assert p2["fixed"][0]["introduced_by"] is None  # the base's finding


def test_a_rename_with_edits_in_the_same_patch(tmp_path: Path, capsys: Capsys) -> None:
    repo, base = _repo(tmp_path)
    text = (repo / CPU_C).read_text()
    git(repo, "rm", "-q", CPU_C)
    (repo / NEW).write_text("/* CPU hotplug registers */\n" + text)
    _commit(repo, "hw/acpi: rename cpu.c, with a comment")
    for doc in _audits(capsys, repo, base, 1, "-M"):
        [p] = doc["patches"]
        assert (p["verdict"], p["introduced"], p["fixed"]) == ("clean", [], [])


def test_a_copy_introduces_its_findings(tmp_path: Path, capsys: Capsys) -> None:
    repo, base = _repo(tmp_path)
    shutil.copy(repo / CPU_C, repo / NEW)
    _commit(repo, "hw/acpi: copy cpu.c")
    for doc in _audits(capsys, repo, base, 1, "-C", "--find-copies-harder"):
        [p] = doc["patches"]
        assert p["verdict"] == "introduces"
        assert _fns(p["introduced"]) == [(NEW, "acpi_cpu_eject")] and p["fixed"] == []


def test_a_new_file_where_a_renamed_one_was_is_another_file(tmp_path: Path, capsys: Capsys) -> None:
    """1/2 renames cpu.c; 2/2 creates a new cpu.c with the same code: its
    finding is new (not the renamed file's, nor a re-introduction)."""
    repo, base = _repo(tmp_path)
    git(repo, "mv", CPU_C, NEW)
    _commit(repo, "hw/acpi: rename cpu.c to cpu-hotplug.c")
    shutil.copy(repo / NEW, repo / CPU_C)
    _commit(repo, "hw/acpi: a new cpu.c")
    for doc in _audits(capsys, repo, base, 2, "-M"):
        p1, p2 = doc["patches"]
        assert (p1["verdict"], p1["introduced"], p1["fixed"]) == ("clean", [], [])
        assert p2["verdict"] == "introduces"
        assert _fns(p2["introduced"]) == [(CPU_C, "acpi_cpu_eject")]
        assert p2["introduced"][0]["in_base"] is False


# -- check --diff-base ------------------------------------------------------------------------


def _diff_base(capsys: Capsys, repo: Path) -> tuple[int, dict[str, Any]]:
    status = main(["check", str(repo), "--diff-base", "HEAD", "--format", "json", "--jobs", "1"])
    return status, json.loads(capsys.readouterr().out)


def _found(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["file"], f["function"]) for f in doc["findings"]]


@pytest.mark.parametrize("how", ["git mv", "mv"])
def test_diff_base_a_moved_file_adds_no_finding(tmp_path: Path, capsys: Capsys, how: str) -> None:
    repo, _ = _repo(tmp_path)
    if how == "git mv":  # staged, as a pre-commit hook sees it
        git(repo, "mv", CPU_C, NEW)
    else:  # a tracked file gone, an untracked one new
        (repo / CPU_C).rename(repo / NEW)
    status, doc = _diff_base(capsys, repo)
    assert (status, _found(doc), doc["stats"]["preexisting"]) == (0, [], 1)


def test_diff_base_a_moved_file_with_a_new_finding(tmp_path: Path, capsys: Capsys) -> None:
    repo, _ = _repo(tmp_path)
    git(repo, "mv", CPU_C, NEW)
    request = "    cdev->is_removing = true;\n"
    edit(repo / NEW, ((request, request + "    cdev->cpu = NULL;\n"),))
    status, doc = _diff_base(capsys, repo)
    assert (status, _found(doc), doc["stats"]["preexisting"]) == (
        1,
        [(NEW, "acpi_cpu_unplug_request_cb")],
        1,
    )


def test_diff_base_a_copy_adds_its_findings(tmp_path: Path, capsys: Capsys) -> None:
    repo, _ = _repo(tmp_path)
    shutil.copy(repo / CPU_C, repo / NEW)
    status, doc = _diff_base(capsys, repo)
    assert (status, _found(doc), doc["stats"]["preexisting"]) == (
        1,
        [(NEW, "acpi_cpu_eject")],
        1,
    )
