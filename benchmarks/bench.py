"""Benchmark: qemu-lint cold, warm and after a one-line edit, against a bare tree-sitter parse.

Not a test.  Run from anywhere::

    python benchmarks/bench.py                # the QEMU 10.0.13 tree from qemu-src
    python benchmarks/bench.py --root DIR     # any QEMU source tree
    python benchmarks/bench.py --clang [-p BUILD_DIR]   # clang front-end against tree-sitter

For one QEMU tree, in one run, it measures (wall seconds, then ratios):

* FILES/BYTES: what our discovery selects (``qemu_lint.discover.files.discover``);
* RAW: single-process wall time to read and tree-sitter-parse exactly those
  files (``parser.parse`` only: no extraction, no model);
* READ: reading every byte of those files (the floor of a cold check);
* COCCI: ``../shared/scripts/peer-coccinelle`` on the same tree (the time it
  prints), or "spatch not installed";
* COLD: ``qemu-lint check --format json --no-cache`` in a subprocess;
* FILL: the first run with an empty cache (what a first pre-commit run costs);
* WARM: the next run, nothing changed;
* TOUCH: a run after one line of hw/acpi/cpu.c changed (a comment appended:
  the file's facts stay as they were, so the recorded results stand);
* EDIT: a run after a comment line was inserted near the top of
  hw/acpi/cpu.c (every later line moves: the file's facts change by their
  lines only, so the recorded rounds stand and one model is built; TOUCH's
  target);
* CODE: a run after a statement was inserted at the top of the first
  function body of hw/acpi/cpu.c (``(void)0;``: code, so the selection runs
  again, its other files' facts from the cache; TOUCH's target);
* PRE-COMMIT: in a git copy of the tree, one line of hw/acpi/cpu.c staged
  (TOUCH's comment), ``check --diff-base HEAD hw/acpi/cpu.c`` with the cache
  a previous pre-commit run left; PRE-COMMIT EDIT and PRE-COMMIT CODE the
  same with EDIT's line and CODE's statement;
* AUDIT: per patch of the five-patch series of ``tests/audit_series.py``
  (``qemu-lint audit BASE..TIP``, empty cache);
* CLANG COLD: ``check --no-cache --frontend clang`` (no build folder);
* each over RAW, COLD over COCCI and CLANG COLD over COLD, against the
  targets of docs/performance.md, and the peak RSS of each run (its VmHWM, or
  its largest worker's), and the load average before and after.

Ratios are what to compare: the machine may be loaded by other work, which
slows every row of one run alike.  ``--quick`` leaves out AUDIT and CLANG COLD.

With ``--clang`` it instead compares the front-ends on the tree: tree-sitter
COLD, clang COLD (its time over tree-sitter's, the files with parse errors
and clang's error diagnostics), clang WARM (cache filled), clang TOUCH (one
line of hw/acpi/cpu.c changed; not with ``-p``, whose tree is used in
place), and whether both report the same findings.

The check rows work on a git clone of a hard-linked copy of the tree in a
temporary folder: the clone's files are its own, so other processes
hard-linking the same cached tree (which changes every link's ctime, and so
every stat key) do not turn a warm run into a re-read of the tree.  The
cache is temporary, so neither the tree nor the user's cache is touched.
The measured processes write and reuse bytecode in a temporary folder
(``PYTHONPYCACHEPREFIX``, even under ``PYTHONDONTWRITEBYTECODE``), as an
installed qemu-lint does: compiling every module costs a warm run 0.25 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QEMU_SRC = REPO.parent / "shared" / "scripts" / "qemu-src"
QEMU_VERSION = "10.0.13"
#: row → largest ratio to RAW allowed (docs/performance.md)
TARGETS = {
    "COLD": 0.2,
    "WARM": 0.03,
    "TOUCH": 0.08,
    "EDIT": 0.08,
    "CODE": 0.08,
    "PRE-COMMIT": 0.1,
    "AUDIT": 0.1,
}
#: COLD over COCCI, CLANG COLD over COLD, peak RSS of a check (MiB)
COCCI_TARGET, CLANG_TARGET, RSS_TARGET = 1.0, 2.0, 300
PEER = REPO.parent / "shared" / "scripts" / "peer-coccinelle"
TOUCHED = "hw/acpi/cpu.c"

sys.path.insert(0, str(REPO))

from qemu_lint.discover.files import SCAN_DIRS, discover  # noqa: E402  # needs the sys.path entry above


def default_root() -> str:
    """The QEMU tree printed by ``../shared/scripts/qemu-src 10.0.13``."""
    r = subprocess.run([str(QEMU_SRC), QEMU_VERSION], capture_output=True, text=True, check=True)
    return r.stdout.strip().splitlines()[-1]


def raw_parse(paths: list[str]) -> float:
    """Seconds to read and parse ``paths`` in this process, one parser for all."""
    import tree_sitter
    import tree_sitter_c

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    t0 = time.perf_counter()
    for p in paths:
        with open(p, "rb") as fh:
            parser.parse(fh.read())
    return time.perf_counter() - t0


def read_all(paths: list[str]) -> float:
    """Seconds to read every byte of ``paths``."""
    t0 = time.perf_counter()
    for p in paths:
        with open(p, "rb") as fh:
            fh.read()
    return time.perf_counter() - t0


def cocci(root: str) -> tuple[float | None, str]:
    """The peer's time on ``root`` (as it prints it), or None and why not."""
    if shutil.which("spatch") is None or not PEER.is_file():
        return None, "spatch not installed"
    r = subprocess.run([str(PEER), root], capture_output=True, text=True)
    last = (r.stdout.strip().splitlines() or [""])[-1]
    if r.returncode != 0 or not last.startswith("coccinelle:"):
        return None, f"peer-coccinelle failed (exit {r.returncode})"
    return float(last.split(" in ")[1].split()[0]), last


def linked_copy(src: str, dest: str) -> str:
    """Hard-link the folders the analyzer scans, and the top-level files, into ``dest``."""
    os.makedirs(dest)
    for d in SCAN_DIRS:
        if os.path.isdir(os.path.join(src, d)):
            subprocess.run(["cp", "-al", os.path.join(src, d), dest], check=True)
    for name in os.listdir(src):
        p = os.path.join(src, name)
        if os.path.isfile(p) and name.endswith((".c", ".h")):
            os.link(p, os.path.join(dest, name))
    return dest


def _rewrite(root: str, change: Callable[[list[bytes]], None]) -> None:
    """Change the lines of hw/acpi/cpu.c in place (``change`` edits the
    list), replacing the file (never writing through a hard link)."""
    path = os.path.join(root, TOUCHED)
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    change(lines)
    tmp = path + ".bench-tmp"
    with open(tmp, "wb") as fh:
        fh.write(b"\n".join(lines))
    os.replace(tmp, path)


def touch_one_line(root: str) -> None:
    """Append a comment to the first line of hw/acpi/cpu.c."""

    def change(lines: list[bytes]) -> None:
        lines[0] += b" /* touched by bench.py */"

    _rewrite(root, change)


def edit_one_line(root: str) -> None:
    """Insert a comment line after the first line of hw/acpi/cpu.c (every
    later line moves down one)."""
    _rewrite(root, lambda lines: lines.insert(1, b"/* a line inserted by bench.py */"))


def edit_code(root: str) -> None:
    """Insert ``(void)0;`` at the top of the first function body of
    hw/acpi/cpu.c (after the first line that is ``{`` alone, following a
    line with a parenthesis)."""

    def change(lines: list[bytes]) -> None:
        at = next(i for i in range(1, len(lines)) if lines[i] == b"{" and b"(" in lines[i - 1])
        lines.insert(at + 1, b"    (void)0;")

    _rewrite(root, change)


def lint(
    args: list[str], cwd: str | None = None, env_extra: dict[str, str] | None = None
) -> tuple[float, int, int, dict[str, Any]]:
    """Wall seconds, exit status, peak RSS (KiB) and the JSON document of one
    ``qemu-lint ARGS`` run in a subprocess."""
    pythonpath = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in pythonpath if p))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = BYTECODE[0] if BYTECODE else env.get("PYTHONPYCACHEPREFIX", "")
    env.update(env_extra or {})
    cmd = [sys.executable, "-c", MEASURED, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if r.returncode not in (0, 1):
        sys.exit(f"bench: qemu-lint {' '.join(args)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    rss = int(r.stderr.rsplit("BENCH-RSS-KIB ", 1)[1].split()[0])
    return seconds, r.returncode, rss, json.loads(r.stdout)


def check(
    root: str, extra: list[str], report: dict[str, Any] | None = None
) -> tuple[float, int, int, dict[str, Any], list[str]]:
    """Wall seconds, exit status, peak RSS (KiB), ``stats`` and command of one
    check (and its whole JSON report into ``report``)."""
    args = ["check", root, "--format", "json", *extra]
    seconds, status, rss, doc = lint(args)
    if report is not None:
        report.update(doc)
    stats: dict[str, Any] = dict(doc.get("stats", {}), cpu_seconds=CPU[0])
    return seconds, status, rss, stats, ["qemu-lint", *args]


#: the measured processes' bytecode folder (set by main), and the CPU
#: seconds (user + system) of the last measured process
BYTECODE: list[str] = []
CPU = [0.0]

#: ``python -m qemu_lint`` that also reports its peak RSS on stderr: VmHWM of
#: its own memory (not the bench's, which a forked child inherits until exec
#: and which ``ru_maxrss`` would count) or of its largest worker process.
MEASURED = """
import atexit, resource, sys
from qemu_lint.cli import console_main

def rss():
    hwm = 0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\\nBENCH-RSS-KIB {max(hwm, kids)}\\n")

atexit.register(rss)  # console_main ends the process: its atexit functions run
console_main(sys.argv[1:])  # as the console script: collector off, no teardown
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help=f"QEMU source tree (default: qemu-src {QEMU_VERSION})")
    ap.add_argument("--jobs", "-j", type=int, default=0, help="passed to qemu-lint check")
    ap.add_argument(
        "--clang",
        action="store_true",
        help="compare the clang front-end with tree-sitter instead (cold and warm runs)",
    )
    ap.add_argument(
        "-p", "--build-dir", help="with --clang: the build folder holding compile_commands.json"
    )
    ap.add_argument("--quick", action="store_true", help="leave out AUDIT and CLANG COLD")
    args = ap.parse_args()
    src = os.path.abspath(args.root or default_root())
    work = tempfile.mkdtemp(prefix="qemu-lint-bench-")
    BYTECODE.append(os.path.join(work, "pycache"))
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    try:
        if args.clang:
            build = ["-p", os.path.abspath(args.build_dir)] if args.build_dir else []
            return _bench_clang(src, work, jobs, build)
        return _bench(src, work, jobs, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)


Run = tuple[float, int, int, dict[str, Any], list[str]]


def _git(repo: Path, *args: str) -> str:
    r = subprocess.run(
        ["git", "-C", str(repo), "-c", "gc.auto=0", *args],
        capture_output=True,
        text=True,
        check=True,
        env=dict(
            os.environ,
            GIT_AUTHOR_NAME="bench",
            GIT_AUTHOR_EMAIL="bench@example.org",
            GIT_COMMITTER_NAME="bench",
            GIT_COMMITTER_EMAIL="bench@example.org",
        ),
    )
    return r.stdout


def precommit(
    repo: Path, cache: str, jobs: list[str], change: Callable[[str], None]
) -> tuple[Run, Run]:
    """One staged line of hw/acpi/cpu.c (made by ``change``) in the git copy
    ``repo``, checked as the pre-commit hook does (``--diff-base HEAD`` and
    the file), after a previous pre-commit run filled the cache; then the
    same hook run again with nothing changed (the median of three: a hook
    re-run after a failed commit, and the start-up floor of a warm one-file
    run)."""
    root = str(repo)
    args = ["--cache-dir", cache, "--diff-base", "HEAD", *jobs]
    check(os.path.join(root, TOUCHED), args)  # the previous commit's hook run
    change(root)
    _git(repo, "add", TOUCHED)
    try:
        first = check(os.path.join(root, TOUCHED), args)
        again = sorted((check(os.path.join(root, TOUCHED), args) for _ in range(3)), key=_secs)
        return first, again[1]
    finally:
        _git(repo, "reset", "-q", "--", TOUCHED)
        _git(repo, "checkout", "-q", "--", TOUCHED)


def _secs(run: Run) -> float:
    return run[0]


def audit_per_patch(repo: Path, rng: str, work: str, jobs: list[str]) -> tuple[list[float], int]:
    """Seconds of each patch of an audit of ``rng`` (empty cache), and its peak RSS."""
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp, exist_ok=True)
    args = ["audit", "--root", str(repo), rng, "--format", "json"]
    args += ["--cache-dir", os.path.join(work, "audit-cache"), *jobs]
    _, _, rss, doc = lint(args, env_extra={"TMPDIR": tmp})
    return [float(x) for x in doc["stats"]["patch_seconds"]], rss


def _ratio_row(name: str, seconds: float, raw: float, note: str) -> tuple[str, str]:
    ratio = seconds / raw if raw else float("nan")
    target = TARGETS.get(name.split()[0])
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target:.2f}x: {'met' if ratio <= target else 'MISSED'}"
    return name, f"{seconds:.2f} s = {ratio:.3f}x RAW{verdict}  {note}".rstrip()


def warm_bytecode() -> None:
    """Run one check of the demo tree first, so that the measured runs find
    the bytecode of every module a check imports (qemu-lint's and its
    dependencies') in the bytecode folder, as an installed qemu-lint does:
    without it COLD, the first run, compiled them all (about 1 s)."""
    lint(["check", str(REPO / "samples" / "trees" / "demo"), "--no-cache", "--format", "json"])


def _bench(src: str, work: str, jobs: list[str], quick: bool) -> int:
    load0 = os.getloadavg()
    warm_bytecode()
    from tests.audit_series import qemu_repo

    linked = Path(work) / "linked"
    base, shas = qemu_repo(Path(src), linked)  # a git copy at the tip of the series
    repo = Path(work) / "git"  # its clone: files of its own, not links (see above)
    subprocess.run(["git", "clone", "-q", str(linked), str(repo)], check=True)
    shutil.rmtree(linked, ignore_errors=True)  # a detached "git gc --auto" may still run in it
    _git(repo, "checkout", "-q", base)  # pre-commit and the check rows: the released tree
    root = str(repo)
    cache = os.path.join(work, "cache")
    files, skipped = discover(root)
    nbytes = sum(f.size for f in files)
    paths = [f.abspath for f in files]
    raw, read = raw_parse(paths), read_all(paths)
    peer, peer_note = cocci(root)
    runs: list[tuple[str, Run]] = [
        ("COLD", check(root, ["--no-cache", *jobs])),
        ("FILL", check(root, ["--cache-dir", cache, *jobs])),
        ("WARM", check(root, ["--cache-dir", cache, *jobs])),
    ]
    for name, change in (("TOUCH", touch_one_line), ("EDIT", edit_one_line), ("CODE", edit_code)):
        change(root)
        runs.append((name, check(root, ["--cache-dir", cache, *jobs])))
        _git(repo, "checkout", "-q", "--", TOUCHED)
    first, again = precommit(repo, cache, jobs, touch_one_line)
    edited, _ = precommit(repo, cache, jobs, edit_one_line)
    coded, _ = precommit(repo, cache, jobs, edit_code)
    runs += [("PRE-COMMIT", first), ("PRE-COMMIT AGAIN", again), ("PRE-COMMIT EDIT", edited)]
    runs.append(("PRE-COMMIT CODE", coded))
    cold = runs[0][1][0]
    rows = [
        ("tree", f"{src} (a git copy: cp -al, git init, git clone)"),
        ("files (discovery)", f"{len(files)} ({len(skipped)} skipped)"),
        ("bytes (discovery)", f"{nbytes} ({nbytes / 2**20:.1f} MiB)"),
        ("RAW parse, 1 process", f"{raw:.2f} s"),
        ("READ every byte", f"{read:.2f} s = {read / raw:.3f}x RAW"),
        ("COCCI", f"{peer:.2f} s = {peer / raw:.3f}x RAW  ({peer_note})" if peer else peer_note),
    ]
    worst_rss = 0
    for name, (seconds, status, rss, stats, _) in runs:
        note = f"(exit {status}, {stats.get('parsed_files', '?')} files in the model, "
        note += f"CPU {stats['cpu_seconds']:.2f} s, "
        rows.append(_ratio_row(name, seconds, raw, note + f"peak RSS {rss / 1024:.0f} MiB)"))
        worst_rss = max(worst_rss, rss)
    if peer:
        met = "met" if cold / peer <= COCCI_TARGET else "MISSED"
        rows.append(
            ("COLD over COCCI", f"{cold / peer:.2f}x  target <= {COCCI_TARGET:.1f}x: {met}")
        )
    if not quick:
        rows += _slow_rows(repo, f"{base[:12]}..{shas[-1][:12]}", work, jobs, raw, cold)
    met = "met" if worst_rss <= RSS_TARGET * 1024 else "MISSED"
    rows += [
        ("peak RSS, worst check", f"{worst_rss / 1024:.0f} MiB  target <= {RSS_TARGET} MiB: {met}"),
        ("command", " ".join(runs[0][1][4])),
        ("touched", f"{TOUCHED}: one comment appended to line 1 (TOUCH, PRE-COMMIT)"),
        ("edited", f"{TOUCHED}: one line inserted after line 1 (EDIT, PRE-COMMIT EDIT)"),
        ("coded", f"{TOUCHED}: (void)0; atop its first function body (CODE, PRE-COMMIT CODE)"),
        (
            "CPUs, load average",
            f"{os.cpu_count()}, {_load(load0)} before, {_load(os.getloadavg())} after",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _load(avg: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in avg)


def _slow_rows(
    repo: Path, rng: str, work: str, jobs: list[str], raw: float, cold: float
) -> list[tuple[str, str]]:
    """AUDIT per patch and CLANG COLD."""
    per, audit_rss = audit_per_patch(repo, rng, work, jobs)
    rows = [
        _ratio_row(
            f"AUDIT per patch {i}/{len(per)}", s, raw, f"(peak RSS {audit_rss / 1024:.0f} MiB)"
        )
        for i, s in enumerate(per, 1)
    ]
    clang = check(str(repo), ["--no-cache", "--frontend", "clang", *jobs])
    ratio = clang[0] / cold
    rows.append(
        (
            "CLANG COLD",
            f"{clang[0]:.2f} s = {clang[0] / raw:.3f}x RAW = {ratio:.2f}x COLD  target <= "
            f"{CLANG_TARGET:.1f}x COLD: {'met' if ratio <= CLANG_TARGET else 'MISSED'}  "
            f"({clang[3].get('parsed_files')} files, peak RSS {clang[2] / 1024:.0f} MiB)",
        )
    )
    return rows


def _key(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (f["file"], f["line"], f["rule"], f["kind"], tuple(f["archs"]), f["fingerprint"])
        for f in report.get("findings", [])
    ]


def _bench_clang(src: str, work: str, jobs: list[str], build: list[str]) -> int:
    """tree-sitter against clang on the same tree: cold runs, then clang warm."""
    root = src if build else linked_copy(src, os.path.join(work, "tree"))
    warm_bytecode()
    demo = str(REPO / "samples" / "trees" / "demo")
    lint(["check", demo, "--no-cache", "--frontend", "clang", "--format", "json"])
    cache = os.path.join(work, "cache")
    ts_report: dict[str, Any] = {}
    cl_report: dict[str, Any] = {}
    ts = check(root, ["--no-cache", *jobs], ts_report)
    cl = check(root, ["--no-cache", "--frontend", "clang", *build, *jobs], cl_report)
    check(root, ["--cache-dir", cache, "--frontend", "clang", *build, *jobs])
    warm = check(root, ["--cache-dir", cache, "--frontend", "clang", *build, *jobs])
    touch = None
    if not build:  # the tree is our hard-linked copy: one file may change
        touch_one_line(root)
        touch = check(root, ["--cache-dir", cache, "--frontend", "clang", *jobs])
    st = cl[3]
    rows = [
        ("tree", src),
        ("compilation database", build[1] if build else "none (derived flags)"),
        ("tree-sitter COLD", f"{ts[0]:.2f} s  ({ts[3].get('parsed_files')} files parsed)"),
        (
            "clang COLD",
            f"{cl[0]:.2f} s = {cl[0] / ts[0]:.1f}x tree-sitter  "
            f"({st.get('parsed_files')} files parsed, peak RSS {cl[2] / 1024:.0f} MiB)",
        ),
        ("clang WARM", f"{warm[0]:.2f} s = {warm[0] / ts[0]:.2f}x tree-sitter COLD"),
        (
            "clang TOUCH",
            f"{touch[0]:.2f} s = {touch[0] / ts[0]:.2f}x tree-sitter COLD ({TOUCHED} changed)"
            if touch
            else "not measured (the tree of a build is not copied)",
        ),
        (
            "clang parse errors",
            f"{st.get('files_with_parse_errors')} of {st.get('parsed_files')} files, "
            f"{st.get('error_nodes')} error diagnostics, "
            f"{st.get('skipped_bytes')} bytes in invalid declarations",
        ),
        (
            "tree-sitter parse errors",
            f"{ts[3].get('files_with_parse_errors')} files, {ts[3].get('error_nodes')} ERROR nodes",
        ),
        (
            "same findings",
            f"{'yes' if _key(ts_report) == _key(cl_report) else 'NO'} "
            f"({len(_key(cl_report))} with clang, {len(_key(ts_report))} with tree-sitter)",
        ),
        ("command", " ".join(cl[4])),
        ("CPUs", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
