"""Benchmark: the cost of ``qemu-lint audit`` per patch, against a bare tree-sitter parse.

Not a test.  Run from anywhere::

    python benchmarks/bench_audit.py              # the QEMU 10.0.13 tree from qemu-src
    python benchmarks/bench_audit.py --root DIR   # any QEMU 10.0 source tree

It makes a git repository of a hard-linked copy of the tree (``cp -al``; git
writes only ``.git``, edited files are replaced, never written through),
commits the five-patch series of ``tests/audit_series.py`` (QEMU_STEPS: add
the design-1 hook, guard the release, drop the guard, a transient release and
its revert), and measures, in one run:

* RAW: single-process wall time to read and tree-sitter-parse the files our
  discovery selects (as ``benchmarks/bench.py`` does);
* three ``qemu-lint audit BASE..TIP --format json`` runs in subprocesses, with
  a temporary cache and temporary folders (``TMPDIR``) inside the work folder:
  COLD (empty cache: the first audit ever), WARM (the same audit again: its
  base is analysed from the previous audit's record, ``<root>@audit``) and
  NO-CACHE (``--no-cache``: every state a full check, for comparison);
* for each: the base's analysis time, each patch's time (applying it plus
  analysing the new state) over RAW against the target (<= 0.3x per patch),
  the rest of the wall time (reading the series, git, start-up, output),
  the peak RSS, and whether the verdicts are the expected ones.
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
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench import MEASURED, default_root, raw_parse  # noqa: E402  # needs the sys.path entries

from qemu_lint.discover.files import discover  # noqa: E402
from tests.audit_series import QEMU_STEPS, qemu_repo  # noqa: E402

TARGET = 0.3


def audit(repo: Path, rng: str, work: Path, extra: list[str]) -> tuple[float, int, dict[str, Any]]:
    """Wall seconds, peak RSS (KiB) and the JSON document of one audit."""
    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    pythonpath = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in pythonpath if p), TMPDIR=str(tmp))
    args = ["audit", "--root", str(repo), rng, "--format", "json", *extra]
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", MEASURED, *args], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"bench: qemu-lint {' '.join(args)} exited {r.returncode}:\n{r.stderr[-2000:]}")
    rss = int(r.stderr.rsplit("BENCH-RSS-KIB ", 1)[1].split()[0])
    return seconds, rss, json.loads(r.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="QEMU source tree (default: qemu-src 10.0.13)")
    ap.add_argument("--jobs", "-j", type=int, default=0, help="passed to qemu-lint audit")
    args = ap.parse_args()
    src = Path(os.path.abspath(args.root or default_root()))
    work = Path(tempfile.mkdtemp(prefix="qemu-lint-bench-audit-"))
    try:
        return _bench(src, work, ["--jobs", str(args.jobs)] if args.jobs else [])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(src: Path, work: Path, jobs: list[str]) -> int:
    t0 = time.perf_counter()
    base, shas = qemu_repo(src, work / "qemu")
    setup = time.perf_counter() - t0
    repo = work / "qemu"
    files, _ = discover(str(repo))
    raw = raw_parse([f.abspath for f in files])
    rng = f"{base[:12]}..{shas[-1][:12]}"
    expected = [v for _, _, v in QEMU_STEPS]
    cache = str(work / "cache")
    runs = [
        ("COLD", audit(repo, rng, work, ["--cache-dir", cache, *jobs])),
        ("WARM", audit(repo, rng, work, ["--cache-dir", cache, *jobs])),
        ("NO-CACHE", audit(repo, rng, work, ["--no-cache", *jobs])),
    ]
    print(f"tree                  {src}")
    print(f"files (discovery)     {len(files)}")
    print(f"repository set-up     {setup:.2f} s (cp -al, git init/add/commit, {len(shas)} commits)")
    print(f"RAW parse, 1 process  {raw:.2f} s")
    print(f"series                {rng}: {', '.join(expected)}")
    worst = 0.0
    for name, (seconds, rss, doc) in runs:
        verdicts = [p["verdict"] for p in doc["patches"]]
        stats = doc["stats"]
        per = stats["patch_seconds"]
        rest = seconds - stats["base_seconds"] - sum(per)
        ratios = [s / raw for s in per]
        if name != "NO-CACHE":
            worst = max([worst, *ratios])
        print(
            f"\n{name + ' audit':<22}{seconds:.2f} s wall, peak RSS {rss / 1024:.0f} MiB, "
            f"verdicts {'as expected' if verdicts == expected else 'WRONG: ' + str(verdicts)}"
        )
        print(
            f"  base                {stats['base_seconds']:.2f} s = "
            f"{stats['base_seconds'] / raw:.3f}x RAW"
        )
        for i, (s, ratio) in enumerate(zip(per, ratios, strict=True), 1):
            verdict = (
                ""
                if name == "NO-CACHE"
                else (f"  target <= {TARGET:.2f}x: {'met' if ratio <= TARGET else 'MISSED'}")
            )
            print(f"  patch {i}/{len(per)}           {s:.2f} s = {ratio:.3f}x RAW{verdict}")
        print(f"  other               {rest:.2f} s (reading the series, git, start-up)")
    print(
        f"\nper patch, worst      {worst:.3f}x RAW  target <= {TARGET:.2f}x: "
        f"{'met' if worst <= TARGET else 'MISSED'}"
    )
    print(f"CPUs                  {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
