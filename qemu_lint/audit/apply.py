"""Audit stage: the temporary worktree where a series' patches are applied.

Entry point: :class:`Worktree` (a detached ``git worktree`` of the base
commit, where :meth:`Worktree.apply` applies the patches one by one with
``git am -3``, removed on exit whatever happens).  The user's work tree,
index and branches are never touched; git runs through
:func:`qemu_lint.discover.git.git`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from types import TracebackType

from qemu_lint.audit.patch import Patch
from qemu_lint.discover.git import first_error, git

#: Stable worktree places per repository (see :class:`Worktree`).
SLOTS = 4


def _slot(top: str) -> tuple[str, int] | None:
    """A stable folder for this repository's audit worktree, locked for us.

    Folders live in ``$TMPDIR/qemu-lint-<uid>`` (mode 0700, owned by us;
    otherwise None); the first of :data:`SLOTS` whose lock is free is taken.

    :return: the folder and the open, locked lock file, or None
    """
    import fcntl
    import hashlib

    home = os.path.join(tempfile.gettempdir(), f"qemu-lint-{os.getuid()}")
    try:
        os.mkdir(home, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    st = os.lstat(home)
    if not os.path.isdir(home) or os.path.islink(home) or st.st_uid != os.getuid():
        return None
    if st.st_mode & 0o077:
        return None
    key = hashlib.blake2b(top.encode(), digest_size=6).hexdigest()
    for n in range(SLOTS):
        folder = os.path.join(home, f"audit-{key}-{n}")
        try:
            fd = os.open(folder + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return folder, fd
    return None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back within the block, and delivered after it.

    The mask is inherited by the git processes started inside, so a Ctrl-C
    (sent to the whole process group) cannot kill ``git worktree add``
    half-way either: it would leave a worktree locked "initializing" and its
    checkout running, and every later audit would fail on it.
    """
    mask = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Worktree:
    """A detached worktree of ``base``, created on enter and removed on exit.

    Removal runs ``git worktree remove --force`` (and, if the entry survives,
    deletes the folder and runs ``git worktree prune``) with SIGINT and SIGTERM
    held back, so a Ctrl-C during the audit, or during the cleanup itself,
    still leaves no worktree behind; a held signal is delivered afterwards.

    With ``stable``, the worktree is created at the same place for every
    audit of the repository (one of a few locked folders, so concurrent
    audits do not collide): the analysis cache then finds the previous
    audit's record of that place and the base is analysed incrementally,
    and the cache keeps one record per place instead of one per audit.
    Otherwise (or when no such folder can be had) it goes to a new
    temporary folder.

    :param top: the user's repository (only its object store and worktree
        list change, and the list is restored)
    """

    def __init__(self, top: str, base: str, stable: bool = False) -> None:
        self.top = top
        self.base = base
        self._stable = stable
        self._parent = ""
        self._lock: int | None = None
        self.path = ""

    def __enter__(self) -> Worktree:
        try:
            got = _slot(self.top) if self._stable else None
            if got is not None:
                self._parent, self._lock = got
                self.path = os.path.join(self._parent, "qemu")
                self._remove_tree()  # left over by a killed run
                os.makedirs(self._parent, exist_ok=True)
            else:
                self._parent = tempfile.mkdtemp(prefix="qemu-lint-audit-")
                self.path = os.path.join(self._parent, "qemu")
            with _signals_held():
                git(self.top, "worktree", "add", "--detach", "--quiet", self.path, self.base)
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._remove()

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD").stdout.decode().strip()

    def apply(self, patch: Patch) -> tuple[str | None, str | None]:
        """Apply ``patch`` on top of the worktree's HEAD.

        A range commit whose parent is HEAD is checked out as it is; anything
        else goes through ``git am -3`` (aborted again on failure).

        :return: ``(None, new HEAD)``, or ``(reason, None)`` when it does not apply
        """
        if patch.commit is not None:
            parent = (
                git(self.path, "rev-parse", "--verify", "--quiet", f"{patch.commit}^", check=False)
                .stdout.decode()
                .strip()
            )
            if parent == self.head():
                git(self.path, "checkout", "--detach", "--quiet", patch.commit)
                return None, patch.commit
        r = git(
            self.path,
            "am",
            "-3",
            "--quiet",
            "--committer-date-is-author-date",
            "--no-message-id",
            stdin=patch.raw,
            check=False,
        )
        if r.returncode != 0:
            reason = first_error(r.stderr + r.stdout)
            git(self.path, "am", "--abort", check=False)
            return reason, None
        return None, self.head()

    def _remove(self) -> None:
        with _signals_held():
            try:
                self._remove_tree()
            finally:  # even when git cannot run (MemoryError, EAGAIN)
                if self._parent:
                    shutil.rmtree(self._parent, ignore_errors=True)
                if self._lock is not None:
                    os.close(self._lock)
                    self._lock = None

    def _remove_tree(self) -> None:
        try:
            if self.path and os.path.exists(self.path):
                # twice --force: also a worktree git left locked ("initializing")
                git(self.top, "worktree", "remove", "--force", "--force", self.path, check=False)
        except Exception:  # git could not run (MemoryError, EAGAIN): remove by hand below
            pass
        if self.path and (os.path.exists(self.path) or self._listed()):
            shutil.rmtree(self.path, ignore_errors=True)
            # prune leaves a locked entry alone: unlock what an interrupted run left
            git(self.top, "worktree", "unlock", self.path, check=False)
            git(self.top, "worktree", "prune", check=False)

    def _listed(self) -> bool:
        r = git(self.top, "worktree", "list", "--porcelain", check=False)
        real = os.path.realpath(self.path)
        for line in r.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("worktree ") and os.path.realpath(line[9:]) == real:
                return True
        return False
