"""Configuration: defaults < config file < ``--config 'key = value'`` < flags.

The config file is ``.qemu-lint.toml`` or the ``[tool.qemu-lint]`` table of a
``pyproject.toml``.

This module knows no key: each is a :class:`Setting` declared by the stage or
rule that reads it (``hooks`` by the model, ``exclude`` by discovery,
``required-archs`` by its rule's options…), and the caller passes the
declarations in (:data:`qemu_lint.rules.SETTINGS` collects them all).

Entry points: :func:`find_config` (walk up from the input paths to the
repository root, nearest file wins), :func:`resolve_settings` (every key's
value and where it came from: a file, ``"default"`` or ``"command line"``),
:func:`build_config` (settings → the frozen :class:`Config` passed explicitly
to the engine), :func:`default_config` (every setting at its default) and
:func:`check_against_tree` (the settings that name things of the tree).
Unknown keys and bad values raise :class:`~qemu_lint.errors.ConfigError`
naming the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from qemu_lint.errors import ConfigError

CONFIG_NAME = ".qemu-lint.toml"
PYPROJECT = "pyproject.toml"
#: where a setting came from when no file or flag set it
DEFAULT = "default"
COMMAND_LINE = "command line"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """One configuration key, declared by the stage or rule that reads it."""

    key: str
    #: what is allowed, for error messages ("a list of rule ids")
    allowed: str
    default: T
    #: one layer's raw value → the checked, normalised value (``where`` names the
    #: file or option, for the :class:`~qemu_lint.errors.ConfigError` it raises)
    normalise: Callable[[Setting[T], Any, str], T]
    #: the key this one extends (``extend-hooks`` → ``hooks``): once the layers
    #: are merged, its value is appended to that key's, duplicates dropped
    extends: str | None = None
    #: a table (``severity``): each layer sets some entries, the others keep
    #: theirs; the default holds every entry, and each has its own origin
    #: (``severity.<entry>``)
    is_table: bool = False
    #: what the merged value must find in the tree, given the tree's
    #: architectures: the error text, or None when all is there
    against_tree: Callable[[T, Sequence[str]], str | None] | None = None

    def invalid(self, value: object, where: str) -> ConfigError:
        """``'key' must be <allowed>, not <value>``."""
        return ConfigError(f"'{self.key}' must be {self.allowed}, not {value!r}", where)


def string_list(
    pattern: re.Pattern[str] | None = None, *, is_non_empty: bool = False
) -> Callable[[Setting[tuple[str, ...]], Any, str], tuple[str, ...]]:
    """A normaliser of lists of non-empty strings (each matching ``pattern``)
    into a tuple without duplicates."""

    def normalise(setting: Setting[tuple[str, ...]], value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise setting.invalid(value, where)
        for v in value:
            if pattern is not None and not pattern.fullmatch(v):
                raise ConfigError(
                    f"'{setting.key}': {v!r} is not valid: must be {setting.allowed}", where
                )
        if is_non_empty and not value:
            raise setting.invalid(value, where)
        return tuple(dict.fromkeys(value))

    return normalise


def integer(lo: int, hi: int) -> Callable[[Setting[int], Any, str], int]:
    """A normaliser of integers ``lo <= n < hi`` (booleans refused)."""

    def normalise(setting: Setting[int], value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value < hi:
            raise setting.invalid(value, where)
        return value

    return normalise


@dataclass(frozen=True, slots=True)
class Config:
    root: str
    #: files or folders named on the command line, relative to root (empty: whole tree)
    only: tuple[str, ...] = ()
    frontend: str = "tree-sitter"
    jobs: int = 0
    #: the rules to run (empty: all) and to leave out
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: rule id → severity, for the rules whose severity is configured
    severity: tuple[tuple[str, str], ...] = ()
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
    #: analyse the tree as it was at this git commit (``--diff-base``): the
    #: work tree's files, those that differ read from git's object store
    revision: str = ""
    #: analyse these files with these bytes, ``(path, bytes)`` each, instead
    #: of the work tree's (``check --fix``'s rounds): never written to disk
    overlay: tuple[tuple[str, bytes], ...] = ()
    #: an object directory ``revision`` may live in besides the repository's
    #: (an audit's temporary one, see :mod:`qemu_lint.audit.apply`)
    git_objects: str = ""
    #: build folder holding compile_commands.json (clang front-end), or None
    build_dir: str | None = None
    #: the other declared settings, key → value (extensions merged in), read
    #: through :meth:`value` or the typed properties below
    values: Mapping[str, Any] = field(default_factory=dict)
    #: the declarations behind ``values`` (their defaults fill the keys it lacks)
    declared: tuple[Setting[Any], ...] = field(default=(), repr=False, compare=False)

    def severity_of(self, rule_id: str, default: str) -> str:
        """The configured severity of a rule, else ``default`` (the rule's own)."""
        return dict(self.severity).get(rule_id, default)

    def origin_of(self, key: str) -> str:
        """Where setting ``key`` came from: a file path, "command line" or "default"."""
        return dict(self.origins).get(key, DEFAULT)

    def value(self, key: str) -> Any:
        """The value of a declared setting (its default when ``values`` lacks it).

        :raise LookupError: for a key no declaration names
        """
        if key in self.values:
            return self.values[key]
        for s in self.declared:
            if s.key == key:
                return s.default
        raise LookupError(
            f"setting '{key}' is not declared: make the Config with build_config() "
            "or default_config()"
        )

    # The settings the stages read, typed (declared by discover and the model).
    @property
    def hooks(self) -> tuple[str, ...]:
        return tuple(self.value("hooks"))

    @property
    def presence_bit(self) -> int | None:
        """The ``presence-bit`` override (None: the model derives the bit)."""
        v = self.value("presence-bit")
        return None if v is None else int(v)

    @property
    def presence_fields(self) -> tuple[str, ...]:
        """AcpiCpuStatus fields that count as feeding _STA.Present besides those
        the model reads off the flags-register read handler."""
        return tuple(self.value("presence-fields"))

    @property
    def required_archs(self) -> tuple[str, ...]:
        """Architectures that must implement a persistence hook."""
        return tuple(self.value("required-archs"))

    @property
    def excludes(self) -> tuple[str, ...]:
        return tuple(self.value("exclude"))


#: the settings with a field of their own in :class:`Config` (the rule machinery's)
_FIELDS = ("select", "ignore", "severity")


def _validate(
    data: Mapping[str, Any], where: str, declared: Sequence[Setting[Any]]
) -> dict[str, Any]:
    """Check one layer of settings; return them with values normalised (tuples, dict).

    :param where: the file (or command-line option) the settings come from
    :raise ConfigError: naming ``where``, the key and what is allowed
    """
    by_key = {s.key: s for s in declared}
    out: dict[str, Any] = {}
    for key, value in data.items():
        setting = by_key.get(key)
        if setting is None:
            raise ConfigError(f"unknown key '{key}' (allowed: {', '.join(sorted(by_key))})", where)
        out[key] = setting.normalise(setting, value, where)
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
        tool = parse_toml(raw, path).get("tool", {})
    except ConfigError:
        return b"tool.qemu-lint" in raw
    return isinstance(tool, dict) and "qemu-lint" in tool


def parse_toml(raw: bytes, where: str) -> dict[str, Any]:
    """Parse a TOML file's bytes.

    :raise ConfigError: naming ``where`` when the bytes are not UTF-8, not
        TOML, or nested too deep to parse (tomllib recurses)
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 (invalid byte at offset {e.start})", where) from e
    import tomllib  # a run without a configuration file never parses TOML

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", where) from e
    except RecursionError as e:
        raise ConfigError("invalid TOML: arrays or tables nested too deep", where) from e


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
    """The user's ``qemu-lint/config.toml`` (platformdirs: on Linux
    ``$XDG_CONFIG_HOME/qemu-lint``, ``~/.config/qemu-lint`` by default), if it exists."""
    import platformdirs

    path = os.path.join(platformdirs.user_config_dir("qemu-lint", appauthor=False), "config.toml")
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
            raw = fh.read()
    except FileNotFoundError as e:
        raise ConfigError("no such configuration file", path) from e
    except OSError as e:
        raise ConfigError(f"cannot read configuration: {e.strerror or e}", path) from e
    data = parse_toml(raw, path)
    if os.path.basename(path) == PYPROJECT:
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError("'tool' must be a table", path)
        table = tool.get("qemu-lint", {})
        if not isinstance(table, dict):
            raise ConfigError("'tool.qemu-lint' must be a table", path)
        return table
    return data


def load_config(path: str, declared: Sequence[Setting[Any]]) -> dict[str, Any]:
    """Read and validate a config file; return its settings (normalised values)."""
    return _validate(read_config(path), path, declared)


def parse_override(text: str, declared: Sequence[Setting[Any]]) -> dict[str, Any]:
    """One ``--config 'key = value'`` override (a line of TOML), validated.

    :raise ConfigError: naming the option when it is not TOML or not a valid setting
    """
    where = f"--config {text!r}"
    import tomllib

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise ConfigError(
            f"not a configuration file, nor a valid 'key = value' line: {e}", where
        ) from e
    return _validate(data, where, declared)


# -- resolving ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """Every key's resolved value and where it came from."""

    #: key → value (tuples for lists; a table holds every entry)
    values: Mapping[str, Any]
    #: key → a file path, "command line" or "default"; ``<table>.<entry>`` per entry
    origins: Mapping[str, str]
    #: the configuration file read, if any
    file: str | None
    #: the declarations resolved, in the order ``--show-config`` lists them
    declared: tuple[Setting[Any], ...] = ()


def resolve_settings(
    file: str | None,
    overrides: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
    *,
    declared: Sequence[Setting[Any]],
) -> Settings:
    """Merge the layers: defaults < ``file`` < ``--config 'k = v'`` overrides < flags.

    :param file: the configuration file (already found), or None
    :param overrides: ``key = value`` lines from ``--config``
    :param flags: settings from dedicated options (``select``, ``ignore``),
        already validated, each replacing the lower layers' value when given
    :param declared: every key there is (:data:`qemu_lint.rules.SETTINGS`)
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    tables = {s.key for s in declared if s.is_table}
    for s in declared:
        values[s.key] = dict(s.default) if s.is_table else s.default
        origins[s.key] = DEFAULT
        if s.is_table:
            origins.update((f"{s.key}.{entry}", DEFAULT) for entry in s.default)
    layers: list[tuple[dict[str, Any], str]] = []
    if file is not None:
        layers.append((load_config(file, declared), file))
    layers.extend((parse_override(o, declared), COMMAND_LINE) for o in overrides)
    if flags:
        layers.append((dict(flags), COMMAND_LINE))
    for layer, origin in layers:
        for key, value in layer.items():
            if key in tables:
                for entry, v in value.items():
                    values[key][entry] = v
                    origins[f"{key}.{entry}"] = origin
            else:
                values[key] = value
            origins[key] = origin
    return Settings(values, origins, file, tuple(declared))


def _merged(declared: Sequence[Setting[Any]], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the keys that are not extensions, each extension appended."""
    out = {s.key: values[s.key] for s in declared if s.extends is None}
    for s in declared:
        if s.extends is not None:
            both = tuple(out[s.extends]) + tuple(values[s.key])
            out[s.extends] = tuple(dict.fromkeys(both))
    return out


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
    declared = {s.key: s for s in settings.declared}
    merged = _merged(settings.declared, settings.values)
    severity = declared["severity"].default if "severity" in declared else {}
    return Config(
        root=root,
        only=only,
        frontend=frontend,
        jobs=jobs,
        select=tuple(merged.pop("select", ())),
        ignore=tuple(merged.pop("ignore", ())),
        severity=tuple(
            sorted((r, s) for r, s in merged.pop("severity", {}).items() if s != severity.get(r))
        ),
        strict=strict,
        source=settings.file or "defaults",
        origins=tuple(sorted((k, o) for k, o in settings.origins.items() if o != DEFAULT)),
        values=merged,
        declared=settings.declared,
    )


def default_config(root: str, declared: Sequence[Setting[Any]], **changes: Any) -> Config:
    """A :class:`Config` with every declared setting at its default.

    :param changes: fields of :class:`Config` (``jobs=1``) and, by the name of
        their property (``required_archs=(…)``), values of declared settings
    """
    config = build_config(root, resolve_settings(None, declared=declared))
    names = {f.name for f in dataclasses.fields(Config)}
    keys = {s.key for s in declared}
    values = dict(config.values)
    for name in [n for n in changes if n not in names]:
        key = name.replace("_", "-")
        if key not in keys or key in _FIELDS:
            raise TypeError(f"default_config() got an unexpected keyword argument '{name}'")
        values[key] = changes.pop(name)
    return dataclasses.replace(config, values=values, **changes)


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
    :raise ConfigError: naming the setting's origin, for a setting that names
        something the tree does not have (a required architecture)
    """
    for s in config.declared:
        if s.against_tree is None:
            continue
        if archs is None:
            archs = tree_archs(config.root)
        error = s.against_tree(config.value(s.key), archs)
        if error is not None:
            raise ConfigError(error, config.origin_of(s.key))
