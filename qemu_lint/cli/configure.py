"""Stage 8 (cli): the parsed command line → :class:`~qemu_lint.settings.Settings`,
:class:`~qemu_lint.settings.Config`, colour.

Entry points: :func:`settings_from` (configuration file, ``--config`` overrides
and flags, merged), :func:`config_from` (those settings and the paths → the
engine's ``Config``) and :func:`use_color`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Sequence
from typing import TextIO

from qemu_lint.discover.files import find_root
from qemu_lint.errors import InputError, UsageError
from qemu_lint.settings import Config, Settings, build_config, find_config, resolve_settings


def use_color(choice: str, stream: TextIO) -> bool:
    """``--color``: always, never, or (auto) by NO_COLOR, FORCE_COLOR and the TTY."""
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
    import platformdirs  # on Linux: $XDG_CACHE_HOME/qemu-lint, else ~/.cache/qemu-lint

    return platformdirs.user_cache_dir("qemu-lint", appauthor=False)


def _config_file(args: argparse.Namespace, paths: Sequence[str]) -> tuple[str | None, list[str]]:
    """The configuration file to read (None: none), and the ``--config`` overrides."""
    files: list[str] = []
    overrides: list[str] = []
    for value in args.config:
        if "=" in value and not os.path.exists(value) and not value.endswith(".toml"):
            overrides.append(value)
        else:
            files.append(value)
    if len(files) > 1:
        raise UsageError(f"--config names more than one file: {', '.join(files)}")
    if files and args.isolated:
        raise UsageError("--isolated ignores configuration files: do not name one with --config")
    for p in paths:
        if not os.path.exists(p):
            raise InputError("no such file or directory", p)
    if files:
        return files[0], overrides
    return (None if args.isolated else find_config(paths)), overrides


def settings_from(args: argparse.Namespace, paths: Sequence[str]) -> Settings:
    """The configuration file (``--config``, else found from ``paths``), its
    ``--config 'key = value'`` overrides and the flags, merged."""
    from qemu_lint.rules import SETTINGS, by_id

    cfg_file, overrides = _config_file(args, paths)
    flags: dict[str, tuple[str, ...]] = {}
    for key in ("select", "ignore"):
        ids = tuple(dict.fromkeys(getattr(args, key, None) or ()))
        for rid in ids:
            if by_id(rid) is None:
                raise UsageError(f"unknown rule '{rid}' (see 'qemu-lint rules')")
        if ids:
            flags[key] = ids
    return resolve_settings(cfg_file, overrides, flags, declared=SETTINGS)


def config_from(args: argparse.Namespace, paths: Sequence[str]) -> Config:
    """The engine's configuration for analysing ``paths`` (one QEMU tree)."""
    settings = settings_from(args, paths)
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
    config = build_config(root, settings, only=tuple(only), frontend=args.frontend, jobs=args.jobs)
    return dataclasses.replace(config, cache_dir=_cache_dir(args), build_dir=build_dir)
