"""Stage 8 (cli): ``check --fix`` and ``check --diff``.

Entry points: :func:`write_fixes` (apply the fixes of a report, say what was
left and why; the caller checks the tree again) and :func:`print_diff` (the
fixes as a unified diff on stdout, nothing written; its exit status).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qemu_lint.cli.status import EXIT_CLEAN, EXIT_FINDINGS
from qemu_lint.errors import InputError
from qemu_lint.findings import Report
from qemu_lint.fix import FixPlan, apply_fixes, plan_fixes, unified_diff


def _plan(args: argparse.Namespace, report: Report, only: Sequence[str]) -> FixPlan:
    protected = [p for p in (args.output, args.baseline) if p]
    plan = plan_fixes(report, protected, only)
    if not args.silent:
        for r in plan.refusals:
            print(f"qemu-lint: {r.text}", file=sys.stderr)
    return plan


def _count(n: int, files: int) -> str:
    return f"{n} finding{'' if n == 1 else 's'} in {files} file{'' if files == 1 else 's'}"


def print_diff(args: argparse.Namespace, report: Report, only: Sequence[str] = ()) -> int:
    """``--diff``: the change ``--fix`` would make, on stdout (or in the
    ``-o`` file); 1 if there is one, 0 if there is none (refusals are said on
    stderr)."""
    from qemu_lint.cli.output import write_report

    plan = _plan(args, report, only)
    if args.output is not None:
        write_report(args.output, unified_diff(plan))
    elif not args.silent:
        sys.stdout.write(unified_diff(plan))
        sys.stdout.flush()
    if not (args.quiet or args.silent):
        print(f"Would fix {_count(plan.fixed, len(plan.files))}.", file=sys.stderr)
    return EXIT_FINDINGS if plan.files else EXIT_CLEAN


def write_fixes(args: argparse.Namespace, report: Report, only: Sequence[str] = ()) -> FixPlan:
    """``--fix``: write the fixed files; what was written.

    :raise InputError: when a file cannot be written (exit 2)
    """
    plan = _plan(args, report, only)
    try:
        apply_fixes(plan.files)
    except OSError as e:
        raise InputError(f"{e.filename or 'a file'}: fix not written: {e.strerror or e}") from e
    if plan.files and not (args.quiet or args.silent):
        names = ", ".join(f.path for f in plan.files)
        print(f"qemu-lint: fixed {_count(plan.fixed, len(plan.files))} ({names})", file=sys.stderr)
    return plan


def say_still_reported(args: argparse.Namespace, plan: FixPlan, recheck: Report) -> None:
    """One line on stderr for each fixed finding the re-check still reports
    (the guard written is not one the analysis follows)."""
    left = {f.fingerprint: f for f in recheck.findings}
    for fixed in (f for ff in plan.files for f in ff.fixed):
        f = left.get(fixed.fingerprint)
        if f is not None and not args.silent:
            print(
                f"qemu-lint: {f.file}:{f.line}: warning: guarded by --fix, "
                f"but still reported [{f.rule}]",
                file=sys.stderr,
            )
