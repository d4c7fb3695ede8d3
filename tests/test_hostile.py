"""Hostile and unlucky input (issue 14): one test per case, and per promise of
docs/reliability.md and docs/usage.md ("Bad input", "Cache and speed", the
audit's "never touched").

Every test runs qemu-lint as a user would (a subprocess, ``python -m
qemu_lint``) unless it must reach inside (a rule that crashes, git failing
half-way), and asserts three things: the exit status, the one line qemu-lint
says about it, and that what the user owns is unchanged — the tree's files,
and for audits the repository's index, refs, stash and worktrees, and for
device targets the node itself (hashed before and after by :func:`snapshot`).

Cases that need root (device nodes made with ``mknod``) are skipped with the
reason elsewhere.  Each test was checked to fail on the code before the fix
(branch ``phase2``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audit_series import DEMO, demo_repo
from tests.conftest import once_per_run, run_dir

CPU_C = "hw/acpi/cpu.c"
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (mknod of a device node)")

#: the demo tree's one finding
FINDING = "hw/acpi/cpu.c:53:5: error: sets AcpiCpuStatus::cpu to NULL"


# -- helpers ----------------------------------------------------------------------


def run(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    **kw: Any,
) -> subprocess.CompletedProcess[str]:
    """``python -m qemu_lint ARGS`` with the test session's environment."""
    full = dict(os.environ)
    full.pop("COLUMNS", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "qemu_lint", *map(str, args)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def snapshot(*paths: Path) -> str:
    """A digest of everything under ``paths``: each entry's name, type, mode,
    device number, link target and bytes (a FIFO or device is never opened).
    In a git repository, ``.git`` is left to git's own view of what the user
    owns — the index file, HEAD, config, refs and packed refs, the stash and
    the worktree list — since an audit may add objects (docs/audit.md)."""
    h = hashlib.sha256()
    for top in paths:
        todo = [top]
        while todo:
            p = todo.pop()
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                h.update(os.fsencode(p) + b":missing\n")
                continue
            kind = f":{stat.S_IFMT(st.st_mode)}:{stat.S_IMODE(st.st_mode)}:{st.st_rdev}\n"
            h.update(os.fsencode(p) + kind.encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.fsencode(os.readlink(p)))
            elif stat.S_ISREG(st.st_mode):
                h.update(p.read_bytes())
            elif stat.S_ISDIR(st.st_mode) and p.name != ".git":
                todo.extend(sorted(p.iterdir(), reverse=True))
        git = top / ".git"
        if git.is_dir():
            for name in ("index", "HEAD", "config", "packed-refs", "logs/refs/stash"):
                f = git / name
                h.update(name.encode() + (f.read_bytes() if f.exists() else b"-"))
            for f in sorted((git / "refs").rglob("*")):
                h.update(os.fsencode(f) + (f.read_bytes() if f.is_file() else b"/"))
            for cmd in (["stash", "list"], ["worktree", "list", "--porcelain"]):
                r = subprocess.run(["git", "-C", str(top), *cmd], capture_output=True)
                h.update(r.stdout)
    return h.hexdigest()


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """A copy of the demo tree (one finding, in hw/acpi/cpu.c)."""
    dest = tmp_path / "tree"
    subprocess.run(["cp", "-r", str(DEMO), str(dest)], check=True)
    return dest


def demo_files() -> int:
    """How many source files discovery counts in the demo tree as it is."""
    return sum(1 for p in DEMO.rglob("*") if p.suffix in (".c", ".h") or p.name.endswith(".inc"))


def append(path: Path, text: bytes | str) -> None:
    data = text.encode() if isinstance(text, str) else text
    with open(path, "ab") as fh:
        fh.write(data)


def deep_function(kind: str, n: int) -> str:
    """A function nested ``n`` levels deep in one way (issue 14, cases C and D)."""
    if kind == "and":
        body = "    if (" + " && ".join(f"a{i}" for i in range(n)) + ") { return; }\n"
    elif kind == "not":
        body = "    x = " + "!" * n + "y;\n"
    elif kind == "brace":
        body = "{" * n + "x = 1;" + "}" * n + "\n"
    elif kind == "if":
        body = "if (x) " * n + "x = 1;\n"
    elif kind == "elseif":
        body = "if (x) x = 0;" + "".join(f" else if (x == {i}) x = {i};" for i in range(n)) + "\n"
    else:
        body = "    x = " + " + ".join("y" for _ in range(n)) + ";\n"
    return f"\nstatic void deep_{kind}(int x, int y)\n{{\n{body}}}\n"


def first_error(stderr: str) -> str:
    """The ``qemu-lint: error:`` line (there must be exactly one)."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("qemu-lint: ")]
    assert len(lines) == 1, stderr
    return lines[0]


# -- A: outputs never replace a device -----------------------------------------------


@needs_root
@pytest.mark.parametrize("option", ["-o", "--write-baseline"])
def test_a_output_to_a_device_writes_into_it(tree: Path, tmp_path: Path, option: str) -> None:
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = snapshot(tree, null)
    r = run("check", tree, option, null, "--no-cache")
    assert r.returncode == (0 if option == "--write-baseline" else 1), r.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert snapshot(tree, null) == before


@needs_root
def test_a_output_to_a_full_device_is_an_error(tree: Path, tmp_path: Path) -> None:
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    before = snapshot(tree, full)
    r = run("check", tree, "-o", full, "--no-cache")
    assert r.returncode == 2
    assert (
        first_error(r.stderr) == f"qemu-lint: error: {full}: cannot write: No space left on device"
    )
    assert snapshot(tree, full) == before


def test_a_output_to_a_fifo_is_streamed(tree: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        r = run("check", tree, "-o", fifo, "--no-cache", "--format", "json")
        out = reader.communicate(timeout=30)[0]
    finally:
        reader.kill()  # a FIFO replaced by a file never gets a writer
        reader.wait()
    assert r.returncode == 1, r.stderr
    assert json.loads(out)["findings"][0]["file"] == CPU_C
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_empty_output_name(tree: Path) -> None:
    before = snapshot(tree)
    r = run("check", tree, "-o", "", "--no-cache")
    assert r.returncode == 2
    assert first_error(r.stderr) == "qemu-lint: error: -o '': cannot write: the file name is empty"
    assert snapshot(tree) == before


# -- B: symlinks never followed out of the root -----------------------------------------


def test_b_folder_symlink_out_of_the_tree(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    for i in range(50):
        (outside / f"f{i}.c").write_text("AcpiCpuStatus *s; void f(void) { s->cpu = NULL; }\n")
    (tree / "hw" / "usr").symlink_to(outside)
    before = snapshot(tree, outside)
    r = run("check", tree, "--no-cache", "--format", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1, r.stderr
    assert doc["stats"]["tree_files"] == demo_files()
    assert {"file": "hw/usr", "message": "skipped: symlink to a folder outside the tree"} in [
        {k: p[k] for k in ("file", "message")} for p in doc["problems"]
    ]
    assert [f["file"] for f in doc["findings"]] == [CPU_C]
    assert snapshot(tree, outside) == before


def test_b_file_symlink_out_of_the_tree(tree: Path) -> None:
    (tree / "hw" / "x.c").symlink_to("/etc/passwd")
    before = snapshot(tree)
    r = run("check", tree, "--no-cache")
    assert r.returncode == 1, r.stderr
    assert "hw/x.c: warning: skipped: symlink to a file outside the tree" in r.stdout
    assert snapshot(tree) == before


def test_b_symlink_inside_the_tree_is_followed(tree: Path) -> None:
    (tree / "hw" / "alias.c").symlink_to("acpi/ich9.c")
    r = run("check", tree, "--no-cache", "--format", "json")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["stats"]["tree_files"] == demo_files() + 1


# -- C, D: deep nesting: one function left out, the file's findings kept -------------------


@pytest.mark.parametrize(
    ("kind", "n"),
    [("and", 400), ("not", 500), ("brace", 480), ("if", 480), ("elseif", 400), ("plus", 480)],
)
@pytest.mark.parametrize("cache", [False, True])
def test_cd_deep_function_is_left_out_not_the_file(
    tree: Path, tmp_path: Path, kind: str, n: int, cache: bool
) -> None:
    append(tree / CPU_C, deep_function(kind, n))
    before = snapshot(tree)
    flags = ["--cache-dir", str(tmp_path / "c")] if cache else ["--no-cache"]
    for _ in range(2 if cache else 1):  # cold, then warm
        r = run("check", tree, *flags)
        assert r.returncode == 2, r.stderr
        assert FINDING in r.stdout
        line = first_error(r.stderr)
        assert line.startswith(
            f"qemu-lint: error: cannot say the tree is clean: {CPU_C}: function deep_{kind} "
        ), line
        assert "left out: nested" in line
    assert snapshot(tree) == before


def test_c_rule_crash_exits_3_and_sarif_says_so(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qemu_lint.cli import main
    from qemu_lint.rules import persistence_hook_required as rule

    def boom(model: object, opts: object) -> Iterator[object]:
        raise RecursionError("maximum recursion depth exceeded")
        yield

    saved = rule.RULE.check
    object.__setattr__(rule.RULE, "check", boom)  # Rule is frozen; restored below
    before = snapshot(tree)
    try:
        status = main(["check", str(tree), "--no-cache", "--format", "sarif"])
    finally:
        object.__setattr__(rule.RULE, "check", saved)
    assert status == 3
    out, err = capsys.readouterr()
    inv = json.loads(out)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert first_error(err) == (
        "qemu-lint: error: cannot say the tree is clean: rule persistence-hook-required "
        "crashed: RecursionError('maximum recursion depth exceeded')"
    )
    assert snapshot(tree) == before


# -- G: a Latin-1 byte, an unreadable or binary file that holds a site ---------------------


def test_g_latin1_byte_in_a_comment_is_analysed(tree: Path) -> None:
    append(tree / CPU_C, b"/* caf\xe9 */\n")
    r = run("check", tree, "--no-cache")
    assert r.returncode == 1, r.stderr
    assert FINDING in r.stdout and "skipped" not in r.stdout


def test_g_binary_file_holding_the_site_is_not_clean(tree: Path) -> None:
    append(tree / CPU_C, b"\0")
    before = snapshot(tree)
    r = run("check", tree, "--no-cache", "--format", "sarif")
    assert r.returncode == 2
    assert first_error(r.stderr) == (
        "qemu-lint: error: cannot say the tree is clean: "
        "hw/acpi/cpu.c: skipped: binary file (NUL bytes)"
    )
    assert json.loads(r.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert snapshot(tree) == before


UNREADABLE = (
    "qemu-lint: error: cannot say the tree is clean: hw/acpi/cpu.c: skipped: "
    "unreadable: Permission denied"
)


def test_g_unreadable_file_is_not_clean(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not IS_ROOT:  # a real mode-000 file, as a user has it
        (tree / CPU_C).chmod(0)
        try:
            r = run("check", tree, "--no-cache")
        finally:
            (tree / CPU_C).chmod(0o644)
        assert r.returncode == 2 and first_error(r.stderr) == UNREADABLE, r.stderr
        return
    # As root chmod 000 does not stop a read: make open() fail for that file.
    import builtins

    real_open = builtins.open

    def fake_open(file: Any, *a: Any, **kw: Any) -> Any:
        if str(file).endswith(CPU_C):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", fake_open)
    from qemu_lint.cli import main

    assert main(["check", str(tree), "--no-cache"]) == 2
    assert first_error(capsys.readouterr().err) == UNREADABLE


# -- E: a cache entry cannot run code ------------------------------------------------------


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_e_crafted_cache_entry_runs_nothing(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run("check", tree, "--cache-dir", cache).returncode == 1
    marker = tmp_path / "pwned"
    entries = list(cache.glob("trees-v1/*")) + list(cache.glob("facts-v1/*/*/*"))
    assert entries
    for e in entries:
        e.write_bytes(pickle.dumps(_Evil(str(marker))))
    before = snapshot(tree)
    r = run("check", tree, "--cache-dir", cache)
    assert r.returncode == 1, r.stderr
    assert FINDING in r.stdout
    assert not marker.exists()
    assert snapshot(tree) == before


# -- F: many findings in one file: linear time ------------------------------------------------


_COUNT_CALLS = """
import cProfile, contextlib, io, pstats, sys
from qemu_lint.cli.main import main
prof = cProfile.Profile()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    prof.enable()
    rc = main(sys.argv[1:])
    prof.disable()
print(rc, pstats.Stats(prof).total_calls, out.getvalue().count('"rule":'))
"""


def _calls_for(tree: Path, n: int) -> tuple[int, int, int]:
    """(exit status, Python calls, findings) of one ``check --no-cache -j1``
    of a copy of ``tree`` with ``n`` more one-line releases in hw/acpi/cpu.c.
    Calls are counted by cProfile in one process: they do not depend on load."""
    copy = tree.parent / f"tree-{n}"
    subprocess.run(["cp", "-r", str(tree), str(copy)], check=True)
    append(
        copy / CPU_C,
        "".join(f"void rel{i}(AcpiCpuStatus *cdev) {{ cdev->cpu = NULL; }}\n" for i in range(n)),
    )
    r = subprocess.run(
        [sys.executable, "-c", _COUNT_CALLS, "check", "--no-cache", "-q", "-j1"]
        + ["--format", "json", str(copy)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    rc, calls, found = map(int, r.stdout.split()[-3:])
    return rc, calls, found


def test_f_many_findings_in_one_file_is_linear(tree: Path) -> None:
    """2,000 findings in one file once took 27 s (quadratic).  The work a run
    does is counted in Python calls, not timed: four times the findings must
    cost well under sixteen times the calls above a run with none added."""
    rc0, base, found0 = _calls_for(tree, 0)
    rc1, small, found1 = _calls_for(tree, 500)
    rc2, large, found2 = _calls_for(tree, 2000)
    assert (rc0, rc1, rc2) == (1, 1, 1)
    assert (found0, found1, found2) == (1, 501, 2001)
    growth = (large - base) / (small - base)
    assert growth < 6, f"{growth:.1f}x the calls for 4x the findings ({small} -> {large})"


# -- H, I, R: audits: signals, gc, cleanup -------------------------------------------------------


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    _audit_env(tmp_path, monkeypatch)
    path, base, _ = demo_repo(tmp_path / "repo")
    return path, base


def _audit_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audits' temporary folder in ``tmp_path/tmp``; no user or system git configuration."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)


def _worktrees(repo: Path) -> list[str]:
    r = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list", "--porcelain"], capture_output=True, text=True
    )
    return [ln for ln in r.stdout.splitlines() if ln.startswith("worktree ")]


def _bulk(repo: Path, n: int = 20000) -> None:
    """Make checkouts of the repository slow (QEMU-sized): many files."""
    bulk = repo / "docs" / "bulk"
    bulk.mkdir(parents=True)
    for i in range(n):
        (bulk / f"f{i}.txt").write_text(f"{i}\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, capture_output=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b",
            "commit",
            "-qm",
            "bulk",
        ],
        check=True,
    )


#: git's configuration ``gc.auto=0``, by the environment (git 2.31 and later)
_NO_AUTO_GC = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "gc.auto", "GIT_CONFIG_VALUE_0": "0"}


def _bulk_copy(dest: Path) -> tuple[Path, str]:
    """At ``dest``, a copy of one repository made once per test run
    (``conftest.once_per_run``): the demo series with :func:`_bulk`'s 20,000
    files committed on top, as loose objects (no automatic gc).  Making it
    costs about 11 s of CPU (``git add`` of 20,000 files), copying it
    about 3.  The working tree and the rest of ``.git`` are copied
    (``cp -a``); ``.git/objects`` is hard-linked, as git never writes an
    object file in place (a new object is a new file).  The index is then
    refreshed (``git update-index --refresh``: the copies have
    new inodes and change times), as a freshly committed repository's is."""

    def make() -> tuple[str, str]:
        template = run_dir() / "hostile-bulk-repo"
        path, base, _ = demo_repo(template)
        # no `git gc --auto` after the commit of 20,000 loose objects: it
        # goes on in the background, and would pack them (removing the
        # loose ones) while the copies are made.  Given to git by the
        # environment, so the copies' configuration is the same as before.
        saved = {k: os.environ.get(k) for k in _NO_AUTO_GC}
        os.environ.update(_NO_AUTO_GC)
        try:
            _bulk(path)
        finally:
            for k, v in saved.items():
                if v is None:
                    del os.environ[k]
                else:
                    os.environ[k] = v
        return str(path), base

    made, base = once_per_run("hostile-bulk-repo", make)
    template = Path(made)
    dest.mkdir()
    (dest / ".git").mkdir()
    for top, into in ((template, dest), (template / ".git", dest / ".git")):
        names = [str(p) for p in top.iterdir() if p.name not in (".git", "objects")]
        subprocess.run(["cp", "-a", "--", *names, str(into)], check=True)
    objects = template / ".git" / "objects"
    subprocess.run(["cp", "-al", "--", str(objects), str(dest / ".git")], check=True)
    git = ["git", "-C", str(dest), "update-index", "-q", "--refresh"]
    subprocess.run(git, check=True, capture_output=True)
    return dest, base


def _wait_for(pred: Any, timeout: float = 60) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.005)
    return False


def _states(tmp: Path) -> list[Path]:
    """The audits' temporary index and object folders in ``tmp``."""
    return sorted(tmp.glob("qemu-lint-audit-*"))


@pytest.fixture()
def bulk_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """:func:`repo`'s environment, with :func:`_bulk_copy`'s repository."""
    _audit_env(tmp_path, monkeypatch)
    return _bulk_copy(tmp_path / "repo")


@pytest.mark.large_tree
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["state", "early"])
def test_h_signal_during_an_audit_leaves_nothing(
    bulk_repo: tuple[Path, str], sig: int, phase: str
) -> None:
    path, base = bulk_repo
    tmp = Path(os.environ["TMPDIR"])
    before = snapshot(path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qemu_lint",
            "audit",
            "HEAD~5..HEAD~3",
            "--root",
            str(path),
            "--no-cache",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    if phase == "state":  # the temporary index is made: the analysis of a state runs
        assert _wait_for(lambda: any((d / "index").exists() for d in _states(tmp)))
    else:
        time.sleep(0.3)
    os.killpg(proc.pid, sig)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    # 0/1: it ended first; 2: "interrupted"; killed by the signal before
    # qemu-lint set its handlers (nothing was created yet)
    assert proc.returncode in (0, 1, 2, -sig), err
    if proc.returncode == 2:
        assert err.strip().splitlines()[-1] == "qemu-lint: interrupted", err
    assert "Traceback" not in err
    assert len(_worktrees(path)) == 1
    assert _states(tmp) == [] or proc.returncode == -sig
    assert snapshot(path) == before
    again = run("audit", "HEAD~5..HEAD~4", "--root", path, "--no-cache", "--format", "json")
    assert again.returncode in (0, 1), again.stderr
    assert snapshot(path) == before


@pytest.mark.large_tree
def test_i_audit_never_runs_gc_in_the_users_repository(repo: tuple[Path, str]) -> None:
    path, base = repo
    _bulk(path, 3000)  # loose objects enough for gc.auto=1 (git counts those in objects/17/)
    subprocess.run(["git", "-C", str(path), "config", "gc.auto", "1"], check=True)
    subprocess.run(["git", "-C", str(path), "config", "gc.autoPackLimit", "1"], check=True)
    mbox = subprocess.run(
        ["git", "-C", str(path), "format-patch", "--stdout", "HEAD~6..HEAD~4"],
        capture_output=True,
        check=True,
    ).stdout
    (path.parent / "s.mbox").write_bytes(mbox)
    before = snapshot(path)
    refs_before = sorted(p.name for p in (path / ".git" / "refs" / "heads").iterdir())
    r = run("audit", path.parent / "s.mbox", "--root", path, "--base", "HEAD~6", "--no-cache")
    assert r.returncode in (0, 1), r.stderr
    assert not (path / ".git" / "packed-refs").exists()
    assert sorted(p.name for p in (path / ".git" / "refs" / "heads").iterdir()) == refs_before
    assert snapshot(path) == before


def test_r_git_failing_half_way_leaves_nothing(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """git cannot run (MemoryError) while the second state is made: the audit
    fails as an internal error, and its temporary index and objects are gone."""
    path, _ = repo
    from qemu_lint.audit import apply
    from qemu_lint.cli import main

    real = apply.git
    calls: list[str] = []

    def flaky(cwd: str | None, *args: str, **kw: Any) -> Any:
        if args[:1] == ("read-tree",):
            calls.append(args[0])
            if len(calls) == 2:
                raise MemoryError
        return real(cwd, *args, **kw)

    monkeypatch.setattr(apply, "git", flaky)
    before = snapshot(path)
    status = main(
        ["audit", "HEAD~5..HEAD~4", "--root", str(path), "--no-cache", "--format", "json"]
    )
    capsys.readouterr()
    assert len(calls) == 2 and status == 3
    assert _states(Path(os.environ["TMPDIR"])) == []
    assert len(_worktrees(path)) == 1
    assert snapshot(path) == before


def test_p_audit_of_a_process_substitution(repo: tuple[Path, str]) -> None:
    path, _ = repo
    mbox = path.parent / "s.mbox"
    mbox.write_bytes(
        subprocess.run(
            ["git", "-C", str(path), "format-patch", "--stdout", "HEAD~5..HEAD~4"],
            capture_output=True,
            check=True,
        ).stdout
    )
    before = snapshot(path)
    r = subprocess.run(
        [
            "bash",
            "-c",
            f'"$0" -m qemu_lint audit <(cat "{mbox}") --root "{path}" --base HEAD~5 '
            "--no-cache --format json",
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode in (0, 1), r.stderr
    assert len(json.loads(r.stdout)["patches"]) == 1
    assert snapshot(path) == before


def test_c_audit_of_an_untrusted_state_cannot_judge(repo: tuple[Path, str]) -> None:
    """A patch whose tree holds a function too deep to analyse gets "cannot
    judge", never "fixes", and ``audit -`` (b4) says why."""
    path, _ = repo
    cpu = path / CPU_C
    text = cpu.read_text()
    cpu.write_text(text.replace("cdev->cpu = NULL;", "/* gone */", 1) + deep_function("and", 400))
    diff = subprocess.run(["git", "-C", str(path), "diff"], capture_output=True, check=True).stdout
    subprocess.run(["git", "-C", str(path), "checkout", "--", CPU_C], check=True)
    patch = b"From: A <a@b.c>\nSubject: [PATCH] hw/acpi: hide the release\n\nbody\n---\n" + diff
    before = snapshot(path)
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "audit", "-", "--root", str(path), "--no-cache"],
        input=patch,
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    out, err = r.stdout.decode(), r.stderr.decode()
    assert out.startswith(
        "-:1: ERROR: cannot judge: after the patch, hw/acpi/cpu.c: function deep_and"
    )
    assert first_error(err).startswith(
        "qemu-lint: error: patch 1/1 (hw/acpi: hide the release): cannot judge:"
    )
    assert snapshot(path) == before


# -- J: workers die with their parent ---------------------------------------------------------


def _children(pid: int) -> set[int]:
    got: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as fh:
            got |= {int(x) for x in fh.read().split()}
    return got


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_j_sigkill_to_check_ends_its_workers(tree: Path) -> None:
    for i in range(400):  # > 64 files to parse in one round: the pool runs
        (tree / "hw" / "acpi" / f"gen{i}.c").write_text(
            "".join(
                f"void f{i}_{k}(AcpiCpuStatus *s) {{ int x = {k}; (void)x; }}\n" for k in range(300)
            )
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "qemu_lint", "check", str(tree), "--no-cache", "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kids: set[int] = set()
    assert _wait_for(lambda: bool(kids.update(_children(proc.pid)) or len(kids) >= 2), 60)
    proc.kill()
    proc.wait()
    try:
        assert _wait_for(lambda: not any(_alive(k) for k in kids), 10)
    finally:
        for k in kids:  # what the old code left running forever
            if _alive(k):
                os.kill(k, signal.SIGKILL)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and _state(pid) != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except OSError:
        return "Z"


# -- K, L: names and depth of the tree -------------------------------------------------------


def test_k_file_name_not_utf8(tree: Path) -> None:
    name = os.fsencode(tree / "hw" / "acpi") + b"/bad\xff.c"
    with open(name, "wb") as fh:
        fh.write(b"int x;\n")
    before = snapshot(tree)
    r = run("check", tree, "--no-cache")
    assert r.returncode == 2, r.stderr
    assert FINDING in r.stdout
    assert first_error(r.stderr) == (
        "qemu-lint: error: cannot say the tree is clean: "
        "hw/acpi/bad\\xff.c: skipped: file name is not UTF-8"
    )
    assert snapshot(tree) == before


def test_l_deeply_nested_folders(tree: Path) -> None:
    deep = tree / "hw"
    for _ in range(1100):  # os.makedirs recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "x.c").write_text("int x;\n")
    try:
        r = run("check", tree, "--no-cache", "--format", "json")
        assert r.returncode == 1, r.stderr
        assert json.loads(r.stdout)["stats"]["tree_files"] == demo_files() + 1
    finally:  # pytest's own clean-up (shutil.rmtree) recurses
        subprocess.run(["rm", "-rf", str(tree / "hw" / "d")], check=True)


# -- M, N: bad configuration and baselines ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (".qemu-lint.toml", b'exclude = ["caf\xe9"]\n', "not UTF-8 (invalid byte at offset 15)"),
        (
            "pyproject.toml",
            b'[tool.qemu-lint]\nexclude = ["\xe9"]\n',
            "not UTF-8 (invalid byte at offset 29)",
        ),
        (
            ".qemu-lint.toml",
            b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "invalid TOML: arrays or tables nested too deep",
        ),
        (
            ".qemu-lint.toml",
            b'exclude = ["!"]\n',
            "'exclude': '!' is not a gitignore pattern: Invalid git pattern: '!'",
        ),
    ],
)
def test_m_bad_configuration_names_the_file(
    tree: Path, name: str, data: bytes, message: str
) -> None:
    (tree / name).write_bytes(data)
    before = snapshot(tree)
    r = run("check", tree, "--no-cache")
    assert r.returncode == 2, r.stderr
    assert first_error(r.stderr).startswith(f"qemu-lint: error: {tree / name}: {message}")
    assert snapshot(tree) == before


def test_m_pyproject_whose_tool_is_not_a_table(tree: Path) -> None:
    (tree / "pyproject.toml").write_text("tool = 5\n")
    assert run("check", tree, "--no-cache").returncode == 1  # not ours: ignored
    r = run("check", tree, "--no-cache", "--config", tree / "pyproject.toml")
    assert r.returncode == 2
    assert (
        first_error(r.stderr)
        == f"qemu-lint: error: {tree / 'pyproject.toml'}: 'tool' must be a table"
    )


def test_n_deep_json_baseline(tree: Path, tmp_path: Path) -> None:
    bl = tmp_path / "bl.json"
    bl.write_text("[" * 100000 + "]" * 100000)
    r = run("check", tree, "--no-cache", "--baseline", bl)
    assert r.returncode == 2
    assert first_error(r.stderr).startswith(f"qemu-lint: error: {bl}: not a baseline: invalid JSON")


# -- O, Q, early SIGINT: the process's own streams ----------------------------------------------


def test_o_stdout_closed(tree: Path) -> None:
    r = subprocess.run(
        ["bash", "-c", f'"$0" -m qemu_lint check "{tree}" --no-cache >&-', sys.executable],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert first_error(r.stderr) == "qemu-lint: error: standard output is closed"


_ENDING = """
import atexit, sys, threading, time
from qemu_lint.cli import console_main

class Late:
    def __del__(self):
        print("torn down", file=sys.stderr)

LATE = Late()
atexit.register(lambda: print("atexit ran", file=sys.stderr))
if sys.argv[1] == "thread":
    def late_thread():
        time.sleep(0.3)
        print("thread done", file=sys.stderr)
    threading.Thread(target=late_thread).start()
console_main(sys.argv[2:])
"""


def _ending(how: str, tree: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _ENDING, how, "check", str(tree), "--no-cache"],
        text=True,
        timeout=120,
        **kw,
    )


def test_o_console_script_ends_without_teardown(tree: Path) -> None:
    r = _ending("plain", tree, capture_output=True)
    inproc = run("check", tree, "--no-cache")
    assert r.returncode == inproc.returncode == 1
    assert r.stdout == inproc.stdout and "[acpi-cpu-persistence]" in r.stdout  # all flushed
    assert "atexit ran" in r.stderr  # multiprocessing's and a caller's atexit functions run
    assert "torn down" not in r.stderr  # no teardown: objects are not freed one by one


def test_o_console_script_waits_for_a_running_thread(tree: Path) -> None:
    r = _ending("thread", tree, capture_output=True)
    assert r.returncode == 1
    assert "thread done" in r.stderr and "atexit ran" in r.stderr


def test_o_console_script_under_a_profiler_ends_as_usual(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "check.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "qemu_lint", "check"]
    r = subprocess.run([*cmd, str(tree), "--no-cache"], capture_output=True, text=True, timeout=120)
    assert "[acpi-cpu-persistence]" in r.stdout, r.stderr
    assert out.stat().st_size > 0  # cProfile wrote its results after the program returned


def test_o_report_lost_on_a_closed_pipe_is_an_error(tree: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "qemu_lint", "check", str(tree), "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # nobody reads the report
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "Traceback" not in err


def test_q_log_lines_do_not_depend_on_columns(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    seen = set()
    for cols in ("0", "5", "80", "100000"):
        r = run("check", tree, "--cache-dir", blocker / "cache", env={"COLUMNS": cols})
        assert r.returncode == 1
        lines = [ln.rstrip() for ln in r.stderr.splitlines() if "cache:" in ln or "going on" in ln]
        assert lines and all(len(ln) < 300 for ln in lines), (cols, r.stderr)
        seen.add(" ".join(r.stderr.split()))
    assert len(seen) == 1


def test_sigint_while_starting_prints_no_traceback(tree: Path) -> None:
    for delay in (0.02, 0.05, 0.08, 0.12, 0.2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "qemu_lint", "check", str(tree), "--no-cache"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        # The interpreter's own start (site) and importlib's lock callbacks
        # ("Exception ignored") are out of qemu-lint's reach; a traceback
        # through qemu-lint's code is not.
        if "init_import_site" in err:
            continue
        assert not ("Traceback" in err and "/qemu_lint/" in err), (delay, err)


def _wrapped_interrupt() -> None:
    """What Python raises for a Ctrl-C inside ``__set_name__`` while a class
    is created (seen in CI: ipaddress's ``cached_property`` during an import)."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as k:
        raise RuntimeError("Error calling __set_name__ on 'cached_property'") from k


def test_wrapped_interrupt_while_importing_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import qemu_lint
    import qemu_lint.cli

    monkeypatch.setattr(qemu_lint.cli, "console_main", _wrapped_interrupt)
    assert qemu_lint.console_main() == 2
    assert capsys.readouterr().err == "qemu-lint: interrupted\n"
    monkeypatch.setattr(qemu_lint.cli, "console_main", lambda: int("x"))
    with pytest.raises(ValueError):
        qemu_lint.console_main()


def test_wrapped_interrupt_while_running_is_not_an_internal_error(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qemu_lint.cli import check, main

    monkeypatch.setattr(check, "run", lambda args: _wrapped_interrupt())
    assert main(["check", str(tree)]) == 2
    assert capsys.readouterr().err == "qemu-lint: interrupted\n"


# -- messages: FIFOs and devices in the tree, cache entries replaced ---------------------


def test_fifo_and_device_link_in_the_tree(tree: Path) -> None:
    os.mkfifo(tree / "hw" / "fifo.c")
    (tree / "hw" / "zero.c").symlink_to("/dev/zero")
    before = snapshot(tree)
    r = run("check", tree, "--no-cache", timeout=60)
    assert r.returncode == 1, r.stderr
    assert "hw/fifo.c: warning: skipped: not a regular file" in r.stdout
    assert "hw/zero.c: warning: skipped: symlink to a file outside the tree" in r.stdout
    assert snapshot(tree) == before


def test_cache_entry_replaced_by_a_folder_heals(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert run("check", tree, "--cache-dir", cache).returncode == 1
    for e in list(cache.glob("trees-v1/*")) + list(cache.glob("facts-v1/*/*/*"))[:5]:
        e.unlink()
        e.mkdir()
        (e / "x").write_text("x")
    for _ in range(2):
        r = run("check", tree, "--cache-dir", cache)
        assert r.returncode == 1 and FINDING in r.stdout
        assert "cache" not in r.stderr, r.stderr
    assert all(e.is_file() for e in cache.glob("trees-v1/*"))


# -- promises of the docs: bad roots, bad config, corrupt cache, concurrency, escapes ------


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("/nonexistent/x", "/nonexistent/x: no such file or directory"),
        (
            "/proc/self",
            "/proc/self: not a QEMU source tree: "
            "no include/hw/core/cpu.h in it or any parent folder",
        ),
    ],
)
def test_bad_root(arg: str, message: str) -> None:
    r = run("check", arg, "--no-cache")
    assert r.returncode == 2
    assert first_error(r.stderr) == f"qemu-lint: error: {message}"


def test_bad_config_key(tree: Path) -> None:
    (tree / ".qemu-lint.toml").write_text("no-such-key = 1\n")
    before = snapshot(tree)
    r = run("check", tree, "--no-cache")
    assert r.returncode == 2
    assert first_error(r.stderr).startswith(f"qemu-lint: error: {tree / '.qemu-lint.toml'}: ")
    assert snapshot(tree) == before


def test_corrupt_cache_is_rebuilt(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = run("check", tree, "--cache-dir", cache, "--format", "json")
    for i, e in enumerate(sorted(cache.glob("facts-v1/*/*/*")) + sorted(cache.glob("trees-v1/*"))):
        data = e.read_bytes()
        e.write_bytes(data[: len(data) // 2] if i % 2 else b"garbage" + data)
    before = snapshot(tree)
    r = run("check", tree, "--cache-dir", cache, "--format", "json")
    assert r.returncode == 1 and r.stderr == ""
    assert json.loads(r.stdout)["findings"] == json.loads(first.stdout)["findings"]
    assert snapshot(tree) == before


def test_concurrent_runs_share_a_cache(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = snapshot(tree)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qemu_lint",
                "check",
                str(tree),
                "--cache-dir",
                str(cache),
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [1] * 4, outs
    assert len({json.dumps(json.loads(o)["findings"]) for o, _ in outs}) == 1
    assert snapshot(tree) == before


@pytest.mark.parametrize("target", ["../escaped.c", "/tmp/qemu-lint-absolute-escape.c"])
def test_patch_escaping_the_tree(repo: tuple[Path, str], target: str) -> None:
    path, _ = repo
    diff = (
        f"diff --git a/{target.lstrip('/')} b/{target.lstrip('/')}\nnew file mode 100644\n"
        f"--- /dev/null\n+++ b/{target}\n@@ -0,0 +1 @@\n+int x;\n"
    )
    patch = f"From: A <a@b.c>\nSubject: [PATCH] escape\n\nbody\n---\n{diff}".encode()
    outside = [path.parent / "escaped.c", Path("/tmp/qemu-lint-absolute-escape.c")]
    before = snapshot(path, *outside)
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "audit", "-", "--root", str(path), "--no-cache"],
        input=patch,
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert first_error(r.stderr.decode()).startswith("qemu-lint: error: ")
    assert not any(p.exists() for p in outside)
    assert snapshot(path, *outside) == before
