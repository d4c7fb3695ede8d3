"""Stage 1 (discover): the QEMU tree as it was at a git revision (``--diff-base``).

Entry point: :func:`changes_at` (the files whose bytes at a revision differ
from the work tree's, read from git's object store).  ``--diff-base``
analyses the work tree's files with those replaced (see
:mod:`qemu_lint.cache.session`): nothing is written to disk, and every file
that does not differ is shared with the work tree, its facts and its cache
record.

Only git's object database is read (through :func:`qemu_lint.discover.git.git`):
``git rev-parse`` to find the repository and resolve the revision, ``git diff
--name-only`` and ``git ls-files --others`` to list the files that differ, and
``git cat-file --batch`` to read them.  The user's work tree, index, branches, stash and
worktrees are never touched, and the blobs are read as committed (no
``export-ignore``/``export-subst`` attributes or filters apply, unlike
``git archive``).  The QEMU root may be a subfolder of the repository.
"""

from __future__ import annotations

import os

from qemu_lint.discover.files import MARKER, SCAN_DIRS, SUFFIXES
from qemu_lint.discover.git import GitMissing, first_error, git
from qemu_lint.errors import InputError


def _git(root: str, *args: str, data: bytes | None = None, objects: str = "") -> bytes:
    """Run git in ``root``; return its stdout.

    :param objects: an object directory to read besides the repository's
        (see :func:`object_env`)

    :raise InputError: when git is missing or fails (with its first error line)
    """
    try:
        r = git(root, *args, stdin=data, check=False, env=object_env(objects))
    except GitMissing as e:
        raise InputError(f"--diff-base needs git: {e.reason}", root) from e
    if r.returncode != 0:
        msg = first_error(r.stderr) if r.stderr.strip() else None
        raise InputError(msg or f"git {args[0]} exited with status {r.returncode}", root)
    return r.stdout


def object_env(objects: str) -> dict[str, str]:
    """git's environment to also read the objects of the object directory
    ``objects`` (an audit's temporary one, holding the states its patches
    made; see :mod:`qemu_lint.audit.apply`); nothing for ""."""
    return {"GIT_ALTERNATE_OBJECT_DIRECTORIES": objects} if objects else {}


def _wanted(rel: str) -> bool:
    """Is this path (relative to the QEMU root) one that discovery may select?"""
    if not rel.endswith(SUFFIXES):
        return False
    return "/" not in rel or rel.split("/", 1)[0] in SCAN_DIRS


def is_build_input(rel: str) -> bool:
    """Can the build configuration read this path (relative to the QEMU
    root)?  Its ``meson.build`` and ``Kconfig*`` files, and ``configs/``."""
    name = rel.rsplit("/", 1)[-1]
    return name == "meson.build" or name.startswith("Kconfig") or rel.startswith("configs/")


def resolve(root: str, rev: str, objects: str = "") -> tuple[str, str]:
    """The commit ``rev`` names, and the QEMU root's path inside the repository.

    One ``git rev-parse`` answers both (it prints the prefix, then the
    commit): a ``--diff-base`` run resolves its revision twice (before the
    analysis, to fail early, and at the revision), and each git process is
    some milliseconds of a hook run of about half a second.

    :param objects: see :func:`object_env`

    :return: ``(commit sha, prefix)``; the prefix is "" or ends with "/"
    :raise InputError: when ``root`` is not in a git repository or ``rev`` is
        not a commit of it
    """
    verify = ("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    named = bool(rev) and not rev.startswith("-")
    try:
        r = git(
            root,
            "rev-parse",
            "--show-prefix",
            *(verify if named else ()),
            check=False,
            env=object_env(objects),
        )
    except GitMissing as e:
        raise InputError(f"--diff-base: --diff-base needs git: {e.reason}", root) from e
    lines = r.stdout.decode().splitlines()
    if not lines:  # no prefix: not a repository (or git failed before)
        msg = first_error(r.stderr) if r.stderr.strip() else None
        raise InputError(
            f"--diff-base: {msg or f'git rev-parse exited with status {r.returncode}'}", root
        )
    if not named:
        raise InputError(f"--diff-base: not a revision: '{rev}'", root)
    if r.returncode != 0 or len(lines) != 2:
        raise InputError(f"--diff-base: unknown revision '{rev}' (not a commit here)", root)
    return lines[1].strip(), lines[0].strip()


def changes_at(
    root: str,
    rev: str,
    objects: str = "",
    build: dict[str, bytes | None] | None = None,
) -> dict[str, bytes | None]:
    """How the QEMU root's source files at ``rev`` differ from the work tree:
    path (relative to the root) → its bytes at ``rev``, or None when it is
    not there (an untracked or new file).  Only the files that differ are
    read: ``git diff --name-only REV`` (tracked files changed, staged or
    not, added or deleted), ``git ls-files --others`` (untracked ones, also
    ignored ones: none is at ``rev``) and one ``git cat-file --batch``.

    :param objects: see :func:`object_env`
    :param build: filled with the build configuration's inputs that differ
        (:func:`is_build_input`; tracked ones only), read the same way
    :raise InputError: bad revision, not a git repository, or no QEMU tree at
        ``rev`` (no ``include/hw/core/cpu.h`` under the same folder)
    """
    sha, prefix = resolve(root, rev, objects)
    quiet = ("-c", "gc.auto=0")
    names_only = ("diff", "--name-only", "-z", "--no-renames", "--relative")
    diff = _git(root, *quiet, *names_only, sha, objects=objects)
    others = _git(root, *quiet, "ls-files", "--others", "-z", "--", ".")
    names = {
        n.decode("utf-8", "surrogateescape") for n in (diff + b"\0" + others).split(b"\0") if n
    }
    untracked = {n.decode("utf-8", "surrogateescape") for n in others.split(b"\0") if n}
    marker = MARKER.replace(os.sep, "/")
    wanted = sorted(n for n in names - untracked if _wanted(n))
    inputs = sorted(n for n in names - untracked if build is not None and is_build_input(n))
    ask = [marker, *wanted, *inputs]
    out = _git(
        root,
        *quiet,
        "cat-file",
        "--batch",
        data="".join(f"{sha}:{prefix}{n}\n" for n in ask).encode(),
        objects=objects,
    )
    got: dict[str, bytes | None] = {n: None for n in untracked if _wanted(n)}
    pos = 0
    for n in ask:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if header[-1] == b"missing":
            pos = nl + 1
            body = None
        elif len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            body = out[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        else:
            raise InputError(f"--diff-base: git cat-file gave an unexpected answer for {n}", root)
        if n == marker and body is None:
            where = f"'{prefix.rstrip('/')}' at {rev}" if prefix else f"the repository at {rev}"
            raise InputError(f"--diff-base: {where} is not a QEMU source tree (no {MARKER})", root)
        if build is not None and n in inputs:
            build[n] = body
        elif n != marker or n in names:
            got[n] = body
    return got
