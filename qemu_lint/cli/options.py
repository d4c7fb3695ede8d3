"""Stage 8 (cli): the options several commands share.

Entry points: :func:`add_common` (front-end, configuration, jobs, colour,
cache…), :func:`add_selection` (``--select``/``--ignore``) and
:func:`format_choices` (a ``--format`` choice list read from a registry, so
that adding a format to a registry adds it to the command line).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

#: the parsers a front-end option accepts
FRONTENDS = ("tree-sitter", "clang")


def format_choices(*registries: Iterable[str]) -> tuple[str, ...]:
    """The format names of ``registries``, in order, each once."""
    return tuple(dict.fromkeys(name for registry in registries for name in registry))


def add_selection(sp: argparse.ArgumentParser) -> None:
    """``--select`` and ``--ignore`` (repeatable rule ids)."""
    sp.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="RULE",
        help="run only this rule (repeatable; replaces the configuration's 'select')",
    )
    sp.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="RULE",
        help="do not run this rule (repeatable; replaces the configuration's 'ignore')",
    )


def add_common(sp: argparse.ArgumentParser) -> None:
    """The options of every command that analyses a tree."""
    sp.add_argument(
        "--frontend",
        choices=FRONTENDS,
        default="tree-sitter",
        help="parser: tree-sitter (default, no build needed) or clang (precise mode)",
    )
    sp.add_argument(
        "-p",
        "--build-dir",
        metavar="BUILD_DIR",
        help="folder holding compile_commands.json (with --frontend clang)",
    )
    sp.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="FILE|'KEY = VALUE'",
        help="configuration file (default: the nearest .qemu-lint.toml or pyproject.toml "
        "with [tool.qemu-lint], walking up from the PATHs to the repository root), or one "
        "setting as a line of TOML that overrides the file's (repeatable)",
    )
    sp.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    sp.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default: CPUs)",
    )
    sp.add_argument(
        "--debug", action="store_true", help="re-raise internal errors with a traceback"
    )
    sp.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto (default): colour when stdout is a terminal, unless NO_COLOR is set "
        "and non-empty; a non-empty FORCE_COLOR turns it on; the flag beats both",
    )
    sp.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="facts cache folder (default: $QEMU_LINT_CACHE_DIR, else "
        "$XDG_CACHE_HOME/qemu-lint, else ~/.cache/qemu-lint)",
    )
    sp.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the facts cache"
    )
