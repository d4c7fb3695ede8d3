"""Stage 8 (cli): exit statuses, and SIGTERM as an interruption.

Entry points: the ``EXIT_*`` statuses, :data:`EPILOG` (their description in
``--help``) and :func:`sigterm_interrupts`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from qemu_lint.errors import Problem

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

EPILOG = """exit status:
  0  no findings at or above --fail-on (default: note, so no findings at all),
     or any findings with --exit-zero
  1  findings at or above --fail-on (with --fix: left after fixing, each one
     not fixed named on stderr); with --diff: a change to make
  2  usage, configuration or input error (one line on stderr, even with -s),
     or a file the analysis needed could not be analysed (the report is
     still written; the run cannot say "clean"), or --fix/--diff rounds
     that still change the tree after 4 rounds (nothing written)
  3  internal error, or a rule crashed (one line on stderr; --debug shows
     the traceback)
"""


def distrust_status(problems: Sequence[Problem], what: str = "") -> int | None:
    """Say why a run cannot be trusted (one line on stderr) and return its
    exit status: 3 for a rule crash, 2 for a file the analysis needed; None
    when nothing limits trust.

    :param problems: the run's untrusted problems, the first one named
    :param what: what the run was, for the message (``the base``)
    """
    if not problems:
        return None
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f"{what}: " if what else ""
    print(f"qemu-lint: error: {where}cannot say the tree is clean: {first}{more}", file=sys.stderr)
    return EXIT_INTERNAL if first.untrusted == "crash" else EXIT_ERROR


def _on_sigterm(signum: int, frame: object) -> None:
    # Unwind like Ctrl-C, so that temporary trees are removed.
    raise KeyboardInterrupt


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :exc:`KeyboardInterrupt` (exit status 2,
    "interrupted"), so temporary trees are removed on the way out; the previous
    handler is restored after it.

    Signal handlers can only be set from the main thread (``main()`` may be
    called from another one, as a library): elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
