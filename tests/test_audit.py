"""``qemu-lint audit``: per-patch verdicts for git ranges, mboxes, patch files and stdin.

Every test builds a git repository of ``samples/trees/demo`` with the series
of ``tests/audit_series.py`` (clean, fixes, introduces, transient, fixes) and
drives ``qemu_lint.cli.main()`` in process.  Temporary folders (the audit's
temporary index and object directory, the cache) and ``$HOME`` are redirected into ``tmp_path``, so
no user configuration (git identity included) is used and nothing outside the
test folder is written.  Output formats are pinned by golden files
(``QEMU_TEST_REGENERATE=1`` rewrites them).
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.audit.patch import clean_subject, parse_diff, parse_message
from qemu_lint.audit.series import load_series
from qemu_lint.cli import main
from qemu_lint.report import registry
from qemu_lint.rules import default_config
from qemu_lint.settings import Config
from tests.audit_series import (
    CPU_C,
    DEMO,
    SERIES,
    Step,
    commit_step,
    demo_repo,
    git,
    init_repo,
    snapshot,
)
from tests.conftest import files_parsed

Capsys = pytest.CaptureFixture[str]
GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parent.parent
VERDICTS = [s.verdict for s in SERIES]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders, the cache and $HOME inside tmp_path; no git identity."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("QEMU_LINT_CACHE_DIR", str(tmp_path / "cache"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "CI",
        "NO_COLOR",
        "FORCE_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)
    return tmp


@pytest.fixture()
def demo(tmp_path: Path) -> tuple[Path, str, list[str]]:
    return demo_repo(tmp_path / "repo")


def _audit(capsys: Capsys, repo: Path, *args: str, fmt: str = "json") -> tuple[int, Any, str]:
    argv = ["audit", "--root", str(repo), "--jobs", "1", "--color", "never", *args]
    if fmt:
        argv += ["--format", fmt]
    status = main(argv)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if fmt == "json" and out else out), err


def _fn(findings: list[dict[str, Any]]) -> list[str]:
    return [f["function"] for f in findings]


def _check_demo(doc: dict[str, Any]) -> None:
    """The verdicts every form of the demo series must get."""
    assert [p["verdict"] for p in doc["patches"]] == VERDICTS
    assert [p["index"] for p in doc["patches"]] == [1, 2, 3, 4, 5]
    assert {p["count"] for p in doc["patches"]} == {5}
    assert [p["subject"] for p in doc["patches"]] == [s.subject for s in SERIES]
    assert all(p["applied"] for p in doc["patches"])
    p1, p2, p3, p4, p5 = doc["patches"]
    # 1 moves every line of cpu.c: fingerprints ignore that
    assert p1["introduced"] == [] and p1["fixed"] == []
    assert _fn(p2["fixed"]) == ["acpi_cpu_eject"]
    assert p2["fixed"][0]["introduced_by"] is None
    # 2's guarded eject release keeps the vCPU its object_unparent() destroys
    [kept] = p2["introduced"]
    assert (kept["rule"], kept["function"], kept["line"]) == (
        "acpi-cpu-kept-alive",
        "acpi_cpu_eject",
        57,
    )
    assert kept["fixed_by"] == 3
    assert _fn(p3["introduced"]) == ["acpi_cpu_unplug_cb"]
    assert p3["introduced"][0]["fixed_by"] is None
    assert [(f["rule"], f["introduced_by"]) for f in p3["fixed"]] == [("acpi-cpu-kept-alive", 2)]
    assert p3["introduced"][0]["archs"] == ["i386", "loongarch"]
    assert _fn(p4["introduced"]) == ["acpi_cpu_unplug_request_cb"]
    assert p4["introduced"][0]["fixed_by"] == 5
    assert _fn(p5["fixed"]) == ["acpi_cpu_unplug_request_cb"]
    assert p5["fixed"][0]["introduced_by"] == 4
    assert _fn(doc["final"]) == ["acpi_cpu_unplug_cb"]
    assert _fn(doc["final_vs_base"]["introduced"]) == ["acpi_cpu_unplug_cb"]
    assert _fn(doc["final_vs_base"]["fixed"]) == ["acpi_cpu_eject"]
    t2, t4 = doc["transient"]
    assert (t2["introduced_by"], t2["fixed_by"]) == (2, 3)
    assert t2["finding"]["rule"] == "acpi-cpu-kept-alive"
    assert (t4["introduced_by"], t4["fixed_by"]) == (4, 5)
    assert t4["finding"]["function"] == "acpi_cpu_unplug_request_cb"
    assert doc["complete"] is True


# --------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------


def test_range_verdicts(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, shas = demo
    before = snapshot(repo)
    status, doc, err = _audit(capsys, repo, "HEAD~5..HEAD")
    assert status == 1, err
    assert err == ""
    _check_demo(doc)
    assert doc["version"] == 1
    assert doc["base"] == base and doc["base_source"] == "range"
    assert [p["commit"] for p in doc["patches"]] == shas
    # a range commit whose parent is the current state is taken as it is
    assert [p["applied_as"] for p in doc["patches"]] == shas
    assert doc["root"] == str(repo.resolve())
    assert snapshot(repo) == before


def test_range_findings_match_a_check_of_each_commit(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    """The introduced finding is the one ``check`` reports on that commit, fingerprint
    and line included."""
    repo, _, shas = demo
    _, doc, _ = _audit(capsys, repo, "HEAD~5..HEAD")
    wt = repo.parent / "at-patch-3"
    git(repo, "worktree", "add", "-q", "--detach", str(wt), shas[2])
    try:
        assert main(["check", str(wt), "--format", "json", "--jobs", "1"]) == 1
        check = json.loads(capsys.readouterr().out)
    finally:
        git(repo, "worktree", "remove", "--force", str(wt))
    [f] = doc["patches"][2]["introduced"]
    [g] = check["findings"]
    assert (f["fingerprint"], f["line"], f["file"]) == (g["fingerprint"], g["line"], g["file"])


def test_single_revision_is_that_commit(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, shas = demo
    status, doc, _ = _audit(capsys, repo, shas[2])
    assert status == 1
    [p] = doc["patches"]
    assert p["commit"] == shas[2] and p["verdict"] == "introduces"
    assert doc["base"] == shas[1]


def test_base_option_applies_the_range_elsewhere(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    """With --base, range commits go through git am -3 on that base."""
    repo, base, shas = demo
    status, doc, _ = _audit(capsys, repo, "HEAD~3..HEAD", "--base", base)
    # on the base, patch 3 of the series finds the eject release still there
    assert status == 1
    assert doc["base"] == base and doc["base_source"] == "--base"
    assert [p["verdict"] for p in doc["patches"]] == ["introduces", "transient", "fixes"]
    assert [p["commit"] for p in doc["patches"]] == shas[2:]
    assert all(p["applied_as"] not in shas for p in doc["patches"])
    assert _fn(doc["final"]) == ["acpi_cpu_eject", "acpi_cpu_unplug_cb"]


def test_empty_range_is_clean(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    status, doc, _ = _audit(capsys, repo, "HEAD..HEAD")
    assert status == 0
    assert doc["patches"] == [] and _fn(doc["final"]) == ["acpi_cpu_unplug_cb"]


def test_transients_fail_unless_allowed(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    status, doc, _ = _audit(capsys, repo, "HEAD~2..HEAD")
    assert [p["verdict"] for p in doc["patches"]] == ["transient", "fixes"]
    assert status == 1
    status, _, _ = _audit(capsys, repo, "HEAD~2..HEAD", "--allow-transient")
    assert status == 0


def test_fixes_only_is_clean(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    status, doc, _ = _audit(capsys, repo, "HEAD~1..HEAD")
    assert [p["verdict"] for p in doc["patches"]] == ["fixes"]
    assert status == 0
    # without 3/5, the finding 2/5 adds (the kept vCPU unparented) stays
    status, doc, _ = _audit(capsys, repo, "HEAD~5..HEAD~3")
    assert [p["verdict"] for p in doc["patches"]] == ["clean", "introduces"]
    assert [f["rule"] for f in doc["patches"][1]["introduced"]] == ["acpi-cpu-kept-alive"]
    assert status == 1


def test_merge_in_range_is_refused(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, _ = demo
    git(repo, "checkout", "-q", "-b", "side", base)
    (repo / "hw" / "side.c").write_text("int side;\n")
    git(repo, "add", "hw/side.c")
    git(repo, "commit", "-q", "-m", "side")
    git(repo, "checkout", "-q", "master")
    git(repo, "merge", "-q", "--no-edit", "side")
    status, out, err = _audit(capsys, repo, f"{base}..HEAD")
    assert status == 2 and out == ""
    assert "merge commit" in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------
# The repository is never touched
# --------------------------------------------------------------------------


def _prepend(path: Path, text: str) -> None:
    path.write_text(text + path.read_text())


def test_user_state_untouched_even_when_dirty(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    """A staged change, an unstaged one, an untracked file, a stash and a
    detached HEAD all survive an audit, whatever the input."""
    repo, _, shas = demo
    git(repo, "checkout", "-q", "--detach", shas[1])
    (repo / "untracked.txt").write_text("mine\n")
    _prepend(repo / "hw/acpi/ich9.c", "/* stashed */\n")
    git(repo, "stash", "-q")
    _prepend(repo / CPU_C, "/* staged */\n")
    git(repo, "add", CPU_C)
    _prepend(repo / "hw/acpi/piix4.c", "/* unstaged */\n")
    mbox = repo.parent / "series.mbox"
    mbox.write_bytes(git(repo, "format-patch", "--stdout", f"{shas[1]}..{shas[4]}").encode())
    before = snapshot(repo)
    assert before["stash"] and before["staged"] and before["unstaged"]
    assert "?? untracked.txt" in before["status"]
    for args in (["master~5..master"], [str(mbox)]):
        status, _, err = _audit(capsys, repo, *args)
        assert status == 1, err
        assert snapshot(repo) == before
    assert not any(Path(tempfile.gettempdir()).glob("qemu-lint-*/audit-*/qemu"))


def test_git_hook_environment_does_not_leak(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a git hook GIT_INDEX_FILE/GIT_DIR point at the user's repository:
    the audit's git commands must not follow them."""
    repo, _, _ = demo
    before = snapshot(repo)
    index = repo / ".git" / "index"
    data = index.read_bytes()
    monkeypatch.setenv("GIT_INDEX_FILE", str(index))
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo))
    status, doc, err = _audit(capsys, repo, "HEAD~5..HEAD")
    monkeypatch.delenv("GIT_INDEX_FILE")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    assert status == 1, err
    _check_demo(doc)
    assert index.read_bytes() == data
    assert snapshot(repo) == before


# --------------------------------------------------------------------------
# mbox files
# --------------------------------------------------------------------------


def _mbox(repo: Path, base: str, tip: str = "HEAD", *extra: str) -> bytes:
    return git(
        repo,
        "format-patch",
        "--cover-letter",
        f"--base={base}",
        "--stdout",
        *extra,
        f"{base}..{tip}",
    ).encode()


def test_mbox_with_cover_letter(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, _ = demo
    mbox = repo.parent / "series.mbx"
    data = _mbox(repo, base)
    assert b"\nFrom now on the file starts" in data  # the trap for naive splitters
    mbox.write_bytes(data)
    # the user is elsewhere: the base comes from the cover letter's base-commit
    git(repo, "checkout", "-q", "--detach", "HEAD~2")
    before = snapshot(repo)
    status, doc, err = _audit(capsys, repo, str(mbox))
    assert status == 1, err
    _check_demo(doc)
    assert doc["base"] == base and doc["base_source"] == "base-commit"
    assert [p["commit"] for p in doc["patches"]] == [None] * 5
    assert all(re.fullmatch(r"[0-9a-f]{40}", p["applied_as"]) for p in doc["patches"])
    assert snapshot(repo) == before


def test_mbox_commit_message_keeps_its_from_line(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    """git mailsplit does not split at "From now on …" (mailbox.mbox would)."""
    repo, base, _ = demo
    mbox = repo.parent / "series.mbx"
    mbox.write_bytes(_mbox(repo, base, "HEAD~4"))
    series = load_series(str(repo), [str(mbox)])
    [p] = series.patches
    assert p.text.startswith("From now on the file starts") and "diff --git" in p.text
    assert p.subject == SERIES[0].subject
    assert series.cover_subject is not None and "0/1" in series.cover_subject


def _reencode(raw: bytes, how: str) -> bytes:
    """The same mail with a quoted-printable, base64 or multipart body."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_content()
    new = EmailMessage()
    for h in ("From", "Date", "Subject"):
        new[h] = msg[h]
    new["Message-Id"] = f"<{how}@example.org>"
    if how == "multipart":
        message, sep, diff = body.partition("\n---\n")
        assert sep
        new.set_content(message + "\n", cte="quoted-printable")
        new.add_attachment(
            ("---\n" + diff).encode(),
            maintype="text",
            subtype="x-patch",
            filename="fix.patch",
            disposition="inline",
        )
    else:
        new.set_content(body, cte="quoted-printable" if how == "qp" else "base64")
    return b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + new.as_bytes(policy=email.policy.SMTP)


def test_mime_encoded_bodies(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, _ = demo
    raws = [git(repo, "format-patch", "-1", "--stdout", f"HEAD~{4 - i}").encode() for i in range(5)]
    hows = ["qp", "base64", "multipart", "qp", "base64"]
    encoded = [_reencode(r, h) for r, h in zip(raws, hows, strict=True)]
    assert b"Content-Transfer-Encoding: base64" in encoded[1]
    assert b"+    cdev->cpu = NULL;" not in encoded[1]
    mbox = repo.parent / "mime.mbox"
    mbox.write_bytes(b"\n".join(encoded))
    status, doc, err = _audit(capsys, repo, str(mbox), "--base", base)
    assert status == 1, err
    _check_demo(doc)
    assert [p["message_id"] for p in doc["patches"]] == [f"<{h}@example.org>" for h in hows]
    # the hunk located in the decoded multipart body
    assert doc["patches"][2]["introduced"][0]["patch_line"] is not None


def test_patch_files_and_maildir(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, _ = demo
    out = repo.parent / "patches"
    git(repo, "format-patch", "-q", "-o", str(out), f"{base}..HEAD")
    files = sorted(str(p) for p in out.glob("*.patch"))
    assert len(files) == 5
    status, doc, _ = _audit(capsys, repo, *files, "--base", base)
    assert status == 1
    _check_demo(doc)
    maildir = repo.parent / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i, f in enumerate(files):
        (maildir / "cur" / f"{i:04d}.mail:2,S").write_bytes(Path(f).read_bytes())
    status, doc, _ = _audit(capsys, repo, str(maildir), "--base", base)
    assert status == 1
    _check_demo(doc)


def test_bare_diff_file(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    """``git diff`` output, with no mail headers, is a patch too."""
    repo, _, shas = demo
    diff = repo.parent / "guard.diff"
    diff.write_text(git(repo, "diff", shas[1], shas[2]))
    status, doc, _ = _audit(capsys, repo, str(diff), "--base", shas[1])
    assert status == 1
    [p] = doc["patches"]
    assert p["subject"] == "guard.diff" and p["verdict"] == "introduces"


# --------------------------------------------------------------------------
# Failures: patches that do not apply, bad input, escaping paths
# --------------------------------------------------------------------------


def test_patch_that_does_not_apply(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, base, _ = demo
    out = repo.parent / "patches"
    git(repo, "format-patch", "-q", "-o", str(out), f"{base}..HEAD~2")
    files = sorted(out.glob("*.patch"))
    # patch 2's context no longer matches the tree
    bad = (
        files[1]
        .read_text()
        .replace("     trace_cpuhp_acpi_ejecting_cpu(", "     trace_cpuhp_acpi_ejecting_vcpu(")
    )
    files[1].write_text(bad)
    before = snapshot(repo)
    status, doc, err = _audit(capsys, repo, *map(str, files), "--base", base)
    assert status == 2
    assert [p["verdict"] for p in doc["patches"]] == ["clean", "does-not-apply", "not-checked"]
    assert [p["applied"] for p in doc["patches"]] == [True, False, False]
    reason = doc["patches"][1]["reason"]
    assert "hw/acpi/cpu.c: patch does not apply" in reason
    assert doc["patches"][2]["reason"] == "patch 2/3 did not apply"
    assert doc["complete"] is False
    [line] = err.strip().splitlines()
    assert line.startswith("qemu-lint: error: patch 2/3 (") and "does not apply" in line
    assert snapshot(repo) == before
    # the other formats say so too
    status, text, _ = _audit(capsys, repo, *map(str, files), "--base", base, fmt="checkpatch")
    assert status == 2
    assert "2/3 Checking patch (hw/acpi/cpu: consult" in text
    assert "ERROR: patch does not apply on" in text and "3/3 Checking" not in text
    status, text, _ = _audit(capsys, repo, *map(str, files), "--base", base, fmt="text")
    assert status == 2 and "does not apply" in text and "not checked" in text


EVIL = {
    "dotdot": "diff --git a/../evil.c b/../evil.c\nnew file mode 100644\n--- /dev/null\n"
    "+++ b/../evil.c\n@@ -0,0 +1 @@\n+int evil;\n",
    "absolute": "--- a/hw/acpi/cpu.c\n+++ /etc/passwd\n@@ -1 +1 @@\n-x\n+y\n",
    "rename": "diff --git a/hw/acpi/cpu.c b/hw/acpi/cpu.c\nsimilarity index 100%\n"
    "rename from hw/acpi/cpu.c\nrename to ../../cpu.c\n",
    "quoted": 'diff --git "a/hw/\\056\\056/\\056\\056/x.c" "b/hw/\\056\\056/\\056\\056/x.c"\n'
    "new file mode 100644\n",
    "git-dir": "diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n"
    "@@ -1 +1 @@\n-x\n+y\n",
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_paths_escaping_the_tree_are_refused(
    demo: tuple[Path, str, list[str]], capsys: Capsys, case: str
) -> None:
    repo, _, _ = demo
    mail = "From: Mallory <m@example.org>\nSubject: [PATCH] hw: tidy\n\nTidy.\n---\n" + EVIL[case]
    patch = repo.parent / f"{case}.patch"
    patch.write_text(mail)
    before = snapshot(repo)
    status, out, err = _audit(capsys, repo, str(patch))
    assert status == 2 and out == ""
    [line] = err.strip().splitlines()
    assert str(patch) in line and "refused" in line
    assert snapshot(repo) == before
    assert not (repo.parent / "evil.c").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"From: a@b\nSubject: [PATCH 0/2] cover\n\nJust a cover letter.\n", "no patches found"),
        (b"\x00\x01\x02 not a mail \xff\xfe", "no patches found"),
        (
            b"From: a@b\nSubject: [PATCH] x\n\n---\ndiff --git a/x.c b/x.c\n--- a/x.c\n"
            b"+++ b/x.c\n@@ -1,z +1 @@\n-a\n+b\n",
            "malformed hunk header",
        ),
    ],
    ids=["empty", "cover-only", "binary", "bad-hunk"],
)
def test_malformed_input(
    demo: tuple[Path, str, list[str]], capsys: Capsys, content: bytes, message: str
) -> None:
    repo, _, _ = demo
    f = repo.parent / "input.mbox"
    f.write_bytes(content)
    before = snapshot(repo)
    status, out, err = _audit(capsys, repo, str(f))
    assert status == 2 and out == ""
    [line] = err.strip().splitlines()
    assert str(f) in line and message in line, line
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-file-or-rev"], "no-such-file-or-rev: no such file, and not a revision"),
        (["HEAD~1..nowhere"], "HEAD~1..nowhere: no such file, and not a revision range"),
        (["../missing.mbox"], "../missing.mbox: no such file, and not a revision range"),
        (["HEAD~1..HEAD", "--base", "nowhere"], "--base nowhere: no such commit"),
        (["HEAD~3...HEAD"], "symmetric range"),
        (["-", "HEAD"], "cannot be combined"),
        ([], "name a revision range"),
    ],
)
def test_bad_arguments(
    demo: tuple[Path, str, list[str]], capsys: Capsys, args: list[str], message: str
) -> None:
    repo, _, _ = demo
    status, out, err = _audit(capsys, repo, *args)
    assert status == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_not_a_git_repository(tmp_path: Path, capsys: Capsys) -> None:
    import shutil

    from tests.audit_series import DEMO

    tree = tmp_path / "plain"
    shutil.copytree(DEMO, tree)
    status, out, err = _audit(capsys, tree, "HEAD~1..HEAD")
    assert status == 2 and out == ""
    assert "not inside a git work tree" in err


def test_unknown_base_commit_in_cover_letter(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    repo, base, _ = demo
    data = _mbox(repo, base).replace(f"base-commit: {base}".encode(), b"base-commit: " + b"1" * 40)
    mbox = repo.parent / "s.mbx"
    mbox.write_bytes(data)
    status, _, err = _audit(capsys, repo, str(mbox))
    assert status == 2
    assert "1111111111111111111111111111111111111111 (from the cover letter)" in err


# --------------------------------------------------------------------------
# b4: one patch on stdin
# --------------------------------------------------------------------------


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_b4_stdin_mode(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As b4's am-perpatch-check-cmd: cwd the repository top, no options, one
    patch on stdin; nothing at all for a clean patch, ``-:<line>: ERROR:``
    lines on stdout for a bad one, never anything on stderr."""
    repo, _, shas = demo
    git(repo, "checkout", "-q", "--detach", shas[1])
    monkeypatch.chdir(repo)
    bad = git(repo, "format-patch", "-1", "--stdout", shas[2]).encode()
    _stdin(monkeypatch, bad)
    status = main(["audit", "-"])
    out, err = capsys.readouterr()
    assert status == 1
    assert err == ""
    [line] = out.splitlines()
    m = re.fullmatch(r"-:(\d+): ERROR: hw/acpi/cpu\.c:\d+: (.*) \[acpi-cpu-persistence\]", line)
    assert m, line
    # the line number is that of the added release in the input
    assert bad.decode().splitlines()[int(m.group(1)) - 1] == "+    cdev->cpu = NULL;"
    assert "\x1b[" not in out

    good = git(repo, "format-patch", "-1", "--stdout", shas[0]).encode()
    git(repo, "checkout", "-q", "--detach", shas[0] + "~1")
    _stdin(monkeypatch, good)
    assert main(["audit", "-"]) == 0
    assert capsys.readouterr() == ("", "")


def test_b4_stdin_mode_encoded_and_without_mbox_line(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _, shas = demo
    git(repo, "checkout", "-q", "--detach", shas[1])
    monkeypatch.chdir(repo)
    raw = git(repo, "format-patch", "-1", "--stdout", shas[2]).encode()
    plain = raw.split(b"\n", 1)[1]  # as a mail client saves it: no "From <sha>" line
    for data in (plain, _reencode(raw, "qp")):
        _stdin(monkeypatch, data)
        assert main(["audit", "-"]) == 1
        out, err = capsys.readouterr()
        assert err == "" and re.match(r"-:\d+: ERROR: ", out)
    _stdin(monkeypatch, plain)
    main(["audit", "-"])
    line = capsys.readouterr().out
    n = int(line.split(":")[1])
    assert plain.decode().splitlines()[n - 1] == "+    cdev->cpu = NULL;"


def test_b4_stdin_mode_patch_that_does_not_apply(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its index lines say it applies on HEAD, but its text does not: one ERROR line."""
    repo, _, shas = demo
    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "--detach", shas[0])
    patch = git(repo, "format-patch", "-1", "--stdout", shas[1])
    bad = patch.replace(
        "     trace_cpuhp_acpi_ejecting_cpu(", "     trace_cpuhp_acpi_ejecting_vcpu("
    )
    assert bad != patch
    _stdin(monkeypatch, bad.encode())
    assert main(["audit", "-"]) == 2
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert re.match(r"-:\d+: ERROR: patch does not apply on ", line)
    assert err == ""  # said once, on stdout


def test_b4_stdin_mode_patch_needing_earlier_patches_is_one_warning(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """b4 am -k checks patch 4/5 before 1/5 to 3/5 are applied: a warning, exit 0."""
    repo, _, shas = demo
    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "--detach", shas[0] + "~1")
    patch = git(repo, "format-patch", "-1", "--stdout", "--subject-prefix=PATCH 4/5", shas[3])
    _stdin(monkeypatch, patch.encode())
    assert main(["audit", "-"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    assert line.startswith("-:1: WARNING: patch 4/5 does not apply on HEAD ")
    assert line.endswith("it needs earlier patches of its series (or another base); not judged")


def test_b4_stdin_mode_patch_already_applied_is_judged_before_it(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """b4 prep --check feeds each patch of a series already committed: each is
    judged against the state before it, the tip's as the middle one's."""
    repo, _, shas = demo
    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "--detach", shas[2])
    # 2/5 unparents the vCPU its guarded release keeps (acpi-cpu-kept-alive)
    for sha, rule in (
        (shas[2], "acpi-cpu-persistence"),
        (shas[1], "acpi-cpu-kept-alive"),
        (shas[0], None),
    ):
        _stdin(monkeypatch, git(repo, "format-patch", "-1", "--stdout", sha).encode())
        assert main(["audit", "-"]) == (1 if rule else 0), sha
        out, err = capsys.readouterr()
        assert err == ""
        if rule:
            [line] = out.splitlines()
            assert re.match(rf"-:\d+: ERROR: hw/acpi/cpu\.c:\d+: .*\[{rule}\]$", line)
        else:
            assert out == ""
    _stdin(monkeypatch, git(repo, "format-patch", "-1", "--stdout", shas[2]).encode())
    assert main(["audit", "-", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["base"] == git(repo, "rev-parse", shas[2] + "~1").strip()
    assert doc["base_source"] == f"applied at HEAD: the parent of {shas[2][:12]}"


def test_b4_empty_stdin(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _, _ = demo
    monkeypatch.chdir(repo)
    _stdin(monkeypatch, b"")
    assert main(["audit", "-"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "no patch on standard input" in err


# --------------------------------------------------------------------------
# Output formats
# --------------------------------------------------------------------------


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QEMU_TEST_REGENERATE"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; QEMU_TEST_REGENERATE=1 to update"


@pytest.mark.parametrize(
    ("fmt", "inputs"),
    [
        ("text", "range"),
        ("checkpatch", "range"),
        ("email", "mbox"),
        ("terse", "range"),
    ],
)
def test_golden(
    demo: tuple[Path, str, list[str]],
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    inputs: str,
) -> None:
    repo, base, _ = demo
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735787045")  # the replies' Date
    if inputs == "range":
        args = ["HEAD~5..HEAD"]
    else:
        mbox = repo.parent / "series.mbx"
        data = _mbox(repo, base).decode()
        # Message-Ids as a list would have them (format-patch's carry a timestamp)
        n = iter(range(100))
        data = re.sub(
            r"(?m)^Subject: ", lambda m: f"Message-Id: <p{next(n)}@example.org>\nSubject: ", data
        )
        mbox.write_text(data)
        args = [str(mbox)]
    status, out, err = _audit(capsys, repo, *args, fmt=fmt)
    assert status == 1, err
    assert "\x1b[" not in out
    _golden(f"audit-{fmt}.txt", out)
    if fmt == "text":
        assert err == "Audited 5 of 5 patches: 1 introduces, 2 transient, 1 fixes, 1 clean.\n"
    else:
        assert err == ""


def test_text_lines_are_editor_parsable(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    _, out, _ = _audit(capsys, repo, "HEAD~5..HEAD", fmt="text")
    gcc = re.compile(r"^[^\s:|+]+:\d+:\d+: (error|warning|note): .+$")
    findings = [ln for ln in out.splitlines() if ln.startswith("hw/")]
    assert findings and all(gcc.match(ln) for ln in findings), findings


def test_email_is_an_mbox_of_replies(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    _, out, _ = _audit(capsys, repo, "HEAD~5..HEAD", fmt="email")
    split = repo.parent / "replies"
    split.mkdir()
    r = subprocess.run(["git", "mailsplit", f"-o{split}"], input=out.encode(), capture_output=True)
    assert r.returncode == 0, r.stderr
    replies = sorted(split.iterdir())
    assert len(replies) == 3  # patches 2, 3 and 4
    msgs = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in replies]
    # (a Subject folded whole onto its second line keeps a leading space in Python's parser)
    assert [m["Subject"].strip() for m in msgs] == [
        f"Re: [PATCH 2/5] {SERIES[1].subject}",
        f"Re: [PATCH 3/5] {SERIES[2].subject}",
        f"Re: [PATCH 4/5] {SERIES[3].subject}",
    ]
    kept = msgs[0].get_content()
    assert ">      object_unparent(OBJECT(dev));" in kept
    assert re.search(r"(?m)^hw/acpi/cpu\.c:57:5: error: object_unparent\(\) ", kept)
    assert "transient: removed again by 3/5" in kept
    body = msgs[1].get_content()
    assert "> +    cdev->cpu = NULL;" in body
    assert re.search(r"(?m)^hw/acpi/cpu\.c:\d+:5: error: ", body)
    # a reply to the patch: To its author, dated, with an id of its own
    for m in msgs:
        assert m["From"] == "qemu-lint <qemu-lint@invalid>"
        assert m["To"] == "Ada Reviewer <ada@example.org>"
        assert email.utils.parsedate_to_datetime(m["Date"]) is not None
        assert re.fullmatch(r"<qemu-lint\.[0-9a-f]{20}@qemu-lint\.invalid>", m["Message-ID"])
    assert msgs[0]["Message-ID"] != msgs[1]["Message-ID"]
    # at most 72 columns (a long Message-Id is one token, never folded)
    long = [ln for ln in out.splitlines() if len(ln) > 72]
    assert all(ln.startswith(("In-Reply-To: <", "References: <")) for ln in long), long
    assert all(len(ln) <= 72 for ln in body.splitlines())
    assert email.message_from_string(out.split("\n", 1)[1])["Subject"] is not None


def test_email_reply_to_a_mail_addresses_its_people_and_encodes_its_subject(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _, shas = demo
    git(repo, "checkout", "-q", "--detach", shas[1])
    raw = git(repo, "format-patch", "-1", "--stdout", shas[2]).split("\n", 1)[1]
    msg = email.message_from_string(raw, policy=email.policy.default)
    for name, value in (
        ("From", "Adèle Révieŵer <ada@example.org>"),
        ("Subject", "[PATCH] hw/acpi/cpü: release the vCPU unconditionally on unplug"),
        ("To", "qemu-devel@nongnu.org"),
        ("Cc", "Igor M <imammedo@example.org>, ada@example.org"),
        ("Message-Id", "<p3@example.org>"),
    ):
        del msg[name]
        msg[name] = value
    mail = repo.parent / "p3.eml"
    mail.write_bytes(msg.as_bytes(policy=email.policy.SMTP))
    monkeypatch.setenv("EMAIL", "Rev Iewer <rev@example.org>")
    status, out, err = _audit(capsys, repo, str(mail), fmt="email")
    assert status == 1, err
    assert "=?utf-8?" in out  # RFC 2047 headers
    m = email.message_from_string(out, policy=email.policy.default)
    assert m["From"] == "Rev Iewer <rev@example.org>"
    assert m["To"] == "Adèle Révieŵer <ada@example.org>"
    assert m["Cc"] == "qemu-devel@nongnu.org, Igor M <imammedo@example.org>"
    assert m["Subject"] == "Re: [PATCH] hw/acpi/cpü: release the vCPU unconditionally on unplug"
    assert m["In-Reply-To"] == m["References"] == "<p3@example.org>"


def test_email_quotes_the_hunk_that_removed_the_hook_declaration(
    tmp_path: Path, capsys: Capsys
) -> None:
    """A patch that removes the hook's declaration (and touches an unrelated
    line nearer the site) gets the declaration's hunk quoted."""
    from tests.audit_series import Step

    drop = Step(
        "hw/core: drop CPUClass::cpu_persistent_status",
        "Unused, they said.\n",
        (),
        "introduces",
    )
    repo, _, _ = demo_repo(tmp_path / "repo", ())
    cpu_h = repo / "include" / "hw" / "core" / "cpu.h"
    text = cpu_h.read_text()
    cpu_h.write_text(text.replace("    bool (*cpu_persistent_status)(CPUState *cpu);\n", ""))
    cpu_c = repo / CPU_C
    cpu_c.write_text(cpu_c.read_text().replace("#include", "/* unrelated */\n#include", 1))
    git(repo, "commit", "-q", "-a", "-m", f"{drop.subject}\n\n{drop.body}")
    status, out, _ = _audit(capsys, repo, "HEAD~1..HEAD", fmt="email")
    assert status == 1, out
    body = email.message_from_string(out, policy=email.policy.default).get_content()
    assert "> diff --git a/include/hw/core/cpu.h b/include/hw/core/cpu.h" in body
    assert "> -    bool (*cpu_persistent_status)(CPUState *cpu);" in body
    assert "unrelated" not in body


def test_json_stdout_only(demo: tuple[Path, str, list[str]], capsys: Capsys) -> None:
    repo, _, _ = demo
    status, doc, err = _audit(capsys, repo, "HEAD~5..HEAD")
    assert err == ""
    keys = {"index", "count", "subject", "commit", "applied", "introduced", "fixed"}
    assert all(keys <= p.keys() for p in doc["patches"])
    assert {"version", "base", "patches", "final"} <= doc.keys()


def test_sarif_and_gitlab_render_the_final_state(
    demo: tuple[Path, str, list[str]], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _, _ = demo
    seen = []

    class Fake:
        @staticmethod
        def render(report: Any, out: Any, opts: Any) -> None:
            seen.append(report)
            out.write("fake\n")

    fakes = {"sarif": Fake, "gitlab": Fake}
    monkeypatch.setattr(registry, "REPORTERS", {**registry.REPORTERS, **fakes})
    status, out, _ = _audit(capsys, repo, "HEAD~5..HEAD", fmt="sarif")
    assert status == 1 and out == "fake\n"
    [report] = seen
    assert report.root == str(repo.resolve())  # not the temporary worktree
    assert [f.function for f in report.findings] == ["acpi_cpu_unplug_cb"]
    monkeypatch.undo()  # the real SARIF reporter
    status, out, _ = _audit(capsys, repo, "HEAD~5..HEAD", fmt="sarif")
    # its own category: a check's and an audit's runs can be uploaded side by side
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "qemu-lint/audit/"}


# --------------------------------------------------------------------------
# Incremental analysis, interruption, cleanup
# --------------------------------------------------------------------------


def _parsed_per_state(cfg: Config, series: Any) -> tuple[Any, list[list[str]]]:
    """Audit ``series``: the result, and the files parsed for each state (the
    base, then each patch), told apart by the progress callback, which the
    audit calls before each state is analysed and once at the end."""
    from qemu_lint.audit.driver import run_audit

    starts: list[int] = []
    with files_parsed() as parsed:
        result = run_audit(cfg, series, progress=lambda *_: starts.append(len(parsed)))
    return result, [parsed[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def test_each_patch_reparses_only_changed_files(
    demo: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    repo, _, _ = demo
    series = load_series(str(repo), ["HEAD~5..HEAD"])
    cfg = default_config(root=str(repo.resolve()), cache_dir=str(tmp_path / "c2"), jobs=1)
    for attempt in range(2):
        result, per_state = _parsed_per_state(cfg, series)
        assert [v.verdict for v in result.patches] == VERDICTS
        assert len(per_state) == 6
        if attempt == 0:
            assert len(per_state[0]) > 10  # the base: every file parsed once
        else:
            assert per_state[0] == []  # a second audit: all facts known
        # after each patch, only hw/acpi/cpu.c (the file it changes), if anything
        assert all(s in ([], ["hw/acpi/cpu.c"]) for s in per_state[1:]), per_state


def test_without_a_cache_the_states_share_their_unchanged_files_facts(
    demo: tuple[Path, str, list[str]],
) -> None:
    """With ``--no-cache`` too, a patch's state parses only the files the
    patch changed: the states of one audit share the facts of the others (by
    path and bytes), and the verdicts are those of states analysed alone."""
    repo, _, _ = demo
    series = load_series(str(repo), ["HEAD~5..HEAD"])
    cfg = default_config(root=str(repo.resolve()), cache_dir=None, jobs=1)
    result, per_state = _parsed_per_state(cfg, series)
    assert [v.verdict for v in result.patches] == VERDICTS
    assert len(per_state) == 6 and len(per_state[0]) > 10
    assert all(s in ([], ["hw/acpi/cpu.c"]) for s in per_state[1:]), per_state


def test_internal_error_and_interrupt_remove_the_temporary_state(
    demo: tuple[Path, str, list[str]],
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
    isolated: Path,
) -> None:
    import qemu_lint.audit.driver
    import qemu_lint.engine

    repo, _, _ = demo
    before = snapshot(repo)
    real_run = qemu_lint.engine.run
    calls: list[str] = []

    for exc, status in ((RuntimeError("boom"), 3), (KeyboardInterrupt(), 2)):
        calls.clear()

        def failing(cfg: Config, exc: BaseException = exc, **kw: Any) -> Any:
            calls.append(cfg.git_objects)
            assert cfg.root == str(repo.resolve())  # the user's tree, read only
            assert Path(cfg.git_objects).is_dir()  # the objects exist while analysed
            if len(calls) == 3:
                raise exc
            return real_run(cfg, **kw)

        monkeypatch.setattr(qemu_lint.audit.driver, "run", failing)
        assert _audit(capsys, repo, "HEAD~5..HEAD")[0] == status
        assert not Path(calls[-1]).exists()
        assert os.listdir(isolated) == []
        assert snapshot(repo) == before


SIGNAL_CHILD = """
import os, signal, sys
# start as a user's shell starts us, whatever the test runner's worker left
# blocked or ignored (an inherited SIG_IGN would swallow the signal below)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
import qemu_lint.audit.driver
real = qemu_lint.audit.driver.run
n = []
def run(cfg, **kw):
    n.append(1)
    if len(n) == 2:
        print(cfg.git_objects, flush=True)
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    return real(cfg, **kw)
qemu_lint.audit.driver.run = run
from qemu_lint.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signals_remove_the_temporary_state(
    demo: tuple[Path, str, list[str]], sig: str, isolated: Path, tmp_path: Path
) -> None:
    repo, _, _ = demo
    before = snapshot(repo)
    # a cache of its own: with the session's, an earlier audit of the same
    # commits (in another test on this worker) leaves nothing to analyse
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        TMPDIR=str(isolated),
        QEMU_LINT_CACHE_DIR=str(tmp_path / "cache"),
    )
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGNAL_CHILD,
            sig,
            "audit",
            "--root",
            str(repo),
            "HEAD~5..HEAD",
            "--format",
            "json",
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "interrupted" in r.stderr
    objects = r.stdout.strip().splitlines()[0]
    assert objects.startswith(str(isolated))
    assert not Path(objects).exists()
    assert os.listdir(isolated) == []
    assert snapshot(repo) == before


def test_concurrent_audits_get_separate_states(demo: tuple[Path, str, list[str]]) -> None:
    from qemu_lint.audit.apply import IndexState

    repo, base, _ = demo
    top = str(repo.resolve())
    with IndexState(top, base) as a, IndexState(top, base) as b:
        assert a.folder != b.folder and Path(a.objects).is_dir() and Path(b.objects).is_dir()
    assert not Path(a.folder).exists() and not Path(b.folder).exists()


def _objects(repo: Path) -> dict[str, int]:
    """The files of the repository's object store, with their sizes."""
    top = repo / ".git" / "objects"
    return {str(p.relative_to(top)): p.stat().st_size for p in top.rglob("*") if p.is_file()}


def test_mbox_audit_writes_nothing_in_the_repository(
    demo: tuple[Path, str, list[str]], capsys: Capsys, isolated: Path
) -> None:
    """The patches of an mbox become new blobs, trees and commits: they go to
    the audit's own object directory, and every file of ``.git`` stays."""
    repo, base, _ = demo
    mbox = repo.parent / "series.mbx"
    mbox.write_bytes(_mbox(repo, base))
    git(repo, "checkout", "-q", "--detach", base)  # the patches' objects are new to HEAD's tree
    git(repo, "gc", "-q", "--prune=now")  # packed: a new loose object would show
    before, objects = snapshot(repo), _objects(repo)
    index = (repo / ".git" / "index").stat().st_mtime_ns
    status, doc, _ = _audit(capsys, repo, str(mbox))
    assert status == 1
    assert [p["verdict"] for p in doc["patches"]] == VERDICTS
    assert _objects(repo) == objects
    assert (repo / ".git" / "index").stat().st_mtime_ns == index
    assert snapshot(repo) == before  # refs, HEAD, worktrees, stash, index contents
    assert os.listdir(isolated) == []  # the temporary index and objects are gone


def _git_am(repo: Path, base: str, mbox: Path, tmp: Path) -> list[tuple[str | None, str | None]]:
    """What ``git am -3`` (as the audit ran it before it had no worktree)
    makes of each patch of ``mbox`` on ``base``, in a clone: (commit, reason)."""
    from qemu_lint.discover import git as qgit

    clone = tmp / "am-clone"
    git(repo.parent, "clone", "-q", "--no-checkout", str(repo), str(clone))
    git(clone, "checkout", "-q", "--detach", base)
    out: list[tuple[str | None, str | None]] = []
    for raw in (m for m in re.split(rb"(?m)^(?=From [0-9a-f]{40} )", mbox.read_bytes()) if m):
        if b"\ndiff --git " not in raw:
            continue  # the cover letter
        args = ("am", "-3", "--quiet", "--committer-date-is-author-date", "--no-message-id")
        r = qgit.git(str(clone), *args, stdin=raw, check=False)
        if r.returncode != 0:
            out.append((None, qgit.first_error(r.stderr + r.stdout)))
            break
        out.append((git(clone, "rev-parse", "HEAD").strip(), None))
    return out


@pytest.mark.parametrize(
    "case", ["applies", "hand-edited", "no-blobs", "conflict", "already-applied"]
)
def test_states_and_reasons_are_git_ams(
    demo: tuple[Path, str, list[str]], capsys: Capsys, tmp_path: Path, case: str
) -> None:
    """Each patch of an mbox becomes the commit ``git am -3`` would make (the
    same SHA), and a patch that does not apply gets the reason it gives."""
    repo, base, _ = demo
    text = _mbox(repo, base).decode()
    on = base
    edited = ("     trace_cpuhp_acpi_ejecting_cpu(", "     trace_cpuhp_acpi_ejecting_vcpu(")
    if case == "hand-edited":  # a context line no blob has
        text = text.replace(*edited)
    elif case == "no-blobs":  # a context line no blob has, no blob to fall back on
        text = text.replace(*edited)
        text = re.sub(r"(?m)^index [0-9a-f]+\.\.[0-9a-f]+", "index 1234567..89abcde", text)
    elif case == "already-applied":  # on the tip: git am makes no commit of a patch
        on = git(repo, "rev-parse", "HEAD").strip()
    elif case == "conflict":  # the base changed the lines patch 1 changes
        git(repo, "checkout", "-q", "--detach", base)
        first = next(ln for ln in text.splitlines() if re.match(r"-[^-]", ln) and ln[1:].strip())
        path = repo / CPU_C
        old = path.read_text()
        assert old.count(first[1:] + "\n") == 1
        path.write_text(old.replace(first[1:] + "\n", first[1:] + " /* side */\n"))
        git(repo, "commit", "-q", "-a", "-m", "side")
        on = git(repo, "rev-parse", "HEAD").strip()
    mbox = tmp_path / "series.mbx"
    mbox.write_text(text)
    want = _git_am(repo, on, mbox, tmp_path)
    status, doc, _ = _audit(capsys, repo, str(mbox), "--base", on)
    got = [(p["applied_as"], p["reason"]) for p in doc["patches"][: len(want)]]
    assert got == want
    if case == "applies":
        assert status == 1 and [p["verdict"] for p in doc["patches"]] == VERDICTS
    elif case == "already-applied":  # patch 1 (a comment) is in the tip as it is
        assert (doc["patches"][0]["applied_as"], doc["patches"][0]["verdict"]) == (on, "clean")
    else:
        assert status == 2 and doc["patches"][len(want) - 1]["verdict"] == "does-not-apply"
        said = {
            "hand-edited": "Did you hand edit your patch?",
            "no-blobs": "sha1 information is lacking or useless",
            "conflict": "Failed to merge in the changes.",
        }
        assert said[case] in (want[-1][1] or "")


def test_output_does_not_depend_on_the_work_tree(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    """The states are read from git: with the work tree at the base, and with
    an unrelated edit in it, the SARIF of the final state (code snippets and
    line hashes included) is the one of an audit from the tip."""
    repo, base, _ = demo
    _, at_tip, _ = _audit(capsys, repo, "HEAD~5..master", fmt="sarif")
    git(repo, "checkout", "-q", "--detach", base)
    (repo / CPU_C).write_text((repo / CPU_C).read_text() + "/* local edit */\n")
    before = snapshot(repo)
    status, at_base, _ = _audit(capsys, repo, "HEAD..master", fmt="sarif")
    assert status == 1 and at_base == at_tip
    assert snapshot(repo) == before


def test_qemu_tree_in_a_subfolder_of_the_repository(tmp_path: Path, capsys: Capsys) -> None:
    top = tmp_path / "top"
    top.mkdir()
    import shutil

    shutil.copytree(DEMO, top / "qemu")
    init_repo(top)
    for step in SERIES:
        commit_step(top, step, f"qemu/{CPU_C}")
    status, doc, _ = _audit(capsys, top / "qemu", "HEAD~5..HEAD")
    assert status == 1
    _check_demo(doc)
    assert doc["root"] == str((top / "qemu").resolve())


def test_no_progress_bar_when_stderr_is_not_a_tty(
    demo: tuple[Path, str, list[str]], capsys: Capsys
) -> None:
    repo, _, _ = demo
    _, _, err = _audit(capsys, repo, "HEAD~5..HEAD", fmt="text")
    assert err.count("\n") == 1 and "\r" not in err and "\x1b[" not in err


# --------------------------------------------------------------------------
# Pure parts
# --------------------------------------------------------------------------


def test_clean_subject() -> None:
    assert clean_subject("[PATCH v3 04/12] hw/acpi: x") == ("hw/acpi: x", (4, 12), False)
    assert clean_subject("Re: [PATCH 2/3] hw: y") == ("hw: y", (2, 3), True)
    assert clean_subject("[RFC PATCH] [net] z") == ("z", None, False)
    assert clean_subject("[PATCH 0/5] cover")[1] == (0, 5)


def test_parse_diff_lines_and_paths() -> None:
    text = (
        "msg\n---\n"
        "diff --git a/hw/a.c b/hw/b.c\n"
        "similarity index 90%\n"
        "rename from hw/a.c\n"
        "rename to hw/b.c\n"
        "--- a/hw/a.c\n"
        "+++ b/hw/b.c\n"
        "@@ -10,3 +10,4 @@ void f(void)\n"
        " a\n"
        "-b\n"
        "+c\n"
        "+d\n"
        " e\n"
        "\\ No newline at end of file\n"
        "-- \n2.39\n"
    )
    [fd] = parse_diff(text, "t")
    assert (fd.old_path, fd.new_path, fd.at) == ("hw/a.c", "hw/b.c", 3)
    [h] = fd.hunks
    assert (h.old_start, h.old_count, h.new_start, h.new_count, h.at) == (10, 3, 10, 4, 9)
    kinds = [(hl.kind, hl.old, hl.new, hl.at) for hl in h.lines]
    assert kinds == [
        (" ", 10, 10, 10),
        ("-", 11, None, 11),
        ("+", None, 11, 12),
        ("+", None, 12, 13),
        (" ", 12, 13, 14),
        ("\\", None, None, 15),
    ]


def test_parse_diff_quoted_and_spaced_paths() -> None:
    [fd] = parse_diff('diff --git "a/hw/t\\303\\251st.c" "b/hw/t\\303\\251st.c"\n', "t")
    assert fd.new_path == "hw/tést.c"
    [fd] = parse_diff("diff --git a/hw/a b.c b/hw/a b.c\n", "t")
    assert fd.old_path == fd.new_path == "hw/a b.c"


def test_parse_message_line_offset_counts_headers() -> None:
    raw = (
        b"From 0123 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH 1/2] x\n\n"
        b"body\n---\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n"
    )
    m = parse_message(raw, "t")
    assert m.numbered == (1, 2) and m.subject == "x"
    plus = m.files[0].hunks[0].lines[1]
    assert raw.decode().splitlines()[plus.at + m.line_offset - 1] == "+b"


def test_locate_falls_back_to_a_step_of_the_path() -> None:
    """A patch that only changes a caller on the evidence path points there."""
    from qemu_lint.audit.patch import place
    from qemu_lint.audit.verdicts import locate
    from qemu_lint.findings import Finding
    from qemu_lint.rule import PathStep

    raw = (
        b"From: A <a@b>\nSubject: [PATCH] hw/acpi/ich9: drop the check\n\n---\n"
        b"diff --git a/hw/acpi/ich9.c b/hw/acpi/ich9.c\n--- a/hw/acpi/ich9.c\n"
        b"+++ b/hw/acpi/ich9.c\n@@ -10,4 +10,3 @@ void ich9_unplug(void)\n"
        b" {\n-    if (!keep(dev))\n     acpi_cpu_unplug_cb(st, dev);\n }\n"
    )
    patch = place(parse_message(raw, "t"), 1, 1, "t")

    def finding(steps: tuple[PathStep, ...]) -> Finding:
        return Finding(
            rule="r",
            severity="error",
            kind="release",
            file="hw/acpi/cpu.c",
            line=50,
            column=5,
            end_line=50,
            end_column=20,
            function="f",
            message="m",
            path=steps,
            fingerprint="x",
        )

    on_path = finding((PathStep("hw/acpi/ich9.c", 11, "ich9_unplug", "calls"),))
    loc = locate(patch, on_path, "new")
    assert loc is not None and loc.file == "hw/acpi/ich9.c" and not loc.is_exact
    assert loc.line.text == "    if (!keep(dev))" and loc.line.kind == "-"
    assert locate(patch, finding(()), "new") is None


def test_revert_of_a_fix_reintroduces_a_base_finding(tmp_path: Path, capsys: Capsys) -> None:
    """2/3 fixes the base's finding, 3/3 reverts 2/3: "re-introduces a finding
    present in the base", a warning, and the series does not fail (exit 0).
    The fix guards the eject path's unparent with its release (the demo
    series' 2/5 guards only the release, which leaves a kept vCPU unparented)."""
    fix = Step(
        "hw/acpi/cpu: keep persistent vCPUs on eject",
        "Neither release nor destroy a vCPU the hook keeps.\n",
        (
            (
                "    object_unparent(OBJECT(dev));\n"
                "    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */\n",
                "    if (!should_remain_acpi_present(dev)) {\n"
                "        object_unparent(OBJECT(dev));\n"
                "        cdev->cpu = NULL;\n"
                "    }\n",
            ),
        ),
        "fixes",
    )
    revert = dataclasses.replace(
        fix, subject=f'Revert "{fix.subject}"', edits=tuple((b, a) for a, b in fix.edits)
    )
    repo, _, _ = demo_repo(tmp_path / "repo", (SERIES[0], fix, revert))
    status, doc, _ = _audit(capsys, repo, "HEAD~3..HEAD")
    assert status == 0
    assert [p["verdict"] for p in doc["patches"]] == ["clean", "fixes", "reintroduces"]
    [c] = doc["patches"][2]["introduced"]
    assert c["in_base"] is True and c["function"] == "acpi_cpu_eject"
    status, out, _ = _audit(capsys, repo, "HEAD~3..HEAD", fmt="text")
    assert status == 0
    assert "3/3" in out and ": re-introduces a finding present in the base" in out
    assert re.search(r"warning: re-introduces a finding present in the base: sets ", out)
    status, out, _ = _audit(capsys, repo, "HEAD~3..HEAD", fmt="checkpatch")
    assert "WARNING: re-introduces a finding present in the base: sets " in out
