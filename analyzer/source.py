"""Stage 1 helpers: source files and spans.

Entry points: :class:`SourceFile` (one file of the tree, path relative to the
root with forward slashes) and :class:`Span` (1-based line/column range).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to analyse: ``path`` relative to the root (POSIX), ``abspath`` on disk."""

    path: str
    abspath: str
    size: int


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    line: int
    col: int
    end_line: int
    end_col: int


def snippet(text: str, line: int, context: int = 0) -> list[tuple[int, str]]:
    """Return ``(line number, text)`` pairs around 1-based ``line``."""
    lines = text.splitlines()
    lo = max(line - context, 1)
    hi = min(line + context, len(lines))
    return [(n, lines[n - 1]) for n in range(lo, hi + 1)]
