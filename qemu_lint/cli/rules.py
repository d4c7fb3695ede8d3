"""Stage 8 (cli): ``qemu-lint rules`` (the rule list) and ``qemu-lint explain`` (one rule's docs).

Entry points: :func:`add_parsers`, :func:`run_rules` and :func:`run_explain`.
"""

from __future__ import annotations

import argparse
import sys

from qemu_lint.cli.status import EXIT_CLEAN
from qemu_lint.errors import UsageError


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rules`` and ``explain`` to the sub-commands."""
    sub.add_parser("rules", help="list the rules").set_defaults(run=run_rules)
    e = sub.add_parser("explain", help="show a rule's documentation")
    e.set_defaults(run=run_explain)
    e.add_argument("rule")


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
    sys.stdout.write(f"# {r.id} ({r.severity.value})\n\n{r.summary}\n\n{r.doc.strip()}\n")
    return EXIT_CLEAN
