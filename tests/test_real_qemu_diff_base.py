"""``check --diff-base`` on a git copy of QEMU 10.0.13, as the pre-commit hook
runs it: the state at HEAD comes from git's object store for the one file
that differs, nothing is written to a temporary tree, and the finding every
released tree has is pre-existing."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from qemu_lint.cli import main
from qemu_lint.discover import revisions
from tests import qemu_variants as qv
from tests.conftest import qemu_tree, shared_facts

pytestmark = pytest.mark.real_qemu

CPU_C = "hw/acpi/cpu.c"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "gc.auto=0",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            *args,
        ],
        check=True,
        capture_output=True,
    )


def test_one_staged_line_reads_one_file_from_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = qemu_tree("10.0.13")
    repo = tmp_path / "qemu"
    subprocess.run(["cp", "-al", str(src), str(repo)], check=True)
    _git(repo, "init", "-q", "-b", "master")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "QEMU 10.0.13")
    path = repo / CPU_C
    qv.replace_file(path, qv.read_text(path).replace("\n", " /* staged */\n", 1))
    _git(repo, "add", CPU_C)
    seen: list[dict[str, bytes | None]] = []
    real = revisions.changes_at
    monkeypatch.setattr(
        revisions, "changes_at", lambda r, v, *more: seen.append(real(r, v, *more)) or seen[-1]
    )
    watch = tmp_path / "tmp"
    watch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watch))
    cache = shared_facts()  # facts of the unchanged files from the run's cache
    for _ in range(2):  # the second run: both records warm
        status = main(
            ["check", "--format", "json", "--cache-dir", cache, "--diff-base", "HEAD", str(path)]
        )
        doc = json.loads(capsys.readouterr().out)
        assert status == 0 and doc["findings"] == [] and doc["stats"]["preexisting"] == 1
    assert [set(s) for s in seen] == [{CPU_C}, {CPU_C}]
    old = seen[0][CPU_C]
    assert old is not None and b"/* staged */" not in old
    assert list(watch.iterdir()) == []
