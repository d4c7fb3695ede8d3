"""Stage 2 (front-ends): turn a file's bytes into :class:`~qemu_lint.facts.FileFacts`.

Entry points: :data:`FRONTENDS` (the registry, by ``--frontend`` name: each a
:class:`Frontend`), :func:`dump_facts` (``--dump-facts``) and
:mod:`qemu_lint.frontends.pool` (extraction in worker processes).
``tree-sitter`` is the default; ``clang`` (precise mode) is optional.
Nothing here imports a parser: each front-end loads its own on first use.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from qemu_lint.errors import InputError, LintError
from qemu_lint.source import SourceFile

if TYPE_CHECKING:
    from qemu_lint.facts import FileFacts


class Frontend(Protocol):
    """What the rest of the pipeline needs to know of a front-end."""

    #: the ``--frontend`` name (also the first part of the cache salt)
    name: str
    #: the distributions whose versions the facts depend on
    dists: tuple[str, ...]

    def salt(self) -> tuple[str, ...]:
        """What else the facts depend on (part of the cache salt)."""
        ...

    def dump(self, path: str, data: bytes) -> FileFacts:
        """The facts of one file, outside any run (``--dump-facts``).

        :raise InputError: when the file cannot be analysed
        """
        ...


class TreeSitter:
    """The default front-end: tree-sitter-c, file by file."""

    name: str = "tree-sitter"
    dists: tuple[str, ...] = ("tree-sitter", "tree-sitter-c")

    def salt(self) -> tuple[str, ...]:
        return ()

    def dump(self, path: str, data: bytes) -> FileFacts:
        from qemu_lint.frontends.treesitter.extract import extract_file
        from qemu_lint.frontends.treesitter.parse import parse_bytes

        return extract_file(path, data, parse_bytes(data))


class Clang:
    """Precise mode: libclang, by translation unit with the build's flags."""

    name: str = "clang"
    dists: tuple[str, ...] = ("libclang",)

    def salt(self) -> tuple[str, ...]:
        from qemu_lint.frontends.clang import loader

        return (f"builtins={loader.builtin_include_dir()}", f"stubs={loader.stubs_digest()}")

    def dump(self, path: str, data: bytes) -> FileFacts:
        """Parsed with derived flags, inside its QEMU tree when it is in one."""
        from qemu_lint.discover.files import find_root
        from qemu_lint.frontends.clang.compdb import Planner
        from qemu_lint.frontends.clang.extract import extract_unit
        from qemu_lint.frontends.clang.loader import load_cindex

        load_cindex()
        try:
            root = find_root(path)
        except LintError:
            root = os.path.dirname(os.path.abspath(path))
        rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        got, _ = extract_unit(Planner(root, [rel], lambda i: data, None).plan(rel), data)
        if isinstance(got, str):
            raise InputError(got, path)
        return got


FRONTENDS: Mapping[str, Frontend] = {fe.name: fe for fe in (TreeSitter(), Clang())}


def dump_facts(path: str, frontend: str = "tree-sitter") -> str:
    """The facts of one file as indented JSON (the equivalent of an AST dump).

    With the clang front-end the file is parsed with derived flags, inside
    its QEMU tree when it is in one.

    :raise InputError: when the file cannot be read or analysed
    """
    from qemu_lint.discover.files import load

    if not os.path.isfile(path):
        raise InputError("no such file", path)
    data = load(SourceFile(path, path, os.path.getsize(path)))
    if isinstance(data, str):
        raise InputError(data, path)
    facts = FRONTENDS[frontend].dump(path, data)
    return json.dumps(dataclasses.asdict(facts), indent=1) + "\n"
