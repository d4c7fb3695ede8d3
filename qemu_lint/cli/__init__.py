"""Stage 8 (cli): the command line, one module per command.

Entry points: :func:`main` (in process: ``main(["check", "."])`` returns the
exit status) and :func:`console_main` (the ``qemu-lint`` console script).
:mod:`.main` parses and dispatches, :mod:`.options` and :mod:`.configure`
hold what commands share, and :mod:`.check`, :mod:`.model`, :mod:`.audit`,
:mod:`.dump` and :mod:`.rules` each add their sub-command and run it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line in process; return the exit status (see :mod:`.main`)."""
    from qemu_lint.cli.main import main as run

    return run(argv)


def console_main(argv: Sequence[str] | None = None) -> int:
    """The console script.  The command modules are imported here, inside the
    handler, so that a Ctrl-C while they load (the first ~50 ms) is one
    "interrupted" line, not a traceback."""
    try:
        from qemu_lint.cli.main import console_main as run

        return run(argv)
    except KeyboardInterrupt:
        print("qemu-lint: interrupted", file=sys.stderr)
        return 2


__all__ = ["console_main", "main"]
