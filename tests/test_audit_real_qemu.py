"""``qemu-lint audit`` on real QEMU 10.0.13, made into a git repository at test time.

The tree from ``../shared/scripts/qemu-src`` is copied with hard links (``cp
-al``), ``git init``/``add``/``commit`` write only the new ``.git`` folder, and
the series' edits replace files (never write through a link); the audit's
own checkouts happen in worktrees, which create new files.  The test checks
that the real files it edits are byte-for-byte unchanged afterwards.  It is
skipped with the reason when the trees are unavailable.

The series (design 1 of the persistence hook, docs/usage.md): declare
``CPUClass::cpu_persistent_status`` and implement it for arm (clean); add
``should_remain_acpi_present()`` and guard the release in
``acpi_cpu_unplug_cb()`` with it (fixes QEMU's one finding, but the eject
path's ``object_unparent()`` then destroys the vCPU kept: transient); drop the
guard again (re-introduces QEMU's finding, ends the other); release the vCPU
in ``acpi_cpu_unplug_request_cb()`` (introduces) and revert that (fixes: the
former is transient).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.cli import main
from tests import qemu_variants as qv
from tests.audit_series import QEMU_EDITED, QEMU_STEPS, git, qemu_repo, snapshot
from tests.conftest import qemu_tree, shared_facts

pytestmark = pytest.mark.real_qemu


@pytest.fixture(scope="module")
def real_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, list[str]]]:
    src = qemu_tree("10.0.13")
    before = {rel: qv.sha256(src / rel) for rel in QEMU_EDITED}
    dest = tmp_path_factory.mktemp("audit-real") / "qemu"
    base, shas = qemu_repo(src, dest)
    try:
        yield dest, base, shas
    finally:
        assert {rel: qv.sha256(src / rel) for rel in QEMU_EDITED} == before
        shutil.rmtree(dest.parent, ignore_errors=True)


def _audit(
    capsys: pytest.CaptureFixture[str], repo: Path, cache: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    status = main(
        ["audit", "--root", str(repo), "--format", "json", "--cache-dir", str(cache), *args]
    )
    out, err = capsys.readouterr()
    assert out, err
    return status, json.loads(out)


def _check(doc: dict[str, Any]) -> None:
    assert [p["verdict"] for p in doc["patches"]] == [v for _, _, v in QEMU_STEPS]
    p1, p2, p3, p4, p5 = doc["patches"]
    [fixed] = p2["fixed"]
    # QEMU 10.0.13's one finding, as `qemu-lint check` reports it
    assert (fixed["file"], fixed["line"], fixed["function"]) == (
        "hw/acpi/cpu.c",
        292,
        "acpi_cpu_unplug_cb",
    )
    assert fixed["archs"] == ["i386", "loongarch"] and fixed["introduced_by"] is None
    # the guarded release keeps the vCPU the eject path then unparents; 3/5 ends that
    [kept] = p2["introduced"]
    assert (kept["rule"], kept["file"], kept["line"], kept["function"]) == (
        "acpi-cpu-kept-alive",
        "hw/acpi/cpu.c",
        146,
        "cpu_hotplug_wr",
    )
    assert kept["fixed_by"] == 3 and kept["hook"] == "CPUClass::cpu_persistent_status"
    assert [f["rule"] for f in p3["fixed"]] == ["acpi-cpu-kept-alive"]
    [intro] = p3["introduced"]
    assert intro["function"] == "acpi_cpu_unplug_cb" and intro["fixed_by"] is None
    assert intro["in_base"] is True  # QEMU's own finding, brought back
    assert intro["archs"] == ["i386", "loongarch"]
    assert intro["hook"] == "CPUClass::cpu_persistent_status"
    assert [f["function"] for f in p4["introduced"]] == ["acpi_cpu_unplug_request_cb"]
    assert p4["introduced"][0]["fixed_by"] == 5
    assert [f["introduced_by"] for f in p5["fixed"]] == [4]
    assert [f["function"] for f in doc["final"]] == ["acpi_cpu_unplug_cb"]
    # the same site, guarded by the hook and then not: same fingerprint
    assert intro["fingerprint"] == fixed["fingerprint"]
    assert doc["final_vs_base"] == {"introduced": [], "fixed": []}


def test_real_qemu_range_and_mbox(
    real_repo: tuple[Path, str, list[str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, base, shas = real_repo
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the audit's worktrees
    before = snapshot(repo)
    cache = Path(shared_facts())  # facts of the files no patch edits, cached
    status, doc = _audit(capsys, repo, cache, f"{base}..{shas[-1]}")
    assert status == 1
    _check(doc)
    assert [p["commit"] for p in doc["patches"]] == shas

    mbox = tmp_path / "series.mbx"
    mbox.write_text(
        git(
            repo,
            "format-patch",
            "--cover-letter",
            f"--base={base}",
            "--stdout",
            f"{base}..{shas[-1]}",
        )
    )
    status, doc = _audit(capsys, repo, cache, str(mbox))
    assert status == 1
    _check(doc)
    assert doc["base"] == base and doc["base_source"] == "base-commit"
    assert snapshot(repo) == before
