"""Stage 1 (discover): paths → the QEMU root and the source files to analyse.

Entry points: :func:`find_root` (walk up to the folder holding
``include/hw/core/cpu.h``) and :func:`discover` (the ``.c``/``.h``/``.inc``
files of the folders that matter, minus excludes and build folders).  Files that cannot be
analysed — unreadable, binary, empty, too large, not regular files, symlinks
out of the root, symlink loops, names that are not UTF-8 —
are returned as problems naming the file, never as errors: the run goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
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
        if any(c in p for c in "*?["):
            raise ConfigError(
                f"'{setting.key}': {p!r} is a glob, which would match nothing: "
                f"must be {setting.allowed} (such as 'hw/' or 'hw/acpi/')",
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

    @property
    def is_needed(self) -> bool:
        """Could the file hold what the analysis looks for?  An empty file, a
        link to nowhere or out of the tree, a loop, a FIFO or device cannot;
        a file that could not be read, or was too large or binary, may: the
        run cannot then say the tree is clean (docs/reliability.md)."""
        harmless = (
            "empty file",
            "symlink",
            "not a regular file",
            "cannot stat: No such file",
            "cannot stat: Too many levels",
        )
        return not self.reason.startswith(harmless)


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
    real_root = os.path.realpath(root)
    for d in SCAN_DIRS:
        if os.path.isdir(os.path.join(root, d)):
            _walk(root, real_root, d, excludes, add, skipped)
    files.sort(key=lambda f: f.path)
    return files, skipped


def _inside(real_root: str, path: str) -> bool:
    """Does ``path``, symlinks resolved, lie inside the (resolved) root?"""
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def printable(rel: str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 as ``\\xNN``."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk(
    root: str,
    real_root: str,
    top: str,
    excludes: Sequence[str],
    add: Callable[[str], None],
    skipped: list[Skipped],
) -> None:
    """List the folder ``top`` (relative to ``root``) depth first, without
    recursion (any nesting depth), never following a symlink out of the root
    and never visiting a folder twice."""
    seen: set[tuple[int, int]] = set()
    todo = [top]
    while todo:
        rel_dir = todo.pop()
        path = os.path.join(root, rel_dir)
        try:
            st = os.stat(path)
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as e:
            skipped.append(Skipped(printable(rel_dir), f"unreadable folder: {e.strerror or e}"))
            continue
        if (st.st_dev, st.st_ino) in seen:
            skipped.append(Skipped(printable(rel_dir), "symlink loop: folder already visited"))
            continue
        seen.add((st.st_dev, st.st_ino))
        subdirs: list[str] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}"
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if excluded(rel, excludes) or is_build_dir(entry.path):
                    continue
                if entry.is_symlink() and not _inside(real_root, entry.path):
                    skipped.append(Skipped(printable(rel), "symlink to a folder outside the tree"))
                    continue
                subdirs.append(rel)
            elif entry.name.endswith(SUFFIXES) and not excluded(rel, excludes):
                add(rel)
        todo.extend(reversed(subdirs))


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
    shown = printable(rel)
    if shown != rel:
        skipped.append(Skipped(shown, "file name is not UTF-8"))
        return
    if os.path.islink(p) and not _inside(os.path.realpath(root), p):
        skipped.append(Skipped(rel, "symlink to a file outside the tree"))
        return
    try:
        st = os.stat(p)
    except OSError as e:  # dangling link, loop (ELOOP), permission
        skipped.append(Skipped(rel, f"cannot stat: {e.strerror or e}"))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO, a device: never opened
        skipped.append(Skipped(rel, "not a regular file"))
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
    # Not decoded: tree-sitter parses bytes, and a stray Latin-1 byte in a
    # comment is no reason to leave a file out.
    return data
