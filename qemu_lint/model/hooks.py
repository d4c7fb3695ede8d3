"""Stage 4 (model): a persistence-hook design, resolved against the tree.

Entry point: :class:`Hook` (one design: declared or not, a function pointer
or a flag).  The designs that count are chosen by the settings of
:mod:`qemu_lint.model.settings` (``DEFAULT_HOOKS``, ``hooks``, ``extend-hooks``).
"""

from __future__ import annotations

from dataclasses import dataclass


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
