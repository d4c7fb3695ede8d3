"""Stage 1 (discover): the one way qemu-lint runs git.

Entry points: :func:`git` (run ``git -C folder …`` and capture its output),
:func:`first_error` (the gist of git's stderr, for messages) and
:func:`resolve_commit` (a revision → the full SHA of its commit, or None).
Used by ``--diff-base`` (:mod:`qemu_lint.discover.revisions`) and by the
audit (:mod:`qemu_lint.audit.series`, :mod:`qemu_lint.audit.apply`).

git runs with an environment of its own: variables that would point it at the
caller's repository, index or work tree (set when qemu-lint runs inside a git
hook) are dropped, hooks are disabled, messages are in the C locale, nothing
prompts or pages, and the audit's commits get a committer identity, so the user's
configuration is never needed nor touched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from qemu_lint.errors import InputError

#: Variables that make git work on another repository, index or tree than
#: the one named with ``-C`` (``git rev-parse --local-env-vars``).
_LOCAL_ENV = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_DIR",
    "GIT_GRAFT_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_NAMESPACE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_WORK_TREE",
)
#: Who commits the audit's states (commits that never leave its temporary
#: object directory); also the author of a bare diff.
IDENTITY = ("qemu-lint audit", "qemu-lint@invalid")
#: Options for every git command: no hooks, no pager, fixed diff prefixes,
#: and no automatic housekeeping (a git command writing objects would
#: otherwise run ``git gc --auto`` in the user's repository and repack its
#: refs and objects).
_GIT_OPTS = (
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    f"core.hooksPath={os.devnull}",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "advice.detachedHead=false",
    "-c",
    "core.quotePath=true",
)


class GitMissing(InputError):
    """git itself cannot be run (not installed, not executable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot run git: {reason}")
        self.reason = reason


def _env() -> dict[str, str]:
    """The environment git runs in (see the module docstring)."""
    out = {k: v for k, v in os.environ.items() if k not in _LOCAL_ENV}
    out.update(
        GIT_COMMITTER_NAME=IDENTITY[0],
        GIT_COMMITTER_EMAIL=IDENTITY[1],
        GIT_AUTHOR_NAME=out.get("GIT_AUTHOR_NAME") or IDENTITY[0],
        GIT_AUTHOR_EMAIL=out.get("GIT_AUTHOR_EMAIL") or IDENTITY[1],
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR="true",
        GIT_PAGER="cat",
        LC_ALL="C",
        LANGUAGE="C",
    )
    return out


def git(
    cwd: str | None,
    *args: str,
    stdin: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C cwd args`` (no ``-C`` when ``cwd`` is None) and capture its output.

    :param stdin: git's standard input (default: empty, so it never reads the terminal)
    :param env: variables set on top of git's own environment (the audit's
        temporary index and object directory, see :mod:`qemu_lint.audit.apply`)
    :raise GitMissing: when git cannot be run
    :raise InputError: naming ``cwd``, with ``check``, when git exits non-zero
    """
    where = ["-C", cwd] if cwd is not None else []
    try:
        r = subprocess.run(
            ["git", *where, *_GIT_OPTS, *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env={**_env(), **env} if env else _env(),
        )
    except OSError as e:
        raise GitMissing(str(e.strerror or e)) from e
    if check and r.returncode != 0:
        raise InputError(f"git {' '.join(args[:2])} failed: {first_error(r.stderr)}", cwd)
    return r


def first_error(stderr: bytes) -> str:
    """The ``error:``/``fatal:`` lines of git's stderr (else all lines), without
    their prefixes, joined; at most three lines and 300 characters."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith(("error:", "fatal:"))] or lines
    msg = "; ".join(e.split(":", 1)[1].strip() if ":" in e else e for e in errs[:3])
    return msg[:300] or "no message"


def resolve_commit(cwd: str, rev: str, env: Mapping[str, str] | None = None) -> str | None:
    """The full SHA of commit ``rev`` in the repository holding ``cwd``, or None
    (also for an empty revision, or one that reads as an option).

    :param env: as for :func:`git`"""
    if not rev or rev.startswith("-"):
        return None
    r = git(
        cwd,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
        env=env,
    )
    return r.stdout.decode().strip() if r.returncode == 0 else None
