"""Stage 8 (cli): the progress bar the engine reports to.

Entry point: :func:`progress_bar` (an ``on_progress(done, total, what)``
callback for :func:`qemu_lint.engine.run`).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from qemu_lint.frontends.pool import Progress

#: a batch shorter than this shows no bar at all (a warm check: no flicker)
DELAY = 1.0


class _Bar:
    """A transient progress bar on stderr when it is an interactive terminal
    (never in CI or on a dumb terminal), one per batch that lasts more than
    :data:`DELAY` seconds: a batch starts with ``done == 0`` and ends with
    ``done == total``."""

    def __init__(self) -> None:
        self.bar: Any = None  # rich.progress.Progress while a batch is shown
        self.task: Any = None
        self.batch: tuple[float, int, str] | None = None  # (start, total, what)

    def __call__(self, done: int, total: int, what: str) -> None:
        if done == 0:
            self._stop()
            self.batch = (time.monotonic(), total, what) if _interactive(total) else None
        elif self.bar is None and self.batch is not None:
            start, total, what = self.batch
            if time.monotonic() - start >= DELAY:
                self._start(total, what)
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
        if done >= total:
            self._stop()
            self.batch = None

    def _start(self, total: int, what: str) -> None:
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


def _interactive(total: int) -> bool:
    term = os.environ.get("TERM", "")
    return total >= 2 and sys.stderr.isatty() and not os.environ.get("CI") and term != "dumb"


def progress_bar() -> Progress:
    """A new progress callback (see :class:`_Bar`)."""
    return _Bar()
