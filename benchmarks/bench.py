"""Benchmark: a cold ``qemu-lint check`` against a bare tree-sitter parse of the same files.

Not a test.  Run from anywhere::

    python benchmarks/bench.py                # the QEMU 10.0.13 tree from qemu-src
    python benchmarks/bench.py --root DIR     # any QEMU source tree

For one QEMU tree, in one run, it measures:

* FILES/BYTES: what our discovery selects (``analyzer.discovery.discover``);
* RAW: single-process wall time to read and tree-sitter-parse exactly those
  files (``parser.parse`` only: no extraction, no model);
* OURS: wall time of ``python -m analyzer check ROOT --format json`` in a
  subprocess (with ``--no-cache`` when ``check --help`` lists it), and the
  ratio OURS/RAW;
* how many files the check actually parsed (its ``stats.parsed_files``:
  it may parse only the files that can matter, so OURS can beat RAW);
* the subprocess's peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the
  largest of the children waited for, so the pool workers of the check too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QEMU_SRC = REPO.parent / "shared" / "scripts" / "qemu-src"
QEMU_VERSION = "10.0.13"

sys.path.insert(0, str(REPO))

from analyzer.discovery import discover  # noqa: E402  # needs the sys.path entry above


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


def ours(root: str) -> tuple[float, int, list[str], dict[str, Any]]:
    """Wall seconds, exit status, command and ``stats`` of a cold ``check --format json``."""
    pythonpath = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in pythonpath if p))
    helptext = subprocess.run(
        [sys.executable, "-m", "analyzer", "check", "--help"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout
    cmd = [sys.executable, "-m", "analyzer", "check", root, "--format", "json"]
    if "--no-cache" in helptext:
        cmd.append("--no-cache")
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    stats: dict[str, Any] = json.loads(r.stdout).get("stats", {})
    return seconds, r.returncode, cmd, stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help=f"QEMU source tree (default: qemu-src {QEMU_VERSION})")
    args = ap.parse_args()
    root = os.path.abspath(args.root or default_root())

    files, skipped = discover(root)
    nbytes = sum(f.size for f in files)
    raw = raw_parse([f.abspath for f in files])
    seconds, status, cmd, stats = ours(root)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux

    rows = [
        ("root", root),
        ("files (discovery)", f"{len(files)} ({len(skipped)} skipped)"),
        ("bytes (discovery)", f"{nbytes} ({nbytes / 2**20:.1f} MiB)"),
        ("RAW parse, 1 process", f"{raw:.2f} s"),
        ("OURS check --format json", f"{seconds:.2f} s (exit {status})"),
        ("files parsed by OURS", str(stats.get("parsed_files", stats.get("files", "?")))),
        ("OURS / RAW", f"{seconds / raw:.2f}x" if raw else "n/a"),
        ("peak RSS (children)", f"{rss_kib / 1024:.0f} MiB"),
        ("command", " ".join(cmd[1:])),
        ("CPUs", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
