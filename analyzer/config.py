"""Configuration: rule defaults < ``.qemu-lint.toml`` / ``[tool.qemu-lint]`` < CLI.

Entry points: :class:`Config` (frozen, passed explicitly to the engine) and
:func:`load_config` (find and validate the file).  Unknown keys and bad values
raise :class:`~analyzer.errors.ConfigError` naming the file, the key and what
is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzer.discovery import DEFAULT_EXCLUDES
from analyzer.errors import ConfigError
from analyzer.model import DEFAULT_HOOKS

CONFIG_NAME = ".qemu-lint.toml"


@dataclass(frozen=True, slots=True)
class Config:
    root: str
    #: files or folders named on the command line, relative to root (empty: whole tree)
    only: tuple[str, ...] = ()
    frontend: str = "tree-sitter"
    jobs: int = 0
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    hooks: tuple[str, ...] = DEFAULT_HOOKS
    presence_bit: int = 0
    excludes: tuple[str, ...] = DEFAULT_EXCLUDES
    strict: bool = False
    source: str = "defaults"
    #: folder of the facts cache, or None for no cache
    cache_dir: str | None = None
    #: build folder holding compile_commands.json (clang front-end), or None
    build_dir: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


_KEYS: dict[str, str] = {
    "hooks": "list of strings (Struct::field or function name)",
    "presence-bit": "integer 0..31",
    "exclude": "list of folder prefixes relative to the root",
    "select": "list of rule ids",
    "ignore": "list of rule ids",
}


def find_config(start: str) -> str | None:
    """Walk up from ``start`` to the repository root looking for a config file."""
    cur = os.path.abspath(start)
    if not os.path.isdir(cur):
        cur = os.path.dirname(cur)
    while True:
        cand = os.path.join(cur, CONFIG_NAME)
        if os.path.isfile(cand):
            return cand
        pp = os.path.join(cur, "pyproject.toml")
        if os.path.isfile(pp):
            try:
                with open(pp, "rb") as fh:
                    if "qemu-lint" in tomllib.load(fh).get("tool", {}):
                        return pp
            except (OSError, tomllib.TOMLDecodeError):
                pass
        if os.path.exists(os.path.join(cur, ".git")):
            return None
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def load_config(path: str) -> dict[str, Any]:
    """Read and validate a config file; return its settings with normalised keys."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as e:
        raise ConfigError(f"cannot read configuration: {e.strerror or e}", path) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path) from e
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("qemu-lint", {})
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KEYS:
            raise ConfigError(f"unknown key '{key}' (allowed: {', '.join(sorted(_KEYS))})", path)
        if key == "presence-bit":
            if not isinstance(value, int) or not 0 <= value < 32:
                raise ConfigError(f"'{key}' must be an {_KEYS[key]}, not {value!r}", path)
        elif not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"'{key}' must be a {_KEYS[key]}, not {value!r}", path)
        out[key] = value
    return out
