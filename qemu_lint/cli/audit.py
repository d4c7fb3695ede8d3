"""Stage 8 (cli): ``qemu-lint audit`` (per-patch verdicts for a series).

Entry points: :func:`add_parser` and :func:`run` (series → audit → the chosen
audit reporter, or for ``sarif``/``gitlab`` the check reporter over the final
state → exit status).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import logging
import os
import shutil
import sys
from typing import TYPE_CHECKING

from qemu_lint.cli.configure import config_from, use_color
from qemu_lint.cli.options import add_common, add_selection, format_choices
from qemu_lint.cli.status import sigterm_interrupts
from qemu_lint.report.audit import base as audit_report_base

if TYPE_CHECKING:
    from qemu_lint.audit.series import Series
    from qemu_lint.audit.verdicts import AuditResult
    from qemu_lint.settings import Config

#: formats rendered by the check reporters (:data:`qemu_lint.report.registry.REPORTERS`)
#: over the final state of the series
FINAL_STATE_FORMATS = ("sarif", "gitlab")

AUDIT_EPILOG = """exit status:
  0  no patch introduces a finding; or, for - (one patch on stdin), the patch needs
     earlier patches of its series to apply (one WARNING line says so)
  1  a patch introduces a finding still present at the tip of the series, or a
     transient one (introduced and removed again; see --allow-transient)
  2  usage or input error, or a patch does not apply (the verdicts before it are printed)
  3  internal error
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` to the sub-commands."""
    a = sub.add_parser(
        "audit",
        help="audit a patch series: per-patch verdicts (a git range, mbox or patch files, or -)",
        description="Apply each patch of a series in a temporary worktree of the repository\n"
        "at --root and credit every finding to the patch that introduced or fixed it.\n"
        "Your work tree, index and branches are never touched.",
        epilog=AUDIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.set_defaults(run=run)
    a.add_argument(
        "inputs",
        nargs="*",
        metavar="RANGE | MBOX | PATCH… | -",
        help="a revision range (A..B; one revision: that commit), mbox files or maildirs "
        "(git format-patch, b4 am), .patch files, or - for one patch on stdin",
    )
    a.add_argument("--root", default=".", metavar="DIR", help="the QEMU work tree (default: .)")
    a.add_argument(
        "--base",
        metavar="REV",
        help="apply the series on REV (default: the cover letter's base-commit, else the "
        "range's parent, else HEAD)",
    )
    a.add_argument(
        "--format",
        choices=format_choices(audit_report_base.AUDIT_REPORTERS, FINAL_STATE_FORMATS),
        default=None,
        help="output format (default: text; terse when reading stdin)",
    )
    a.add_argument(
        "--allow-transient",
        action="store_true",
        help="do not fail for findings introduced and removed again within the series",
    )
    add_selection(a)
    a.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    add_common(a)


def _interactive_stderr() -> bool:
    """Progress bars only for a human: stderr a TTY, not CI, not a dumb terminal."""
    return sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM", "") != "dumb"


def _audit(args: argparse.Namespace, cfg: Config, series: Series, is_stdin: bool) -> AuditResult:
    """Run the audit, with a progress bar on stderr for a human."""
    from qemu_lint.audit.driver import run_audit

    if not (_interactive_stderr() and not is_stdin and not args.quiet and series.patches):
        return run_audit(cfg, series, args.allow_transient)
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("audit", total=len(series.patches) + 1)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, description=escape(what[:60]))

        return run_audit(cfg, series, args.allow_transient, progress)


def run(args: argparse.Namespace) -> int:
    """``qemu-lint audit``: load the series, audit it, render; the exit status."""
    from qemu_lint.audit.series import load_series
    from qemu_lint.audit.verdicts import CANNOT_JUDGE, exit_status
    from qemu_lint.report.audit.text import summary_line

    is_stdin = args.inputs == ["-"]
    fmt = args.format or ("terse" if is_stdin else "text")
    if is_stdin and not args.debug:
        # b4 runs us as a check command: stderr only when something fails
        logging.getLogger().setLevel(logging.ERROR)
    stdin = sys.stdin.buffer.read() if is_stdin else None
    cfg = config_from(args, [args.root])
    series = load_series(args.root, args.inputs, stdin=stdin, base=args.base)
    if is_stdin and series.base_source == "HEAD":
        from qemu_lint.audit.stdin import locate

        where = locate(series.top, series.base, series.patches[0])
        if where.unjudged is not None:
            # b4 shows a WARNING line yellow; the patch is judged once its series is applied
            print(f"-:1: WARNING: {where.unjudged}")
            return 0
        series = dataclasses.replace(series, base=where.base, base_source=where.source)
    with sigterm_interrupts():  # unwinds through the worktree's cleanup
        result = _audit(args, cfg, series, is_stdin)
    sys.stdout.write(_render(args, fmt, result))
    sys.stdout.flush()
    failed = result.failed
    if failed is not None and not (is_stdin and fmt == "terse"):  # the terse line says it
        print(
            f"qemu-lint: error: patch {failed.patch.label} ({failed.patch.subject}) does not "
            f"apply on {result.base[:12]}: {failed.reason}",
            file=sys.stderr,
        )
    for v in result.patches:
        if v.verdict == CANNOT_JUDGE:
            print(
                f"qemu-lint: error: patch {v.patch.label} ({v.patch.subject}): cannot judge: "
                f"{v.reason}",
                file=sys.stderr,
            )
    if failed is None and fmt == "text" and not args.quiet:
        print(summary_line(result), file=sys.stderr)
    return exit_status(result)


def _render(args: argparse.Namespace, fmt: str, result: AuditResult) -> str:
    """The whole report, rendered first: never half a report on stdout."""
    from qemu_lint.report.base import RenderOptions
    from qemu_lint.report.registry import REPORTERS

    color = use_color(args.color, sys.stdout) and fmt == "text"
    # shutil falls back when the terminal reports no size (0 columns under `script`)
    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    opts = RenderOptions(color=color, interactive=color, width=max(width, 60), quiet=args.quiet)
    buf = io.StringIO()
    if fmt in FINAL_STATE_FORMATS:
        # its own category, so a check and an audit upload side by side
        REPORTERS[fmt].render(result.final_report, buf, RenderOptions(category="audit"))
    else:
        audit_report_base.AUDIT_REPORTERS[fmt].render(result, buf, opts)
    return buf.getvalue()
