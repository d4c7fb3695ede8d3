"""Stage 1 (discover) for audits: the patch series and the temporary worktree.

Entry points: :func:`load_series` (a revision range, mbox files, a maildir,
``.patch`` files or one message on stdin → a :class:`Series` with its base
commit) and :class:`Worktree` (a detached ``git worktree`` of the base where
the patches are applied one by one, removed on exit whatever happens).

All git I/O of the audit lives here.  git runs with an environment of its
own: variables that would point it at the caller's repository, index or work
tree (set when qemu-lint runs inside a git hook) are dropped, hooks are
disabled, and ``git am`` gets a committer identity, so the user's
configuration is never needed nor touched.  mboxes are split with ``git
mailsplit`` (it only splits at ``From `` lines that carry a date, so a commit
message line starting with "From " stays in its message), never with
:mod:`mailbox`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from qemu_lint.discover.files import find_root
from qemu_lint.errors import InputError, UsageError
from qemu_lint.audit.patch import Message, Patch, parse_message, place

log = logging.getLogger(__name__)

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
#: Who applies the patches in the temporary worktree (commits that never
#: leave it); also the author of a bare diff.
IDENTITY = ("qemu-lint audit", "qemu-lint@invalid")
#: Options for every git command: no hooks, no pager, fixed diff prefixes.
_GIT_OPTS = (
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


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCAL_ENV}
    env.update(
        GIT_COMMITTER_NAME=IDENTITY[0],
        GIT_COMMITTER_EMAIL=IDENTITY[1],
        GIT_AUTHOR_NAME=env.get("GIT_AUTHOR_NAME") or IDENTITY[0],
        GIT_AUTHOR_EMAIL=env.get("GIT_AUTHOR_EMAIL") or IDENTITY[1],
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR="true",
        GIT_PAGER="cat",
        LC_ALL="C",
        LANGUAGE="C",
    )
    return env


def git(
    cwd: str, *args: str, stdin: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C cwd args`` and capture its output.

    :raise InputError: when git is missing, or (with ``check``) exits non-zero
    """
    cmd = ["git", "-C", cwd, *_GIT_OPTS, *args]
    try:
        r = subprocess.run(
            cmd,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            env=_env(),
        )
    except OSError as e:
        raise InputError(f"cannot run git: {e.strerror or e}") from e
    if check and r.returncode != 0:
        raise InputError(f"git {' '.join(args[:2])} failed: {_first_error(r.stderr)}", cwd)
    return r


def _first_error(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith(("error:", "fatal:"))] or lines
    msg = "; ".join(e.split(":", 1)[1].strip() if ":" in e else e for e in errs[:3])
    return msg[:300] or "no message"


# --------------------------------------------------------------------------
# The series
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """What to audit: patches in order, on a base commit of a repository."""

    #: the repository's top folder (the user's work tree; only read)
    top: str
    #: the QEMU root relative to ``top`` ("" when they are the same folder)
    prefix: str
    #: full SHA of the base commit
    base: str
    #: where the base came from: ``--base``, ``base-commit`` (cover letter),
    #: ``range`` (the parent of the range's first commit) or ``HEAD``
    base_source: str
    patches: tuple[Patch, ...]
    #: what was audited, for titles: the range, the file names or ``-``
    label: str
    #: one patch read from stdin (b4's per-patch check)
    is_stdin: bool = False
    #: subject of the skipped cover letter, if any
    cover_subject: str | None = None


def _toplevel(root: str) -> str:
    r = git(root, "rev-parse", "--show-toplevel", check=False)
    if r.returncode != 0:
        raise InputError("not inside a git work tree (audit needs a git repository)", root)
    return os.path.realpath(r.stdout.decode().strip())


def resolve(top: str, rev: str) -> str | None:
    """The full SHA of commit ``rev`` in the repository, or None."""
    if rev.startswith("-"):
        return None
    r = git(
        top,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
    )
    return r.stdout.decode().strip() if r.returncode == 0 else None


def split_mbox(data: bytes | None, path: str | None, label: str) -> list[bytes]:
    """The messages of an mbox, a maildir or a single mail, split by ``git mailsplit``.

    :param data: the bytes (stdin), or None to read ``path``
    :raise InputError: when mailsplit refuses the input
    """
    with tempfile.TemporaryDirectory(prefix="qemu-lint-split-") as out:
        args = ["mailsplit", "-b", f"-o{out}"]
        if path is not None:
            args += ["--", path]
        r = subprocess.run(
            ["git", *args], input=data if data is not None else b"", capture_output=True, env=_env()
        )
        if r.returncode != 0:
            raise InputError(f"cannot split into messages: {_first_error(r.stderr)}", label)
        names = sorted(os.listdir(out))
        msgs = []
        for name in names:
            with open(os.path.join(out, name), "rb") as fh:
                msgs.append(fh.read())
        return msgs


def _messages(raws: Sequence[bytes], label: str) -> list[Message]:
    out = []
    for i, raw in enumerate(raws, 1):
        where = label if len(raws) == 1 else f"{label} (message {i})"
        if not raw.strip():
            continue
        out.append(parse_message(raw, where))
    return out


def _order(msgs: list[Message], label: str) -> tuple[list[Message], str | None, str | None]:
    """Patches in series order, the cover letter's base-commit and subject.

    Replies (``Re:``) and cover letters (``[PATCH 0/N]`` or no diff) are
    skipped; when every patch is numbered ``k/N`` they are sorted by ``k``.
    """
    base = next((m.base_commit for m in msgs if m.base_commit), None)
    cover = next((m.full_subject for m in msgs if m.is_cover_letter and not m.is_reply), None)
    patches = [m for m in msgs if not m.is_reply and not m.is_cover_letter]
    for m in msgs:
        if m.is_reply:
            log.info("%s: skipping reply '%s'", label, m.full_subject)
    nums = [m.numbered for m in patches]
    if patches and all(nums) and len({n[0] for n in nums if n}) == len(nums):
        patches.sort(key=lambda m: m.numbered or (0, 0))
        total = {n[1] for n in nums if n}
        have = {n[0] for n in nums if n}
        if len(total) == 1:
            missing = sorted(set(range(1, total.pop() + 1)) - have)
            if missing:
                log.warning(
                    "%s: series incomplete, missing patch(es) %s",
                    label,
                    ", ".join(str(k) for k in missing),
                )
    return patches, base, cover


def _is_maildir(path: str) -> bool:
    return all(os.path.isdir(os.path.join(path, d)) for d in ("cur", "new"))


def _range_patches(top: str, spec: str) -> tuple[list[tuple[Message, str]], str | None]:
    """The commits of ``spec`` (``A..B``, or one revision: that commit), oldest
    first, each as ``git format-patch`` writes it; and the first one's parent."""
    if ".." in spec:
        if "..." in spec:
            raise UsageError(f"{spec}: a symmetric range (A...B) is not a series; use A..B")
        r = git(top, "rev-list", "--reverse", "--topo-order", "--end-of-options", spec, check=False)
        if r.returncode != 0:
            raise InputError(
                f"no such file, and not a revision range ({_first_error(r.stderr)})", spec
            )
        shas = r.stdout.decode().split()
    else:
        sha = resolve(top, spec)
        if sha is None:
            raise InputError("no such file, and not a revision of the repository", spec)
        shas = [sha]
    merges = (
        git(
            top,
            "rev-list",
            "--min-parents=2",
            "--no-walk",
            "--stdin",
            stdin="\n".join(shas).encode(),
        )
        .stdout.decode()
        .split()
        if shas
        else []
    )
    if merges:
        raise InputError(
            f"the range holds merge commit {merges[0][:12]}: audit a linear series", spec
        )
    out: list[tuple[Message, str]] = []
    for sha in shas:
        fp = git(
            top,
            "format-patch",
            "-1",
            "--stdout",
            "--no-signature",
            "--no-color",
            "--no-numbered",
            "--no-attach",
            "--no-thread",
            "--encode-email-headers",
            sha,
        )
        msgs = split_mbox(fp.stdout, None, f"{spec} ({sha[:12]})")
        if len(msgs) != 1:
            raise InputError(f"format-patch gave {len(msgs)} messages for {sha[:12]}", spec)
        out.append((parse_message(msgs[0], f"{spec} ({sha[:12]})"), sha))
    parent = None
    if shas:
        p = git(top, "rev-parse", "--verify", "--quiet", f"{shas[0]}^", check=False)
        parent = p.stdout.decode().strip() if p.returncode == 0 else None
    return out, parent


def load_series(
    root: str,
    inputs: Sequence[str],
    stdin: bytes | None = None,
    base: str | None = None,
) -> Series:
    """Read the series to audit.

    ``inputs`` is ``["-"]`` (one message in ``stdin``), one revision range
    (``A..B``; a single revision is that one commit), or mbox files, maildirs
    and ``.patch`` files, in order.  The base is ``base``, else the cover
    letter's ``base-commit:``, else (for a range) the parent of its first
    commit, else HEAD.

    :param root: a folder of the QEMU work tree (the repository is found from it)
    :raise InputError: for unreadable or malformed input, an unknown base, a
        path escaping the tree
    :raise UsageError: for inputs that cannot be combined
    """
    if not inputs:
        raise UsageError("audit: name a revision range, mbox or patch files, or '-'")
    qemu_root = find_root(root)
    top = _toplevel(qemu_root)
    prefix = os.path.relpath(os.path.realpath(qemu_root), top)
    prefix = "" if prefix == "." else prefix.replace(os.sep, "/")
    if prefix.startswith(".."):
        raise InputError("the QEMU tree is not inside the repository's work tree", root)
    is_stdin = list(inputs) == ["-"]
    commits: dict[int, str] = {}
    parent: str | None = None
    if is_stdin:
        data = stdin or b""
        if not data.strip():
            raise InputError("no patch on standard input", "-")
        msgs = _messages(split_mbox(data, None, "-"), "-")
        patches, cover_base, cover = _order(msgs, "-")
        sources = ["-"] * len(patches)
    elif "-" in inputs:
        raise UsageError("audit: '-' (a patch on stdin) cannot be combined with other inputs")
    elif len(inputs) == 1 and not os.path.exists(inputs[0]):
        pairs, parent = _range_patches(top, inputs[0])
        patches = [m for m, _ in pairs]
        commits = {i: sha for i, (_, sha) in enumerate(pairs)}
        cover_base, cover = None, None
        sources = [inputs[0]] * len(patches)
    else:
        msgs, sources = [], []
        for path in inputs:
            if not os.path.exists(path):
                raise InputError("no such file or directory", path)
            if os.path.isdir(path) and not _is_maildir(path):
                raise InputError("a folder, but not a maildir (no cur/ and new/)", path)
            if os.path.isfile(path) and os.path.getsize(path) == 0:
                raise InputError("empty file", path)
            got = _messages(split_mbox(None, path, path), path)
            msgs += got
            sources += [path] * len(got)
        ordered, cover_base, cover = _order(msgs, ", ".join(inputs))
        by_id = {id(m): s for m, s in zip(msgs, sources, strict=True)}
        patches, sources = ordered, [by_id[id(m)] for m in ordered]
        if not patches:
            raise InputError(
                "no patches found (only cover letters, replies or no diff)", ", ".join(inputs)
            )
    if is_stdin and not patches:
        raise InputError("no patch found on standard input (no diff)", "-")

    if base is not None:
        sha, source = resolve(top, base), "--base"
        if sha is None:
            raise InputError(f"--base {base}: no such commit in the repository", top)
    elif cover_base is not None:
        sha, source = resolve(top, cover_base), "base-commit"
        if sha is None:
            raise InputError(
                f"base-commit {cover_base} (from the cover letter) is not in the repository; "
                "fetch it or pass --base",
                top,
            )
    elif parent is not None:
        sha, source = parent, "range"
    else:
        sha, source = resolve(top, "HEAD"), "HEAD"
        if sha is None:
            raise InputError("the repository has no HEAD commit; pass --base", top)
    n = len(patches)
    return Series(
        top=top,
        prefix=prefix,
        base=sha,
        base_source=source,
        patches=tuple(
            place(m, i + 1, n, sources[i], commits.get(i), numbered=bool(commits))
            for i, m in enumerate(patches)
        ),
        label=" ".join(inputs),
        is_stdin=is_stdin,
        cover_subject=cover,
    )


# --------------------------------------------------------------------------
# The temporary worktree
# --------------------------------------------------------------------------


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
            reason = _first_error(r.stderr + r.stdout)
            git(self.path, "am", "--abort", check=False)
            return reason, None
        return None, self.head()

    def _remove(self) -> None:
        mask = {signal.SIGINT, signal.SIGTERM}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
        try:
            self._remove_tree()
            if self._parent:
                shutil.rmtree(self._parent, ignore_errors=True)
            if self._lock is not None:
                os.close(self._lock)
                self._lock = None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _remove_tree(self) -> None:
        if self.path and os.path.exists(self.path):
            git(self.top, "worktree", "remove", "--force", self.path, check=False)
        if self.path and (os.path.exists(self.path) or self._listed()):
            shutil.rmtree(self.path, ignore_errors=True)
            git(self.top, "worktree", "prune", check=False)

    def _listed(self) -> bool:
        r = git(self.top, "worktree", "list", "--porcelain", check=False)
        real = os.path.realpath(self.path)
        for line in r.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("worktree ") and os.path.realpath(line[9:]) == real:
                return True
        return False
