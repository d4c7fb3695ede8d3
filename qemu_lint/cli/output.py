"""Stage 8 (cli) helper: write a whole report file (``-o FILE``) or nothing.

Entry points: :func:`check_writable` (fail before a long run) and
:func:`write_report`.  The text goes to a temporary file in the target's
folder, which then replaces the target in one ``os.replace``
(:func:`qemu_lint.source.write_atomic`): a reader never sees a half-written
report, and a failed write leaves the old file (or no file) behind.
"""

from __future__ import annotations

import os
import stat

from qemu_lint.errors import InputError
from qemu_lint.source import write_atomic


def _mode(target: str) -> int:
    """Keep an existing file's permissions; a new file gets 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _special(path: str) -> bool:
    """``path`` exists and is neither a regular file nor a folder (a device, a FIFO)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))


def check_writable(path: str) -> None:
    """Fail early, before a long run, when ``path`` clearly cannot be written.

    :raise InputError: naming ``path``: a folder, or in a missing or read-only folder
    """
    if not path:
        raise InputError("cannot write: the file name is empty", "-o ''")
    if _special(path):
        return  # written in place (see write_atomic); opening it now could block
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise InputError("cannot write: is a directory", path)
    if not os.path.isdir(folder):
        raise InputError("cannot write: no such folder", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("cannot write: permission denied", path)


def write_report(path: str, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically.

    A symlink is followed: the file it points to is replaced.

    :raise InputError: naming ``path`` when it cannot be written
    """
    target = path if _special(path) else os.path.realpath(path)
    if os.path.isdir(target):
        raise InputError("cannot write: is a directory", path)
    try:
        write_atomic(
            target,
            text.encode("utf-8"),
            mode=_mode(target),
            sync=True,
            prefix=f".{os.path.basename(target)}.",
        )
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror or e}", path) from e
