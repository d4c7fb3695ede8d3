"""Stage 7 (reporters): ``check --show-config``, the resolved settings as TOML.

Entry point: :func:`render`.  One ``key = value`` line per setting (a table,
such as ``severity``, as one dotted key per entry), each followed by a comment
naming where the value came from: the configuration file's path, ``command
line`` or ``default``.  The output is valid TOML: a copy of it is a configuration file
that pins every setting.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from qemu_lint.settings import Settings


def _comment(text: str) -> str:
    """Text safe in a TOML comment: one line, no control characters."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def render(settings: Settings, out: TextIO, root: str | None) -> None:
    """Write every setting, its value and its origin, in declaration order (a
    table as one dotted line per entry).

    :param root: the QEMU source root of the paths, if they are in one
    """
    out.write(f"# configuration file: {_comment(settings.file or 'none')}\n")
    out.write(f"# QEMU root: {_comment(root or 'none')}\n")
    for setting in settings.declared:
        key = setting.key
        if setting.is_table:
            for entry in setting.default:
                origin = settings.origins.get(f"{key}.{entry}", "default")
                value = _toml(settings.values[key][entry])
                out.write(f"{key}.{entry} = {value}  # {_comment(origin)}\n")
            continue
        origin = settings.origins.get(key, "default")
        if settings.values[key] is None:  # unset: TOML has no null, say so in a comment
            out.write(f"# {key} is unset  # {_comment(origin)}\n")
            continue
        value = _toml(settings.values[key])
        out.write(f"{key} = {value}  # {_comment(origin)}\n")
