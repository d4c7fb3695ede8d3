"""Configuration: defaults < config file < ``--config 'key = value'`` < flags.

The config file is ``.qemu-lint.toml`` or the ``[tool.qemu-lint]`` table of a
``pyproject.toml``.

Entry points: :func:`find_config` (walk up from the input paths to the
repository root, nearest file wins), :func:`resolve_settings` (every key's
value and where it came from: a file, ``"default"`` or ``"command line"``),
:func:`build_config` (settings → the frozen :class:`Config` passed explicitly
to the engine) and :func:`check_against_tree` (the settings that name things
of the tree: required architectures).  Unknown keys and bad values raise
:class:`~qemu_lint.errors.ConfigError` naming the file, the key and what is
allowed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qemu_lint.discover.files import DEFAULT_EXCLUDES
from qemu_lint.errors import ConfigError
from qemu_lint.model import DEFAULT_HOOKS

CONFIG_NAME = ".qemu-lint.toml"
PYPROJECT = "pyproject.toml"
#: where a setting came from when no file or flag set it
DEFAULT = "default"
COMMAND_LINE = "command line"
SEVERITIES = ("error", "warning", "note")


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
    #: AcpiCpuStatus fields that count as feeding _STA.Present besides those
    #: the model reads off the flags-register read handler
    presence_fields: tuple[str, ...] = ()
    #: rule id → severity, for the rules whose severity is configured
    severity: tuple[tuple[str, str], ...] = ()
    #: architectures that must implement a persistence hook
    required_archs: tuple[str, ...] = ()
    excludes: tuple[str, ...] = DEFAULT_EXCLUDES
    strict: bool = False
    #: the configuration file read, or "defaults"
    source: str = "defaults"
    #: key → where its value came from (a file path or "command line"); keys
    #: left at their default are absent
    origins: tuple[tuple[str, str], ...] = ()
    #: folder of the facts cache, or None for no cache
    cache_dir: str | None = None
    #: what the cache records this tree's last run under (default: the root)
    cache_key: str = ""
    #: build folder holding compile_commands.json (clang front-end), or None
    build_dir: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def severity_of(self, rule_id: str, default: str) -> str:
        """The configured severity of a rule, else ``default`` (the rule's own)."""
        return dict(self.severity).get(rule_id, default)

    def origin_of(self, key: str) -> str:
        """Where setting ``key`` came from: a file path, "command line" or "default"."""
        return dict(self.origins).get(key, DEFAULT)


_IDENT = re.compile(r"[A-Za-z_]\w*")
_HOOK = re.compile(r"[A-Za-z_]\w*(::[A-Za-z_]\w*)?")
_ARCH = re.compile(r"[a-z0-9_]+")

#: every key, what is allowed (for error messages), and its default
_KEYS: dict[str, tuple[str, Any]] = {
    "hooks": ("a non-empty list of strings (Struct::field or a function name)", DEFAULT_HOOKS),
    "extend-hooks": ("a list of strings (Struct::field or a function name)", ()),
    "presence-bit": ("an integer 0..31", 0),
    "presence-fields": ("a list of AcpiCpuStatus field names", ()),
    "severity": ('a table of rule id = "error" | "warning" | "note"', {}),
    "required-archs": ("a list of architecture names (target/<arch>/)", ()),
    "exclude": ("a list of folder prefixes relative to the root", DEFAULT_EXCLUDES),
    "extend-exclude": ("a list of folder prefixes relative to the root", ()),
    "select": ("a list of rule ids", ()),
    "ignore": ("a list of rule ids", ()),
}
KEYS: tuple[str, ...] = tuple(_KEYS)


def _rule_ids() -> tuple[str, ...]:
    from qemu_lint.rules import ALL_RULES  # the registry of stage 5; config validates rule ids

    return tuple(r.id for r in ALL_RULES)


def _string_list(
    key: str, value: Any, where: str, pattern: re.Pattern[str] | None
) -> tuple[str, ...]:
    allowed = _KEYS[key][0]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"'{key}' must be {allowed}, not {value!r}", where)
    for v in value:
        if pattern is not None and not pattern.fullmatch(v):
            raise ConfigError(f"'{key}': {v!r} is not valid: must be {allowed}", where)
    return tuple(dict.fromkeys(value))


def _validate(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check one layer of settings; return them with values normalised (tuples, dict).

    :param where: the file (or command-line option) the settings come from
    :raise ConfigError: naming ``where``, the key and what is allowed
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KEYS:
            raise ConfigError(f"unknown key '{key}' (allowed: {', '.join(sorted(_KEYS))})", where)
        allowed = _KEYS[key][0]
        if key == "presence-bit":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 32:
                raise ConfigError(f"'{key}' must be {allowed}, not {value!r}", where)
            out[key] = value
        elif key == "severity":
            if not isinstance(value, dict):
                raise ConfigError(f"'{key}' must be {allowed}, not {value!r}", where)
            ids = _rule_ids()
            table: dict[str, str] = {}
            for rule, level in value.items():
                if rule not in ids:
                    raise ConfigError(
                        f"'{key}': unknown rule '{rule}' (rules: {', '.join(ids)})", where
                    )
                if level not in SEVERITIES:
                    raise ConfigError(
                        f"'{key}.{rule}' must be one of {', '.join(SEVERITIES)}, not {level!r}",
                        where,
                    )
                table[rule] = level
            out[key] = table
        elif key in ("hooks", "extend-hooks"):
            hooks = _string_list(key, value, where, _HOOK)
            if key == "hooks" and not hooks:
                raise ConfigError(f"'{key}' must be {allowed}, not []", where)
            out[key] = hooks
        elif key == "presence-fields":
            out[key] = _string_list(key, value, where, _IDENT)
        elif key == "required-archs":
            out[key] = _string_list(key, value, where, _ARCH)
        elif key in ("exclude", "extend-exclude"):
            prefixes = _string_list(key, value, where, None)
            for p in prefixes:
                if p.startswith("/") or ".." in p.split("/"):
                    raise ConfigError(
                        f"'{key}': {p!r} is not valid: must be {allowed}, without '..'", where
                    )
            out[key] = tuple(p.strip("/") + "/" for p in prefixes)
        else:  # select, ignore
            rules = _string_list(key, value, where, None)
            ids = _rule_ids()
            for r in rules:
                if r not in ids:
                    raise ConfigError(
                        f"'{key}': unknown rule '{r}' (rules: {', '.join(ids)})", where
                    )
            out[key] = rules
    return out


# -- finding and reading files ------------------------------------------------


def _has_table(path: str) -> bool:
    """Does ``pyproject.toml`` hold a ``[tool.qemu-lint]`` table?

    A pyproject.toml that is not valid TOML is skipped, unless it mentions
    ``tool.qemu-lint``: then it was meant for us, and the error is reported.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return False
    try:
        return "qemu-lint" in tomllib.loads(raw.decode("utf-8", "replace")).get("tool", {})
    except tomllib.TOMLDecodeError:
        return b"tool.qemu-lint" in raw


def _is_boundary(folder: str) -> bool:
    """The repository root (``.git`` file or folder, ``.hg``) or the home folder."""
    if os.path.exists(os.path.join(folder, ".git")) or os.path.isdir(os.path.join(folder, ".hg")):
        return True
    home = os.environ.get("HOME")
    return home is not None and home != "" and os.path.abspath(home) == folder


def _nearest(start: str) -> str | None:
    cur = os.path.abspath(start)
    if not os.path.isdir(cur):
        cur = os.path.dirname(cur)
    while True:
        cand = os.path.join(cur, CONFIG_NAME)
        if os.path.isfile(cand):
            return cand
        pp = os.path.join(cur, PYPROJECT)
        if os.path.isfile(pp) and _has_table(pp):
            return pp
        parent = os.path.dirname(cur)
        if _is_boundary(cur) or parent == cur:
            return None
        cur = parent


def user_config() -> str | None:
    """``$XDG_CONFIG_HOME/qemu-lint/config.toml`` (``~/.config`` by default), if it exists."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = os.path.join(base, "qemu-lint", "config.toml")
    return path if os.path.isfile(path) else None


def find_config(starts: Sequence[str]) -> str | None:
    """The configuration file for a run over ``starts`` (the input paths, or the cwd).

    From each path, walk up to the repository root (the first folder holding
    ``.git`` — a file or a folder — or ``.hg``), or to ``$HOME``, and take the
    nearest ``.qemu-lint.toml``, or ``pyproject.toml`` with a
    ``[tool.qemu-lint]`` table (``.qemu-lint.toml`` first in a folder).  When
    none is found, fall back to :func:`user_config`.

    :raise ConfigError: when the paths lead to different files (the model is
        one tree: it has one configuration)
    """
    found: dict[str, str] = {}
    for s in starts or ["."]:
        f = _nearest(s)
        if f is not None:
            found.setdefault(f, s)
    if len(found) > 1:
        (a, pa), (b, pb) = list(found.items())[:2]
        raise ConfigError(
            f"the paths have different configuration files ({pa}: {a}; {pb}: {b}); "
            "name one with --config"
        )
    if found:
        return next(iter(found))
    return user_config()


def read_config(path: str) -> dict[str, Any]:
    """The raw settings of a configuration file (the ``[tool.qemu-lint]`` table of a
    pyproject.toml), not yet validated.

    :raise ConfigError: when it cannot be read or is not valid TOML
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as e:
        raise ConfigError("no such configuration file", path) from e
    except OSError as e:
        raise ConfigError(f"cannot read configuration: {e.strerror or e}", path) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path) from e
    if os.path.basename(path) == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get("qemu-lint", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError("'tool.qemu-lint' must be a table", path)
        return table
    return data


def load_config(path: str) -> dict[str, Any]:
    """Read and validate a config file; return its settings (normalised values)."""
    return _validate(read_config(path), path)


def parse_override(text: str) -> dict[str, Any]:
    """One ``--config 'key = value'`` override (a line of TOML), validated.

    :raise ConfigError: naming the option when it is not TOML or not a valid setting
    """
    where = f"--config {text!r}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"not a configuration file, nor a valid 'key = value' line: {e}", where
        ) from e
    return _validate(data, where)


# -- resolving ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """Every key's resolved value and where it came from."""

    #: key → value (tuples for lists; ``severity`` is every rule's severity)
    values: Mapping[str, Any]
    #: key → a file path, "command line" or "default"; ``severity.<rule>`` per rule
    origins: Mapping[str, str]
    #: the configuration file read, if any
    file: str | None


def resolve_settings(
    file: str | None,
    overrides: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the layers: defaults < ``file`` < ``--config 'k = v'`` overrides < flags.

    :param file: the configuration file (already found), or None
    :param overrides: ``key = value`` lines from ``--config``
    :param flags: settings from dedicated options (``select``, ``ignore``),
        already validated, each replacing the lower layers' value when given
    """
    from qemu_lint.rules import ALL_RULES

    values: dict[str, Any] = {k: v for k, (_, v) in _KEYS.items()}
    origins: dict[str, str] = {k: DEFAULT for k in _KEYS}
    severity = {r.id: r.severity.value for r in ALL_RULES}
    for r in ALL_RULES:
        origins[f"severity.{r.id}"] = DEFAULT
    layers: list[tuple[dict[str, Any], str]] = []
    if file is not None:
        layers.append((load_config(file), file))
    layers.extend((parse_override(o), COMMAND_LINE) for o in overrides)
    if flags:
        layers.append((dict(flags), COMMAND_LINE))
    for layer, origin in layers:
        for key, value in layer.items():
            if key == "severity":
                for rule, level in value.items():
                    severity[rule] = level
                    origins[f"severity.{rule}"] = origin
            else:
                values[key] = value
            origins[key] = origin
    values["severity"] = severity
    return Settings(values, origins, file)


def build_config(
    root: str,
    settings: Settings,
    *,
    only: tuple[str, ...] = (),
    frontend: str = "tree-sitter",
    jobs: int = 0,
    strict: bool = False,
) -> Config:
    """The engine's :class:`Config` from resolved settings."""
    from qemu_lint.rules import ALL_RULES

    v = settings.values
    defaults = {r.id: r.severity.value for r in ALL_RULES}
    return Config(
        root=root,
        only=only,
        frontend=frontend,
        jobs=jobs,
        select=tuple(v["select"]),
        ignore=tuple(v["ignore"]),
        hooks=tuple(dict.fromkeys(tuple(v["hooks"]) + tuple(v["extend-hooks"]))),
        presence_bit=v["presence-bit"],
        presence_fields=tuple(v["presence-fields"]),
        severity=tuple(sorted((r, s) for r, s in v["severity"].items() if s != defaults.get(r))),
        required_archs=tuple(v["required-archs"]),
        excludes=tuple(dict.fromkeys(tuple(v["exclude"]) + tuple(v["extend-exclude"]))),
        strict=strict,
        source=settings.file or "defaults",
        origins=tuple(sorted((k, o) for k, o in settings.origins.items() if o != DEFAULT)),
    )


def tree_archs(root: str) -> tuple[str, ...]:
    """The architectures of a tree: the folders of ``target/``."""
    try:
        names = os.listdir(os.path.join(root, "target"))
    except OSError:
        return ()
    return tuple(sorted(n for n in names if os.path.isdir(os.path.join(root, "target", n))))


def check_against_tree(config: Config, archs: Sequence[str] | None = None) -> None:
    """Settings that name things of the tree must find them there.

    :param archs: the tree's architectures (default: :func:`tree_archs`)
    :raise ConfigError: for a required architecture the tree does not have
    """
    if archs is None:
        archs = tree_archs(config.root)
    for a in config.required_archs:
        if a not in archs:
            raise ConfigError(
                f"'required-archs': no architecture '{a}' in this tree "
                f"(no target/{a}/; architectures: {', '.join(archs) or 'none'})",
                config.origin_of("required-archs"),
            )
