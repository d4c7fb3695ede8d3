"""``check --diff-base REV``: only the findings absent at REV, in a throwaway git
repository made from ``samples/trees/demo``.

The comparison is by fingerprint (both states are analysed), so a finding
whose lines moved is not new; the tree at REV is read from git's object
database into a temporary folder that is always removed, and the user's work
tree, index, HEAD, branches and stash are left exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from qemu_lint import engine
from tests.conftest import SAMPLES
from tests.conftest import run_check as _check
from tests.conftest import run_check_json as _json

Capsys = pytest.CaptureFixture[str]
SITE = "    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return r.stdout


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _state(repo: Path) -> dict[str, str]:
    """Everything --diff-base must leave alone."""
    index = repo / ".git" / "index"
    return {
        "status": git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all"),
        "head": git(repo, "rev-parse", "HEAD"),
        "symbolic": git(repo, "symbolic-ref", "HEAD"),
        "index": hashlib.sha256(index.read_bytes()).hexdigest(),
        "refs": git(repo, "for-each-ref"),
        "stash": git(repo, "stash", "list"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "files": "\n".join(
            f"{p.relative_to(repo)}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
            for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts
        ),
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose subfolder ``qemu/`` is the demo tree; two commits:
    the demo as it is, then lines inserted above its release and a second
    unguarded release added."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLES / "trees" / "demo", repo / "qemu")
    git(repo.parent, "init", "-q", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "demo")
    cpu_c = repo / "qemu" / "hw" / "acpi" / "cpu.c"
    _edit(cpu_c, "/* OSPM ran _EJ0", "/*\n * Lines above the old release\n */\n\n/* OSPM ran _EJ0")
    _edit(
        cpu_c,
        "        cdev->fw_remove = true;\n",
        "        cdev->fw_remove = true;\n        cdev->cpu = NULL;\n",
    )
    git(repo, "commit", "-qam", "second release")
    return repo


@pytest.fixture
def tmpdir_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temporary folder for the run, to see what it leaves behind."""
    watch = tmp_path / "tmp"
    watch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watch))
    return watch


def test_only_the_new_release_is_reported(repo: Path, capsys: Capsys, tmpdir_watch: Path) -> None:
    before = _state(repo)
    status, doc = _json(capsys, "--diff-base", "HEAD~1", str(repo / "qemu"))
    assert status == 1
    assert [(f["file"], f["function"]) for f in doc["findings"]] == [
        ("hw/acpi/cpu.c", "cpu_hotplug_wr")
    ]
    assert doc["stats"]["preexisting"] == 1
    # without --diff-base both are there, the old one 4 lines lower than at HEAD~1
    status, full = _json(capsys, str(repo / "qemu"))
    assert sorted(f["function"] for f in full["findings"]) == ["acpi_cpu_eject", "cpu_hotplug_wr"]
    old = next(f for f in full["findings"] if f["function"] == "acpi_cpu_eject")
    assert old["line"] == 57
    assert _state(repo) == before
    assert list(tmpdir_watch.iterdir()) == []


def test_same_revision_reports_nothing_and_summary_says_why(repo: Path, capsys: Capsys) -> None:
    status, out, err = _check(capsys, "--diff-base", "HEAD", str(repo / "qemu"))
    assert status == 0
    assert out == ""
    assert err.strip() == (
        "Found 0 findings in 0 files (2 findings already present at HEAD, not blocking)."
    )


def test_dirty_work_tree_is_analysed_and_left_dirty(repo: Path, capsys: Capsys) -> None:
    cpu_c = repo / "qemu" / "hw" / "acpi" / "cpu.c"
    # an unstaged change that removes the new release, and a staged new file
    _edit(cpu_c, "        cdev->fw_remove = true;\n        cdev->cpu = NULL;\n", "")
    extra = repo / "qemu" / "hw" / "acpi" / "extra.c"
    extra.write_text(
        '#include "hw/acpi/cpu.h"\n\nvoid extra_forget(AcpiCpuStatus *cdev)\n'
        "{\n    cdev->cpu = NULL;\n}\n"
    )
    git(repo, "add", str(extra))
    before = _state(repo)
    status, doc = _json(capsys, "--diff-base", "HEAD~1", str(repo / "qemu"))
    assert [(f["file"], f["function"]) for f in doc["findings"]] == [
        ("hw/acpi/extra.c", "extra_forget")
    ]
    assert _state(repo) == before


def test_qemu_root_at_the_top_of_the_repository(tmp_path: Path, capsys: Capsys) -> None:
    repo = tmp_path / "top"
    shutil.copytree(SAMPLES / "trees" / "demo", repo)
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "demo")
    _edit(repo / "hw" / "acpi" / "cpu.c", SITE, SITE.replace("cdev->cpu", "cdev[0].cpu"))
    status, doc = _json(capsys, "--diff-base", "HEAD", str(repo))
    # the release was rewritten: a real change, so it counts as new
    assert status == 1 and doc["stats"]["preexisting"] == 0
    assert [f["function"] for f in doc["findings"]] == ["acpi_cpu_eject"]


@pytest.mark.parametrize(
    ("rev", "cause"),
    [
        ("no-such-rev", "--diff-base: unknown revision 'no-such-rev' (not a commit here)"),
        ("HEAD~5", "--diff-base: unknown revision 'HEAD~5' (not a commit here)"),
        ("HEAD:qemu", "--diff-base: unknown revision 'HEAD:qemu' (not a commit here)"),
        ("-p", "--diff-base: not a revision: '-p'"),
    ],
)
def test_bad_revision_exits_2_with_one_line(
    repo: Path, capsys: Capsys, rev: str, cause: str, tmpdir_watch: Path
) -> None:
    before = _state(repo)
    status, out, err = _check(capsys, f"--diff-base={rev}", str(repo / "qemu"))
    assert status == 2
    assert out == ""
    assert err.splitlines() == [f"qemu-lint: error: {repo / 'qemu'}: {cause}"]
    assert _state(repo) == before
    assert list(tmpdir_watch.iterdir()) == []


def test_revision_without_the_qemu_tree(repo: Path, capsys: Capsys) -> None:
    git(repo, "mv", "qemu", "moved")
    git(repo, "commit", "-qm", "move")
    shutil.copytree(repo / "moved", repo / "qemu")
    status, _, err = _check(capsys, "--diff-base", "HEAD", str(repo / "qemu"))
    assert status == 2
    assert err.splitlines() == [
        f"qemu-lint: error: {repo / 'qemu'}: --diff-base: 'qemu' at HEAD is not a QEMU "
        "source tree (no include/hw/core/cpu.h)"
    ]


def test_not_a_git_repository(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = shutil.copytree(SAMPLES / "trees" / "demo", tmp_path / "plain")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    status, out, err = _check(capsys, "--diff-base", "HEAD", str(tree))
    assert status == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"qemu-lint: error: {tree}: --diff-base: not a git repository")


def test_diff_base_run_interrupted_leaves_nothing(
    repo: Path, capsys: Capsys, tmpdir_watch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = engine.run
    seen: list[str] = []

    def run(config: Any, on_progress: Any = None, chain: Any = None) -> Any:
        if config.revision:
            seen.append(config.revision)
            raise KeyboardInterrupt
        return real_run(config, on_progress, chain)

    monkeypatch.setattr(engine, "run", run)
    before = _state(repo)
    status, _, err = _check(capsys, "--diff-base", "HEAD~1", str(repo / "qemu"))
    assert status == 2 and "interrupted" in err
    assert seen == ["HEAD~1"]
    assert list(tmpdir_watch.iterdir()) == []
    assert _state(repo) == before


def test_state_at_revision_reads_only_the_files_that_differ(
    repo: Path, capsys: Capsys, tmpdir_watch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary tree: the files that differ come from git's object store,
    the others are the work tree's (and, with a cache, its record's)."""
    from qemu_lint.discover import revisions

    got: list[dict[str, bytes | None]] = []
    real = revisions.changes_at

    def changes_at(root: str, rev: str, *more: Any) -> dict[str, bytes | None]:
        got.append(real(root, rev, *more))
        return got[-1]

    monkeypatch.setattr(revisions, "changes_at", changes_at)
    extra = repo / "qemu" / "hw" / "acpi" / "untracked.c"
    extra.write_text("void untracked(void) {}\n")
    cache = repo.parent / "cache"
    for _ in range(2):  # the second run shares the work tree's cache record
        status, doc = _json(
            capsys, "--diff-base", "HEAD~1", "--cache-dir", str(cache), str(repo / "qemu")
        )
        assert [(f["file"], f["function"]) for f in doc["findings"]] == [
            ("hw/acpi/cpu.c", "cpu_hotplug_wr")
        ]
    assert set(got[0]) == {"hw/acpi/cpu.c", "hw/acpi/untracked.c"}
    assert got[0]["hw/acpi/untracked.c"] is None
    old = got[0]["hw/acpi/cpu.c"]
    assert old is not None and b"Lines above the old release" not in old
    assert list(tmpdir_watch.iterdir()) == []


def test_pre_commit_from_ref_is_the_default_diff_base(
    repo: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", git(repo, "rev-parse", "HEAD~1").strip())
    monkeypatch.setenv("PRE_COMMIT_TO_REF", git(repo, "rev-parse", "HEAD").strip())
    status, doc = _json(capsys, str(repo / "qemu"))
    assert [f["function"] for f in doc["findings"]] == ["cpu_hotplug_wr"]
    assert doc["stats"]["preexisting"] == 1
    # opting out, or an explicit --diff-base, wins
    status, doc = _json(capsys, "--no-diff-base", str(repo / "qemu"))
    assert len(doc["findings"]) == 2
    status, doc = _json(capsys, "--diff-base", "HEAD", str(repo / "qemu"))
    assert doc["findings"] == [] and doc["stats"]["preexisting"] == 2
    # writing a baseline records everything, FROM ref or not
    bl = repo / "bl.json"
    assert _check(capsys, "--write-baseline", str(bl), str(repo / "qemu"))[0] == 0
    assert json.loads(bl.read_text())["counts"] == {"hw/acpi/cpu.c": 2}
    # without PRE_COMMIT=1 the FROM ref alone means nothing
    monkeypatch.delenv("PRE_COMMIT")
    status, doc = _json(capsys, str(repo / "qemu"))
    assert len(doc["findings"]) == 2


def test_diff_base_and_write_baseline_do_not_mix(repo: Path, capsys: Capsys) -> None:
    status, out, err = _check(
        capsys, "--diff-base", "HEAD", "--write-baseline", str(repo / "bl.json"), str(repo / "qemu")
    )
    assert status == 2
    assert "--write-baseline records every finding; drop --diff-base" in err
    assert not (repo / "bl.json").exists()


def test_diff_base_run_stops_on_sigterm(
    repo: Path, capsys: Capsys, tmpdir_watch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = engine.run
    seen: list[str] = []

    def run(config: Any, on_progress: Any = None, chain: Any = None) -> Any:
        if config.revision:
            seen.append(config.revision)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
            raise AssertionError("SIGTERM did not interrupt the run")
        return real_run(config, on_progress, chain)

    monkeypatch.setattr(engine, "run", run)
    handler = signal.getsignal(signal.SIGTERM)
    status, _, err = _check(capsys, "--diff-base", "HEAD~1", str(repo / "qemu"))
    assert status == 2 and "interrupted" in err
    assert seen == ["HEAD~1"]
    assert list(tmpdir_watch.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is handler  # restored


def test_state_at_revision_shares_the_work_trees_discovery(
    repo: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tree is listed once per --diff-base run, and with a cache the build
    configuration is read from it (not computed again) on the next run."""
    import qemu_lint.select
    from qemu_lint.cache import session

    listed: list[str] = []
    real = session.discover

    def discover(root: str, *args: Any, **kw: Any) -> Any:
        listed.append(root)
        return real(root, *args, **kw)

    monkeypatch.setattr(session, "discover", discover)
    cache = repo.parent / "cache"
    args = ("--diff-base", "HEAD~1", "--cache-dir", str(cache), str(repo / "qemu"))
    status, first = _json(capsys, *args)
    assert status == 1 and listed == [str(repo / "qemu")]

    def no_build(*args: Any) -> Any:
        raise AssertionError("the build configuration was computed again")

    monkeypatch.setattr(qemu_lint.select, "load_build_config", no_build)
    status, second = _json(capsys, *args)
    assert status == 1 and len(listed) == 2
    assert second["findings"] == first["findings"]


def test_state_at_revision_rescans_files_changed_since_its_record(
    repo: Path, capsys: Capsys
) -> None:
    """A file unchanged since the work tree's record but changed since the
    state at the diff base was recorded (a commit in between) has its inline
    suppressions scanned again at the diff base, not taken from that record."""
    cpu_c = repo / "qemu" / "hw" / "acpi" / "cpu.c"
    line = "        cdev->fw_remove = true;\n        cdev->cpu = NULL;"
    allow = " /* qemu-lint: allow acpi-cpu-persistence -- test */"
    _edit(cpu_c, line, line + allow)
    git(repo, "commit", "-qam", "allow the second release")
    args = ("--diff-base", "HEAD", "--cache-dir", str(repo.parent / "cache"), str(repo / "qemu"))
    status, doc = _json(capsys, *args)
    assert status == 0 and doc["findings"] == []
    _edit(cpu_c, line + allow, line)  # the suppression dropped: the release is new
    time.sleep(2.1)  # past the racy-clean window: the work tree's record trusts its stat
    status, doc = _json(capsys, *args)
    assert status == 1 and [f["function"] for f in doc["findings"]] == ["cpu_hotplug_wr"]
    git(repo, "commit", "-qam", "drop the suppression")  # now it is at HEAD
    status, doc = _json(capsys, *args)
    assert status == 0 and doc["findings"] == []
