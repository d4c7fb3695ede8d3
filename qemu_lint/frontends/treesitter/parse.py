"""Stage 2 (parse), tree-sitter front-end: bytes → tree.

Entry point: :func:`parse_bytes`.  The parser is created once per process
(lazily, never at import time).  ERROR-node policy: the tree is always
returned; ``extract.py`` extracts facts from the well-formed parts and counts
the ERROR regions so that ``stats`` can say how much was skipped.
"""

from __future__ import annotations

import functools

import tree_sitter
import tree_sitter_c


@functools.cache
def language() -> tree_sitter.Language:
    """The C grammar (one object per process)."""
    return tree_sitter.Language(tree_sitter_c.language())


@functools.cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(language())


def parse_bytes(data: bytes) -> tree_sitter.Tree:
    """Parse C source bytes with tree-sitter-c.

    :param data: the file's content
    :return: the syntax tree (possibly containing ERROR nodes)
    """
    return _parser().parse(data)
