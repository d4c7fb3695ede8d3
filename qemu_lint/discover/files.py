"""Stage 1 (discover): paths → the QEMU root and the source files to analyse.

Entry points: :func:`find_root` (walk up to the folder holding
``include/hw/core/cpu.h``) and :func:`discover` (the ``.c``/``.h``/``.inc``
files of the folders that matter, minus excludes and build folders).  Files that cannot be
analysed — unreadable, binary, not UTF-8, empty, too large, symlink loops —
are returned as problems naming the file, never as errors: the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qemu_lint.errors import ConfigError, InputError
from qemu_lint.settings import Setting, string_list
from qemu_lint.source import SourceFile

MARKER = os.path.join("include", "hw", "core", "cpu.h")
SCAN_DIRS = ("hw", "include", "target")
SUFFIXES = (".c", ".h", ".c.inc", ".h.inc")
DEFAULT_EXCLUDES = (
    "linux-headers/",
    "include/standard-headers/",
    "roms/",
    "subprojects/",
    "tests/",
    "build/",
)


def _prefixes(setting: Setting[tuple[str, ...]], value: object, where: str) -> tuple[str, ...]:
    """Folder prefixes relative to the root, each ending in ``/``."""
    prefixes = string_list()(setting, value, where)
    for p in prefixes:
        if p.startswith("/") or ".." in p.split("/"):
            raise ConfigError(
                f"'{setting.key}': {p!r} is not valid: must be {setting.allowed}, without '..'",
                where,
            )
    return tuple(p.strip("/") + "/" for p in prefixes)


#: the folders :func:`discover` leaves out
EXCLUDE: Setting[tuple[str, ...]] = Setting(
    "exclude", "a list of folder prefixes relative to the root", DEFAULT_EXCLUDES, _prefixes
)
EXTEND_EXCLUDE: Setting[tuple[str, ...]] = Setting(
    "extend-exclude",
    "a list of folder prefixes relative to the root",
    (),
    _prefixes,
    extends="exclude",
)
MAX_BYTES = 4 * 1024 * 1024
#: a folder holding one of these is a build folder (meson/ninja), never source
BUILD_MARKERS = ("meson-private", "build.ninja")


#: What says a file is unchanged since an earlier run without reading it:
#: (size, mtime in ns, ctime in ns, inode), as git's index and mypy's cache do.
StatKey = tuple[int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


def find_root(path: str) -> str:
    """The QEMU source root containing ``path``.

    :raise InputError: when ``path`` does not exist or no parent holds
        ``include/hw/core/cpu.h``
    """
    if not os.path.exists(path):
        raise InputError("no such file or directory", path)
    cur = os.path.abspath(path)
    if not os.path.isdir(cur):
        cur = os.path.dirname(cur)
    while True:
        if os.path.isfile(os.path.join(cur, MARKER)):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            raise InputError(
                f"not a QEMU source tree: no {MARKER} in it or any parent folder", path
            )
        cur = parent


def is_build_dir(path: str) -> bool:
    """A QEMU build folder (``meson-private/`` or ``build.ninja`` in it), wherever it lies."""
    return any(os.path.exists(os.path.join(path, m)) for m in BUILD_MARKERS)


def excluded(rel: str, excludes: Sequence[str]) -> bool:
    rel_dir = rel + "/"
    for ex in excludes:
        ex = ex.strip("/") + "/"
        if rel_dir.startswith(ex):
            return True
        # build folders anywhere at the top: build/, build-foo/
        if ex == "build/" and rel_dir.split("/", 1)[0].startswith("build"):
            return True
    return False


def discover(
    root: str,
    excludes: Sequence[str] = DEFAULT_EXCLUDES,
    max_bytes: int | None = None,
    contents: dict[str, bytes] | None = None,
    known: Mapping[str, tuple[StatKey, str | None]] | None = None,
    stats: dict[str, StatKey] | None = None,
) -> tuple[list[SourceFile], list[Skipped]]:
    """List the files to analyse under ``root``.

    :param max_bytes: size above which a file is skipped (default: :data:`MAX_BYTES`,
        read at call time so that callers and tests can lower it)
    :param contents: if given, filled with each listed file's bytes (they are
        read anyway to check them), so that nothing is read twice
    :param known: what an earlier run saw: path → (its :func:`stat_key`, the
        reason it was skipped or None).  A file whose stat key is unchanged
        is not read again: it is listed (without an entry in ``contents``)
        or skipped for the same reason as before
    :param stats: if given, filled with the stat key of every file listed or
        skipped after a successful stat
    :return: the files (sorted by path) and the files skipped with a reason
    :raise InputError: when ``root`` itself cannot be listed
    """
    if max_bytes is None:
        max_bytes = MAX_BYTES
    files: list[SourceFile] = []
    skipped: list[Skipped] = []

    def unreadable_dir(e: OSError) -> None:
        # os.walk drops folders it cannot list unless told; say which one.
        where = os.path.relpath(e.filename or root, root).replace(os.sep, "/")
        skipped.append(Skipped(where, f"unreadable folder: {e.strerror or e}"))

    try:
        names = sorted(os.listdir(root))
    except OSError as e:
        raise InputError(f"cannot list the source root: {e.strerror or e}", root) from e
    tops: list[str] = []
    for name in names:
        p = os.path.join(root, name)
        if name.endswith(SUFFIXES) and os.path.isfile(p):
            tops.append(name)

    def add(rel: str) -> None:
        _add(root, rel, files, skipped, max_bytes, contents, known, stats)

    for rel in tops:
        add(rel)
    for d in SCAN_DIRS:
        top = os.path.join(root, d)
        if not os.path.isdir(top):
            continue
        seen_dirs: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True, onerror=unreadable_dir):
            st = os.stat(dirpath)
            ident = (st.st_dev, st.st_ino)
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            if ident in seen_dirs:
                skipped.append(Skipped(rel_dir, "symlink loop: folder already visited"))
                dirnames[:] = []
                continue
            seen_dirs.add(ident)
            dirnames[:] = sorted(
                dn
                for dn in dirnames
                if not excluded(f"{rel_dir}/{dn}", excludes)
                and not is_build_dir(os.path.join(dirpath, dn))
            )
            for fn in sorted(filenames):
                if fn.endswith(SUFFIXES):
                    rel = f"{rel_dir}/{fn}"
                    if not excluded(rel, excludes):
                        add(rel)
    files.sort(key=lambda f: f.path)
    return files, skipped


def _add(
    root: str,
    rel: str,
    files: list[SourceFile],
    skipped: list[Skipped],
    max_bytes: int,
    contents: dict[str, bytes] | None,
    known: Mapping[str, tuple[StatKey, str | None]] | None,
    stats: dict[str, StatKey] | None,
) -> None:
    p = os.path.join(root, rel)
    try:
        st = os.stat(p)
    except OSError as e:  # dangling link, loop (ELOOP), permission
        skipped.append(Skipped(rel, f"cannot stat: {e.strerror or e}"))
        return
    key = stat_key(st)
    if stats is not None:
        stats[rel] = key
    if known is not None:
        seen = known.get(rel)
        if seen is not None and seen[0] == key:
            if seen[1] is None:
                files.append(SourceFile(rel, p, st.st_size))
            else:
                skipped.append(Skipped(rel, seen[1]))
            return
    if st.st_size == 0:
        skipped.append(Skipped(rel, "empty file"))
        return
    if st.st_size > max_bytes:
        skipped.append(Skipped(rel, f"too large ({st.st_size} bytes > {max_bytes})"))
        return
    # Check the content here, not only when a file is parsed: a run may parse
    # only the files that matter, and every bad file must still be reported.
    data = load(SourceFile(rel, p, st.st_size))
    if isinstance(data, str):
        skipped.append(Skipped(rel, data))
        return
    if contents is not None:
        contents[rel] = data
    files.append(SourceFile(rel, p, st.st_size))


def load(sf: SourceFile) -> bytes | str:
    """Read a file; return its bytes, or a one-line reason it cannot be analysed."""
    try:
        with open(sf.abspath, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    if b"\0" in data[:8192]:
        return "binary file (NUL bytes)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 (invalid byte at offset {e.start})"
    return data
