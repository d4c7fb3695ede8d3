"""Benchmark: the per-file pre-commit hook (``qemu-lint check --staged``) on a commit.

Not a test.  Run from anywhere::

    python benchmarks/bench_precommit.py              # QEMU 10.0.13 from qemu-src
    python benchmarks/bench_precommit.py --root DIR   # any QEMU source tree

A git repository is made of a hard-linked copy of the tree (the scanned
folders; the edited file is replaced, never written through), committed, and
one line of hw/acpi/cpu.c is changed and staged, as a developer's commit
would.  Then, with ``PRE_COMMIT=1`` and a temporary cache, it times:

* FIRST: the hook's first run (the cache empty: both states analysed);
* WARM: the same commit again (``RUNS`` times; the median);
* and checks each run passes, saying "1 finding already present at HEAD".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench import default_root, linked_copy, touch_one_line  # benchmarks/ is on sys.path

RUNS = 3


def _git(cwd: str, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b")
    env["GIT_COMMITTER_EMAIL"] = "b@b"
    subprocess.run(["git", "-C", cwd, *args], check=True, env=env, capture_output=True)


def _hook(root: str, cache: str) -> tuple[float, str]:
    env = dict(os.environ, PRE_COMMIT="1", QEMU_LINT_CACHE_DIR=cache)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "qemu_lint", "check", "--staged"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if r.returncode != 0 or "already present at HEAD, not blocking" not in r.stderr:
        raise SystemExit(f"unexpected hook result {r.returncode}: {r.stdout}{r.stderr}")
    return seconds, r.stderr.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="QEMU source tree (default: qemu-src 10.0.13)")
    args = ap.parse_args()
    src = args.root or default_root()
    with tempfile.TemporaryDirectory(prefix="qemu-lint-bench-precommit-") as work:
        root = linked_copy(src, os.path.join(work, "qemu"))
        _git(root, "init", "-q", "-b", "master")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "base")
        touch_one_line(root)
        _git(root, "add", "hw/acpi/cpu.c")
        cache = os.path.join(work, "cache")
        first, line = _hook(root, cache)
        warm = [_hook(root, cache)[0] for _ in range(RUNS)]
        print(f"tree: {src}")
        print(f"FIRST {first:6.2f} s   (empty cache)")
        print(f"WARM  {statistics.median(warm):6.2f} s   (median of {RUNS}: {warm})")
        print(f"hook says: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
