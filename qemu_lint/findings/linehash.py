"""Stage 6 (findings): GitHub's ``primaryLocationLineHash`` of a source line.

Entry point: :func:`line_hash`.  GitHub code scanning matches alerts across
runs with ``partialFingerprints.primaryLocationLineHash``; ``upload-sarif``
computes it (github/codeql-action, ``src/fingerprints.ts``) when a SARIF
result lacks it, and warns when a result carries a different value.  This is
the same computation, so the value qemu-lint writes is the one GitHub would:

* the file is read as UTF-8 (invalid bytes become U+FFFD) and processed as
  UTF-16 code units, as JavaScript's ``charCodeAt`` sees them;
* spaces and tabs are skipped, CR and CRLF count as LF;
* each line's hash is a rolling polynomial hash (base 37, signed 64-bit
  wrap-around, as ``Long`` computes it) over the first 100 code units from
  the line's start, the end of input counting as the unit 65535 followed by
  zeros;
* the value is the unsigned hash in lower-case hex without leading zeros,
  then ``:`` and how many lines so far (this one included) had the same hash.
"""

from __future__ import annotations

from collections.abc import Iterator

_BLOCK = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, _BLOCK, 1 << 64)
_TAB, _SPACE, _LF, _CR, _EOF = 9, 32, 10, 13, 65535


def _units(text: str) -> Iterator[int]:
    """The UTF-16 code units of ``text`` (surrogate pairs for astral characters)."""
    for ch in text:
        c = ord(ch)
        if c < 0x10000:
            yield c
        else:
            c -= 0x10000
            yield 0xD800 | (c >> 10)
            yield 0xDC00 | (c & 0x3FF)


def line_hashes(text: str, stop_after: int = 0) -> Iterator[tuple[int, str]]:
    """``(line, hash)`` for each line of ``text``, in order, 1-based.

    The end of input starts one more line when ``text`` is empty or ends with
    a line break, as upload-sarif counts it.

    :param stop_after: stop once this line's hash is out (0: every line)
    """
    window = [0] * _BLOCK
    line_numbers = [-1] * _BLOCK
    hash_raw = 0
    index = 0
    line_number = 0
    line_start = True
    prev_cr = False
    counts: dict[str, int] = {}

    def output() -> tuple[int, str]:
        value = f"{hash_raw:x}"
        counts[value] = counts.get(value, 0) + 1
        line = line_numbers[index]
        line_numbers[index] = -1
        return line, f"{value}:{counts[value]}"

    def update(current: int) -> None:
        nonlocal hash_raw, index
        begin = window[index]
        window[index] = current
        hash_raw = (_MOD * hash_raw + current - _FIRST_MOD * begin) & _MASK
        index = (index + 1) % _BLOCK

    def chars() -> Iterator[int]:
        yield from _units(text)
        yield _EOF

    for current in chars():
        if current in (_SPACE, _TAB) or (prev_cr and current == _LF):
            prev_cr = False
            continue
        if current == _CR:
            current = _LF
            prev_cr = True
        else:
            prev_cr = False
        if line_numbers[index] != -1:
            out = output()
            yield out
            if out[0] == stop_after:
                return
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[index] = line_number
        if current == _LF:
            line_start = True
        update(current)
    for _ in range(_BLOCK):
        if line_numbers[index] != -1:
            out = output()
            yield out
            if out[0] == stop_after:
                return
        update(0)


def line_hash(text: str, line: int) -> str | None:
    """The ``primaryLocationLineHash`` of 1-based ``line`` of ``text``, or None
    when the text has no such line.

    Only the text up to 100 non-blank code units past the line is hashed.
    """
    if line < 1:
        return None
    for n, value in line_hashes(text, stop_after=line):
        if n == line:
            return value
    return None
