"""Stage 1 (discover): where many words occur in one buffer, in one scan.

Entry point: :func:`word_hits`.  The file selection asks, each round, a few
dozen questions of the whole tree's bytes; answering them one ``bytes.find``
loop per word was the cold check's largest cost (about 3 s on QEMU 10.0.13).
Here a round's words are found in one scan by Hyperscan's literal matcher
(measured on a 2-CPU machine over QEMU 10.0.13's 76 MB: a round's scan and
compile in about 0.04 s; pyahocorasick, iterating its matches in Python,
took 20 times as long; see docs/performance.md).  Hyperscan's matches are
substrings; a hit is kept when it is a whole identifier, exactly as the
``bytes.find`` fallback does, which runs where the ``hyperscan`` wheel is
missing (it is built for x86-64 only).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Collection
from types import ModuleType

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@functools.cache
def _load() -> ModuleType | None:
    """Hyperscan, imported on the first scan (a warm run makes none, and
    the import costs several milliseconds of start-up)."""
    try:
        return importlib.import_module("hyperscan")
    except ImportError:  # pragma: no cover - the wheel is missing on this platform
        return None


#: the matcher in use: "hyperscan" or "bytes.find" (for --debug and tests);
#: found without importing it
ENGINE = "bytes.find" if importlib.util.find_spec("hyperscan") is None else "hyperscan"


def _whole(buf: bytes, i: int, n: int) -> bool:
    before = buf[i - 1] if i else 0
    after = buf[i + n] if i + n < len(buf) else 0
    return before not in _WORD and after not in _WORD


def _find_hits(buf: bytes, word: bytes) -> list[int]:
    out = []
    n = len(word)
    i = buf.find(word)
    while i != -1:
        if _whole(buf, i, n):
            out.append(i)
        i = buf.find(word, i + n)
    return out


def _scan_hits(buf: bytes, words: list[bytes]) -> dict[bytes, list[int]]:
    _hs = _load()
    assert _hs is not None
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(expressions=words, ids=list(range(len(words))), flags=0, literal=True)
    raw: list[list[int]] = [[] for _ in words]

    def on_match(ident: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
        raw[ident].append(end)

    db.scan(buf, match_event_handler=on_match)
    out = {}
    for w, ends in zip(words, raw, strict=True):
        n = len(w)
        out[w] = sorted(e - n for e in ends if _whole(buf, e - n, n))
    return out


def word_hits(buf: bytes, words: Collection[bytes], engine: str = "") -> dict[bytes, list[int]]:
    """The offsets in ``buf`` where each of ``words`` occurs as a whole
    identifier (not preceded nor followed by ``[A-Za-z0-9_]``), ascending.

    :param engine: force ``"bytes.find"`` (tests compare the two); by
        default Hyperscan when it is installed
    """
    todo = sorted({w for w in words if w})
    out: dict[bytes, list[int]] = {w: [] for w in words if not w}
    if not todo:
        return out
    if (engine or ENGINE) == "hyperscan" and buf and _load() is not None:
        out.update(_scan_hits(buf, todo))
    else:
        out.update((w, _find_hits(buf, w)) for w in todo)
    return out
