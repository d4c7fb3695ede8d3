"""Stage 8 (cli): ``qemu-lint check``.

Entry points: :func:`add_parser` (the sub-command and its options) and
:func:`run` (check → baseline and diff-base filtering → the chosen reporter
→ exit status).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qemu_lint.cli.configure import config_from, settings_from, use_color
from qemu_lint.cli.options import add_common, add_selection, format_choices
from qemu_lint.cli.status import (
    EPILOG,
    EXIT_CLEAN,
    EXIT_FINDINGS,
    distrust_status,
    sigterm_interrupts,
)
from qemu_lint.discover.files import find_root
from qemu_lint.errors import InputError, UsageError
from qemu_lint.report import base as report_base
from qemu_lint.report import registry

if TYPE_CHECKING:
    from qemu_lint.findings import Key, Report
    from qemu_lint.settings import Config

#: severities, lowest first (``--fail-on``)
SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}

#: the variable naming the CI checkout that reported paths must be relative to
CHECKOUT_VARS = {"gitlab": "CI_PROJECT_DIR", "github": "GITHUB_WORKSPACE"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check`` to the sub-commands."""
    c = sub.add_parser(
        "check",
        help="check a tree (or files inside one)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.set_defaults(run=run)
    c.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=[],
        help="the QEMU tree, or files and folders inside one to report on (default: .); "
        "the model is always the whole tree",
    )
    c.add_argument(
        "--format",
        choices=format_choices(registry.REPORTERS),
        default="text",
        help="text (default), json, sarif (GitHub code scanning), gitlab (Code Quality), "
        "github (Actions annotations)",
    )
    c.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report to FILE (atomically) instead of stdout",
    )
    c.add_argument(
        "--sarif-include-suppressed",
        action="store_true",
        help="sarif: also list suppressed findings, marked as suppressed",
    )
    add_selection(c)
    c.add_argument("-q", "--quiet", action="store_true", help="no summary")
    c.add_argument(
        "-s",
        "--silent",
        action="store_true",
        help="no output at all, only the exit status (-o FILE is still written)",
    )
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    c.add_argument(
        "--fail-on",
        choices=tuple(SEVERITY_RANK),
        default="note",
        metavar="{error,warning,note}",
        help="exit 1 only for findings of this severity or higher (default: note, i.e. any)",
    )
    c.add_argument(
        "--statistics",
        action="store_true",
        help="print the number of findings per rule instead of the findings",
    )
    c.add_argument(
        "--fix",
        action="store_true",
        help="guard the reported sites that have a fix (acpi-cpu-persistence, "
        "acpi-cpu-kept-alive) with the tree's persistence hook, in rounds until nothing "
        "changes, then check again; the exit status is the re-check's",
    )
    c.add_argument(
        "--diff",
        action="store_true",
        help="print the change --fix would make as a unified diff and write nothing "
        "(exit 1 if there is a change, 0 if none)",
    )
    c.add_argument(
        "--show-config",
        action="store_true",
        help="print the resolved settings (value and origin of every key) and exit",
    )
    _add_baseline_options(c)
    add_common(c)


def _add_baseline_options(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--baseline", metavar="FILE", help="report only findings not listed in this baseline file"
    )
    c.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record every current finding in FILE (JSON) and exit 0",
    )
    c.add_argument(
        "--diff-base",
        metavar="REV",
        help="report only findings absent at git revision REV (both states are analysed; "
        "default under pre-commit with a FROM ref: PRE_COMMIT_FROM_REF)",
    )
    c.add_argument(
        "--staged",
        action="store_true",
        help="pre-commit's per-file hook: report only the findings the staged change "
        "introduces (the tree against HEAD); those already at HEAD are counted in one line "
        "and never block",
    )
    c.add_argument(
        "--no-diff-base",
        action="store_true",
        help="ignore PRE_COMMIT_FROM_REF and --staged: report findings whatever the base has",
    )


def _show_config(args: argparse.Namespace, paths: Sequence[str]) -> int:
    from qemu_lint.report import settings as settings_report

    settings = settings_from(args, paths)
    try:
        root: str | None = find_root(paths[0])
    except InputError:
        root = None
    settings_report.render(settings, sys.stdout, root)
    return EXIT_CLEAN


def _exit_status(args: argparse.Namespace, report: Report) -> int:
    """1 when an active finding is at or above ``--fail-on``, unless ``--exit-zero``."""
    if args.exit_zero:
        return EXIT_CLEAN
    threshold = SEVERITY_RANK[args.fail_on]
    failing = [f for f in report.findings if SEVERITY_RANK.get(f.severity, 2) >= threshold]
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _path_prefix(root: str, checkout: str | None) -> str:
    """``sub/dir/`` when ``root`` lies below ``checkout``; "" when it is the
    checkout itself, lies outside it, or no checkout is named."""
    if not checkout:
        return ""
    rel = os.path.relpath(os.path.realpath(root), os.path.realpath(checkout))
    if rel == "." or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return ""
    return rel.replace(os.sep, "/") + "/"


def _step_summary(report: Report, prefix: str) -> None:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY``, within its size limit."""
    from qemu_lint.report.github import SUMMARY_LIMIT, render_summary

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        used = os.path.getsize(path) if os.path.exists(path) else 0
        text = render_summary(report, SUMMARY_LIMIT - used, prefix)
        if text:
            with open(path, "a", encoding="utf-8", newline="") as fh:
                fh.write(text)
    except OSError as e:
        print(
            f"qemu-lint: warning: {path}: step summary not written: {e.strerror or e}",
            file=sys.stderr,
        )


def _diff_base(args: argparse.Namespace) -> str | None:
    """The revision to compare with: ``--diff-base``, else pre-commit's FROM ref.

    pre-commit sets ``PRE_COMMIT_FROM_REF`` only when it runs on a range of
    commits (pre-push, or ``pre-commit run --from-ref A --to-ref B`` in CI).
    The findings already present at that ref are not the pushed commits'
    doing, and every QEMU tree today has one, so the range is what to report
    on.  ``--no-diff-base`` turns this off.
    """
    if args.diff_base is not None:
        if args.no_diff_base:
            raise UsageError("--diff-base and --no-diff-base contradict each other")
        return str(args.diff_base)
    if args.no_diff_base:
        return None
    if os.environ.get("PRE_COMMIT") == "1" and os.environ.get("PRE_COMMIT_FROM_REF"):
        return os.environ["PRE_COMMIT_FROM_REF"]
    if args.staged:
        return "HEAD"
    return None


def _staged_base(args: argparse.Namespace, root: str, rev: str | None) -> str | None:
    """``--staged`` on a repository with no commit yet: nothing to compare with."""
    from qemu_lint.discover.git import GitMissing, resolve_commit

    if rev != "HEAD" or args.diff_base is not None or not args.staged:
        return rev
    try:
        return rev if resolve_commit(root, "HEAD") is not None else None
    except GitMissing:
        return None


def run(args: argparse.Namespace) -> int:
    """``qemu-lint check``: analyse, filter, render; the exit status."""
    from qemu_lint.cli.output import check_writable
    from qemu_lint.discover.revisions import resolve
    from qemu_lint.findings.baseline import load_baseline

    paths = args.paths or ["."]
    if args.show_config:
        return _show_config(args, paths)
    if args.statistics and args.format not in ("text", "json"):
        raise UsageError(f"--statistics prints text or json, not {args.format}")
    cfg = config_from(args, paths)
    if args.write_baseline and args.diff_base is not None:
        raise UsageError("--write-baseline records every finding; drop --diff-base")
    rev = None if args.write_baseline else _staged_base(args, cfg.root, _diff_base(args))
    baseline = args.baseline or cfg.value("baseline") or None
    known = load_baseline(baseline) if baseline and not args.write_baseline else None
    if rev is not None:
        resolve(cfg.root, rev)  # a bad revision fails before the analysis, not after
    if args.output is not None:
        check_writable(args.output)
    if (args.fix or args.diff) and args.write_baseline:
        raise UsageError("--write-baseline records findings; drop --fix/--diff")
    report = _analyse(args, cfg, known, rev)
    if report is None:
        return EXIT_CLEAN
    if args.fix or args.diff:
        from qemu_lint.cli import fix

        def analyse(c: Config) -> Report:
            got = _analyse(args, c, known, rev)
            assert got is not None
            return got

        rounds = fix.fix_rounds(args, cfg, report, analyse, cfg.only)
        if args.diff:
            last = rounds.last or report
            bad = distrust_status(report.distrust) or distrust_status(last.distrust)
            return bad or fix.not_converged(rounds) or fix.print_diff(args, rounds)
        if (bad := fix.not_converged(rounds)) is not None:
            return bad
        plan = fix.write_fixes(args, rounds)
        if plan.files:
            report = analyse(cfg)  # the re-check
            fix.say_still_reported(args, plan, report)
    _render(args, report, rev)
    bad = distrust_status(report.distrust)
    return bad if bad is not None else _exit_status(args, report)


def _analyse(
    args: argparse.Namespace, cfg: Config, known: frozenset[Key] | None, rev: str | None
) -> Report | None:
    """The report to render: findings in the baseline ``known`` and findings
    present at ``rev`` hidden.  With ``--write-baseline``, write it and return None."""
    from qemu_lint.cli.progress import progress_bar
    from qemu_lint.engine import Chain
    from qemu_lint.engine import run as run_engine
    from qemu_lint.findings.baseline import hide, hide_preexisting, write_baseline

    chain = Chain()  # the run at the diff base shares the work tree's discovery
    report = run_engine(cfg, on_progress=progress_bar(), chain=chain)
    if args.write_baseline:
        n = write_baseline(args.write_baseline, report.findings)
        print(
            f"qemu-lint: wrote {n} finding{'' if n == 1 else 's'} to {args.write_baseline}",
            file=sys.stderr,
        )
        return None
    if known is not None:
        report = hide(report, known)
    if rev is not None:
        # The tree at the diff base: the files that differ read from git's
        # object store, the others shared with the work tree (no copy).
        old_cfg = dataclasses.replace(
            cfg, revision=rev, overlay=(), cache_key=f"{cfg.root}@diff-base"
        )
        with sigterm_interrupts():
            old = run_engine(old_cfg, on_progress=progress_bar(), chain=chain)
        root = cfg.root
        report = hide_preexisting(
            report, old.findings, lambda rel: os.path.lexists(os.path.join(root, rel))
        )
    return report


def _render(args: argparse.Namespace, report: Report, rev: str | None = None) -> None:
    """Write the report (stdout or ``-o``), then what goes to stderr."""
    from qemu_lint.cli.output import write_report
    from qemu_lint.report import statistics
    from qemu_lint.report.text import summary_line

    fmt = args.format
    to_file = args.output is not None
    if fmt == "sarif":  # SARIF wants symlinks resolved in the root's file:// URI
        report = dataclasses.replace(report, root=os.path.realpath(report.root))
    # Machine formats never carry colour or rich markup, whatever --color or FORCE_COLOR say.
    color = fmt == "text" and use_color(args.color, io.StringIO() if to_file else sys.stdout)
    prefix = _path_prefix(report.root, os.environ.get(CHECKOUT_VARS.get(fmt, "")))
    opts = report_base.RenderOptions(
        color=color,
        # frames and the count table for a human at a terminal; NO_COLOR drops colour only
        interactive=fmt == "text" and not to_file and sys.stdout.isatty(),
        quiet=args.quiet,
        include_suppressed=args.sarif_include_suppressed,
        path_prefix=prefix,
    )
    if to_file or not args.silent:
        out = io.StringIO() if to_file else sys.stdout
        if args.statistics:
            statistics.render(report, out, fmt)
        else:
            registry.REPORTERS[fmt].render(report, out, opts)
        if to_file:
            assert isinstance(out, io.StringIO)
            write_report(args.output, out.getvalue())
        else:
            sys.stdout.flush()
    if fmt == "gitlab" and not args.silent:  # Code Quality has no place for them: say them
        for p in report.problems:
            print(f"{p.file or 'qemu-lint'}: {p.level}: {p.message}", file=sys.stderr)
    if fmt == "github":
        _step_summary(report, prefix)
    if not (args.quiet or args.silent) and (fmt in ("text", "github") or to_file):
        print(summary_line(report, base=rev), file=sys.stderr)
