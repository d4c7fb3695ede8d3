"""Stage 8 (cli): exit statuses, and SIGTERM as an interruption.

Entry points: the ``EXIT_*`` statuses, :data:`EPILOG` (their description in
``--help``) and :func:`sigterm_interrupts`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

EPILOG = """exit status:
  0  no findings at or above --fail-on (default: note, so no findings at all),
     or any findings with --exit-zero
  1  findings at or above --fail-on
  2  usage, configuration or input error (one line on stderr, even with -s)
  3  internal error (one line on stderr; --debug shows the traceback)
"""


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
