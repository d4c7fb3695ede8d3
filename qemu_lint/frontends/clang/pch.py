"""Stage 2 (front-ends), libclang: one precompiled ``qemu/osdep.h`` per set of
flags, and a unit's own leading ``#include`` lines precompiled on top of it.

Entry points: :func:`plan_pchs` (which units of a batch can share which
precompiled header), :func:`build` (precompile ``qemu/osdep.h`` with one set
of flags, by libclang itself), :class:`Pch` (what a unit's parse is given),
and for one unit :func:`include_prefix`, :func:`build_prefix` and
:func:`blank` (see below).

Every QEMU ``.c`` file starts with ``#include "qemu/osdep.h"``, which pulls in
glib and the system headers: about a quarter of a unit's parse.  Units parsed
with the same flags (on QEMU 10.0.13 with a build, 87 of 137 share one set)
can load it precompiled instead (``-include-pch``); the main file's own
``#include`` of it is then skipped by its include guard.  The header is
precompiled without function bodies (nothing of osdep.h's inline bodies
reaches the facts of another file), with exactly the unit's flags and working
folder, so clang sees the same declarations and macros.

A unit does not use one when its main file does not begin with that
``#include`` (comments and blank lines aside), when its flags force an include
(``-include``, ``-imacros``: it would come after osdep.h instead of before),
when the file whose facts are wanted is osdep.h or one of the headers it
includes (their declarations would come from the precompiled file, not
parsed), when only one unit of the batch has those flags and no earlier batch
of the same file selection built it (building costs about a parse), or when
precompiling failed.  A file selection's batches (its rounds) share the
headers they build (:class:`~qemu_lint.frontends.pool.Precompiled`).
Clang's errors do not stop it: it goes on past a missing header as a unit's
parse does (without a build, ``config-host.h`` is missing), and they are
located in osdep.h's files, whose facts are not taken from such a unit.

On top of it, each unit precompiles the rest of its main file's leading run
of ``#include`` lines (comments and blank lines aside; up to the first other
line, or up to the ``#include`` of the header analysed through that file),
again without function bodies: the headers' inline bodies were about 60 % of
a unit's parse, and their declarations then stay out of the unit's top level.
The header is given to clang in the main file's folder (so ``#include "…"``
finds the same files) and the main file with those lines blanked out, so
clang reads the same tokens in the same order; the errors clang reports on
those lines are counted from the prefix's parse.  The facts are the same
either way (``tests/test_clang_pch.py``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from qemu_lint.frontends.clang.compdb import Plan
from qemu_lint.frontends.clang.loader import load_cindex

#: the first thing in the file, comments and blank lines aside
_FIRST_INCLUDE = re.compile(
    rb'\A(?:\s+|//[^\n]*(?:\n|\Z)|/\*.*?\*/)*#[ \t]*include[ \t]*["<]qemu/osdep\.h[">]', re.S
)
#: CXTranslationUnit_DetailedPreprocessingRecord | Incomplete | ForSerialization |
#: SkipFunctionBodies | KeepGoing (on past a missing header, as a unit's parse)
_PCH_OPTIONS = 0x01 | 0x02 | 0x10 | 0x40 | 0x200


@dataclass(frozen=True, slots=True)
class Pch:
    """A precompiled ``qemu/osdep.h``: where it is (or will be) and how it is built."""

    path: str
    osdep: str  # absolute path of the header
    args: tuple[str, ...]
    directory: str


def _osdep_of(plan: Plan) -> str:
    root = plan.abspath[: len(plan.abspath) - len(plan.path)]
    return os.path.join(root, "include", "qemu", "osdep.h")


def _eligible(plan: Plan, read_main: Callable[[str], bytes | None]) -> bool:
    if any(a in ("-include", "-imacros") for a in plan.args):
        return False
    if not plan.main:  # the small unit: ``#include osdep.h`` first (see extract_unit)
        return bool(plan.osdep)
    head = read_main(plan.main)
    return head is not None and _FIRST_INCLUDE.match(head) is not None


def plan_pchs(
    plans: Sequence[Plan],
    folder: str,
    read_main: Callable[[str], bytes | None],
    built: Collection[Pch] = (),
) -> list[Pch | None]:
    """Which precompiled header each plan can use (None: parsed whole).

    :param folder: where the precompiled headers are to be written
    :param read_main: the bytes of a unit's main file (None when unreadable)
    :param built: headers already built (by an earlier batch of the same
        file selection): a single unit may use one of them
    :return: one entry per plan; plans sharing a :class:`Pch` are equal
    """
    keys: list[Pch | None] = []
    count: dict[Pch, int] = {}
    for plan in plans:
        osdep = _osdep_of(plan)
        if plan.path == "include/qemu/osdep.h" or not os.path.isfile(osdep):
            keys.append(None)
            continue
        if not _eligible(plan, read_main):
            keys.append(None)
            continue
        h = hashlib.blake2b(digest_size=12)
        for part in (osdep, plan.directory, *plan.args):
            h.update(part.encode() + b"\0")
        path = os.path.join(folder, f"osdep-{h.hexdigest()}.pch")
        pch = Pch(path, osdep, plan.args, plan.directory)
        keys.append(pch)
        count[pch] = count.get(pch, 0) + 1
    return [k if k is not None and (count[k] > 1 or k in built) else None for k in keys]


def build(pch: Pch) -> tuple[str, ...] | None:
    """Precompile ``pch.osdep`` into ``pch.path``.

    :return: the real paths of the files it read (osdep.h included), or None
        when clang reported an error or the file could not be written
    """
    ci = load_cindex()
    args = ["-xc-header" if a == "-xc" else a for a in pch.args]
    args += ["-working-directory", pch.directory]
    try:
        tu = ci.Index.create().parse(pch.osdep, args=args, options=_PCH_OPTIONS)
    except ci.TranslationUnitLoadError:
        return None
    tmp = f"{pch.path}.{os.getpid()}.tmp"
    try:
        tu.save(tmp)
        os.replace(tmp, pch.path)
    except (ci.TranslationUnitSaveError, OSError):
        return None
    deps = {
        os.path.realpath(os.path.join(pch.directory, inc.include.name)) for inc in tu.get_includes()
    }
    deps.add(os.path.realpath(pch.osdep))
    return tuple(sorted(deps))


# -- a unit's own prefix -------------------------------------------------------

#: one part of a main file's leading run: blank space, a comment, or an
#: ``#include "…"``/``<…>`` line (a line comment may follow it)
_PREFIX_PART = re.compile(
    rb"\s+|//[^\n]*(?:\n|\Z)|/\*.*?\*/"
    rb'|#[ \t]*include[ \t]*["<]([^">\n]+)[">][ \t]*(?://[^\n]*)?(?:\n|\Z)',
    re.S,
)


def include_prefix(plan: Plan, head: bytes) -> tuple[int, int, int]:
    """The leading run of the main file that a precompiled prefix can hold.

    :param head: the main file's bytes
    :return: ``(end, includes, after)``: the offset where the run of
        comments and ``#include`` lines that begins the file ends, before the
        first other line (a ``#define``, a conditional, code) or, when the
        plan is for a header read through this file, before the ``#include``
        naming that header; how many ``#include`` lines it holds (osdep.h's
        among them); and where that header's ``#include`` line ends (0 when
        it is not in the run, or the plan is for the main file)
    """
    root = plan.abspath[: len(plan.abspath) - len(plan.path)]
    here = os.path.dirname(os.path.relpath(plan.main, root)) if root else ""
    header = plan.path if os.path.realpath(plan.main) != os.path.realpath(plan.abspath) else None
    pos = includes = 0
    while True:
        m = _PREFIX_PART.match(head, pos)
        if m is None or m.end() == pos:
            return pos, includes, 0
        name = m.group(1)
        if name is not None:
            if header is not None:
                text = name.decode("utf-8", "replace")
                cands = (os.path.normpath(os.path.join(here, text)), "include/" + text, text)
                if header in (c.replace(os.sep, "/") for c in cands):
                    return pos, includes, m.end()
            includes += 1
        pos = m.end()


def blank(data: bytes, end: int, after: int = 0) -> bytes:
    """``data`` with its first ``end`` bytes, and from ``after`` on when it is
    not 0, made spaces, newlines kept (lines and offsets unchanged)."""
    head = re.sub(rb"[^\n]", b" ", data[:end])
    if not after:
        return head + data[end:]
    return head + data[end:after] + re.sub(rb"[^\n]", b" ", data[after:])


def build_prefix(
    plan: Plan, head: bytes, end: int, base: tuple[str, tuple[str, ...]], path: str
) -> tuple[tuple[str, ...], int] | None:
    """Precompile ``head[:end]`` (the main file's leading ``#include`` lines)
    into ``path``, on top of the precompiled osdep.h ``base``, without
    function bodies.  The header is given to clang in the main file's folder,
    so that its ``#include "…"`` find the files the main file's would.

    :return: the real paths of the files it read (``base``'s too) and the
        number of clang's errors located in those lines, or None when clang
        reported an error or the file could not be written
    """
    ci = load_cindex()
    header = os.path.join(os.path.dirname(plan.main), ".qemu-lint-prefix.h")
    args = ["-xc-header" if a == "-xc" else a for a in plan.args]
    args += ["-working-directory", plan.directory, "-include-pch", base[0]]
    try:
        tu = ci.Index.create().parse(
            header, args=args, unsaved_files=[(header, head[:end])], options=_PCH_OPTIONS
        )
    except ci.TranslationUnitLoadError:
        return None
    own = 0
    for d in tu.diagnostics:
        if d.severity >= ci.Diagnostic.Error and d.location.file is not None:
            own += d.location.file.name == header
    try:
        tu.save(path)
    except ci.TranslationUnitSaveError:
        return None
    deps = {
        os.path.realpath(os.path.join(plan.directory, inc.include.name))
        for inc in tu.get_includes()
    }
    return tuple(sorted(deps.union(base[1]))), own
