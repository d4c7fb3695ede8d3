"""Stage 1 (discover): which files can matter, found by searching their bytes.

Entry point: :class:`TokenIndex`.  The engine parses only the files that
mention what the model still lacks (see :func:`qemu_lint.select.wanted`):
whole-word identifiers, calls through a given struct field, and the
definitions of types and cast macros.  Every question starts from the
whole-word hits of its words in one buffer holding every file; a round's
words are found together in one scan (:func:`~qemu_lint.discover.matcher.word_hits`,
after :meth:`TokenIndex.prefetch`), and each question is answered once and
remembered.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from qemu_lint.discover.matcher import word_hits


def _base(name: str) -> str:
    """A cast macro's QOM type name: ``X86_CPU_GET_CLASS`` → ``X86_CPU``."""
    return re.sub(r"_(GET_CLASS|CLASS)$", "", name)


def query_words(kind: str, arg: str) -> tuple[str, ...]:
    """The words whose hits answer question ``(kind, arg)``."""
    return (arg, _base(arg)) if kind == "files_defining" else (arg,)


_TYPE_NAME = re.compile(rb"\.name\s*=\s*$")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class TokenIndex:
    """Whole-word searches over the bytes of many files.

    :param paths: root-relative paths, in the same order as ``contents``
    :param contents: each file's bytes
    """

    def __init__(self, paths: Sequence[str], contents: Sequence[bytes]) -> None:
        self.paths = list(paths)
        self.starts: list[int] = []
        pos = 0
        for c in contents:
            self.starts.append(pos)
            pos += len(c) + 1
        self.buf = b"\n".join(contents)
        self._words: dict[tuple[str, str], frozenset[int]] = {}
        self._found: dict[bytes, list[int]] = {}
        #: how many scans of the buffer were made (for --debug and tests)
        self.scans = 0

    def _file_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def prefetch(self, words: Iterable[str]) -> None:
        """Find every one of ``words`` not searched yet, in one scan."""
        todo = {w.encode() for w in words} - self._found.keys()
        if todo:
            self.scans += 1
            self._found.update(word_hits(self.buf, todo))

    def _hits(self, word: bytes) -> Iterable[int]:
        got = self._found.get(word)
        if got is None:
            self.prefetch([word.decode()])
            got = self._found[word]
        return got

    def files_with_word(self, word: str) -> frozenset[int]:
        """Indexes of the files mentioning ``word`` as a whole identifier."""
        key = ("w", word)
        got = self._words.get(key)
        if got is None:
            got = frozenset(self._file_of(i) for i in self._hits(word.encode()))
            self._words[key] = got
        return got

    def files_calling_field(self, field: str) -> frozenset[int]:
        """Files with ``->field(`` or ``.field(`` (spaces allowed)."""
        key = ("f", field)
        got = self._words.get(key)
        if got is None:
            buf = self.buf
            out = set()
            for i in self._hits(field.encode()):
                if self._file_of(i) in out:
                    continue
                j = i + len(field)
                while j < len(buf) and buf[j] in b" \t":
                    j += 1
                k = i - 1
                while k > 0 and buf[k] in b" \t\n":
                    k -= 1
                if (
                    j < len(buf)
                    and buf[j] == ord("(")
                    and (buf[k] == ord(".") or buf[k - 1 : k + 1] == b"->")
                ):
                    out.add(self._file_of(i))
            got = frozenset(out)
            self._words[key] = got
        return got

    def files_defining_function(self, name: str) -> frozenset[int]:
        """Files with a definition or prototype of function ``name``: the name
        on a line that starts with a declaration (no ``=``, ``(``, ``;`` or
        ``return`` before it)."""
        key = ("F", name)
        got = self._words.get(key)
        if got is None:
            out = set()
            buf = self.buf
            for i in self._hits(name.encode()):
                if self._file_of(i) in out:
                    continue
                ls = buf.rfind(b"\n", 0, i) + 1
                prefix = buf[ls:i]
                if prefix[:1] in (b" ", b"\t") or b"#" in prefix[:1]:
                    continue
                if any(c in prefix for c in (b"=", b"(", b";", b"return", b",")):
                    continue
                j = i + len(name)
                while j < len(buf) and buf[j] in b" \t":
                    j += 1
                if j < len(buf) and buf[j] == ord("("):
                    out.add(self._file_of(i))
            got = frozenset(out)
            self._words[key] = got
        return got

    def files_registering_type(self, name: str) -> frozenset[int]:
        """Files with a QOM ``TypeInfo`` naming ``name``: ``.name = name``."""
        key = ("t", name)
        got = self._words.get(key)
        if got is None:
            buf = self.buf
            out = set()
            for i in self._hits(name.encode()):
                ls = buf.rfind(b"\n", 0, i) + 1
                if _TYPE_NAME.search(buf[ls:i]):
                    out.add(self._file_of(i))
            got = frozenset(out)
            self._words[key] = got
        return got

    def files_defining(self, name: str) -> frozenset[int]:
        """Files that define type or macro ``name``: ``struct name {``, ``} name;``,
        ``typedef … name;``, ``#define name``, or a QOM ``*DECLARE*(… name …)``."""
        key = ("d", name)
        got = self._words.get(key)
        if got is None:
            base = _base(name)
            pat: re.Pattern[bytes] | None = None  # compiled at the first hit (most have none)
            out = set()
            for word in {name, base}:
                wb = word.encode()
                for i in self._hits(wb):
                    if self._file_of(i) in out:
                        continue
                    lo = self.buf.rfind(b"\n", 0, max(i - 200, 0)) + 1
                    window = self.buf[lo : i + len(wb) + 4]
                    if not _may_define(window, i - lo, wb):
                        continue
                    pat = pat or _definition(name, base)
                    if pat.search(window):
                        out.add(self._file_of(i))
            got = frozenset(out)
            self._words[key] = got
        return got


def _may_define(window: bytes, at: int, word: bytes) -> bool:
    """Can :func:`_definition`'s pattern match in ``window``, which holds
    ``word`` at offset ``at``?  A test of a few bytes, true whenever the
    pattern matches (so answers are those of the pattern alone), false for
    12,450 of the 17,449 hits a cold check of QEMU 10.0.13 tests (most uses
    of a type name), which then need no search.  Each alternative of the pattern holds the name (or
    the QOM base name) as a whole word: either this one, followed by ``{`` or
    ``;`` (``struct N {``, ``typedef … N;``), or preceded by ``}`` (``} N;``),
    with ``define`` or ``DECLARE`` in the window, or an earlier occurrence in
    the window (whose match may end past its own window: tested in full)."""
    after = window[at + len(word) :].lstrip()
    return (
        after[:1] in (b"{", b";")
        or window[:at].rstrip().endswith(b"}")
        or b"define" in window
        or b"DECLARE" in window
        or word in window[:at]
    )


def _definition(name: str, base: str) -> re.Pattern[bytes]:
    """A definition of type or macro ``name`` (or a QOM declaration of ``base``)."""
    n, b = re.escape(name.encode()), re.escape(base.encode())
    return re.compile(
        rb"(struct|union|enum)\s+%s\s*\{|\}\s*%s\s*;|typedef\b[^;{}]*\b%s\s*;"
        rb"|#\s*define\s+%s\b|DECLARE\w*\s*\([^;{}]*\b%s\b" % (n, n, n, n, b)
    )


#: A question put to a token index: (method name, its argument).
Query = tuple[str, str]


class MemoIndex:
    """A :class:`TokenIndex` that reuses the answers of an earlier run.

    A question asked in an earlier run is answered from its recorded answer
    for the files unchanged since, plus a search of the changed files only.
    A new question is searched in every file (their bytes are read then, once).
    The answers given in this run are in :attr:`answers`, ready to be recorded.

    :param paths: root-relative paths of every file of the tree
    :param read: the bytes of file ``i`` (called lazily)
    :param memo: recorded answers: question → paths of the files matching
    :param changed: indexes of the files that are new or changed since then
    """

    def __init__(
        self,
        paths: Sequence[str],
        read: Callable[[int], bytes],
        memo: Mapping[Query, frozenset[str]],
        changed: Iterable[int],
    ) -> None:
        self.paths = list(paths)
        self._pos = {p: i for i, p in enumerate(self.paths)}
        self._read = read
        self._memo = memo
        self._changed = sorted(set(changed))
        self._changed_set = frozenset(self._changed)
        self._full: TokenIndex | None = None
        self._delta: TokenIndex | None = None
        self.answers: dict[Query, frozenset[str]] = {}
        #: how many questions needed a search of every file (for --debug)
        self.full_searches = 0

    def _ask(self, kind: str, arg: str) -> frozenset[int]:
        key = (kind, arg)
        got = self.answers.get(key)
        if got is not None:
            return frozenset(self._pos[p] for p in got)
        old = self._memo.get(key)
        if old is None:
            self.full_searches += 1
            res: frozenset[int] = getattr(self._full_index(), kind)(arg)
        else:
            kept = {self._pos[p] for p in old if p in self._pos} - self._changed_set
            delta = getattr(self._delta_index(), kind)(arg)
            res = frozenset(kept | {self._changed[j] for j in delta})
        self.answers[key] = frozenset(self.paths[i] for i in res)
        return res

    def prefetch(self, queries: Iterable[Query]) -> None:
        """Search the words of every one of ``queries`` not answered yet, in
        one scan of every file (new questions) and one of the changed files
        (questions answered by the last run)."""
        full: set[str] = set()
        delta: set[str] = set()
        for kind, arg in queries:
            if (kind, arg) not in self.answers:
                (full if (kind, arg) not in self._memo else delta).update(query_words(kind, arg))
        if full:
            self._full_index().prefetch(full)
        if delta:
            self._delta_index().prefetch(delta)

    def _full_index(self) -> TokenIndex:
        if self._full is None:
            self._full = TokenIndex(self.paths, [self._read(i) for i in range(len(self.paths))])
        return self._full

    def _delta_index(self) -> TokenIndex:
        if self._delta is None:
            self._delta = TokenIndex(
                [self.paths[i] for i in self._changed], [self._read(i) for i in self._changed]
            )
        return self._delta

    @property
    def scans(self) -> int:
        """How many scans of the files' bytes the questions took."""
        return sum(t.scans for t in (self._full, self._delta) if t is not None)

    def answer(self, query: Query) -> frozenset[int]:
        """The files answering ``query`` (one of the four methods below, by name)."""
        return self._ask(*query)

    def files_with_word(self, word: str) -> frozenset[int]:
        return self._ask("files_with_word", word)

    def files_calling_field(self, field: str) -> frozenset[int]:
        return self._ask("files_calling_field", field)

    def files_defining_function(self, name: str) -> frozenset[int]:
        return self._ask("files_defining_function", name)

    def files_defining(self, name: str) -> frozenset[int]:
        return self._ask("files_defining", name)

    def files_registering_type(self, name: str) -> frozenset[int]:
        return self._ask("files_registering_type", name)
