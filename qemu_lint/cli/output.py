"""Stage 8 (cli) helper: write a whole output file or nothing.

Entry point: :func:`write_atomic`.  The text goes to a temporary file in the
target's folder, which then replaces the target in one ``os.replace``: a
reader never sees a half-written report, and a failed write leaves the old
file (or no file) behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from qemu_lint.errors import InputError


def _mode(target: str) -> int:
    """Keep an existing file's permissions; a new file gets 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path: str) -> None:
    """Fail early, before a long run, when ``path`` clearly cannot be written.

    :raise InputError: naming ``path``: a folder, or in a missing or read-only folder
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise InputError("cannot write: is a directory", path)
    if not os.path.isdir(folder):
        raise InputError("cannot write: no such folder", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("cannot write: permission denied", path)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically.

    A symlink is followed: the file it points to is replaced.

    :raise InputError: naming ``path`` when it cannot be written
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise InputError("cannot write: is a directory", path)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path) from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode(target))
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise InputError(f"cannot write: {e.strerror or e}", path) from e
        raise
