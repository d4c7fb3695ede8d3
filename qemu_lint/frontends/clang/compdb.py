"""Stage 2 (front-ends), libclang: the compilation database, flags and plans.

Entry points: :func:`prepare` (load libclang and the compilation database, or
say once that flags will be derived), :func:`load_compile_db`
(``compile_commands.json`` → one :class:`Command` per file) and
:class:`Planner` (which translation unit and which flags each file is parsed
with: its compile command, or flags derived from the tree layout).

Headers and ``.c.inc`` files are analysed through a translation unit that
includes them: a ``.c`` file of the tree that ``#include``\\ s them directly
(preferring the same folder, then the same architecture), parsed with its own
flags, keeping only the declarations located in the header.  When no such file
includes it (or its ``#include`` is compiled out), the header is parsed as the
main file of a small unit ``#include "qemu/osdep.h"`` + the header, with the
flags of a file of the same folder or architecture, since every QEMU ``.c``
file starts with osdep.h.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from qemu_lint.errors import InputError
from qemu_lint.frontends.clang import loader
from qemu_lint.source import arch_of, discover_archs

log = logging.getLogger(__name__)

_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.M)
#: flags kept from a compile command (with their argument when separate)
_FLAGS_WITH_ARG = ("-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros", "-D", "-U")
_PAIRED = frozenset(_FLAGS_WITH_ARG)
#: the flags that may also be written with their argument joined (``-Idir``)
_JOINED = ("-I", "-isystem", "-iquote", "-idirafter", "-D", "-U")


@dataclass(frozen=True, slots=True)
class Command:
    """One compile command kept for a file: the flags libclang needs."""

    file: str  # root-relative path
    directory: str
    flags: tuple[str, ...]


#: what makes ``str.split`` differ from ``shlex.split`` on an ASCII command:
#: quotes, backslashes, and the separators ``str.split`` knows and shlex not
_NOT_PLAIN = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


#: the separators ``str.split`` and ``\s`` know and shlex not
_NOT_SPACE = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")
#: a shell word made of plain characters and single-quoted strings
_WORD = re.compile(r"(?:[^\s'\"\\]+|'[^']*')+", re.A)


def split_command(command: str) -> list[str]:
    """``shlex.split(command)``; a command with no quote or backslash (most of
    QEMU's) is split by ``str.split``, which gives the same words: shlex took
    4 of the 4.6 s of a warm ``--frontend clang`` run of 10.0.13.  One whose
    only quotes are single quotes (QEMU's other commands quote
    ``'-DCONFIG_TARGET="…"'``) is split by a regular expression: inside
    single quotes every character is itself, outside them none is special."""
    if command.isascii():
        if _NOT_PLAIN.isdisjoint(command):
            return command.split()
        if _NOT_SPACE.isdisjoint(command) and not _WORD.sub("", command).strip():
            return [w.replace("'", "") for w in _WORD.findall(command)]
    return shlex.split(command)


def _keep_flags(argv: Sequence[str]) -> tuple[str, ...]:
    """The preprocessor and language flags of a compiler command line.

    Only ``-I``/``-isystem``/``-iquote``/``-idirafter``/``-include``/
    ``-imacros``/``-D``/``-U``, ``-std=`` and ``-m32``/``-m64`` are kept: the
    rest (warnings, optimisation, code generation, dependency files, gcc-only
    options libclang would reject) does not change what the code means.
    """
    out: list[str] = []
    i, n = 0, len(argv)
    while i < n:
        a = argv[i]
        if a in _PAIRED:
            if i + 1 < n:
                out += [a, argv[i + 1]]
                i += 1
        elif a.startswith(_JOINED) or a.startswith("-std=") or a in ("-m32", "-m64"):
            out.append(a)
        i += 1
    return tuple(out)


def prepare(build_dir: str | None, root: str) -> dict[str, Command] | None:
    """Load libclang and the compilation database, or say once that flags
    will be derived.

    :param build_dir: the folder of ``compile_commands.json`` (``-p``), or None
    :return: the compile commands by file, or None without a build folder
    :raise UsageError: when libclang cannot be loaded
    :raise InputError: when ``build_dir`` has no readable ``compile_commands.json``
    """
    loader.load_cindex()
    if loader.builtin_include_dir() is None:
        log.warning(
            "clang: no system compiler found for the builtin headers (stddef.h, stdarg.h…); "
            "using qemu-lint's minimal stand-ins"
        )
    if build_dir is None:
        log.warning(
            "clang: no compilation database (-p BUILD_DIR); flags are derived from the "
            "tree layout and generated headers are missing (counted as parse errors)"
        )
        return None
    return load_compile_db(build_dir, root)


def load_compile_db(build_dir: str, root: str) -> dict[str, Command]:
    """Read ``BUILD_DIR/compile_commands.json``: one command per file of the tree.

    QEMU compiles many files once per target.  The entry kept for a file is
    the first, in this order: system emulation before user mode (entries
    defining ``CONFIG_USER_ONLY`` come last), then by output path.

    :raise InputError: when the file is missing, unreadable or not a list of
        compile commands
    """
    path = os.path.join(build_dir, "compile_commands.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError as e:
        raise InputError(
            "no compile_commands.json (QEMU's configure writes it into the build folder)", path
        ) from e
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path) from e
    except ValueError as e:
        raise InputError(f"invalid JSON: {e}", path) from e
    if not isinstance(data, list):
        raise InputError("not a list of compile commands", path)
    real_root = os.path.realpath(root)
    best: dict[str, tuple[tuple[bool, str], Command]] = {}
    for n, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise InputError(f"entry {n}: no 'file'", path)
        directory = str(entry.get("directory") or build_dir)
        if isinstance(entry.get("arguments"), list):
            argv = [str(a) for a in entry["arguments"]]
        elif isinstance(entry.get("command"), str):
            try:
                argv = split_command(entry["command"])
            except ValueError as e:
                raise InputError(f"entry {n}: bad 'command': {e}", path) from e
        else:
            raise InputError(f"entry {n}: no 'arguments' or 'command'", path)
        src = os.path.realpath(os.path.join(directory, entry["file"]))
        rel = os.path.relpath(src, real_root)
        if rel.startswith(".."):
            continue
        rel = rel.replace(os.sep, "/")
        flags = _keep_flags(argv[1:])
        output = str(entry.get("output") or "")
        rank = ("-DCONFIG_USER_ONLY" in flags, output)
        cmd = Command(rel, directory, flags)
        if rel not in best or rank < best[rel][0]:
            best[rel] = (rank, cmd)
    return {k: v[1] for k, v in best.items()}


@dataclass(frozen=True, slots=True)
class Plan:
    """How to get the facts of ``path``: parse ``main`` (or a small unit
    including ``path`` when ``main`` is empty) with ``args`` in ``directory``."""

    path: str  # root-relative, the file whose facts are wanted
    abspath: str
    main: str  # absolute path of the main file, "" for the osdep.h + header unit
    args: tuple[str, ...]
    directory: str
    osdep: str  # absolute path of qemu/osdep.h for the small unit, or ""
    #: "db" (its own compile command), "includer" (a unit including it),
    #: or "derived" (flags derived from the tree layout)
    how: str

    def key(self) -> str:
        """What the facts depend on besides the file's bytes and its includes."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.main, self.directory, self.osdep, self.how, *self.args):
            h.update(part.encode() + b"\0")
        return h.hexdigest()


def _host_arch() -> str:
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def derived_flags(root: str, path: str, archs: frozenset[str]) -> tuple[str, ...]:
    """Flags for a file without a compile command, from QEMU's layout.

    ``-I include -I . -I <its folder>``, the target's folder and
    ``COMPILING_PER_TARGET``/``NEED_CPU_H`` for code of ``target/<arch>/`` and
    ``hw/<arch>/``, the host's ``host/include`` folders, ``linux-headers``,
    and the ``CONFIG_LINUX``/``CONFIG_POSIX``/``CONFIG_TCG``/``_GNU_SOURCE``
    a Linux build with the default accelerator defines; ``glib.h`` falls back
    to a stand-in (:data:`STUBS`).  Generated headers (``config-host.h``,
    qapi, trace) do not exist without a build: clang reports them missing
    and goes on.
    """
    out = ["-std=gnu11", "-I", os.path.join(root, "include"), "-I", root]
    folder = os.path.dirname(path)
    if folder:
        out += ["-I", os.path.join(root, folder)]
    arch = arch_of(path, archs)
    if arch is not None:
        out += ["-I", os.path.join(root, "target", arch)]
        out += ["-DCOMPILING_PER_TARGET", "-DNEED_CPU_H"]
    host = _host_arch()
    for d in (f"host/include/{host}", "host/include/generic", "linux-headers"):
        if os.path.isdir(os.path.join(root, d)):
            out += ["-I", os.path.join(root, d)]
    out += ["-DCONFIG_LINUX", "-DCONFIG_POSIX", "-DCONFIG_TCG", "-D_GNU_SOURCE"]
    out += ["-D_FILE_OFFSET_BITS=64"]
    return tuple(out)


def _common_args() -> tuple[str, ...]:
    args = ["-xc", "-ferror-limit=0", "-w", "-fno-spell-checking"]
    inc = loader.builtin_include_dir()
    if inc is not None:
        args += ["-isystem", inc]
    args += ["-idirafter", loader.STUBS]
    return tuple(args)


class Planner:
    """Decides how each file of a tree is parsed (see the module docstring).

    :param root: the QEMU root
    :param paths: every discovered file (root-relative)
    :param read: the bytes of a discovered file, by index into ``paths``
    :param db: the compile commands by file, or None without a build folder
    """

    def __init__(
        self,
        root: str,
        paths: Sequence[str],
        read: Callable[[int], bytes],
        db: Mapping[str, Command] | None,
    ) -> None:
        self.root = root
        self.paths = list(paths)
        self.read = read
        self.db = db
        self.archs = frozenset(discover_archs(self.paths))
        self._includers: dict[str, list[str]] | None = None
        self._pos = {p: i for i, p in enumerate(self.paths)}

    def _flags(self, path: str) -> tuple[tuple[str, ...], str, str]:
        """Flags, working folder and kind for a .c file (its command, else derived)."""
        if self.db is not None and path in self.db:
            c = self.db[path]
            return c.flags, c.directory, "db"
        return derived_flags(self.root, path, self.archs), self.root, "derived"

    def _units(self) -> list[str]:
        if self.db is not None:
            return sorted(p for p in self.db if p in self._pos)
        return [p for p in self.paths if p.endswith(".c")]

    def includers(self) -> dict[str, list[str]]:
        """header path → .c files that ``#include "…"`` it directly (textual, lazily)."""
        if self._includers is None:
            known = set(self.paths)
            out: dict[str, list[str]] = {}
            for unit in self._units():
                data = self.read(self._pos[unit])
                if b"#include" not in data:
                    continue
                here = os.path.dirname(unit)
                for m in _INCLUDE.finditer(data):
                    name = m.group(1).decode("utf-8", "replace")
                    for cand in (
                        os.path.normpath(os.path.join(here, name)),
                        "include/" + name,
                        name,
                    ):
                        cand = cand.replace(os.sep, "/")
                        if cand in known:
                            out.setdefault(cand, []).append(unit)
                            break
            self._includers = out
        return self._includers

    def _rank(self, header: str) -> Callable[[str], tuple[int, int, str]]:
        folder = os.path.dirname(header)
        arch = arch_of(header, self.archs) or arch_of(
            header.replace("include/hw/", "hw/", 1), self.archs
        )

        def key(unit: str) -> tuple[int, int, str]:
            same_arch = arch is not None and arch_of(unit, self.archs) == arch
            return (0 if os.path.dirname(unit) == folder else 1, 0 if same_arch else 1, unit)

        return key

    def plan(self, path: str) -> Plan:
        abspath = os.path.join(self.root, path)
        common = _common_args()
        if path.endswith(".c"):
            flags, directory, how = self._flags(path)
            return Plan(path, abspath, abspath, common + flags, directory, "", how)
        rank = self._rank(path)
        units = sorted(self.includers().get(path, []), key=rank)
        if units:
            unit = units[0]
            flags, directory, _ = self._flags(unit)
            return Plan(
                path,
                abspath,
                os.path.join(self.root, unit),
                common + flags,
                directory,
                self._osdep(path),
                "includer",
            )
        return self._standalone(path, rank)

    def _osdep(self, path: str) -> str:
        osdep = os.path.join(self.root, "include", "qemu", "osdep.h")
        if path == "include/qemu/osdep.h" or not os.path.isfile(osdep):
            return ""
        return osdep

    def _standalone(self, path: str, rank: Callable[[str], tuple[int, int, str]]) -> Plan:
        """A header no file includes directly: osdep.h + the header, with the
        flags of the nearest unit (same folder, same architecture), else derived."""
        abspath = os.path.join(self.root, path)
        units = self._units()
        if self.db is not None and units:
            unit = min(units, key=rank)
            flags, directory, _ = self._flags(unit)
            how = "includer"
        else:
            flags, directory, how = (
                derived_flags(self.root, path, self.archs),
                self.root,
                "derived",
            )
        return Plan(path, abspath, "", _common_args() + flags, directory, self._osdep(path), how)
