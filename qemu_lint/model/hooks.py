"""Stage 4 (model): the persistence-hook designs that count.

Entry points: :data:`DEFAULT_HOOKS` (the three designs of docs/usage.md), the settings
that choose the designs (:data:`HOOKS`, :data:`EXTEND_HOOKS`) and
:class:`Hook` (one design, resolved against the tree: declared or not, a
function pointer or a flag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Hook:
    """A persistence-hook design: a struct field (function pointer or flag) or a function."""

    spec: str
    struct: str | None
    field: str | None
    function: str | None
    declared: bool
    is_fnptr: bool
    file: str = ""
    line: int = 0
