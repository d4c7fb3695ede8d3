"""qemu-lint: a static analyzer for QEMU's C sources.

Pipeline (imports only go from a later stage to an earlier one): the
foundations (errors, source, settings, facts, rule) → discover → frontends →
cache → model → select → rules → findings → engine → audit → report → cli.
"""

from __future__ import annotations

__version__ = "0.1.0"


def console_main() -> int:
    """The ``qemu-lint`` console script (:func:`qemu_lint.cli.console_main`).

    The command modules are imported here, inside the handler, so that a
    Ctrl-C while they load (the first ~100 ms) is one "interrupted" line and
    exit status 2, not a traceback.
    """
    import sys

    try:
        from qemu_lint.cli import console_main as run

        return run()
    except KeyboardInterrupt:
        print("qemu-lint: interrupted", file=sys.stderr)
        return 2
