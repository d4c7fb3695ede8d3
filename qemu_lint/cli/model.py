"""Stage 8 (cli): ``qemu-lint model`` (the CPUClass hook model, as a table or JSON).

Entry points: :func:`add_parser`, :func:`run` and :data:`RENDERERS` (format
name → how the command renders the model in it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any

from qemu_lint.cli.configure import config_from, use_color
from qemu_lint.cli.options import add_common, format_choices
from qemu_lint.cli.status import EXIT_CLEAN

MODEL_EPILOG = """exit status:
  0  the model was printed
  2  usage, configuration or input error (one line on stderr)
  3  internal error (one line on stderr; --debug shows the traceback)
"""


def _table(doc: Mapping[str, Any], args: argparse.Namespace) -> None:
    from qemu_lint.report.base import RenderOptions
    from qemu_lint.report.model import render_model_table

    color = use_color(args.color, sys.stdout)
    # shutil falls back when a pty reports 0 columns (no size set)
    width = shutil.get_terminal_size((120, 24)).columns if sys.stdout.isatty() else 120
    render_model_table(doc, sys.stdout, RenderOptions(color=color, interactive=color, width=width))


def _json(doc: Mapping[str, Any], args: argparse.Namespace) -> None:
    from qemu_lint.report.model import render_model_json

    render_model_json(doc, sys.stdout)


#: Adding a model format means adding a line here.
RENDERERS: Mapping[str, Callable[[Mapping[str, Any], argparse.Namespace], None]] = {
    "table": _table,
    "json": _json,
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``model`` to the sub-commands."""
    m = sub.add_parser(
        "model",
        help="show the CPUClass hook model",
        description="The CPUClass hook model and the ACPI CPU hotplug facts of a tree, "
        "per architecture.",
        epilog=MODEL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.set_defaults(run=run)
    m.add_argument(
        "paths", nargs="?", metavar="PATH", default=".", help="the QEMU tree (default: .)"
    )
    m.add_argument(
        "--format",
        choices=format_choices(RENDERERS),
        default="table",
        help="table (default, for humans) or json (docs/output.md)",
    )
    add_common(m)


def run(args: argparse.Namespace) -> int:
    """``qemu-lint model``: build the model of the tree and render it."""
    from qemu_lint.cli.progress import progress_bar
    from qemu_lint.engine import run_model
    from qemu_lint.model.export import model_to_json

    cfg = config_from(args, [args.paths])
    model, _ = run_model(cfg, hook_tables=True, on_progress=progress_bar())
    RENDERERS[args.format](model_to_json(model), args)
    return EXIT_CLEAN
