"""Libraries issue 13 named that qemu-lint does not use, each with the case
that says why (docs/audit.md "Why not unidiff", docs/configuration.md
"--show-config").  Each test asserts what the library does today: when a
release starts handling the case, the test fails, and the choice should be
made again.  (pathspec and platformdirs are used: tests/test_excludes.py,
tests/test_config.py.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
import unidiff

from qemu_lint.audit.patch import parse_diff
from qemu_lint.errors import InputError
from tests.audit_series import demo_repo, git

DIFF = """\
diff --git {a} {b}
index 1111111..2222222 100644
--- {a}
+++ {b}
@@ -1,3 +1,4 @@
 int a;
+int b;
 int c;
 int d;
"""


def _diff(a: str = "a/hw/x.c", b: str = "b/hw/x.c") -> str:
    return DIFF.format(a=a, b=b)


# -- unidiff ------------------------------------------------------------------------


def test_unidiff_refuses_a_truncated_hunk_that_git_am_reports_with_its_line() -> None:
    """A hunk shorter than its header says (a mail cut short, a hand edit):
    unidiff refuses the whole patch; qemu-lint reads what is there and lets
    ``git am`` say where it is corrupt (below)."""
    cut = _diff().rsplit("\n", 3)[0] + "\n"  # the last two context lines gone
    with pytest.raises(unidiff.UnidiffParseError, match="shorter than expected"):
        unidiff.PatchSet(cut)
    [fd] = parse_diff(cut, "t")
    assert fd.path == "hw/x.c" and [ln.kind for ln in fd.hunks[0].lines] == [" ", "+", " "]


def test_a_truncated_patch_gets_git_ams_message(tmp_path: Path) -> None:
    repo, _, _ = demo_repo(tmp_path / "repo")
    text = git(repo, "format-patch", "-1", "--stdout", "HEAD")
    lines = text.split("\n")
    sig = lines.index("-- ")
    (tmp_path / "t.patch").write_text("\n".join(lines[: sig - 2]) + "\n")
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "audit", str(tmp_path / "t.patch"),
         "--root", str(repo), "--base", "HEAD~1", "--no-cache"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "does not apply" in r.stderr and "corrupt patch at line" in r.stderr


def test_unidiff_returns_a_quoted_path_raw() -> None:
    """git quotes a path with bytes outside ASCII (``core.quotePath``);
    unidiff hands the quoted text back, qemu-lint unquotes it."""
    q = _diff('"a/hw/t\\303\\251st.c"', '"b/hw/t\\303\\251st.c"')
    [pf] = unidiff.PatchSet(q)
    assert pf.path == '"hw/t\\303\\251st.c"'
    [fd] = parse_diff(q, "t")
    assert fd.path == "hw/tést.c"


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        ("a/../../etc/passwd", "b/../../etc/passwd", "escapes the tree"),
        ("/etc/passwd", "/etc/passwd", "absolute path"),
        ("a/.git/config", "b/.git/config", "points into .git"),
    ],
)
def test_unidiff_does_not_refuse_paths_that_escape_the_tree(a: str, b: str, why: str) -> None:
    """A patch of an audit is untrusted input; unidiff returns any path as it
    is, qemu-lint refuses it before anything is applied (docs/audit.md)."""
    d = _diff(a, b)
    [pf] = unidiff.PatchSet(d)
    assert pf.target_file == b
    with pytest.raises(InputError, match=why):
        parse_diff(d, "t")


# -- tomli-w ------------------------------------------------------------------------


def test_tomli_w_cannot_write_show_configs_one_line_per_key() -> None:
    """``--show-config`` writes one ``key = value  # origin`` line per setting
    (a table as dotted keys), for reading and for diffing two runs; tomli-w
    writes no comments, puts an array on one line per element and a table
    under a ``[header]``.  What qemu-lint writes is TOML all the same."""
    doc = {"hooks": ["CPUClass::cpu_persistent_status", "CPUState::acpi_persistent"]}
    assert tomli_w.dumps(doc).count("\n") == 4
    assert "[severity]" in tomli_w.dumps({"severity": {"acpi-cpu-persistence": "error"}})
    out = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "check", "--show-config", "/"],
        capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    keys = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
    assert all(" = " in ln and "  # " in ln for ln in keys), out
    parsed = tomllib.loads(out)
    assert parsed["hooks"][:2] == doc["hooks"]
    assert len(keys) == sum(len(v) if isinstance(v, dict) else 1 for v in parsed.values())
