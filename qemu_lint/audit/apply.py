"""Audit stage: the states of a series, as git objects, without a worktree.

Entry point: :class:`IndexState` (a temporary index and object directory
where :meth:`IndexState.apply` applies the patches one by one, as ``git am
-3`` would, each state a commit object; removed on exit whatever happens).

Nothing is checked out: the index is a private file seeded from the base
tree (``git read-tree``), a patch is applied to it alone (``git apply
--cached``, with ``git am -3``'s fallback to a three-way merge), and
``git write-tree``/``git commit-tree`` turn it into the state's commit, with
the message, author and dates ``git am --committer-date-is-author-date``
would give it (so the commit has the SHA ``git am`` would have made).  Every
object git writes goes to the temporary object directory
(``GIT_OBJECT_DIRECTORY``), which reads the repository's objects through
``GIT_ALTERNATE_OBJECT_DIRECTORIES``: the user's ``.git`` (objects, refs,
index, worktrees) is not written at all.  The analysis reads a state as a
revision (:mod:`qemu_lint.discover.revisions`, with this object directory as
an alternate).  git runs through :func:`qemu_lint.discover.git.git`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Sequence
from types import TracebackType

from qemu_lint.audit.patch import Patch
from qemu_lint.discover.git import first_error, git
from qemu_lint.errors import InputError

#: what ``git am`` prints (stdout) for a mail without a diff
_EMPTY = (
    b"Patch is empty.\n"
    b'When you have resolved this problem, run "git am --continue".\n'
    b'If you prefer to skip this patch, run "git am --skip" instead.\n'
)
#: what ``git am -3`` says when each step of its three-way fallback fails
_NO_ANCESTOR = b"error: could not build fake ancestor\n"
_HAND_EDITED = (
    b"error: Did you hand edit your patch?\nIt does not apply to blobs recorded in its index.\n"
)
_NO_MERGE = b"error: Failed to merge in the changes.\n"


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back within the block, and delivered after it
    (so a Ctrl-C cannot cut the cleanup short)."""
    mask = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _info(text: str) -> dict[str, str]:
    """``git mailinfo``'s summary: Author, Email, Subject, Date."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("Author", "Email", "Subject", "Date"):
            out[key] = value
    return out


class IndexState:
    """The states of a series on ``base``: a temporary folder (created on
    enter, removed on exit) holding an index and an object directory.

    :param top: the user's repository (only read)
    """

    def __init__(self, top: str, base: str) -> None:
        self.top = top
        self.head = base
        self.folder = ""
        #: the temporary object directory (the analysis reads it as an alternate)
        self.objects = ""
        self._env: dict[str, str] = {}

    def __enter__(self) -> IndexState:
        try:
            self.folder = tempfile.mkdtemp(prefix="qemu-lint-audit-")
            self.objects = os.path.join(self.folder, "objects")
            os.mkdir(self.objects)
            own = git(
                self.top, "rev-parse", "--path-format=absolute", "--git-path", "objects"
            ).stdout.decode()
            self._env = {
                "GIT_INDEX_FILE": os.path.join(self.folder, "index"),
                "GIT_OBJECT_DIRECTORY": self.objects,
                "GIT_ALTERNATE_OBJECT_DIRECTORIES": own.rstrip("\n"),
            }
            self._git("read-tree", self.head)
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

    def _remove(self) -> None:
        with _signals_held():
            if self.folder:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _git(
        self, *args: str, stdin: bytes | None = None, index: str = "", check: bool = True
    ) -> tuple[int, bytes, bytes]:
        env = dict(self._env, GIT_INDEX_FILE=index) if index else self._env
        r = git(self.top, *args, stdin=stdin, check=check, env=env)
        return r.returncode, r.stdout, r.stderr

    def apply(self, patch: Patch) -> tuple[str | None, str | None]:
        """Apply ``patch`` on top of the current state.

        A range commit whose parent is the current state is taken as it is;
        anything else is applied as ``git am -3`` would.

        :return: ``(None, the new state's commit)``, or ``(reason, None)``
            when it does not apply
        """
        if patch.commit is not None:
            rc, out, _ = self._git(
                "rev-parse", "--verify", "--quiet", f"{patch.commit}^", check=False
            )
            if rc == 0 and out.decode().strip() == self.head:
                self._git("read-tree", patch.commit)
                self.head = patch.commit
                return None, patch.commit
        msg, diff = os.path.join(self.folder, "msg"), os.path.join(self.folder, "patch")
        rc, out, err = self._git("mailinfo", "-u", msg, diff, stdin=patch.raw, check=False)
        if rc != 0:
            return first_error(err + out), None
        if os.path.getsize(diff) == 0:
            return first_error(_EMPTY), None
        reason = self._apply_diff(diff)
        if reason is not None:
            self._git("read-tree", self.head)  # the index back at the state before
            return reason, None
        tree = self._git("write-tree")[1].decode().strip()
        if tree == self._git("rev-parse", f"{self.head}^{{tree}}")[1].decode().strip():
            return None, self.head  # "No changes -- Patch already applied.": no commit
        self.head = self._commit(tree, _info(out.decode("utf-8", "replace")), msg)
        return None, self.head

    def _apply_diff(self, diff: str) -> str | None:
        """Apply the diff to the index, as ``git am -3`` does: directly, else
        on the blobs its ``index`` lines name, merged with the state.

        :return: None, or why it does not apply (what ``git am`` says)
        """
        if self._git("apply", "--cached", diff, check=False)[0] == 0:
            return None
        fake = os.path.join(self.folder, "ancestor")
        rc, _, err = self._git("apply", f"--build-fake-ancestor={fake}", diff, check=False)
        if rc != 0:
            return first_error(err + _NO_ANCESTOR)
        rc, _, err = self._git("apply", "--cached", diff, index=fake, check=False)
        if rc != 0:
            return first_error(err + _HAND_EDITED)
        if self._git("apply", "--cached", "--3way", diff, check=False)[0] != 0:
            return first_error(_NO_MERGE)
        return None

    def _commit(self, tree: str, info: dict[str, str], msg: str) -> str:
        """The commit ``git am --committer-date-is-author-date`` makes of ``tree``."""
        with open(msg, "rb") as fh:
            body = fh.read()
        subject = info.get("Subject", "").encode()
        text = self._git("stripspace", stdin=subject + b"\n\n" + body)[1]
        env = dict(self._env)
        env["GIT_AUTHOR_NAME"] = info.get("Author", "")
        env["GIT_AUTHOR_EMAIL"] = info.get("Email", "")
        if info.get("Date"):
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = info["Date"]
        r = git(self.top, "commit-tree", tree, "-p", self.head, stdin=text, env=env, check=False)
        if r.returncode != 0:
            raise InputError(f"git commit-tree failed: {first_error(r.stderr)}", self.top)
        return r.stdout.decode().strip()

    def read(self, rev: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        """The bytes of ``paths`` (relative to the repository's top) at ``rev``,
        None for a path not there (one ``git cat-file --batch``)."""
        if not paths:
            return {}
        data = "".join(f"{rev}:{p}\n" for p in paths).encode()
        out = self._git("cat-file", "--batch", stdin=data)[1]
        got: dict[str, bytes | None] = {}
        pos = 0
        for p in paths:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            if header[-1] == b"missing" or len(header) != 3:
                got[p], pos = None, nl + 1
                continue
            size = int(header[2])
            got[p] = out[nl + 1 : nl + 1 + size] if header[1] == b"blob" else None
            pos = nl + 1 + size + 1
        return got
