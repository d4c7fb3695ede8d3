"""Stage 5 (rules): the rule registry, and every configuration key.

``ALL_RULES`` is an explicit tuple (no import-side-effect registration); each
module in this package holds one rule whose id is its file name with ``-``.
``SETTINGS`` collects the keys each stage and rule declares (discovery's
``exclude``, the model's ``hooks``, the rule machinery's ``select``…, each
rule's options), in the order ``--show-config`` lists them; it is what callers
pass to :func:`qemu_lint.settings.resolve_settings`.
"""

from __future__ import annotations

import os
from typing import Any

from qemu_lint.discover.files import EXCLUDE, EXTEND_EXCLUDE
from qemu_lint.errors import ConfigError
from qemu_lint.model.settings import EXTEND_HOOKS, HOOKS, PRESENCE_BIT, PRESENCE_FIELDS
from qemu_lint.rule import Rule
from qemu_lint.rules.acpi_cpu_kept_alive import RULE as ACPI_CPU_KEPT_ALIVE
from qemu_lint.rules.acpi_cpu_persistence import RULE as ACPI_CPU_PERSISTENCE
from qemu_lint.rules.persistence_hook_required import RULE as PERSISTENCE_HOOK_REQUIRED
from qemu_lint.rules.unused_suppression import RULE as UNUSED_SUPPRESSION
from qemu_lint.settings import Config, Setting, string_list
from qemu_lint.settings import default_config as _default_config

ALL_RULES: tuple[Rule, ...] = (
    ACPI_CPU_PERSISTENCE,
    ACPI_CPU_KEPT_ALIVE,
    PERSISTENCE_HOOK_REQUIRED,
    UNUSED_SUPPRESSION,
)

SEVERITIES = ("error", "warning", "note")
_IDS = tuple(r.id for r in ALL_RULES)


def by_id(rule_id: str) -> Rule | None:
    return next((r for r in ALL_RULES if r.id == rule_id), None)


def _rule_ids(setting: Setting[tuple[str, ...]], value: Any, where: str) -> tuple[str, ...]:
    rules = string_list()(setting, value, where)
    for r in rules:
        if r not in _IDS:
            raise ConfigError(
                f"'{setting.key}': unknown rule '{r}' (rules: {', '.join(_IDS)})", where
            )
    return rules


def _severities(setting: Setting[dict[str, str]], value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise setting.invalid(value, where)
    table: dict[str, str] = {}
    for rule, level in value.items():
        if rule not in _IDS:
            raise ConfigError(
                f"'{setting.key}': unknown rule '{rule}' (rules: {', '.join(_IDS)})", where
            )
        if level not in SEVERITIES:
            raise ConfigError(
                f"'{setting.key}.{rule}' must be one of {', '.join(SEVERITIES)}, not {level!r}",
                where,
            )
        table[rule] = level
    return table


SELECT: Setting[tuple[str, ...]] = Setting("select", "a list of rule ids", (), _rule_ids)
IGNORE: Setting[tuple[str, ...]] = Setting("ignore", "a list of rule ids", (), _rule_ids)


def _baseline_path(setting: Setting[str], value: Any, where: str) -> str:
    """A baseline file path; relative to the configuration file that names it."""
    if not isinstance(value, str) or not value:
        raise setting.invalid(value, where)
    if os.path.isfile(where):
        return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(where)), value))
    return os.path.abspath(value)


#: the baseline file ``check`` reads when ``--baseline`` names none (CI jobs)
BASELINE: Setting[str] = Setting(
    "baseline", "a path to a baseline file (relative to the configuration file)", "", _baseline_path
)
#: every rule's severity, by rule id (a table: one origin per rule)
SEVERITY: Setting[dict[str, str]] = Setting(
    "severity",
    'a table of rule id = "error" | "warning" | "note"',
    {r.id: r.severity.value for r in ALL_RULES},
    _severities,
    is_table=True,
)

#: every configuration key, declared by the stage or rule that reads it
SETTINGS: tuple[Setting[Any], ...] = (
    HOOKS,
    EXTEND_HOOKS,
    PRESENCE_BIT,
    PRESENCE_FIELDS,
    SEVERITY,
    *(s for r in ALL_RULES for s in r.options.settings),
    EXCLUDE,
    EXTEND_EXCLUDE,
    SELECT,
    IGNORE,
    BASELINE,
)
KEYS: tuple[str, ...] = tuple(s.key for s in SETTINGS)


def default_config(root: str, **changes: Any) -> Config:
    """The configuration with every setting at its default (see
    :func:`qemu_lint.settings.default_config`)."""
    return _default_config(root, SETTINGS, **changes)
