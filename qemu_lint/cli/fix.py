"""Stage 8 (cli): ``check --fix`` and ``check --diff``.

Entry points: :func:`fix_rounds` (fix a report's findings, check the fixed
tree in memory, fix again, until nothing changes: the combined change,
nothing written), :func:`write_fixes` (write it, say what was fixed; the
caller checks the tree again), :func:`print_diff` (it as a unified diff on
stdout, nothing written; its exit status) and :func:`not_converged`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qemu_lint.cli.status import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from qemu_lint.errors import InputError
from qemu_lint.findings import Report
from qemu_lint.fix import FileFix, FixPlan, apply_fixes, plan_fixes, unified_diff
from qemu_lint.settings import Config

#: at most this many rounds of fixes (a fix can reveal a finding the next
#: round fixes: the release guarded, the eject path's destroy of the vCPU
#: it keeps is reported); a plan still changing after them is not trusted
MAX_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Rounds:
    """What ``--fix``'s rounds computed, nothing written yet."""

    #: the combined change: per file the tree's bytes and those after the last round
    plan: FixPlan
    #: how many rounds changed something
    rounds: int
    #: False: the last round still had something to change (MAX_ROUNDS reached)
    converged: bool
    #: the analysis after the last round (in memory), None when nothing changed
    last: Report | None


def fix_rounds(
    args: argparse.Namespace,
    cfg: Config,
    report: Report,
    analyse: Callable[[Config], Report],
    only: Sequence[str] = (),
) -> Rounds:
    """Fix ``report``'s findings, analyse the fixed tree in memory (the fixed
    files as an overlay: ``Config.overlay``), fix what that reports, and so
    on until a round has nothing to change or :data:`MAX_ROUNDS` rounds
    changed something.  A finding fixed in one round and still reported in
    a later one is not fixed again (its guard is one the analysis does not
    follow: :func:`say_still_reported` names it after the re-check).

    Refusals of the last round are said on stderr (those of the findings
    left).  The tree is never written here.

    :param analyse: the check of a configuration (baseline and diff-base
        filtering included), as ``check`` runs it
    """
    protected = [p for p in (args.output, args.baseline) if p]
    files: dict[str, FileFix] = {}
    done: set[str] = set()  # fingerprints of the findings fixed so far
    last: Report | None = None
    rounds = 0
    while True:
        todo = dataclasses.replace(
            report, findings=tuple(f for f in report.findings if f.fingerprint not in done)
        )
        plan = plan_fixes(todo, protected, only, {p: f.new for p, f in files.items()})
        if not plan.files or rounds == MAX_ROUNDS:
            break
        rounds += 1
        for ff in plan.files:
            before = files.get(ff.path)
            files[ff.path] = (
                ff
                if before is None
                else dataclasses.replace(ff, old=before.old, fixed=before.fixed + ff.fixed)
            )
            done.update(f.fingerprint for f in ff.fixed)
        overlay = tuple(sorted((p, f.new) for p, f in files.items()))
        report = last = analyse(
            dataclasses.replace(cfg, overlay=overlay, cache_key=f"{cfg.root}@fix")
        )
    if not args.silent:
        for r in plan.refusals:
            print(f"qemu-lint: {r.text}", file=sys.stderr)
    combined = FixPlan(
        tuple(files[p] for p in sorted(files) if files[p].new != files[p].old), plan.refusals
    )
    return Rounds(combined, rounds, not plan.files, last)


def _count(n: int, files: int) -> str:
    return f"{n} finding{'' if n == 1 else 's'} in {files} file{'' if files == 1 else 's'}"


def not_converged(rounds: Rounds) -> int | None:
    """Say that the fixes did not settle (exit 2: the run cannot be trusted);
    None when they did."""
    if rounds.converged:
        return None
    print(
        f"qemu-lint: error: the fixes still change the tree after {MAX_ROUNDS} "
        f"round{'' if MAX_ROUNDS == 1 else 's'} "
        "(each round's check reports something new to fix): nothing is written",
        file=sys.stderr,
    )
    return EXIT_ERROR


def print_diff(args: argparse.Namespace, rounds: Rounds) -> int:
    """``--diff``: the change ``--fix`` would make (all its rounds), on stdout
    (or in the ``-o`` file); 1 if there is one, 0 if there is none
    (refusals are said on stderr)."""
    from qemu_lint.cli.output import write_report

    plan = rounds.plan
    if args.output is not None:
        write_report(args.output, unified_diff(plan))
    elif not args.silent:
        sys.stdout.write(unified_diff(plan))
        sys.stdout.flush()
    if not (args.quiet or args.silent):
        print(f"Would fix {_count(plan.fixed, len(plan.files))}.", file=sys.stderr)
    return EXIT_FINDINGS if plan.files else EXIT_CLEAN


def write_fixes(args: argparse.Namespace, rounds: Rounds) -> FixPlan:
    """``--fix``: write the fixed files (the last round's bytes); what was written.

    :raise InputError: when a file cannot be written (exit 2)
    """
    plan = rounds.plan
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
