"""Stage 8 (cli): the progress bar the engine reports to.

Entry point: :func:`progress_bar` (an ``on_progress(done, total, what)``
callback for :func:`qemu_lint.engine.run`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from qemu_lint.frontends.pool import Progress


class _Bar:
    """A transient progress bar on stderr when it is an interactive terminal
    (never in CI or on a dumb terminal), one per batch: a batch starts with
    ``done == 0`` and ends with ``done == total``."""

    def __init__(self) -> None:
        self.bar: Any = None  # rich.progress.Progress while a batch is shown
        self.task: Any = None

    def __call__(self, done: int, total: int, what: str) -> None:
        if done == 0:
            self._stop()
            self._start(total, what)
        elif self.bar is not None:
            self.bar.update(self.task, completed=done)
        if done >= total:
            self._stop()

    def _start(self, total: int, what: str) -> None:
        term = os.environ.get("TERM", "")
        if total < 2 or not sys.stderr.isatty() or os.environ.get("CI") or term == "dumb":
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(
            TextColumn(f"[bold]{what}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        bar.start()
        self.task = bar.add_task(what, total=total)
        self.bar = bar

    def _stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def progress_bar() -> Progress:
    """A new progress callback (see :class:`_Bar`)."""
    return _Bar()
