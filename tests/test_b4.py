"""b4, for real (docs/audit.md#b4): ``qemu-lint audit -`` as b4's per-patch check command.

The demo series of ``tests/audit_series.py`` is committed on the demo tree,
mailed with ``git format-patch --thread --cover-letter`` into a local mbox,
and handed to the real b4 (PyPI, ``--offline-mode``) with the git-config
lines of docs/audit.md: ``b4 am -k`` shows qemu-lint's verdict per patch
(patches that need earlier ones of the series are warnings), ``b4 prep
--check`` on the series already committed flags the patches that introduce
a finding.  ``$HOME``, ``$XDG_CACHE_HOME`` and git's global configuration
are inside the test folder.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit_series import SERIES, demo_repo
from tests.conftest import REPO

pytestmark = pytest.mark.b4

#: patch 1's body starts a line with "From ", which b4's mailbox.mbox
#: splitting cuts a message at (docs/audit.md says so); the rest is SERIES
STEPS = (dataclasses.replace(SERIES[0], body="Now the file starts with a comment.\n"),) + SERIES[1:]


def _snippet(name: str) -> str:
    """The ``git config --add b4.NAME …`` line of docs/audit.md (README.md has the same)."""
    found = []
    for doc in ("docs/audit.md", "README.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        m = re.search(rf"^\s*git config --add b4\.{name} (\"[^\"]+\")$", text, re.M)
        assert m, f"{doc}: no 'git config --add b4.{name}' line"
        found.append(m.group(1).strip('"'))
    assert len(set(found)) == 1, found
    return found[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    b4 = shutil.which("b4", path=os.path.dirname(sys.executable)) or shutil.which("b4")
    if b4 is None:
        pytest.fail("b4 is not installed in this environment: pip install '.[test]'")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        QEMU_LINT_CACHE_DIR=str(tmp_path / "qemu-lint-cache"),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        # qemu-lint from this environment, b4 from wherever it is
        PATH=os.pathsep.join(
            [os.path.dirname(sys.executable), os.path.dirname(b4), "/usr/bin", "/bin"]
        ),
    )
    return env


def _run(cwd: Path, env: dict[str, str], *cmd: str) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"{' '.join(cmd)}: {out}"
    return re.sub(r"\x1b\[[0-9;]*m", "", out)


@pytest.fixture
def series(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str, list[str], Path]:
    repo, base, shas = demo_repo(tmp_path / "repo", STEPS)
    _run(repo, env, "git", "config", "user.name", "Ada Reviewer")
    _run(repo, env, "git", "config", "user.email", "ada@example.org")
    out = tmp_path / "out"
    _run(repo, env, "git", "format-patch", "-q", "-n", "--thread", "--cover-letter",
         "-o", str(out), f"{base}..{shas[-1]}")  # fmt: skip
    mbox = tmp_path / "series.mbx"
    mbox.write_bytes(b"".join(p.read_bytes() for p in sorted(out.glob("*.patch"))))
    return repo, base, shas, mbox


def _verdicts(out: str) -> list[str]:
    return re.findall(r"^\s*● (qemu-lint: .*)$", out, re.M)


def test_b4_am_k_shows_a_verdict_per_patch(
    series: tuple[Path, str, list[str], Path], env: dict[str, str], tmp_path: Path
) -> None:
    repo, base, _, mbox = series
    _run(repo, env, "git", "checkout", "-q", "--detach", base)
    _run(repo, env, "git", "config", "--add", "b4.am-perpatch-check-cmd",
         _snippet("am-perpatch-check-cmd"))  # fmt: skip
    out = _run(repo, env, "b4", "--offline-mode", "am", "-k", "-m", str(mbox),
               "-o", str(tmp_path / "am"))  # fmt: skip
    lines = _verdicts(out)
    assert lines[0] == "qemu-lint: passed all checks", out
    # 2/5 to 5/5 need the patches before them: one warning each, with its real index
    assert lines[1:] == [
        f"qemu-lint: 1: WARNING: patch {k}/5 does not apply on HEAD {base[:12]}: it needs "
        "earlier patches of its series (or another base); not judged"
        for k in range(2, 6)
    ], out
    assert "ERROR" not in out


def test_b4_prep_check_flags_the_offending_patches(
    series: tuple[Path, str, list[str], Path], env: dict[str, str]
) -> None:
    repo, base, shas, _ = series
    _run(repo, env, "git", "checkout", "-q", "-b", "topic", shas[-1])
    _run(repo, env, "git", "config", "--add", "b4.prep-perpatch-check-cmd",
         _snippet("prep-perpatch-check-cmd"))  # fmt: skip
    _run(repo, env, "b4", "--offline-mode", "prep", "-e", base)
    out = _run(repo, env, "b4", "--offline-mode", "prep", "--check")
    # each patch judged against the state before it: 3/5 and 4/5 introduce a
    # release, 2/5 unparents the vCPU its guarded release keeps
    errors = re.findall(r"^\s*● [0-9a-f]+: (.*)\n\s*● qemu-lint: \d+: ERROR: (.*)$", out, re.M)
    assert [s for s, _ in errors] == [s.subject for s in STEPS[1:4]], out
    assert [e.rsplit(" ", 1)[-1] for _, e in errors] == [
        "[acpi-cpu-kept-alive]",
        "[acpi-cpu-persistence]",
        "[acpi-cpu-persistence]",
    ]
    assert "Success: 2, Warning: 0, Error: 3" in out
