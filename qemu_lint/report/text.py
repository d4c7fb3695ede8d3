"""Stage 7 (reporters): GCC-style text for editors, humans and logs.

Entry points: :func:`render` and :func:`summary_line` (the CLI decides where the
summary goes, usually stderr, so that stdout stays parseable).

Each finding is a header ``file:line:col: error: message [rule]`` followed by
``note:`` continuation lines (the evidence path, the architectures, then the
related places: the hook's declaration, where each architecture comes in), as
clang-tidy prints them.  Plain lines are written whole and never wrapped, so
vim, Emacs and the gcc problem matchers can parse them.  With
``opts.interactive`` a code frame follows each header and a summary table ends
the output.  Text taken from C sources only ever reaches rich as
:class:`~rich.text.Text` or :class:`~rich.syntax.Syntax`, never as markup.

A line is made of parts (text, or text and its style) that become a rich
``Text`` only when it is printed in colour: without colour (a log, a pipe, a
pre-commit hook) the parts are joined as they are, and rich (about 60 ms of
start-up) is imported only to colour, or to draw a frame or the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, TextIO

from qemu_lint.findings import Finding, Problem, Report
from qemu_lint.report.base import RenderOptions
from qemu_lint.report.console import clean, new_console, note_lines, print_block, table_box

if TYPE_CHECKING:
    from rich.console import Console
    from rich.syntax import ANSISyntaxTheme, Syntax
    from rich.table import Table

_LEVEL_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}

#: a line's part: text, or text and its rich style
Part = str | tuple[str, str]


def _line(file: str, line: int, col: int, level: str, message: str, rule: str = "") -> list[Part]:
    parts: list[Part] = [
        (f"{clean(file)}:{line}:{col}:", "bold"),
        " ",
        (f"{level}:", _LEVEL_STYLE.get(level, "bold")),
        " ",
        clean(message),
    ]
    if rule:
        parts.append((f" [{rule}]", "dim"))
    return parts


def _header(f: Finding) -> list[Part]:
    return _line(f.file, f.line, f.column, f.severity, f.message, f.rule)


def _notes(f: Finding) -> list[list[Part]]:
    return [_line(file, line, col, "note", text) for file, line, col, text in note_lines(f)]


def _problem(p: Problem) -> list[Part]:
    return [
        (f"{clean(p.file or 'qemu-lint')}:", "bold"),
        " ",
        (f"{p.level}:", _LEVEL_STYLE.get(p.level, "bold")),
        " ",
        clean(p.message),
    ]


def _plain(parts: Sequence[Part]) -> str:
    """The parts' text, as rich's ``Text.plain`` gives it (the parts hold no
    control character: :func:`~qemu_lint.report.console.clean` took them out)."""
    return "".join(p if isinstance(p, str) else p[0] for p in parts)


@cache
def frame_theme() -> ANSISyntaxTheme:
    """The code frame's colours: the terminal's own 8 ANSI colours, and its
    default foreground for plain code, so it reads on dark and light
    backgrounds alike (rich's default theme paints code white).  Made on
    first use: rich's syntax module and pygments cost about 60 ms of
    start-up, which a run without a finding to show does not pay."""
    from pygments.token import Token  # type: ignore[import-untyped]  # a dependency of rich; no stubs
    from rich.style import Style
    from rich.syntax import ANSI_LIGHT, ANSISyntaxTheme

    return ANSISyntaxTheme(
        {
            **ANSI_LIGHT,
            Token.Text.Whitespace: Style(),
            Token.Literal.String: Style(color="green"),
            Token.Name.Function: Style(bold=True),
        }
    )


def _frame(f: Finding) -> Syntax:
    """The source lines around the site; ``frame`` is assumed contiguous."""
    from rich.syntax import Syntax

    return Syntax(
        "\n".join(text for _, text in f.frame),
        "c",
        line_numbers=True,
        start_line=f.frame[0][0],
        highlight_lines={f.line},
        tab_size=8,
        word_wrap=False,
        background_color="default",
        theme=frame_theme(),
    )


def _summary_table(report: Report, opts: RenderOptions) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=table_box(opts))
    table.add_column("rule")
    table.add_column("count", justify="right")
    for rule, count in sorted(Counter(f.rule for f in report.findings).items()):
        table.add_row(Text(rule), Text(str(count)))
    return table


def summary_line(report: Report, base: str | None = None) -> str:
    """``Found N findings in M files.``, counting files that have findings, with
    the findings left out in parentheses (suppressed inline, in the baseline,
    already present at the diff base ``base``) when there are any."""
    n = len(report.findings)
    m = len({f.file for f in report.findings})
    line = f"Found {n} finding{'' if n == 1 else 's'} in {m} file{'' if m == 1 else 's'}"
    s = report.stats
    hidden = [
        f"{s.suppressed} suppressed" if s.suppressed else "",
        f"{s.baselined} in the baseline" if s.baselined else "",
        _preexisting(s.preexisting, base) if s.preexisting else "",
    ]
    if any(hidden):
        line += f" ({', '.join(h for h in hidden if h)})"
    return line + "."


def _preexisting(n: int, base: str | None) -> str:
    """``1 finding already present at HEAD, not blocking``."""
    where = base or "the diff base"
    return f"{n} finding{'' if n == 1 else 's'} already present at {where}, not blocking"


def render(report: Report, out: TextIO, opts: RenderOptions) -> None:
    """Write findings (in report order), then problems; never the summary line.

    ``opts.quiet`` drops the interactive summary table.

    :param out: the stream to write to
    """
    made: list[Console] = []

    def console() -> Console:
        if not made:
            made.append(new_console(out, opts))
        return made[0]

    def emit(parts: Sequence[Part]) -> None:
        if opts.color:
            from rich.text import Text

            console().print(Text.assemble(*parts))  # soft_wrap: styled, never wrapped or cropped
        else:
            out.write(_plain(parts) + "\n")

    for finding in report.findings:
        emit(_header(finding))
        if opts.interactive and finding.frame:
            print_block(console(), _frame(finding), opts)
        for note in _notes(finding):
            emit(note)
    for problem in report.problems:
        emit(_problem(problem))
    if opts.interactive and not opts.quiet and report.findings:
        print_block(console(), _summary_table(report, opts), opts)
