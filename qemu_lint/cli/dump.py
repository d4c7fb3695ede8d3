"""Stage 8 (cli): ``qemu-lint dump-facts`` (the facts extracted from files, for debugging).

Entry points: :func:`add_parser` and :func:`run`.
"""

from __future__ import annotations

import argparse
import sys

from qemu_lint.cli.options import FRONTENDS
from qemu_lint.cli.status import EXIT_CLEAN

DUMP_EPILOG = """exit status:
  0  the facts were printed
  2  usage or input error (one line on stderr)
  3  internal error
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dump-facts`` to the sub-commands."""
    d = sub.add_parser(
        "dump-facts",
        help="print the facts extracted from files (debugging)",
        description="The facts a front-end extracts from each file, as JSON.",
        epilog=DUMP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.set_defaults(run=run)
    d.add_argument("files", nargs="+", metavar="FILE", help="C files (.c, .h, .c.inc, .h.inc)")
    d.add_argument(
        "--frontend",
        choices=FRONTENDS,
        default="tree-sitter",
        help="parser: tree-sitter (default) or clang (precise mode)",
    )


def run(args: argparse.Namespace) -> int:
    """``qemu-lint dump-facts``: print each file's facts."""
    from qemu_lint.frontends import dump_facts

    for p in args.files:
        sys.stdout.write(dump_facts(p, args.frontend))
    return EXIT_CLEAN
