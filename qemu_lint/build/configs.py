"""Build stage, first step: the ``configs/`` folder of a QEMU tree.

Reads ``configs/targets/<target>-softmmu.mak`` (``TARGET_ARCH``,
``TARGET_BASE_ARCH`` and the other ``KEY=value`` lines, as meson's
``keyval.load`` does) and ``configs/devices/<target>-softmmu/default.mak``
(``CONFIG_X=y|n`` lines and ``include`` lines, read the way
``scripts/minikconf.py`` reads them).  Entry points: :func:`parse_target_mak`
and :func:`load_device_config`.  Pure: files come through a ``read`` callback.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: reads a root-relative path; ``None`` when the file does not exist
Reader = Callable[[str], "bytes | None"]


@dataclass(frozen=True, slots=True)
class Location:
    """A line of a tree file (root-relative path, 1-based line)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A construct not understood; the files it governs fall back to the folder rule."""

    where: Location
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}: {self.text}"


@dataclass(frozen=True, slots=True)
class TargetMak:
    """``configs/targets/<name>.mak``: the target's ``TARGET_*`` keys."""

    name: str
    keys: Mapping[str, str]
    problems: tuple[Unparsed, ...] = ()

    @property
    def arch(self) -> str:
        """``TARGET_ARCH`` (``x86_64``, ``aarch64``, …)."""
        return self.keys.get("TARGET_ARCH", self.name.split("-")[0])

    @property
    def base_arch(self) -> str:
        """``TARGET_BASE_ARCH``, defaulting to ``TARGET_ARCH`` as meson.build does."""
        return self.keys.get("TARGET_BASE_ARCH", self.arch)


@dataclass(frozen=True, slots=True)
class Assignment:
    """``CONFIG_<symbol>=y|n`` from a device ``.mak`` file."""

    symbol: str
    value: bool
    where: Location


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """The default device configuration of one target, includes resolved."""

    target: str
    assignments: tuple[Assignment, ...]
    files: tuple[str, ...]
    problems: tuple[Unparsed, ...] = ()


def decode(data: bytes) -> str:
    """Tree text as str; undecodable bytes survive as surrogates."""
    return data.decode("utf-8", "surrogateescape")


def parse_target_mak(name: str, path: str, text: str) -> TargetMak:
    """Parse a ``configs/targets`` file like meson's ``keyval.load``.

    :param name: the target, ``x86_64-softmmu``
    :param path: its root-relative path, for problems
    :param text: its content
    :return: the keys, stripped
    """
    keys: dict[str, str] = {}
    problems: list[Unparsed] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq or not key.strip():
            problems.append(Unparsed(Location(path, no), raw, "not a KEY=value line"))
            continue
        keys[key.strip()] = value.strip()
    return TargetMak(name, keys, tuple(problems))


def _parse_device_line(path: str, no: int, raw: str) -> tuple[str, str | Assignment | Unparsed]:
    line = raw.split("#", 1)[0].strip()
    if not line:
        return "skip", ""
    word = line.split(None, 1)
    if word[0] in ("include", "source") and len(word) == 2:
        return "include", word[1].strip()
    key, eq, value = (part.strip() for part in line.partition("="))
    if eq and key.startswith("CONFIG_") and key[7:].replace("_", "").isalnum():
        if value in ("y", "n"):
            return "assign", Assignment(key[7:], value == "y", Location(path, no))
    return "bad", Unparsed(Location(path, no), raw, "not CONFIG_X=y|n nor include")


def load_device_config(target: str, read: Reader, config: str = "default") -> DeviceConfig:
    """Read ``configs/devices/<target>/<config>.mak`` and its includes.

    Includes are relative to the including file and read once, as minikconf
    does (a second include of the same file is skipped).

    :param target: ``x86_64-softmmu``
    :param read: the tree reader
    :param config: meson's ``default`` external property
    :return: the assignments in file order
    """
    assignments: list[Assignment] = []
    problems: list[Unparsed] = []
    seen: list[str] = []

    def visit(path: str, where: Location | None) -> None:
        if path in seen:
            return
        data = read(path)
        if data is None:
            problems.append(
                Unparsed(where or Location(path, 0), path, "device config file not found")
            )
            return
        seen.append(path)
        for no, raw in enumerate(decode(data).splitlines(), 1):
            kind, value = _parse_device_line(path, no, raw)
            if kind == "include" and isinstance(value, str):
                visit(
                    posixpath.normpath(posixpath.join(posixpath.dirname(path), value)),
                    Location(path, no),
                )
            elif isinstance(value, Assignment):
                assignments.append(value)
            elif isinstance(value, Unparsed):
                problems.append(value)

    visit(f"configs/devices/{target}/{config}.mak", None)
    return DeviceConfig(target, tuple(assignments), tuple(seen), tuple(problems))
