"""Stage 1 helpers: source files and spans.

Entry points: :class:`SourceFile` (one file of the tree, path relative to the
root with forward slashes), :class:`Span` (1-based line/column range) and
:func:`arch_of` (the architecture a path belongs to); :func:`write_atomic`
(the one way qemu-lint replaces a file: cache records, baselines, reports).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to analyse: ``path`` relative to the root (POSIX), ``abspath`` on disk."""

    path: str
    abspath: str
    size: int


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    line: int
    col: int
    end_line: int
    end_col: int


def snippet(text: str, line: int, context: int = 0) -> list[tuple[int, str]]:
    """Return ``(line number, text)`` pairs around 1-based ``line``."""
    lines = text.splitlines()
    lo = max(line - context, 1)
    hi = min(line + context, len(lines))
    return [(n, lines[n - 1]) for n in range(lo, hi + 1)]


def arch_of(path: str, archs: frozenset[str]) -> str | None:
    """The architecture owning ``path`` (``target/<a>/``, ``hw/<a>/``), else None."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] in ("target", "hw"):
        name = parts[1]
        if name == "sparc64":
            name = "sparc"
        if name in archs:
            return name
    return None


def discover_archs(files: Iterable[str]) -> tuple[str, ...]:
    """The architectures of a tree: the folders of ``target/`` holding files."""
    archs = set()
    for p in files:
        parts = p.split("/")
        if len(parts) >= 3 and parts[0] == "target":
            archs.add(parts[1])
    return tuple(sorted(archs))


def write_atomic(
    path: str, data: bytes, mode: int | None = None, sync: bool = False, prefix: str = ".tmp-"
) -> None:
    """Replace ``path`` with ``data``: a reader sees the old file or the whole new one.

    The bytes go to a temporary file in ``path``'s folder, which then replaces
    ``path`` in one ``os.replace``; on any failure the temporary file is removed
    and ``path`` is left as it was.  A symlink at ``path`` is replaced, not
    followed: callers that want to follow it pass the resolved path.

    A target that is not a regular file is never replaced: a character device
    or a FIFO (``/dev/stdout``, ``/dev/null``, ``>(gzip)``) is written in
    place, and a block device, a socket or a folder is refused, so that
    ``-o /dev/null`` as root never turns the device into a file.

    :param mode: permission bits of the new file (None: private, as ``mkstemp`` makes it)
    :param sync: ``fsync`` the data before the replace
    :param prefix: start of the temporary file's name (its folder may be listed)
    :raise OSError: when the file cannot be written
    """
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_special(path, data, st.st_mode)
        return
    import tempfile  # a run that writes nothing (a warm one) does not import it

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_special(path: str, data: bytes, st_mode: int) -> None:
    """Write ``data`` into the device or FIFO ``path`` as it is (never create or replace it).

    :raise OSError: for a folder, a block device or a socket; for a FIFO that
        no one reads (``ENXIO``, instead of waiting forever)
    """
    if stat.S_ISDIR(st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if not (stat.S_ISCHR(st_mode) or stat.S_ISFIFO(st_mode)):
        kind = "a block device" if stat.S_ISBLK(st_mode) else "not a regular file"
        raise OSError(errno.EINVAL, f"refusing to write over {kind}", path)
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
