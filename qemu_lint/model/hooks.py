"""Stage 4 (model): the persistence-hook designs that count.

Entry points: :data:`DEFAULT_HOOKS` (the three designs of docs/usage.md) and
:class:`Hook` (one design, resolved against the tree: declared or not, a
function pointer or a flag).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOOKS: tuple[str, ...] = (
    "CPUClass::cpu_persistent_status",
    "CPUState::acpi_persistent",
    "CPUHotplugState::always_present_cpus",
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
