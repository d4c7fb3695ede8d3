"""Audit stage: the patch series to audit, and its base commit.

Entry point: :func:`load_series` (a revision range, mbox files, a maildir,
``.patch`` files or one message on stdin → a :class:`Series` with its base
commit).  The patches are applied by :class:`qemu_lint.audit.apply.IndexState`.

git runs through :func:`qemu_lint.discover.git.git` (an environment of its
own; see there).  mboxes are split with ``git mailsplit`` (it only splits at
``From `` lines that carry a date, so a commit message line starting with
"From " stays in its message), never with :mod:`mailbox`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from qemu_lint.audit.patch import Message, Patch, parse_message, place
from qemu_lint.discover.files import find_root
from qemu_lint.discover.git import first_error, git, resolve_commit
from qemu_lint.errors import InputError, UsageError

log = logging.getLogger(__name__)


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


def split_mbox(data: bytes | None, path: str | None, label: str) -> list[bytes]:
    """The messages of an mbox, a maildir or a single mail, split by ``git mailsplit``.

    :param data: the bytes (stdin), or None to read ``path``
    :raise InputError: when mailsplit refuses the input
    """
    with tempfile.TemporaryDirectory(prefix="qemu-lint-split-") as out:
        args = ["mailsplit", "-b", f"-o{out}"]
        if path is not None:
            args += ["--", path]
        r = git(None, *args, stdin=data, check=False)
        if r.returncode != 0:
            raise InputError(f"cannot split into messages: {first_error(r.stderr)}", label)
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


#: how ``scripts/checkpatch.pl`` reads a commit (its ``#N`` count these lines)
CHECKPATCH_SHOW = (
    "-c",
    "diff.renamelimit=0",
    "-c",
    "diff.renames=True",
    "-c",
    "diff.algorithm=histogram",
    "show",
    "--no-mailmap",
    "--no-color",
    "--patch-with-stat",
)


def _show_text(top: str, sha: str) -> str:
    """Commit ``sha`` as ``scripts/checkpatch.pl`` reads it."""
    return git(top, *CHECKPATCH_SHOW, sha).stdout.decode("utf-8", "replace")


def _range_patches(top: str, spec: str) -> tuple[list[tuple[Message, str]], str | None]:
    """The commits of ``spec`` (``A..B``, or one revision: that commit), oldest
    first, each as ``git format-patch`` writes it; and the first one's parent."""
    if ".." in spec:
        if "..." in spec:
            raise UsageError(f"{spec}: a symmetric range (A...B) is not a series; use A..B")
        r = git(top, "rev-list", "--reverse", "--topo-order", "--end-of-options", spec, check=False)
        if r.returncode != 0:
            raise InputError(
                f"no such file, and not a revision range ({first_error(r.stderr)})", spec
            )
        shas = r.stdout.decode().split()
    else:
        sha = resolve_commit(top, spec)
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


@dataclass(slots=True)
class _Read:
    """What the inputs hold: the patches in order and what they say of their base."""

    patches: list[Message]
    #: the input each patch came from
    sources: list[str]
    #: range commits by position in ``patches``
    commits: dict[int, str]
    cover_base: str | None = None
    cover: str | None = None
    #: a range's first commit's parent
    parent: str | None = None


def _read_stdin(stdin: bytes | None) -> _Read:
    data = stdin or b""
    if not data.strip():
        raise InputError("no patch on standard input", "-")
    msgs = _messages(split_mbox(data, None, "-"), "-")
    patches, cover_base, cover = _order(msgs, "-")
    if not patches:
        raise InputError("no patch found on standard input (no diff)", "-")
    return _Read(patches, ["-"] * len(patches), {}, cover_base, cover)


def _read_range(top: str, spec: str) -> _Read:
    pairs, parent = _range_patches(top, spec)
    commits = {i: sha for i, (_, sha) in enumerate(pairs)}
    return _Read([m for m, _ in pairs], [spec] * len(pairs), commits, parent=parent)


def _read_files(inputs: Sequence[str]) -> _Read:
    msgs: list[Message] = []
    sources: list[str] = []
    for path in inputs:
        if not os.path.exists(path):
            raise InputError("no such file or directory", path)
        if os.path.isdir(path) and not _is_maildir(path):
            raise InputError("a folder, but not a maildir (no cur/ and new/)", path)
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            raise InputError("empty file", path)
        data = None
        if not (os.path.isfile(path) or os.path.isdir(path)):
            # A pipe (``<(cat series.mbox)``) or a device: git, which does not
            # inherit the descriptor and could not read it twice, gets its bytes.
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                raise InputError(f"cannot read: {e.strerror or e}", path) from e
            if not data:
                raise InputError("empty input", path)
        got = _messages(split_mbox(data, None if data is not None else path, path), path)
        msgs += got
        sources += [path] * len(got)
    ordered, cover_base, cover = _order(msgs, ", ".join(inputs))
    by_id = {id(m): s for m, s in zip(msgs, sources, strict=True)}
    if not ordered:
        raise InputError(
            "no patches found (only cover letters, replies or no diff)", ", ".join(inputs)
        )
    return _Read(ordered, [by_id[id(m)] for m in ordered], {}, cover_base, cover)


def _base(top: str, base: str | None, read: _Read) -> tuple[str, str]:
    """The base commit's SHA, and where it came from (see :attr:`Series.base_source`)."""
    if base is not None:
        sha = resolve_commit(top, base)
        if sha is None:
            raise InputError(f"--base {base}: no such commit in the repository", top)
        return sha, "--base"
    if read.cover_base is not None:
        sha = resolve_commit(top, read.cover_base)
        if sha is None:
            raise InputError(
                f"base-commit {read.cover_base} (from the cover letter) is not in the "
                "repository; fetch it or pass --base",
                top,
            )
        return sha, "base-commit"
    if read.parent is not None:
        return read.parent, "range"
    sha = resolve_commit(top, "HEAD")
    if sha is None:
        raise InputError("the repository has no HEAD commit; pass --base", top)
    return sha, "HEAD"


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
    if is_stdin:
        read = _read_stdin(stdin)
    elif "-" in inputs:
        raise UsageError("audit: '-' (a patch on stdin) cannot be combined with other inputs")
    elif len(inputs) == 1 and not os.path.exists(inputs[0]):
        read = _read_range(top, inputs[0])
    else:
        read = _read_files(inputs)
    sha, source = _base(top, base, read)
    n = len(read.patches)
    return Series(
        top=top,
        prefix=prefix,
        base=sha,
        base_source=source,
        patches=tuple(
            place(
                m,
                i + 1,
                n,
                read.sources[i],
                read.commits.get(i),
                numbered=bool(read.commits),
                show_text=_show_text(top, read.commits[i]) if i in read.commits else None,
            )
            for i, m in enumerate(read.patches)
        ),
        label=" ".join(inputs),
        is_stdin=is_stdin,
        cover_subject=read.cover,
    )
