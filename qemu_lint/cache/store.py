"""Stage 3 (cache): the cache folder; facts stored by content, and what the last run of a tree saw.

Entry points: :class:`Cache`, :func:`digest` and :func:`code_digest`.

Two kinds of entries live under the cache folder (``$XDG_CACHE_HOME/qemu-lint``
unless told otherwise; the CLI decides):

* ``facts-v1/<salt>/<xx>/<key>.pickle``: the :class:`~qemu_lint.facts.FileFacts`
  of one file, keyed by its path and the digest of its bytes (for the clang
  front-end, also by its flags, and with a ``.deps`` entry beside it listing
  the files the translation unit included and their digests, so an edited
  header invalidates the facts of the files that include it).  The salt folds
  in the front-end, :data:`~qemu_lint.facts.FACTS_VERSION`, the parser version
  and the digest of qemu-lint's own code, so that facts from another version
  are never used.
* ``trees-v1/<key>.pickle``: a :class:`~qemu_lint.cache.state.TreeState`,
  what the last run over one tree with one configuration saw: each file's
  stat key and digest, the questions its file selection asked of the token
  index with their answers, the files it chose, and what each rule yielded.
  The next run reads only the files whose stat key changed, answers old
  questions by searching only the changed files, and with nothing changed at
  all reuses the choice and the rules' results outright: the same bytes,
  configuration and code give the same model, so this is exact, unlike
  caching per-check results by mtime.

Every write goes to a temporary file in the same folder and is renamed into
place, so readers never see half an entry and concurrent runs are safe (the
last writer wins).  Entries are read with an unpickler that can only build
the classes of the facts schema (:class:`_SchemaUnpickler`), so a crafted
entry cannot run code.  An entry that cannot be read or unpickled, or holds
the wrong kind of object, is ignored and rebuilt.  A cache that cannot be written
(read-only, full disk) is logged once and the run goes on without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import logging
import os
import pickle
import shutil
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qemu_lint.cache.state import TreeState
from qemu_lint.errors import InputError
from qemu_lint.source import write_atomic

if TYPE_CHECKING:
    from qemu_lint.facts import FileFacts

log = logging.getLogger(__name__)

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by qemu-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


#: the names a cache folder holds (besides temporary files being renamed into place)
OWN_NAMES = frozenset({"CACHEDIR.TAG", ".gitignore", "facts-v1", "trees-v1"})


def digest(data: bytes) -> str:
    """The content key of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@functools.cache
def code_digest() -> str:
    """A digest of qemu-lint's own Python sources (the qemu_lint package).

    Any change of the code that makes facts or picks files invalidates what an
    older version cached, without relying on the version number being bumped.
    Computed once per process (the sources do not change under a run).
    """
    h = hashlib.blake2b(digest_size=16)
    top = Path(__file__).resolve().parent.parent  # the qemu_lint package
    for p in sorted(top.rglob("*.py")):
        h.update(p.relative_to(top).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


#: The modules whose classes an entry may hold: the facts, the tree record
#: and what it keeps (diagnostics, spans, problems, suppressions), and the
#: build configuration (its targets, conditions and build steps).
SCHEMA_MODULES = frozenset(
    {
        "qemu_lint.facts",
        "qemu_lint.build",
        "qemu_lint.build.configs",
        "qemu_lint.build.kconfig",
        "qemu_lint.build.meson",
        "qemu_lint.cache.state",
        "qemu_lint.rule",
        "qemu_lint.source",
        "qemu_lint.errors",
        "qemu_lint.findings.suppress",
    }
)
#: Plain containers an entry may hold besides those pickle encodes itself.
_BUILTINS = frozenset({"frozenset", "set", "complex"})


class _SchemaUnpickler(pickle.Unpickler):
    """An unpickler that can build only the data of :data:`SCHEMA_MODULES`.

    Pickle runs code only through the callables ``find_class`` hands it
    (``os.system``, ``builtins.eval``, ``subprocess.Popen``…).  Here those can
    only be the frozen dataclasses and enums of the facts schema (building
    one sets its fields and runs nothing else) and a few builtin containers;
    any other global makes the entry unreadable, and it is rebuilt.  See
    docs/reliability.md for why this and not HMAC or JSON.
    """

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _BUILTINS:
            return super().find_class(module, name)
        if module in SCHEMA_MODULES and "." not in name and not name.startswith("_"):
            got = getattr(sys.modules.get(module), name, None)
            if isinstance(got, type) and (
                dataclasses.is_dataclass(got) or issubclass(got, enum.Enum)
            ):
                return got
        raise pickle.UnpicklingError(f"{module}.{name} is not part of the facts schema")


def _heal(path: str) -> bool:
    """Remove what stands at an entry's place and is not a regular file (a
    folder, a FIFO, a link), so that it is rebuilt once instead of warned
    about on every run (and a FIFO never blocks a read).

    :return: whether something was removed
    """
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISREG(st.st_mode):
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return True


class Cache:
    """A cache folder.

    :param directory: the folder (created on first write)
    :param salt: what facts depend on besides a file's path and bytes
        (front-end, parser version, code digest)
    """

    def __init__(self, directory: str, salt: str) -> None:
        self.directory = os.path.abspath(directory)
        self._facts_folder = ""  # see _facts_dir
        self._trees_dir = os.path.join(self.directory, "trees-v1")
        self._salt = salt
        self._broken = False
        self._prepared = False
        self.hits = 0
        self.misses = 0

    def validate(self) -> None:
        """Refuse a folder that holds other things than a cache.

        The cache folder gets a ``.gitignore`` and a ``CACHEDIR.TAG``; writing
        those into, say, the root of a source tree would modify the user's tree.

        :raise InputError: when the folder has no ``CACHEDIR.TAG`` and holds
            something a cache does not hold, or is not a folder
        """
        d = self.directory
        if os.path.exists(d) and not os.path.isdir(d):
            raise InputError("cache folder is not a folder", d)
        if os.path.isdir(d) and not os.path.isfile(os.path.join(d, "CACHEDIR.TAG")):
            # Another run may be creating the cache right now: what it writes
            # before the tag is ours too.
            names = os.listdir(d)
            foreign = [n for n in names if n not in OWN_NAMES and not n.startswith(".tmp-")]
        else:
            foreign = []
        if foreign:
            raise InputError(
                "not a cache folder (it is not empty and has no CACHEDIR.TAG); "
                "name an empty or new folder",
                d,
            )

    # -- facts -----------------------------------------------------------

    @property
    def _facts_dir(self) -> str:
        """The facts' folder, named on first use: a run whose results come
        from the tree's record (a warm run) does not import the facts' module
        (about 25 ms of dataclass creation), whose version the name holds."""
        if not self._facts_folder:
            from qemu_lint.facts import FACTS_VERSION

            fv = f"{self._salt}\0{FACTS_VERSION}".encode()
            k = hashlib.blake2b(fv, digest_size=8).hexdigest()
            self._facts_folder = os.path.join(self.directory, "facts-v1", k)
        return self._facts_folder

    def _facts_path(self, path: str, content: str) -> str:
        k = hashlib.blake2b(f"{path}\0{content}".encode(), digest_size=16).hexdigest()
        return os.path.join(self._facts_dir, k[:2], k + ".pickle")

    def get_facts(self, path: str, content: str) -> FileFacts | None:
        """The cached facts of ``path`` with content digest ``content``, if any."""
        got = self.get_facts_with(path, content)
        return got[0] if got is not None else None

    def get_facts_with(self, path: str, content: str) -> tuple[FileFacts, object] | None:
        """The cached facts of ``path`` with content digest ``content`` and
        what was stored with them (:meth:`put_facts`'s ``extra``, None if
        nothing), if any."""
        from qemu_lint.facts import FileFacts

        got = self._load(self._facts_path(path, content))
        extra: object = None
        if isinstance(got, tuple) and len(got) == 2:
            got, extra = got
        if isinstance(got, FileFacts) and got.path == path:
            self.hits += 1
            return got, extra
        self.misses += 1
        return None

    def put_facts(self, content: str, facts: FileFacts, extra: object = None) -> None:
        """Store ``facts`` under ``content``; with ``extra``, plain data
        derived from them (a later stage's, built of builtin containers and
        the facts' own objects) in the same entry, so that loading it shares
        those objects instead of copying them."""
        value = facts if extra is None else (facts, extra)
        self._store(self._facts_path(facts.path, content), value)

    def get_deps(self, path: str, content: str) -> tuple[tuple[str, str], ...] | None:
        """What facts of ``path`` stored with :meth:`put_deps` were computed
        from besides its bytes: ``(file, mark)`` pairs (clang front-end)."""
        got = self._load(self._facts_path(path, content)[: -len(".pickle")] + ".deps")
        return got if isinstance(got, tuple) else None

    def put_deps(self, path: str, content: str, deps: tuple[tuple[str, str], ...]) -> None:
        self._store(self._facts_path(path, content)[: -len(".pickle")] + ".deps", deps)

    # -- tree state --------------------------------------------------------

    def _tree_path(self, key: str) -> str:
        k = hashlib.blake2b(f"{self._salt}\0{key}".encode(), digest_size=16).hexdigest()
        return os.path.join(self._trees_dir, k + ".pickle")

    def get_tree(self, key: str) -> TreeState | None:
        """What the last run with ``key`` (root and configuration) saw, if recorded."""
        got = self._load(self._tree_path(key))
        return got if isinstance(got, TreeState) else None

    def put_tree(self, key: str, state: TreeState) -> None:
        self._store(self._tree_path(key), state)

    # -- build configuration -------------------------------------------------

    def _build_path(self, key: str) -> str:
        k = hashlib.blake2b(f"build\0{key}\0{self._salt}".encode(), digest_size=16).hexdigest()
        return os.path.join(self._trees_dir, "build-" + k + ".pickle")

    def get_build(self, key: str) -> object:
        """The recorded ``(input digests, build configuration)`` of a tree, or None."""
        return self._load(self._build_path(key))

    def put_build(self, key: str, value: object) -> None:
        self._store(self._build_path(key), value)

    # -- storage -----------------------------------------------------------

    def _load(self, path: str) -> object:
        try:
            if _heal(path):
                return None
            with open(path, "rb") as fh:
                return _SchemaUnpickler(fh).load()
        except FileNotFoundError:
            return None
        except Exception as e:  # truncated, corrupted, from an incompatible version
            log.debug("cache: ignoring unreadable entry %s: %r", path, e)
            return None

    def _prepare(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
            target = os.path.join(self.directory, name)
            if not os.path.exists(target):
                write_atomic(target, text.encode())

    def _store(self, path: str, value: object) -> None:
        if self._broken:
            return
        try:
            if not self._prepared:
                self._prepare()
                self._prepared = True
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _heal(path)
            write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as e:
            self._broken = True
            log.warning(
                "cache: cannot write to %s (%s); going on without caching",
                self.directory,
                e.strerror or e,
            )
