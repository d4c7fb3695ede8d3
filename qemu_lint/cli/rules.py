"""Stage 8 (cli): ``qemu-lint rules`` (the rule list) and ``qemu-lint explain`` (one rule's docs).

Entry points: :func:`add_parsers`, :func:`run_rules` and :func:`run_explain`.
"""

from __future__ import annotations

import argparse
import sys

from qemu_lint.cli.status import EXIT_CLEAN
from qemu_lint.errors import UsageError

RULES_EPILOG = """exit status:
  0  the list was printed
  2  usage error
"""
EXPLAIN_EPILOG = """exit status:
  0  the documentation was printed
  2  usage error (unknown rule)
"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules`` and ``explain`` to the sub-commands."""
    sub.add_parser(
        "rules",
        help="list the rules",
        description="One line per rule: id, severity, summary (tab-separated).",
        epilog=RULES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).set_defaults(run=run_rules)
    e = sub.add_parser(
        "explain",
        help="show a rule's documentation",
        description="A rule's documentation: rendered through a pager on a terminal "
        "($PAGER, else less), as Markdown when piped.",
        epilog=EXPLAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.set_defaults(run=run_explain)
    e.add_argument("rule", metavar="RULE", help="a rule id (see 'qemu-lint rules')")
    e.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour on a terminal: auto (default; NO_COLOR, FORCE_COLOR), always, never",
    )


def run_rules(args: argparse.Namespace) -> int:
    """One line per rule: id, severity, summary (tab-separated)."""
    from qemu_lint.rules import ALL_RULES

    for r in ALL_RULES:
        sys.stdout.write(f"{r.id}\t{r.severity.value}\t{r.summary}\n")
    return EXIT_CLEAN


def run_explain(args: argparse.Namespace) -> int:
    """The rule's documentation (its module docstring) as Markdown."""
    from qemu_lint.rules import by_id

    r = by_id(args.rule)
    if r is None:
        raise UsageError(f"unknown rule '{args.rule}' (see 'qemu-lint rules')")
    text = f"# {r.id} ({r.severity.value})\n\n{r.summary}\n\n{r.doc.strip()}\n"
    if not sys.stdout.isatty():  # piped or redirected: the Markdown itself
        sys.stdout.write(text)
        return EXIT_CLEAN
    from rich.console import Console
    from rich.markdown import Markdown

    from qemu_lint.cli.configure import use_color

    console = Console(no_color=not use_color(args.color, sys.stdout), highlight=False)
    with console.pager(styles=console.color_system is not None and not console.no_color):
        console.print(Markdown(text))
    return EXIT_CLEAN
