"""Benchmark: qemu-lint cold, warm and after a one-line edit, against a bare tree-sitter parse.

Not a test.  Run from anywhere::

    python benchmarks/bench.py                # the QEMU 10.0.13 tree from qemu-src
    python benchmarks/bench.py --root DIR     # any QEMU source tree

For one QEMU tree, in one run, it measures:

* FILES/BYTES: what our discovery selects (``analyzer.discovery.discover``);
* RAW: single-process wall time to read and tree-sitter-parse exactly those
  files (``parser.parse`` only: no extraction, no model);
* COLD: ``qemu-lint check --format json --no-cache`` in a subprocess;
* FILL: the first run with an empty cache (what a first pre-commit run costs);
* WARM: the next run, nothing changed;
* TOUCH: a run after one line of hw/acpi/cpu.c changed (a comment appended);
* each over RAW, against the targets (cold <= 1.0, warm <= 0.15, touch <= 0.3);
* the peak RSS of each run (its VmHWM, or its largest worker's).

The runs work on a hard-linked copy of the tree in a temporary folder (the
edited file is replaced, never written through), with a temporary cache, so
neither the tree nor the user's cache is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QEMU_SRC = REPO.parent / "shared" / "scripts" / "qemu-src"
QEMU_VERSION = "10.0.13"
TARGETS = {"COLD": 1.0, "WARM": 0.15, "TOUCH": 0.3}
TOUCHED = "hw/acpi/cpu.c"

sys.path.insert(0, str(REPO))

from analyzer.discovery import SCAN_DIRS, discover  # noqa: E402  # needs the sys.path entry above


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


def touch_one_line(root: str) -> None:
    """Append a comment to the first line of hw/acpi/cpu.c, replacing the file."""
    path = os.path.join(root, TOUCHED)
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    lines[0] += b" /* touched by bench.py */"
    tmp = path + ".bench-tmp"
    with open(tmp, "wb") as fh:
        fh.write(b"\n".join(lines))
    os.replace(tmp, path)


def check(root: str, extra: list[str]) -> tuple[float, int, int, dict[str, Any], list[str]]:
    """Wall seconds, exit status, peak RSS (KiB), ``stats`` and command of one check."""
    pythonpath = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in pythonpath if p))
    args = ["check", root, "--format", "json", *extra]
    cmd = [sys.executable, "-c", MEASURED, *args]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"bench: qemu-lint {' '.join(args)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    rss = int(r.stderr.rsplit("BENCH-RSS-KIB ", 1)[1].split()[0])
    stats: dict[str, Any] = json.loads(r.stdout).get("stats", {})
    return seconds, r.returncode, rss, stats, ["qemu-lint", *args]


#: ``python -m analyzer`` that also reports its peak RSS on stderr: VmHWM of
#: its own memory (not the bench's, which a forked child inherits until exec
#: and which ``ru_maxrss`` would count) or of its largest worker process.
MEASURED = """
import resource, sys
from analyzer.cli import main
rc = main(sys.argv[1:])
hwm = 0
with open("/proc/self/status") as fh:
    for line in fh:
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\nBENCH-RSS-KIB {max(hwm, kids)}\\n")
sys.exit(rc)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help=f"QEMU source tree (default: qemu-src {QEMU_VERSION})")
    ap.add_argument("--jobs", "-j", type=int, default=0, help="passed to qemu-lint check")
    args = ap.parse_args()
    src = os.path.abspath(args.root or default_root())
    work = tempfile.mkdtemp(prefix="qemu-lint-bench-")
    try:
        return _bench(src, work, ["--jobs", str(args.jobs)] if args.jobs else [])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(src: str, work: str, jobs: list[str]) -> int:
    root = linked_copy(src, os.path.join(work, "tree"))
    cache = os.path.join(work, "cache")
    files, skipped = discover(root)
    nbytes = sum(f.size for f in files)
    raw = raw_parse([f.abspath for f in files])
    runs: list[tuple[str, tuple[float, int, int, dict[str, Any], list[str]]]] = []
    runs.append(("COLD", check(root, ["--no-cache", *jobs])))
    runs.append(("FILL", check(root, ["--cache-dir", cache, *jobs])))
    runs.append(("WARM", check(root, ["--cache-dir", cache, *jobs])))
    touch_one_line(root)
    runs.append(("TOUCH", check(root, ["--cache-dir", cache, *jobs])))

    rows = [
        ("tree", src),
        ("files (discovery)", f"{len(files)} ({len(skipped)} skipped)"),
        ("bytes (discovery)", f"{nbytes} ({nbytes / 2**20:.1f} MiB)"),
        ("RAW parse, 1 process", f"{raw:.2f} s"),
    ]
    worst_rss = 0
    for name, (seconds, status, rss, stats, _) in runs:
        ratio = seconds / raw if raw else float("nan")
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"  target <= {target:.2f}x: {'met' if ratio <= target else 'MISSED'}"
        parsed = stats.get("parsed_files", "?")
        rows.append(
            (
                f"{name} check",
                f"{seconds:.2f} s = {ratio:.3f}x RAW{verdict}  "
                f"(exit {status}, {parsed} files in the model, peak RSS {rss / 1024:.0f} MiB)",
            )
        )
        worst_rss = max(worst_rss, rss)
    rows += [
        (
            "peak RSS, worst run",
            f"{worst_rss / 1024:.0f} MiB  target <= 1024 MiB: "
            f"{'met' if worst_rss <= 1024 * 1024 else 'MISSED'}",
        ),
        ("command", " ".join(runs[0][1][4])),
        ("touched", f"{TOUCHED}: one comment appended to line 1"),
        ("CPUs", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
