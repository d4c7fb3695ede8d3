"""Stage 8 (cli): the command line, one module per command.

Entry points: :func:`main` (in process: ``main(["check", "."])`` returns the
exit status) and :func:`console_main` (the ``qemu-lint`` console script).
:mod:`.main` parses and dispatches, :mod:`.options` and :mod:`.configure`
hold what commands share, and :mod:`.check`, :mod:`.model`, :mod:`.audit`,
:mod:`.dump` and :mod:`.rules` each add their sub-command and run it.
"""

from __future__ import annotations

from qemu_lint.cli.main import console_main, main

__all__ = ["console_main", "main"]
