"""Stage 5 (rules): the rule registry.

``ALL_RULES`` is an explicit tuple (no import-side-effect registration); each
module in this package holds one rule whose id is its file name with ``-``.
"""

from __future__ import annotations

from qemu_lint.rule import Rule
from qemu_lint.rules.acpi_cpu_persistence import RULE as ACPI_CPU_PERSISTENCE
from qemu_lint.rules.persistence_hook_required import RULE as PERSISTENCE_HOOK_REQUIRED
from qemu_lint.rules.unused_suppression import RULE as UNUSED_SUPPRESSION

ALL_RULES: tuple[Rule, ...] = (
    ACPI_CPU_PERSISTENCE,
    PERSISTENCE_HOOK_REQUIRED,
    UNUSED_SUPPRESSION,
)


def by_id(rule_id: str) -> Rule | None:
    return next((r for r in ALL_RULES if r.id == rule_id), None)
