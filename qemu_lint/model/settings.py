"""Stage 4 (model): the model's configuration keys.

Entry points: :data:`DEFAULT_HOOKS` (the three persistence-hook designs of
docs/usage.md), the settings that choose the designs (:data:`HOOKS`,
:data:`EXTEND_HOOKS`) and those of the ACPI facts (:data:`PRESENCE_BIT`,
:data:`PRESENCE_FIELDS`).  Declared here, apart from the modules that read
them, so that declaring the settings (``qemu_lint.rules.SETTINGS``, every
run's start-up) and the rules' defaults import nothing else of the model: a
run whose diagnostics come from the cache's record never loads the model's
code (docs/performance.md, "Design of a warm run").
"""

from __future__ import annotations

import re
from typing import Any

from qemu_lint.settings import Setting, string_list

DEFAULT_HOOKS: tuple[str, ...] = (
    "CPUClass::cpu_persistent_status",
    "CPUState::acpi_persistent",
    "CPUHotplugState::always_present_cpus",
)

_HOOK = re.compile(r"[A-Za-z_]\w*(::[A-Za-z_]\w*)?")

#: the persistence-hook designs that count (shared by the model and the rules)
HOOKS: Setting[tuple[str, ...]] = Setting(
    "hooks",
    "a non-empty list of strings (Struct::field or a function name)",
    DEFAULT_HOOKS,
    string_list(_HOOK, is_non_empty=True),
)
EXTEND_HOOKS: Setting[tuple[str, ...]] = Setting(
    "extend-hooks",
    "a list of strings (Struct::field or a function name)",
    (),
    string_list(_HOOK),
    extends="hooks",
)


def _optional_bit(setting: Setting[int | None], value: Any, where: str) -> int | None:
    """An integer 0..31; unset (None) lets the model derive the bit from the AML."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 32:
        raise setting.invalid(value, where)
    return value


#: the bit of the flags register that is ``_STA.Present``, overriding the one
#: derived from the AML (None: derive it); the settings of
#: :func:`~qemu_lint.model.acpi.build_acpi`
PRESENCE_BIT: Setting[int | None] = Setting("presence-bit", "an integer 0..31", None, _optional_bit)
#: AcpiCpuStatus fields that count as feeding _STA.Present besides those read
#: off the flags-register read handler
PRESENCE_FIELDS: Setting[tuple[str, ...]] = Setting(
    "presence-fields",
    "a list of AcpiCpuStatus field names",
    (),
    string_list(re.compile(r"[A-Za-z_]\w*")),
)
