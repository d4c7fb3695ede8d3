"""Stage 8 (cli): command line → command → exit status.

Entry points: :func:`main` (run the command line in process; return the exit
status) and :func:`console_main` (the ``qemu-lint`` console script and
``python -m qemu_lint``).  The cli package is the only one that touches
``sys.argv``, ``sys.exit`` and stdout; logging goes to stderr through rich.
Each command lives in its own module, which adds its sub-parser and runs it.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from qemu_lint import __version__, caused_by_interrupt
from qemu_lint.cli import audit, check, dump, model, rules
from qemu_lint.cli.status import EPILOG, EXIT_ERROR, EXIT_INTERNAL
from qemu_lint.errors import LintError

#: the name of the handler :func:`_set_up_logging` installs on the root logger
_HANDLER = "qemu-lint"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qemu-lint",
        description="Static analyzer for QEMU's C sources (ACPI vCPU hotplug persistence).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"qemu-lint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    check.add_parser(sub)
    model.add_parser(sub)
    audit.add_parser(sub)
    dump.add_parser(sub)
    rules.add_parsers(sub)
    return p


class _PlainFormatter(logging.Formatter):
    """``qemu-lint: warning: message``: the level in lower case, as in the
    tool's other stderr lines."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)


def _set_up_logging(args: argparse.Namespace) -> None:
    """Log to stderr (through rich on a terminal, plain lines otherwise), at
    the level the flags ask for.

    As with :func:`logging.basicConfig`, a root logger that already has
    handlers (an application embedding qemu-lint, pytest) is left alone;
    ours is installed once, and a later call only sets the level again.
    """
    level = (
        logging.DEBUG
        if getattr(args, "debug", False)
        else logging.CRITICAL + 1
        if getattr(args, "silent", False)
        else logging.WARNING
    )
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER for h in root.handlers):
        root.setLevel(level)
        return
    if root.handlers:
        return
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        # The width is the terminal's, else 100: never $COLUMNS, which rich
        # would obey even at 0 (messages lost) or 100000 (lines padded).
        try:
            width = os.get_terminal_size(2).columns
        except (OSError, ValueError):
            width = 100
        console = Console(stderr=True, width=min(max(width, 60), 200))
        handler = RichHandler(console=console, show_time=False, show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:  # a log file or a CI log: one plain line per record, never wrapped
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_PlainFormatter("qemu-lint: %(levelname)s: %(message)s"))
    handler.set_name(_HANDLER)
    root.addHandler(handler)
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(e.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    _set_up_logging(args)
    try:
        status: int = args.run(args)
        return status
    except LintError as e:
        print(f"qemu-lint: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("qemu-lint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`qemu-lint check | head`): not an error of
        # ours.  Point stdout at devnull so the interpreter's final flush
        # does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as e:  # internal error: one line unless --debug
        if caused_by_interrupt(e):  # a Ctrl-C during a lazy import, wrapped
            print("qemu-lint: interrupted", file=sys.stderr)
            return EXIT_ERROR
        if getattr(args, "debug", False):
            raise
        print(
            f"qemu-lint: internal error: {e!r} (rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def console_main(argv: Sequence[str] | None = None) -> NoReturn:
    """:func:`main` for a process that ends with it (the console script):
    it ends the process with :func:`main`'s exit status.

    The analysis allocates millions of small acyclic objects (facts, model
    indexes) and the process ends with the run: the cyclic collector only
    rescans them, so it is turned off here, never in :func:`main` (a caller
    in process keeps its collector).  Measured on QEMU 10.0.13: cold check
    3.82 s -> 3.30 s, check after a one-line edit 1.32 s -> 0.74 s, peak RSS
    +1 % (182 -> 184 MB).  For the same reason the process ends without the
    interpreter's teardown (:func:`end_process`).
    """
    gc.disable()
    closed = _reopen_closed()
    if closed:
        print(f"qemu-lint: error: standard {closed} is closed", file=sys.stderr)
        end_process(EXIT_ERROR)
    end_process(main(argv))


def end_process(status: int) -> NoReturn:
    """End the process with ``status`` the way ``sys.exit`` would, less the
    interpreter's teardown.

    Standard output and error are flushed and the ``atexit`` functions run
    (multiprocessing's, a caller's); then ``os._exit`` skips freeing every
    object one by one and the final collection over what the run left
    (about 0.5 s of a cold check of QEMU 10.0.13, 0.06 s of a warm one,
    with the collector off).  Output that cannot be flushed (a closed pipe)
    makes the status at least :data:`EXIT_ERROR`: the report was lost.  A
    thread still running (none of qemu-lint's) gets the usual ending, which
    waits for it, and so does a run under a profiler or a tracer
    (``python -m cProfile -m qemu_lint``), which writes its results after
    the program returns.
    """
    import atexit
    import threading

    others = (t for t in threading.enumerate() if t is not threading.main_thread())
    if any(t.is_alive() and not t.daemon for t in others) or sys.getprofile() or sys.gettrace():
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe, or a closed file
            status = max(status, EXIT_ERROR)
    os._exit(status)


def _reopen_closed() -> str:
    """Put ``/dev/null`` on a closed stdin, stdout or stderr (``>&-``), so that
    no file qemu-lint opens lands on those numbers.

    :return: "output" when stdout was closed (the report would be lost), else ""
    """
    closed = ""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        got = os.open(os.devnull, os.O_RDWR)
        if got != fd:
            os.dup2(got, fd)
            os.close(got)
        setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115 - lives as long as the process
        if fd == 1:
            closed = "output"
    return closed
