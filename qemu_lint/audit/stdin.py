"""Audit stage: where one patch read on stdin (b4's per-patch check) stands against HEAD.

Entry point: :func:`locate`.  b4 runs ``audit -`` in two situations, and the
base of the audit differs:

- ``b4 am -k`` (``am-perpatch-check-cmd``) feeds each patch of a series
  before any is applied: the patch applies on HEAD, HEAD is the base.  A
  patch that needs earlier patches of its series (or was made on another
  tree) does not apply there: it cannot be judged, which is said once, as a
  warning (:attr:`Placement.unjudged`), not as a failure.
- ``b4 prep --check`` (``prep-perpatch-check-cmd``) feeds each patch of a
  series that is already committed: its post-image is in HEAD.  The commit
  that made exactly this change (same blobs before and after, from the
  patch's ``index`` lines) is looked up in HEAD's history, and the patch is
  judged against its parent, the state before it.

Only git's object store is read (``ls-tree``, ``log --raw``); patches without
``index`` lines (plain diffs) keep HEAD as their base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qemu_lint.audit.patch import Patch
from qemu_lint.discover.git import git, resolve_commit

_INDEX = re.compile(r"^index ([0-9a-f]{7,64})\.\.([0-9a-f]{7,64})(?: [0-7]{6})?$")
_NULL = re.compile(r"^0+$")
#: how far back in HEAD's history (commits touching the patch's files) to look
#: for the commit of an applied patch
HISTORY = 500


@dataclass(frozen=True, slots=True)
class Placement:
    """The base to judge the patch on, or why it cannot be judged."""

    #: full SHA of the base commit
    base: str
    #: where it came from (:attr:`qemu_lint.audit.series.Series.base_source`)
    source: str
    #: the warning to give instead of a verdict, when the patch cannot be judged
    unjudged: str | None = None


def _blobs(patch: Patch) -> list[tuple[str | None, str | None, str, str]] | None:
    """``(old path, new path, pre-image blob, post-image blob)`` per file, from
    the ``index`` lines; None when a file has none."""
    lines = patch.text.split("\n")
    ends = [f.at for f in patch.files[1:]] + [len(lines) + 1]
    out = []
    for f, end in zip(patch.files, ends, strict=True):
        m = next((m for ln in lines[f.at : end - 1] if (m := _INDEX.match(ln.rstrip("\r")))), None)
        if m is None:
            return None
        out.append((f.old_path, f.new_path, m.group(1), m.group(2)))
    return out


def _matches(blob: str | None, want: str) -> bool:
    """Does ``blob`` (None: no such file) match the abbreviated ``want``?"""
    if _NULL.match(want):
        return blob is None
    return blob is not None and blob.startswith(want)


def _tree_blobs(top: str, rev: str, paths: list[str]) -> dict[str, str]:
    r = git(top, "ls-tree", "-z", "--full-tree", rev, "--", *paths, check=False)
    out: dict[str, str] = {}
    for entry in r.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.decode().split()
        if len(parts) == 3 and parts[1] == "blob":
            out[name.decode("utf-8", "surrogateescape")] = parts[2]
    return out


def _commit_of(
    top: str, head: str, blobs: list[tuple[str | None, str | None, str, str]]
) -> str | None:
    """The newest commit of ``head``'s history that changes exactly these blobs."""
    paths = sorted({p for old, new, _, _ in blobs for p in (old, new) if p})
    r = git(
        top,
        "log",
        f"--max-count={HISTORY}",
        "--no-abbrev",
        "--raw",
        "--no-renames",
        "--format=%x00%H",
        head,
        "--",
        *paths,
        check=False,
    )
    want = {str(new or old): (pre, post) for old, new, pre, post in blobs}
    for chunk in r.stdout.decode("utf-8", "surrogateescape").split("\0")[1:]:
        sha, *raw = chunk.strip("\n").split("\n")
        seen: dict[str, tuple[str, str]] = {}
        for line in raw:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) >= 5 and meta.startswith(":"):
                seen[path] = (fields[2], fields[3])
        if set(seen) >= set(want) and all(
            seen[p][0].startswith(pre) and seen[p][1].startswith(post)
            for p, (pre, post) in want.items()
        ):
            return sha.strip()
    return None


def locate(top: str, head: str, patch: Patch) -> Placement:
    """The base on which to judge ``patch``, read on stdin with HEAD (``head``) as base.

    :param top: the repository's top folder
    """
    blobs = _blobs(patch)
    if blobs is None or not blobs:
        return Placement(head, "HEAD")
    paths = sorted({p for old, new, _, _ in blobs for p in (old, new) if p})
    at_head = _tree_blobs(top, head, paths)
    if all(old is None or _matches(at_head.get(old), pre) for old, _, pre, _ in blobs) and all(
        not _NULL.match(pre) or new is None or new not in at_head for _, new, pre, _ in blobs
    ):
        return Placement(head, "HEAD")
    # Already applied: the commit of HEAD's history that made this very change.
    commit = _commit_of(top, head, blobs)
    parent = resolve_commit(top, f"{commit}^") if commit else None
    if commit is not None and parent is not None:
        return Placement(parent, f"applied at HEAD: the parent of {commit[:12]}")
    return Placement(
        head,
        "HEAD",
        unjudged=f"patch {_name(patch)} does not apply on HEAD {head[:12]}: it needs earlier "
        "patches of its series (or another base); not judged",
    )


def _name(patch: Patch) -> str:
    """``4/4``, the patch's real place in its series when its subject says it."""
    m = re.search(r"\[[^\]]*?(\d+)/(\d+)[^\]]*\]", patch.full_subject)
    return f"{int(m.group(1))}/{int(m.group(2))}" if m else "-"
