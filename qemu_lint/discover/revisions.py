"""Stage 1 (discover): the QEMU tree as it was at a git revision (``--diff-base``).

Entry point: :func:`tree_at` (a context manager yielding a temporary folder
that holds the QEMU root's source files at a revision, and removing it on the
way out, whatever happens).

Only git's object database is read (through :func:`qemu_lint.discover.git.git`):
``git rev-parse`` to find the repository
and resolve the revision, ``git ls-tree`` to list the files and ``git cat-file
--batch`` to read them.  The user's work tree, index, branches, stash and
worktrees are never touched, and the blobs are written as committed (no
``export-ignore``/``export-subst`` attributes or filters apply, unlike
``git archive``).  The QEMU root may be a subfolder of the repository.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from qemu_lint.discover.files import MARKER, SCAN_DIRS, SUFFIXES
from qemu_lint.discover.git import GitMissing, first_error, git, resolve_commit
from qemu_lint.errors import InputError


def _git(root: str, *args: str, data: bytes | None = None) -> bytes:
    """Run git in ``root``; return its stdout.

    :raise InputError: when git is missing or fails (with its first error line)
    """
    try:
        r = git(root, *args, stdin=data, check=False)
    except GitMissing as e:
        raise InputError(f"--diff-base needs git: {e.reason}", root) from e
    if r.returncode != 0:
        msg = first_error(r.stderr) if r.stderr.strip() else None
        raise InputError(msg or f"git {args[0]} exited with status {r.returncode}", root)
    return r.stdout


def _wanted(rel: str) -> bool:
    """Is this path (relative to the QEMU root) one that discovery may select?"""
    if not rel.endswith(SUFFIXES):
        return False
    return "/" not in rel or rel.split("/", 1)[0] in SCAN_DIRS


def resolve(root: str, rev: str) -> tuple[str, str]:
    """The commit ``rev`` names, and the QEMU root's path inside the repository.

    :return: ``(commit sha, prefix)``; the prefix is "" or ends with "/"
    :raise InputError: when ``root`` is not in a git repository or ``rev`` is
        not a commit of it
    """
    try:
        prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    except InputError as e:
        raise InputError(f"--diff-base: {e.message}", root) from e
    if not rev or rev.startswith("-"):
        raise InputError(f"--diff-base: not a revision: '{rev}'", root)
    sha = resolve_commit(root, rev)
    if sha is None:
        raise InputError(f"--diff-base: unknown revision '{rev}' (not a commit here)", root)
    return sha, prefix


@contextmanager
def tree_at(root: str, rev: str) -> Iterator[str]:
    """A temporary copy of the QEMU root's source files at ``rev``.

    Only the files discovery could select (``.c``, ``.h``, ``.c.inc``,
    ``.h.inc`` at the top and under ``hw/``, ``include/``, ``target/``) are
    written.  The folder is removed when the ``with`` block ends, also on an
    exception or ``KeyboardInterrupt``.

    :raise InputError: bad revision, not a git repository, or no QEMU tree at
        ``rev`` (no ``include/hw/core/cpu.h`` under the same folder)
    """
    sha, prefix = resolve(root, rev)
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", sha, "--", prefix or ".")
    blobs: list[tuple[str, str, str]] = []  # (mode, object, path relative to the root)
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, obj = meta.decode().split()
        path = name.decode("utf-8", "surrogateescape")
        if kind != "blob" or not path.startswith(prefix):
            continue  # submodules (commit entries) hold no files here
        rel = path[len(prefix) :]
        if _wanted(rel):
            blobs.append((mode, obj, rel))
    if not any(rel == MARKER.replace(os.sep, "/") for _, _, rel in blobs):
        where = f"'{prefix.rstrip('/')}' at {rev}" if prefix else f"the repository at {rev}"
        raise InputError(f"--diff-base: {where} is not a QEMU source tree (no {MARKER})", root)
    tmp = tempfile.mkdtemp(prefix="qemu-lint-diff-base-")
    try:
        _write_blobs(root, tmp, blobs)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_blobs(root: str, dest: str, blobs: list[tuple[str, str, str]]) -> None:
    """Read the blobs with one ``git cat-file --batch`` and write them under ``dest``."""
    out = _git(root, "cat-file", "--batch", data="".join(f"{o}\n" for _, o, _ in blobs).encode())
    pos = 0
    made: set[str] = set()
    for mode, obj, rel in blobs:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) != 3 or header[0].decode() != obj:
            raise InputError(f"--diff-base: git cat-file gave an unexpected answer for {rel}", root)
        size = int(header[2])
        body = out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1  # the content is followed by a newline
        target = os.path.join(dest, *rel.split("/"))
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        if mode == "120000":  # a symlink: its blob is the target
            os.symlink(os.fsdecode(body), target)
        else:
            with open(target, "wb") as fh:
                fh.write(body)
