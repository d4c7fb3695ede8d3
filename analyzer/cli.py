"""Stage 8 (cli): command line → Config → engine → reporter → exit status.

Entry point: :func:`main`.  The only module that touches ``sys.argv``,
``sys.exit`` and stdout.  Logging goes to stderr through rich.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from analyzer import __version__
from analyzer.config import Config, find_config, load_config
from analyzer.discovery import DEFAULT_EXCLUDES, find_root
from analyzer.errors import LintError, UsageError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

EPILOG = """exit status:
  0  no findings
  1  findings
  2  usage, configuration or input error
  3  internal error
"""

log = logging.getLogger("qemu-lint")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qemu-lint",
        description="Static analyzer for QEMU's C sources (ACPI vCPU hotplug persistence).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"qemu-lint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--frontend",
            choices=("tree-sitter", "clang"),
            default="tree-sitter",
            help="parser: tree-sitter (default, no build needed) or clang (precise mode)",
        )
        sp.add_argument(
            "-p",
            "--build-dir",
            metavar="BUILD_DIR",
            help="folder holding compile_commands.json (with --frontend clang)",
        )
        sp.add_argument(
            "--config",
            metavar="FILE",
            help="configuration file (default: .qemu-lint.toml found upwards)",
        )
        sp.add_argument(
            "--jobs",
            "-j",
            type=int,
            default=0,
            metavar="N",
            help="worker processes (default: CPUs)",
        )
        sp.add_argument(
            "--debug", action="store_true", help="re-raise internal errors with a traceback"
        )
        sp.add_argument("--color", choices=("auto", "always", "never"), default="auto")
        sp.add_argument(
            "--cache-dir",
            metavar="DIR",
            help="facts cache folder (default: $QEMU_LINT_CACHE_DIR, else "
            "$XDG_CACHE_HOME/qemu-lint, else ~/.cache/qemu-lint)",
        )
        sp.add_argument(
            "--no-cache", action="store_true", help="neither read nor write the facts cache"
        )

    c = sub.add_parser(
        "check",
        help="check a tree (or files inside one)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("paths", nargs="*", metavar="PATH", default=[])
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--select", action="append", default=[], metavar="RULE")
    c.add_argument("--ignore", action="append", default=[], metavar="RULE")
    c.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    common(c)

    m = sub.add_parser(
        "model",
        help="show the CPUClass hook model",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("paths", nargs="?", metavar="PATH", default=".")
    m.add_argument("--format", choices=("table", "json"), default="table")
    common(m)

    d = sub.add_parser("dump-facts", help="print the facts extracted from files (debugging)")
    d.add_argument("files", nargs="+", metavar="FILE")
    d.add_argument("--frontend", choices=("tree-sitter", "clang"), default="tree-sitter")

    sub.add_parser("rules", help="list the rules")
    e = sub.add_parser("explain", help="show a rule's documentation")
    e.add_argument("rule")
    return p


def _color(choice: str, stream: TextIO) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def _cache_dir(args: argparse.Namespace) -> str | None:
    """The cache folder: --cache-dir, else the environment, else the XDG default."""
    if args.no_cache:
        return None
    if args.cache_dir:
        return str(args.cache_dir)
    env = os.environ.get("QEMU_LINT_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "qemu-lint")


def _config(args: argparse.Namespace, paths: Sequence[str]) -> Config:
    first = paths[0] if paths else "."
    root = find_root(first)
    only: list[str] = []
    for p in paths:
        r = find_root(p)
        if r != root:
            raise UsageError(f"{p}: belongs to another QEMU tree than {first}")
        rel = os.path.relpath(os.path.abspath(p), root).replace(os.sep, "/")
        if rel != ".":
            only.append(rel)
    build_dir = getattr(args, "build_dir", None)
    if build_dir is not None:
        if args.frontend != "clang":
            raise UsageError("-p/--build-dir needs --frontend clang")
        if not os.path.isdir(build_dir):
            raise UsageError(f"{build_dir}: -p/--build-dir: no such folder")
        build_dir = os.path.abspath(build_dir)
    cfg_path = args.config or find_config(first)
    settings = load_config(cfg_path) if cfg_path else {}
    select = tuple(getattr(args, "select", None) or settings.get("select", ()))
    ignore = tuple(getattr(args, "ignore", None) or settings.get("ignore", ()))
    from rules import by_id

    for rid in select + ignore:
        if by_id(rid) is None:
            raise UsageError(f"unknown rule '{rid}' (see 'qemu-lint rules')")
    return Config(
        root=root,
        only=tuple(only),
        frontend=args.frontend,
        jobs=args.jobs,
        select=select,
        ignore=ignore,
        hooks=tuple(settings.get("hooks", Config.__dataclass_fields__["hooks"].default)),
        presence_bit=settings.get("presence-bit", 0),
        excludes=tuple(settings.get("exclude", DEFAULT_EXCLUDES)),
        source=cfg_path or "defaults",
        cache_dir=_cache_dir(args),
        build_dir=build_dir,
    )


def _check(args: argparse.Namespace) -> int:
    from analyzer.engine import run
    from analyzer.report.base import REPORTERS, RenderOptions
    from analyzer.report.text import summary_line

    cfg = _config(args, args.paths or ["."])
    report = run(cfg)
    color = _color(args.color, sys.stdout) and args.format == "text"
    opts = RenderOptions(color=color, interactive=color and sys.stdout.isatty(), quiet=args.quiet)
    REPORTERS[args.format].render(report, sys.stdout, opts)
    sys.stdout.flush()
    if not args.quiet and args.format == "text":
        print(summary_line(report), file=sys.stderr)
    return EXIT_FINDINGS if report.findings else EXIT_CLEAN


def _model(args: argparse.Namespace) -> int:
    from analyzer.engine import run_model
    from analyzer.model.export import model_to_json
    from analyzer.report.base import RenderOptions
    from analyzer.report.model import render_model_json, render_model_table

    cfg = _config(args, [args.paths])
    model, _ = run_model(cfg, hook_tables=True)
    doc = model_to_json(model)
    if args.format == "json":
        render_model_json(doc, sys.stdout)
    else:
        color = _color(args.color, sys.stdout)
        width = os.get_terminal_size().columns if sys.stdout.isatty() else 120
        render_model_table(
            doc, sys.stdout, RenderOptions(color=color, interactive=color, width=width)
        )
    return EXIT_CLEAN


def _dump_facts(paths: Sequence[str], frontend: str) -> int:
    from analyzer.engine import dump_facts

    for p in paths:
        sys.stdout.write(dump_facts(p, frontend))
    return EXIT_CLEAN


def _rules() -> int:
    from rules import ALL_RULES

    for r in ALL_RULES:
        sys.stdout.write(f"{r.id}\t{r.severity.value}\t{r.summary}\n")
    return EXIT_CLEAN


def _explain(rule_id: str) -> int:
    from rules import by_id

    r = by_id(rule_id)
    if r is None:
        raise UsageError(f"unknown rule '{rule_id}' (see 'qemu-lint rules')")
    sys.stdout.write(f"# {r.id} ({r.severity.value})\n\n{r.summary}\n\n{r.doc.strip()}\n")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(e.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    # The analysis allocates millions of small acyclic objects (facts, model
    # indexes) and the process ends with the run: the cyclic collector only
    # rescans them.  Measured on QEMU 10.0.13: cold check 3.82 s -> 3.30 s,
    # check after a one-line edit 1.32 s -> 0.74 s, peak RSS +2 %.
    gc.disable()
    from rich.console import Console
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_time=False, show_path=False)],
    )
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "model":
            return _model(args)
        if args.command == "rules":
            return _rules()
        if args.command == "dump-facts":
            return _dump_facts(args.files, args.frontend)
        return _explain(args.rule)
    except LintError as e:
        print(f"qemu-lint: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("qemu-lint: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`qemu-lint check | head`): not an error of
        # ours.  Point stdout at devnull so the interpreter's final flush
        # does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as e:  # internal error: one line unless --debug
        if getattr(args, "debug", False):
            raise
        print(
            f"qemu-lint: internal error: {e!r} (rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
