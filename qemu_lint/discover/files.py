"""Stage 1 (discover): paths → the QEMU root and the source files to analyse.

Entry points: :func:`find_root` (walk up to the folder holding
``include/hw/core/cpu.h``) and :func:`discover` (the ``.c``/``.h``/``.inc``
files of the folders that matter, minus what the ``exclude`` patterns and
the tree's ``.gitignore`` files leave out (both gitignore patterns, read by
pathspec) and build folders).  Files that cannot be
analysed — unreadable, binary, empty, too large, not regular files, symlinks
out of the root, symlink loops, names that are not UTF-8 —
are returned as problems naming the file, never as errors: the run goes on.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pathspec

from qemu_lint.errors import ConfigError, InputError
from qemu_lint.settings import Setting, string_list
from qemu_lint.source import SourceFile

MARKER = os.path.join("include", "hw", "core", "cpu.h")
SCAN_DIRS = ("hw", "include", "target")
SUFFIXES = (".c", ".h", ".c.inc", ".h.inc")
#: gitignore patterns relative to the root (a leading ``/`` anchors one there)
DEFAULT_EXCLUDES = (
    "/linux-headers/",
    "/include/standard-headers/",
    "/roms/",
    "/subprojects/",
    "/tests/",
    "/build*/",
)
#: a ``.gitignore`` larger than this is not read (it is not a real one)
GITIGNORE_MAX_BYTES = 1024 * 1024


def _patterns(setting: Setting[tuple[str, ...]], value: object, where: str) -> tuple[str, ...]:
    """gitignore patterns relative to the root, each checked by pathspec."""
    patterns = string_list()(setting, value, where)
    for p in patterns:
        body = p[1:] if p.startswith("!") else p
        if ".." in body.strip("/").split("/"):
            raise ConfigError(
                f"'{setting.key}': {p!r} is not valid: must be {setting.allowed}, without '..'",
                where,
            )
        try:
            _spec([p])
        except ValueError as e:  # pathspec's GitIgnorePatternError is a ValueError
            msg = f"'{setting.key}': {p!r} is not a gitignore pattern: {e}"
            raise ConfigError(msg, where) from e
    return tuple(patterns)


#: the files and folders :func:`discover` leaves out
EXCLUDE: Setting[tuple[str, ...]] = Setting(
    "exclude", "a list of gitignore patterns relative to the root", DEFAULT_EXCLUDES, _patterns
)
EXTEND_EXCLUDE: Setting[tuple[str, ...]] = Setting(
    "extend-exclude",
    "a list of gitignore patterns relative to the root",
    (),
    _patterns,
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


@dataclass(frozen=True, slots=True)
class Patterns:
    """gitignore patterns, read by pathspec as git reads a ``.gitignore``
    (last match wins, ``!`` re-includes), with a fast path: one regular
    expression joining every pattern's, which finds nothing in most paths.

    A pattern without a folder (``*.pyc``, ``tags``) matches at any depth,
    which makes the joined expression slow (about 4 µs a path for QEMU's
    ``.gitignore``, a third of a warm run's discovery); :attr:`words` is
    then a faster first test: a literal that each pattern's every match
    contains (``.pyc``, ``tags``), so a path holding none matches none.
    """

    spec: pathspec.GitIgnoreSpec
    any: re.Pattern[str] | None
    words: re.Pattern[str] | None = None

    def check(self, probe: str) -> bool | None:
        """True: left out; False: re-included by a ``!`` pattern; None: no pattern matches."""
        if self.words is not None and self.words.search(probe) is None:
            return None
        if self.any is not None and self.any.search(probe) is None:
            return None
        return self.spec.check_file(probe).include


#: what a pattern may hold for :func:`_words` to find its literal: no
#: escape, character class or blank, whose meaning would need parsing
_PLAIN = re.compile(r"!?[A-Za-z0-9_.,:@%+=~/*?-]+")


def _words(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """An expression finding, in every path that one of ``patterns`` matches,
    the longest literal run of that pattern (see :class:`Patterns`); None
    when no pattern matches at any depth (the joined expression is fast
    then) or when a pattern is not plain or has no literal (``*``)."""
    words: list[str] = []
    floating = False
    for pattern in patterns:
        if _PLAIN.fullmatch(pattern) is None:
            return None
        body = pattern.removeprefix("!")
        floating = floating or "/" not in body.rstrip("/")
        longest = max(re.split(r"[/*?]", body), key=len)
        if not longest:
            return None
        words.append(longest)
    if not floating:
        return None
    return re.compile("|".join(re.escape(w) for w in dict.fromkeys(words)))


def _spec(lines: Sequence[str]) -> Patterns:
    spec = pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
    parts = [
        p.regex.pattern.replace("(?P<ps_d>", "(?:")  # one group name cannot repeat
        for p in spec.patterns
        if isinstance(p, pathspec.RegexPattern) and p.include is not None and p.regex is not None
    ]
    try:
        joined = re.compile("|".join(f"(?:{r})" for r in parts)) if parts else None
    except re.error:  # pathspec's regular expressions changed shape: no fast path
        joined = None
    used = [p for p in spec.patterns if p.include is not None]
    if len(parts) != len(used):
        joined = None
    sources = [p.pattern for p in used if isinstance(p.pattern, str)]
    words = _words(sources) if joined is not None and len(sources) == len(used) else None
    return Patterns(spec, joined, words)


#: the ``.gitignore`` files met on the way down: (folder relative to the root, its patterns)
Ignores = tuple[tuple[str, Patterns], ...]


def _ignored(rel: str, is_dir: bool, excludes: Patterns, ignores: Ignores) -> bool:
    """Is ``rel`` left out by the exclude patterns or by a ``.gitignore``
    (the deepest one that says anything about it decides, as in git)?"""
    probe = rel + "/" if is_dir else rel
    if excludes.check(probe):
        return True
    for base, spec in reversed(ignores):
        said = spec.check(probe[len(base) + 1 :] if base else probe)
        if said is not None:
            return said
    return False


def _gitignore(root: str, rel_dir: str, ignores: Ignores) -> Ignores:
    """``ignores`` plus the folder's own ``.gitignore`` when it has a readable one."""
    path = os.path.join(root, rel_dir, ".gitignore")
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > GITIGNORE_MAX_BYTES:
            return ignores
        with open(path, "rb") as fh:
            lines = fh.read().decode("utf-8", "surrogateescape").splitlines()
        spec = _spec(lines)
    except (OSError, ValueError):  # unreadable, or a line pathspec refuses: git skips it too
        return ignores
    return (*ignores, (rel_dir, spec)) if spec.spec.patterns else ignores


def excluded(rel: str, excludes: Sequence[str]) -> bool:
    """Does an exclude pattern leave out the file ``rel`` (or a folder above it)?"""
    spec = _spec(excludes)
    parts = rel.split("/")
    dirs = ("/".join(parts[: n + 1]) + "/" for n in range(len(parts) - 1))
    return any(spec.check(d) for d in dirs) or bool(spec.check(rel))


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
    spec = _spec(excludes)
    ignores = _gitignore(root, "", ())

    def add(rel: str, entry: os.DirEntry[str] | None = None) -> None:
        _add(root, rel, files, skipped, max_bytes, contents, known, stats, entry)

    for name in names:
        p = os.path.join(root, name)
        if name.endswith(SUFFIXES) and os.path.isfile(p):
            if not _ignored(name, False, spec, ignores):
                add(name)
    real_root = os.path.realpath(root)
    for d in SCAN_DIRS:
        if os.path.isdir(os.path.join(root, d)) and not _ignored(d, True, spec, ignores):
            _walk(root, real_root, (d, ignores), spec, add, skipped)
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
    top: tuple[str, Ignores],
    excludes: Patterns,
    add: Callable[[str, os.DirEntry[str]], None],
    skipped: list[Skipped],
) -> None:
    """List the folder ``top`` (relative to ``root``, with the ``.gitignore``
    files above it) depth first, without recursion (any nesting depth), never
    following a symlink out of the root and never visiting a folder twice."""
    seen: set[tuple[int, int]] = set()
    todo = [top]
    while todo:
        rel_dir, above = todo.pop()
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
        ignores = _gitignore(root, rel_dir, above)
        subdirs: list[tuple[str, Ignores]] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}"
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if _ignored(rel, True, excludes, ignores) or is_build_dir(entry.path):
                    continue
                if entry.is_symlink() and not _inside(real_root, entry.path):
                    skipped.append(Skipped(printable(rel), "symlink to a folder outside the tree"))
                    continue
                subdirs.append((rel, ignores))
            elif entry.name.endswith(SUFFIXES) and not _ignored(rel, False, excludes, ignores):
                add(rel, entry)
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
    entry: os.DirEntry[str] | None = None,
) -> None:
    """List or skip one file (``entry``: its folder listing's entry, whose
    file type needs no system call and whose ``stat`` is one)."""
    p = entry.path if entry is not None else os.path.join(root, rel)
    shown = rel if rel.isascii() else printable(rel)
    if shown != rel:
        skipped.append(Skipped(shown, "file name is not UTF-8"))
        return
    try:
        link = entry.is_symlink() if entry is not None else os.path.islink(p)
    except OSError:
        link = os.path.islink(p)
    if link and not _inside(os.path.realpath(root), p):
        skipped.append(Skipped(rel, "symlink to a file outside the tree"))
        return
    try:
        st = entry.stat() if entry is not None else os.stat(p)
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
