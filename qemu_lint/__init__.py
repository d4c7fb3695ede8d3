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
    except Exception as e:
        # A Ctrl-C while a class is being created arrives wrapped: Python
        # re-raises it from __set_name__ as a RuntimeError caused by it.
        if not caused_by_interrupt(e):
            raise
        print("qemu-lint: interrupted", file=sys.stderr)
        return 2


def caused_by_interrupt(e: BaseException) -> bool:
    """Whether ``e`` is, or was raised from or while handling, a Ctrl-C."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False
