"""Stage 7 (reporters): what the line-oriented reporters share.

Entry points: :func:`new_console`, :func:`print_block` and :func:`table_box`
(the rich Console, made per render call), :func:`clean` (text from C sources
or mail safe on one line) and :func:`note_lines` (a finding's ``note:``
lines).  Nothing here runs at import time: terminal facts are the CLI's to
decide and arrive in the options, and rich is imported when a console or a
box is made (a plain text report needs neither).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from qemu_lint.findings import Finding

if TYPE_CHECKING:  # base.py imports the reporters; keep the import graph acyclic
    from rich import box
    from rich.console import Console, RenderableType

    from qemu_lint.report.base import RenderOptions


def new_console(out: TextIO, opts: RenderOptions) -> Console:
    """A Console on ``out`` that colours only if asked and never wraps plain lines."""
    from rich.console import Console

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
    from rich import box

    return box.HEAVY_HEAD if opts.color else box.ASCII


# One record per line, and no terminal escapes smuggled in from C or mail text.
_CONTROL = {c: " " for c in (*range(0x20), 0x7F) if c != 0x09}


def clean(s: str) -> str:
    """``s`` with every control character but TAB turned into a space."""
    return s.translate(_CONTROL)


def note_lines(f: Finding, *, with_related: bool = True) -> list[tuple[str, int, int, str]]:
    """The ``note:`` lines of a finding as ``(file, line, column, text)``, not cleaned.

    The evidence path (a step has no column: column 1), the rule's notes at the
    site, then (``with_related``) the related places.
    """
    out = [(s.file, s.line, 1, s.text) for s in f.path]
    out += [(f.file, f.line, f.column, n) for n in f.notes]
    if with_related:
        out += [(r.file, r.line, 1, r.text) for r in f.related]
    return out
