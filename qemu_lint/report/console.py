"""Stage 7 (reporters): the rich Console the reporters share, made per render call.

Entry points: :func:`new_console`, :func:`print_block` and :func:`table_box`.
Nothing here runs at import time: terminal facts are the CLI's to decide and
arrive in the options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich import box
from rich.console import Console, RenderableType

if TYPE_CHECKING:  # base.py imports the reporters; keep the import graph acyclic
    from qemu_lint.report.base import RenderOptions


def new_console(out: TextIO, opts: RenderOptions) -> Console:
    """A Console on ``out`` that colours only if asked and never wraps plain lines."""
    return Console(
        file=out,
        force_terminal=opts.color,
        no_color=not opts.color,
        width=opts.width,
        soft_wrap=True,
        highlight=False,
    )


def print_block(console: Console, renderable: RenderableType, opts: RenderOptions) -> None:
    """Print a table or code frame at the console width.

    Without colour, the padding rich leaves at line ends is dropped, so logs and
    golden files carry no trailing whitespace.
    """
    if opts.color:
        console.print(renderable, soft_wrap=False)
        return
    with console.capture() as capture:
        console.print(renderable, soft_wrap=False)
    console.file.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))


def table_box(opts: RenderOptions) -> box.Box:
    """Rich's heavy header in colour; plain ASCII otherwise, which reads in any log."""
    return box.HEAVY_HEAD if opts.color else box.ASCII
