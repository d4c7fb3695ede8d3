"""Benchmark: the file selection's multi-word matchers on one QEMU tree.

Not a test.  Run from anywhere::

    python benchmarks/bench_matcher.py [--root QEMU_TREE]

It runs a check's file selection in process (``--no-cache``), records the
words of each round's questions, then times answering every round over the
bytes of every discovered file joined in one buffer, in one run: Hyperscan's
literal matcher (what qemu-lint uses), the ``bytes.find`` loop per word (the
fallback), and pyahocorasick (iterating its matches in Python) when it is
installed.  Every engine must give the same hits.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench import default_root  # noqa: E402  # needs the sys.path entries above

from qemu_lint.discover import matcher, tokens  # noqa: E402
from qemu_lint.discover.files import discover  # noqa: E402

_WORD = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def rounds_of(root: str) -> list[set[bytes]]:
    """The new words of each round of a check's file selection on ``root``."""
    import contextlib
    import io

    from qemu_lint.cli.main import main as cli_main

    got: list[set[bytes]] = []
    real = tokens.TokenIndex.prefetch

    def prefetch(self: tokens.TokenIndex, words: object) -> None:
        todo = {w.encode() for w in words} - self._found.keys()  # type: ignore[attr-defined]
        if todo:
            got.append(todo)
        real(self, words)  # type: ignore[arg-type]

    tokens.TokenIndex.prefetch = prefetch  # type: ignore[method-assign]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            cli_main(["check", "--no-cache", "-j1", "-q", "--format", "json", root])
    finally:
        tokens.TokenIndex.prefetch = real  # type: ignore[method-assign]
    return got


def aho(buf: bytes, words: set[bytes]) -> dict[bytes, list[int]]:
    import ahocorasick

    a = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
    for w in words:
        a.add_word(w.decode())
    a.make_automaton()
    text = buf.decode("latin-1")
    out: dict[bytes, list[int]] = {w: [] for w in words}
    n = len(buf)
    for end, length in a.iter(text):
        s = end - length + 1
        if (s == 0 or buf[s - 1] not in _WORD) and (end + 1 >= n or buf[end + 1] not in _WORD):
            out[buf[s : end + 1]].append(s)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="QEMU source tree (default: qemu-src 10.0.13)")
    root = os.path.abspath(ap.parse_args().root or default_root())
    files, _ = discover(root)
    t0 = time.perf_counter()
    contents = []
    for f in files:
        with open(f.abspath, "rb") as fh:
            contents.append(fh.read())
    read = time.perf_counter() - t0
    buf = b"\n".join(contents)
    rounds = rounds_of(root)
    engines = {
        "hyperscan": lambda ws: matcher.word_hits(buf, ws, engine="hyperscan"),
        "bytes.find": lambda ws: matcher.word_hits(buf, ws, engine="bytes.find"),
    }
    try:
        import ahocorasick  # noqa: F401

        engines["pyahocorasick"] = lambda ws: aho(buf, ws)
    except ImportError:
        pass
    if matcher.ENGINE != "hyperscan":
        del engines["hyperscan"]
    print(f"tree         {root}: {len(files)} files, {len(buf) / 2**20:.1f} MiB")
    print(f"read         {read:.2f} s (every byte)")
    print(f"rounds       {len(rounds)}, words {[len(r) for r in rounds]}")
    expected = None
    for name, fn in engines.items():
        t0 = time.perf_counter()
        hits = [fn(ws) for ws in rounds]
        seconds = time.perf_counter() - t0
        same = expected is None or hits == expected
        expected = expected or hits
        print(f"{name:<12} {seconds:.2f} s for every round{'' if same else '  DIFFERENT HITS'}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
