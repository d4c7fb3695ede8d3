"""``audit --format checkpatch`` against QEMU's own ``scripts/checkpatch.pl``.

The demo series of ``tests/audit_series.py`` is committed on the demo tree,
with a trailing space on the release patch 3/5 adds: checkpatch.pl flags that
line (``trailing whitespace``), qemu-lint flags the release, so both name the
same ``#N: FILE: path:line:``.  The script is run with perl from the real QEMU
tree (never copied into this repository) on the same commits; the headers,
``#N`` lines and ``lines checked`` totals must be equal.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qemu_lint.cli import main
from tests.audit_series import SERIES, demo_repo
from tests.conftest import qemu_tree

pytestmark = pytest.mark.real_qemu

STEPS = (
    *SERIES[:2],
    dataclasses.replace(SERIES[2], edits=((SERIES[2].edits[0][0], "    cdev->cpu = NULL; \n"),)),
    *SERIES[3:],
)


def _checkpatch(repo: Path, *args: str) -> str:
    script = qemu_tree("10.0.13") / "scripts" / "checkpatch.pl"
    if not script.is_file() or shutil.which("perl") is None:
        pytest.skip(f"{script} or perl unavailable")
    r = subprocess.run(
        ["perl", str(script), "--no-tree", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


def _ours(capsys: pytest.CaptureFixture[str], repo: Path, spec: str) -> str:
    main(["audit", "--root", str(repo), "--jobs", "1", "--format", "checkpatch", spec])
    return capsys.readouterr().out


def _layout(text: str) -> tuple[list[str], list[str], list[str]]:
    """The ``Checking commit`` headers, the ``#N: FILE:`` lines, the totals' line counts."""
    return (
        re.findall(r"^\d+/\d+ Checking commit .*$", text, re.M),
        re.findall(r"^#\d+: FILE: \S+$", text, re.M),
        re.findall(r"^total: .*, (\d+ lines checked)$", text, re.M),
    )


def test_checkpatch_numbering_and_totals_match_the_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base, shas = demo_repo(tmp_path / "repo", STEPS)
    theirs = _checkpatch(repo, f"{base}..{shas[-1]}")
    ours = _ours(capsys, repo, f"{base}..{shas[-1]}")
    t_heads, t_sites, t_totals = _layout(theirs)
    o_heads, o_sites, o_totals = _layout(ours)
    assert o_heads == t_heads and len(o_heads) == 5
    assert o_totals == t_totals
    # checkpatch flags the trailing space at the line qemu-lint flags the release
    # (3/5; the site before it is 2/5's unparent of a kept vCPU, cpu.c:57)
    assert [s.rsplit(" ", 1)[-1] for s in o_sites] == [
        "hw/acpi/cpu.c:57:",
        "hw/acpi/cpu.c:176:",
        "hw/acpi/cpu.c:164:",
    ]
    assert o_sites[1] in t_sites, (o_sites, t_sites)
    assert o_sites[1].endswith("FILE: hw/acpi/cpu.c:176:")
    # one commit: no "1/1 Checking" header, named "Commit <sha12> (<subject>)"
    one_theirs = _checkpatch(repo, f"{shas[1]}..{shas[2]}")
    one_ours = _ours(capsys, repo, f"{shas[1]}..{shas[2]}")
    assert _layout(one_ours)[0] == _layout(one_theirs)[0] == []
    assert _layout(one_ours)[2] == _layout(one_theirs)[2]
    name = f"Commit {shas[2][:12]} ({STEPS[2].subject}) has style problems, please review."
    assert name in one_ours and name in one_theirs
