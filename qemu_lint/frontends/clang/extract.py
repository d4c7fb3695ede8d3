"""Stages 2-3 (parse, facts), libclang front-end: a translation unit → :class:`FileFacts`.

Entry point: :func:`extract_unit` (parse one plan of
:class:`~qemu_lint.frontends.clang.compdb.Planner` and return the facts of
its file, picklable, with the files the parse read).  No libclang object
leaves this module.

The facts are the ones ``extract.py`` produces from tree-sitter, field for
field, with the compiler's view where it differs on purpose:

* **Macros.** An expression written as a macro invocation keeps its written
  shape (``CPU(obj)`` is a call of ``CPU``, ``NULL`` the constant ``NULL``) when
  the macro body neither writes anything (``=``, ``op=``, ``++``/``--``) nor
  calls through a function pointer; the compiler's type of the expansion is
  attached to it.  Otherwise the expansion itself is extracted, every node
  from the macro body placed at the invocation: a local
  ``#define FORGET(c) ((c)->cpu = NULL)`` used as ``FORGET(cdev);`` is an
  assignment at that line, which tree-sitter cannot see.
* **Types.** ``typeof`` and other types written through macros are resolved to
  the type the compiler computed; calls carry their result type (so a call
  through a function-pointer typedef is typed).
  A statement macro whose body holds a ``return``, ``goto``, a write or a
  call through a pointer is expanded the same way (an early return hidden in
  a macro guards what follows).  Functions a macro defines (QOM checkers,
  ``type_init`` constructors) are kept as prototypes only: their return
  types type the calls, but their bodies would add call paths nobody wrote.
* **Conditional compilation.** Only the branches of ``#if``/``#ifdef`` that the
  flags select exist (tree-sitter reads every branch).

Error policy: clang's error diagnostics located in the file are counted in
``error_nodes`` and the bytes of its declarations clang marked invalid in
``skipped_bytes``; parsing goes on past missing headers (``KEEP_GOING``), so
a tree without a build (no generated ``config-host.h``, qapi or trace
headers) is still analysed.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import itertools
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from qemu_lint.facts import (
    Define,
    Expr,
    Field,
    FileFacts,
    FunctionDecl,
    FunctionDef,
    GlobalVar,
    MacroUse,
    Stmt,
    StructDef,
    Typedef,
    TypeRef,
    Var,
    qom_macro_uses,
)
from qemu_lint.frontends.clang import pch as pchs
from qemu_lint.frontends.clang.compdb import Plan
from qemu_lint.frontends.clang.loader import load_cindex

log = logging.getLogger(__name__)

FRONTEND = "clang"
Cursor = Any  # clang.cindex.Cursor; kept loose: the bindings ship no type stubs
Pos = tuple[int, int, int, int]  # line, column, end line, end column (1-based)

_TOKEN = re.compile(
    rb"[A-Za-z_0-9]+|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|->|\+\+|--|<<=|>>=|"
    rb"[-+*/%&|^<>!=]=|&&|\|\||<<|>>|\.\.\.|."
)
_DESIGNATOR = re.compile(rb"(?:\s*(?:\[[^\]=]*\]|\.\s*[A-Za-z_]\w*))*\s*\.\s*([A-Za-z_]\w*)\s*=")
_BUILTIN_WORDS = frozenset(
    {
        "void",
        "char",
        "short",
        "int",
        "long",
        "float",
        "double",
        "signed",
        "unsigned",
        "bool",
        "_Bool",
        "__int128",
    }
)
_NOT_TYPE_WORDS = frozenset(
    {
        "static",
        "extern",
        "const",
        "volatile",
        "inline",
        "register",
        "restrict",
        "__restrict",
        "__inline",
        "__inline__",
        "_Thread_local",
        "__thread",
    }
)
#: the bit of a raw source location saying it is in a macro expansion
_MACRO_ID = 1 << 31
_WRITES = frozenset({"=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=", "&=", "^=", "|="})


# -- extraction --------------------------------------------------------------


@dataclass(slots=True)
class _Macro:
    name: str
    start: int
    end: int
    #: argument byte ranges (function-like macros), empty for object-like ones
    args: list[tuple[int, int]] = field(default_factory=list)
    is_function: bool = False
    #: macros invoked inside this one's arguments
    inner: list[_Macro] = field(default_factory=list)


def _split_args(data: bytes, open_at: int, close_at: int) -> list[tuple[int, int]]:
    """Byte ranges of the top-level comma-separated arguments in ``(…)``."""
    out: list[tuple[int, int]] = []
    depth = 0
    start = open_at + 1
    i = start
    while i < close_at:
        ch = data[i : i + 1]
        if ch in (b'"', b"'"):
            j = i + 1
            while j < close_at and data[j : j + 1] != ch:
                j += 2 if data[j : j + 1] == b"\\" else 1
            i = j
        elif ch in b"([{":
            depth += 1
        elif ch in b")]}":
            depth -= 1
        elif ch == b"," and depth == 0:
            out.append((start, i))
            start = i + 1
        i += 1
    out.append((start, close_at))
    stripped = []
    for a, b in out:
        while a < b and data[a : a + 1].isspace():
            a += 1
        while b > a and data[b - 1 : b].isspace():
            b -= 1
        stripped.append((a, b))
    return stripped


class _Extractor:
    """Facts of the declarations of one file inside one translation unit."""

    def __init__(
        self, ci: Any, tu: Any, target: str, path: str, data: bytes, directory: str
    ) -> None:
        self.ci = ci
        self.directory = directory
        self.K = ci.CursorKind
        self.TK = ci.TypeKind
        self.tu = tu
        self.target = target
        self.path = path
        self.data = data
        self.lines = [0] + [i + 1 for i, b in enumerate(data) if b == 10]
        self.structs: list[StructDef] = []
        self.typedefs: list[Typedef] = []
        self.defines: list[Define] = []
        self.macro_uses: list[MacroUse] = []
        self.prototypes: list[FunctionDecl] = []
        self.functions: list[FunctionDef] = []
        self.globals: list[GlobalVar] = []
        self.skipped_bytes = 0
        self._seen_structs: set[int] = set()
        self._locals: list[Var] = []
        self.macros: list[_Macro] = []
        self._outer: list[_Macro] = []
        self._starts: list[int] = []
        self._expanding: list[_Macro] = []
        self._in_file: dict[int, bool] = {}
        lib = ci.conf.lib
        self._expansion = lib.clang_getExpansionLocation
        self._cursor_loc = lib.clang_getCursorLocation
        self._file_name = lib.clang_getFileName
        self._file_location = lib.clang_getFileLocation
        self._anon_member = lib.clang_Cursor_isAnonymousRecordDecl
        self._pretty = lib.clang_getCursorPrettyPrinted
        # out-parameters of the location calls, allocated once
        self._f, self._line, self._col, self._off = (
            ctypes.c_void_p(),
            ctypes.c_uint(),
            ctypes.c_uint(),
            ctypes.c_uint(),
        )
        self._refs = tuple(ctypes.byref(x) for x in (self._f, self._line, self._col, self._off))
        self._binop = getattr(lib, "clang_getCursorBinaryOperatorKind", None)
        self._binop_s = getattr(lib, "clang_getBinaryOperatorKindSpelling", None)
        self._unop = getattr(lib, "clang_getCursorUnaryOperatorKind", None)
        self._unop_s = getattr(lib, "clang_getUnaryOperatorKindSpelling", None)
        self._op_names: dict[tuple[str, int], str] = {}
        self._expr_kinds: dict[Any, bool] = {}
        self._stmt_kinds: dict[Any, bool] = {}
        self._visit = lib.clang_visitChildren
        self._kbuf: list[Cursor] = []
        owner = tu  # a cursor keeps its unit alive

        def collect(child: Cursor, parent: Cursor, data: object) -> int:
            child._tu = owner
            self._kbuf.append(child)
            return 1  # CXChildVisit_Continue

        self._collect = ci.callbacks["cursor_visit"](collect)
        self._types: dict[str, TypeRef | None] = {}

    # -- cursors -----------------------------------------------------------
    def kids(self, c: Cursor) -> list[Cursor]:
        """The children of ``c``: ``Cursor.get_children`` without its check of
        every child against the null cursor (two more calls into libclang per
        child)."""
        out: list[Cursor] = []
        self._kbuf = out
        self._visit(c, self._collect, None)
        return out

    def is_expr(self, k: Any) -> bool:
        got = self._expr_kinds.get(k)
        if got is None:
            got = self._expr_kinds[k] = bool(k.is_expression())
        return got

    def is_stmt(self, k: Any) -> bool:
        got = self._stmt_kinds.get(k)
        if got is None:
            got = self._stmt_kinds[k] = bool(k.is_statement())
        return got

    # -- positions ---------------------------------------------------------
    def here(self, c: Cursor) -> bool:
        """Is ``c`` (its expansion location) in the target file?  Compared by
        libclang's file handle: building Python file objects for every
        cursor of a unit (thousands of macro definitions) costs more than
        the parse."""
        self._expansion(self._cursor_loc(c), *self._refs)
        handle = self._f.value
        if not handle:
            return False
        got = self._in_file.get(handle)
        if got is None:
            name = self._file_name(handle)  # the bindings' errcheck makes it a str
            got = _realpath(self.directory, name) == self.target
            self._in_file[handle] = got
        return got

    def lc(self, off: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.lines, off) - 1
        return i + 1, off - self.lines[i] + 1

    def off(self, loc: Any) -> int:
        """A location's expansion offset (what ``SourceLocation.offset`` gives,
        without building a Python file object for every call)."""
        self._expansion(loc, *self._refs)
        return self._off.value

    def file_off(self, loc: Any) -> int:
        self._file_location(loc, *self._refs)
        return self._off.value

    def macro_of(self, c: Cursor) -> tuple[_Macro | None, int, int]:
        """The macro whose body produced ``c`` (None when ``c`` is written in
        the file, possibly inside a macro argument), and ``c``'s file span.

        libclang places every node of an expansion at the outermost
        invocation; the file location of a node's ends (an argument's
        spelling, or else the invocation) tells arguments from the body.
        """
        ext = c.extent
        s, e = self.off(ext.start), self.off(ext.end)
        i = bisect.bisect_right(self._starts, s) - 1
        if i < 0:
            return None, s, e
        m = self._outer[i]
        if not (m.start <= s and e <= m.end):
            return None, s, e
        fs, fe = self.file_off(ext.start), self.file_off(ext.end)
        if fe < fs:
            fe = fs
        while True:
            arg = next(((a, b) for a, b in m.args if a <= fs < b and fe <= b), None)
            if arg is None:
                return m, fs, fe
            inner = [x for x in m.inner if arg[0] <= x.start and x.end <= arg[1]]
            nxt = next((x for x in inner if x.start <= fs and fe <= x.end), None)
            if nxt is None:
                # written in an argument: an end on a macro name spans its invocation
                for x in inner:
                    if x.start == fe:
                        fe = x.end
                if fe == fs:
                    fe = self._tok_end(fs)
                return None, fs, fe
            m = nxt

    def span(self, m: _Macro) -> tuple[int, int, int, int]:
        return (*self.lc(m.start), *self.lc(m.end))

    def _tok_end(self, off: int) -> int:
        mt = _TOKEN.match(self.data, off)
        return mt.end() if mt else off + 1

    def pos(self, c: Cursor, where: tuple[_Macro | None, int, int] | None = None) -> Pos:
        """Where ``c`` is: its span, or its macro's invocation (``where`` is
        :meth:`macro_of`'s answer when the caller has it)."""
        m, s, e = where if where is not None else self.macro_of(c)
        if m is not None:
            s, e = m.start, m.end
        return (*self.lc(s), *self.lc(e))

    def text(self, c: Cursor) -> str:
        ext = c.extent
        return self.data[self.off(ext.start) : self.off(ext.end)].decode("utf-8", "replace")

    # -- types -------------------------------------------------------------
    def type_ref(self, t: Any, decl: Cursor | None = None) -> TypeRef:
        """A clang type as the tree-sitter side writes it: base name, pointer
        levels, ``<fn>`` with its signature for function pointers."""
        pointers = 0
        TK = self.TK
        for _ in range(64):
            k = t.kind
            if k == TK.ELABORATED:
                t = t.get_named_type()
            elif k == TK.POINTER:
                pointee = t.get_pointee()
                inner = pointee
                while inner.kind == TK.ELABORATED:
                    inner = inner.get_named_type()
                if inner.kind in (TK.FUNCTIONPROTO, TK.FUNCTIONNOPROTO):
                    return TypeRef("<fn>", 0, self.signature(inner, decl))
                if inner.kind != TK.TYPEDEF and inner.get_canonical().kind in (
                    TK.FUNCTIONPROTO,
                    TK.FUNCTIONNOPROTO,
                ):
                    return TypeRef("<fn>", 0, self.signature(inner.get_canonical(), decl))
                pointers += 1
                t = pointee
            elif k in (
                TK.CONSTANTARRAY,
                TK.INCOMPLETEARRAY,
                TK.VARIABLEARRAY,
                TK.DEPENDENTSIZEDARRAY,
            ):
                pointers += 1
                t = t.element_type
            elif k == TK.TYPEDEF:
                return TypeRef(t.get_typedef_name() or _unqualified(t.spelling), pointers)
            elif k in (TK.RECORD, TK.ENUM):
                d = t.get_declaration()
                # ``typedef struct { … } Foo;``: an anonymous struct is known
                # by its typedef (the caller names it)
                return TypeRef("" if d.is_anonymous() else d.spelling, pointers)
            elif k in (TK.FUNCTIONPROTO, TK.FUNCTIONNOPROTO):
                return TypeRef("<fn>", 0, self.signature(t, decl))
            elif k == TK.UNEXPOSED or k.name in ("TYPEOFEXPR", "TYPEOF", "AUTO", "ATTRIBUTED"):
                can = t.get_canonical()  # typeof(x), __auto_type: the compiler's type
                if can.kind == TK.UNEXPOSED:
                    return TypeRef(_unqualified(t.spelling), pointers)
                t = can
            else:
                return TypeRef(self._builtin(t, decl), pointers)
        return TypeRef(_unqualified(t.spelling), pointers)

    def _builtin(self, t: Any, decl: Cursor | None) -> str:
        """A builtin type's name as written (``unsigned``, ``bool``), when the
        declaration is in the file; else clang's spelling."""
        if decl is not None and self.here(decl) and self.macro_of(decl)[0] is None:
            s, e = self.off(decl.extent.start), self.off(decl.location)
            if s < e:
                words = [
                    w
                    for w in re.findall(r"[A-Za-z_]\w*", self.data[s:e].decode("utf-8", "replace"))
                    if w not in _NOT_TYPE_WORDS
                ]
                if words and all(w in _BUILTIN_WORDS for w in words):
                    return " ".join(words)
        name = _unqualified(t.spelling)
        return "bool" if name == "_Bool" else name

    def signature(self, fn: Any, decl: Cursor | None) -> str:
        ret = self.type_ref(fn.get_result())
        base = ret.signature if ret.name == "<fn>" else ret.name
        r = (base or "") + (" " + "*" * ret.pointers if ret.pointers else "")
        params = self._params_text(decl) if decl is not None else None
        if params is None and fn.kind != self.TK.FUNCTIONPROTO:
            params = "()"  # ``void (*f)()``: no prototype, no parameter types
        if params is None:
            params = "(" + ", ".join(a.spelling for a in fn.argument_types()) + ")"
        return " ".join(f"{r.strip()} {params}".split())

    def _params_text(self, decl: Cursor) -> str | None:
        """The written parameter list of a function-pointer declarator
        ``ret (*name)(params)``, from the file's bytes."""
        if not self.here(decl) or self.macro_of(decl)[0] is not None:
            return None
        d = self.data
        i = self.off(decl.location) + len(decl.spelling.encode())
        end = self.off(decl.extent.end)
        depth = 0
        while i < end:  # close the parentheses around ``*name``
            ch = d[i : i + 1]
            if ch == b"(":
                depth += 1
            elif ch == b")":
                if depth == 0:
                    i += 1
                    break
                depth -= 1
            elif ch == b"[" or ch == b"=" or ch == b";":
                return None
            i += 1
        while i < end and d[i : i + 1].isspace():
            i += 1
        if d[i : i + 1] != b"(":
            return None
        depth = 0
        j = i
        while j < len(d):
            ch = d[j : j + 1]
            if ch == b"(":
                depth += 1
            elif ch == b")":
                depth -= 1
                if depth == 0:
                    return d[i : j + 1].decode("utf-8", "replace")
            j += 1
        return None

    def semantic_type(self, t: Any) -> TypeRef | None:
        """The compiler's type of an expression, when it names a struct or a
        function pointer (the only types the model resolves)."""
        try:
            spelling = t.spelling
        except Exception:  # pragma: no cover - invalid types
            return None
        if spelling in self._types:
            return self._types[spelling]
        got: TypeRef | None = None
        TK = self.TK
        if t.kind != TK.INVALID:
            can = t.get_canonical()
            while can.kind == TK.POINTER:
                can = can.get_pointee().get_canonical()
            if can.kind in (TK.RECORD, TK.FUNCTIONPROTO, TK.FUNCTIONNOPROTO):
                got = self.type_ref(t)
                if not got.name:
                    got = None
        self._types[spelling] = got
        return got

    # -- file scope --------------------------------------------------------
    def _file_children(self) -> list[Cursor]:
        """The unit's top-level cursors that are in the target file.

        A unit's top level holds every declaration and macro of every header
        it includes (about 16,000 on QEMU 10.0.13, a few hundred of them in
        the file; with a precompiled osdep.h, only those parsed after it):
        they are filtered inside libclang's visitor callback, so that none
        is compared with the null cursor or kept (``Cursor.get_children``
        does both; it was a third of a cold precise check's time, profiled),
        and, when the unit entered the file once, a cursor written in a file
        is placed by its raw location alone (:meth:`_file_ranges`).
        """
        owner = self.tu  # keeps the unit alive while a cursor is
        out: list[Cursor] = []
        cursor_loc, here = self._cursor_loc, self.here
        ranges = self._file_ranges()
        if ranges is None:

            def visit(child: Cursor, parent: Cursor, data: object) -> int:
                if here(child):
                    child._tu = owner
                    out.append(child)
                return 1  # CXChildVisit_Continue

        else:
            lo, hi = ranges

            def visit(child: Cursor, parent: Cursor, data: object) -> int:
                raw = cursor_loc(child).int_data
                if (lo <= raw <= hi) if raw < _MACRO_ID else here(child):
                    child._tu = owner
                    out.append(child)
                return 1

        self._visit(self.tu.cursor, self.ci.callbacks["cursor_visit"](visit), None)
        return out

    def _file_ranges(self) -> tuple[int, int] | None:
        """The span of the target file in the unit's source locations, when
        the unit entered it once: a cursor's location written there (not in a
        macro expansion) is then tested without asking libclang for its file.

        libclang's location is the source manager's raw encoding: the files a
        unit enters take consecutive ranges of offsets, locations in a macro
        expansion have the top bit set.
        """
        entered = 0
        for inc in self.tu.get_includes():
            if _realpath(self.directory, inc.include.name) == self.target:
                entered += 1
        main = self.tu.spelling
        if main and _realpath(self.directory, main) == self.target:
            entered += 1
        if entered != 1:
            return None
        f = self.tu.get_file(self.target)
        start = self.ci.conf.lib.clang_getLocationForOffset(self.tu, f, 0)
        self._expansion(start, *self._refs)
        handle = self._f.value
        if not handle or self._off.value != 0:
            return None
        if _realpath(self.directory, self._file_name(handle)) != self.target:
            return None
        raw = start.int_data
        if raw >= _MACRO_ID or raw == 0:
            return None
        return raw, raw + len(self.data)

    def run(self) -> FileFacts:
        K = self.K
        tops = []
        for c in self._file_children():
            k = c.kind
            if k == K.MACRO_INSTANTIATION:
                self._macro(c)
                continue
            if k == K.INCLUSION_DIRECTIVE:
                continue
            if k == K.MACRO_DEFINITION:
                self.define(c)
                continue
            tops.append(c)
        self.macros.sort(key=lambda m: (m.start, -m.end))
        stack: list[_Macro] = []
        for m in self.macros:  # nesting: macros invoked inside another's arguments
            while stack and stack[-1].end <= m.start:
                stack.pop()
            for outer in stack:
                outer.inner.append(m)
            if not stack:
                self._outer.append(m)
            stack.append(m)
        self._starts = [m.start for m in self._outer]
        starts = {m.start for m in self.macros}
        # the QOM declaration macros, as the tree-sitter side reads them, but
        # only the invocations clang expanded
        self.macro_uses.extend(u for at, u in qom_macro_uses(self.data) if at in starts)
        for c in tops:
            self.top(c)
        return FileFacts(
            path=self.path,
            frontend=FRONTEND,
            size=len(self.data),
            structs=tuple(self.structs),
            typedefs=tuple(self.typedefs),
            defines=tuple(self.defines),
            macro_uses=tuple(self.macro_uses),
            prototypes=tuple(self.prototypes),
            functions=tuple(self.functions),
            globals=tuple(self.globals),
            skipped_bytes=self.skipped_bytes,
        )

    def _macro(self, c: Cursor) -> None:
        ext = c.extent
        s, e = self.off(ext.start), self.off(ext.end)
        name = c.spelling
        m = _Macro(name, s, e)
        after = s + len(name.encode())
        if e > after and self.data[e - 1 : e] == b")":
            j = after
            while j < e and self.data[j : j + 1].isspace():
                j += 1
            if self.data[j : j + 1] == b"(":
                m.is_function = True
                m.args = _split_args(self.data, j, e - 1)
        self.macros.append(m)

    def define(self, c: Cursor) -> None:
        ext = c.extent
        s, e = self.off(ext.start), self.off(ext.end)
        d = self.data
        name = c.spelling
        i = s + len(name.encode())
        params: tuple[str, ...] | None = None
        if d[i : i + 1] == b"(":
            j = d.find(b")", i)
            if j < 0 or j > e:
                return
            inner = d[i + 1 : j].decode("utf-8", "replace")
            params = tuple(p.strip() for p in inner.split(",") if p.strip())
            i = j + 1
        value = d[i:e].decode("utf-8", "replace").strip()
        while value.startswith("\\"):  # a body starting on the next line
            value = value[1:].strip()
        self.defines.append(Define(name, params, " ".join(value.split()), self.lc(s)[0]))

    def top(self, c: Cursor) -> None:
        K = self.K
        k = c.kind
        if self.ci.conf.lib.clang_isInvalidDeclaration(c):
            ext = c.extent
            if self.macro_of(c)[0] is None:
                self.skipped_bytes += max(self.off(ext.end) - self.off(ext.start), 0)
        if k == K.FUNCTION_DECL:
            # Functions a macro defines (QOM checkers, constructors) are kept
            # as prototypes: their return types type calls, but their bodies
            # would add call paths no one wrote.
            if c.is_definition() and self.macro_of(c)[0] is None:
                self.function(c)
            else:
                self.prototypes.append(
                    FunctionDecl(c.spelling, self.type_ref(c.result_type), self.pos(c)[0])
                )
        elif k in (K.STRUCT_DECL, K.UNION_DECL):
            if c.is_definition() and not c.is_anonymous():
                self.struct(c, None)
        elif k == K.TYPEDEF_DECL:
            self.typedef(c)
        elif k == K.VAR_DECL:
            init = self._initializer(c)
            self.globals.append(
                GlobalVar(
                    c.spelling,
                    self.type_ref(c.type, c),
                    self.expr(init) if init is not None else None,
                    self.pos(c)[0],
                )
            )

    def typedef(self, c: Cursor) -> None:
        under = c.underlying_typedef_type
        tref = self.type_ref(under, c)
        line = self.pos(c)[0]
        self.typedefs.append(Typedef(c.spelling, tref, line))
        for ch in self.kids(c):
            if ch.kind in (self.K.STRUCT_DECL, self.K.UNION_DECL) and ch.is_definition():
                self.struct(ch, c.spelling if ch.is_anonymous() else None)

    def struct(self, c: Cursor, tdname: str | None) -> None:
        ext = c.extent
        key = self.off(ext.start) * 1_000_003 + self.off(ext.end)
        if key in self._seen_structs:
            return
        self._seen_structs.add(key)
        name = tdname if c.is_anonymous() else c.spelling
        fields: list[Field] = []
        self.fields(c, fields)
        if name:
            l1, _, l2, _ = self.pos(c)
            self.structs.append(StructDef(name, tuple(fields), l1, l2))

    def fields(self, c: Cursor, out: list[Field]) -> None:
        K = self.K
        for ch in self.kids(c):
            k = ch.kind
            if k in (K.STRUCT_DECL, K.UNION_DECL):
                if ch.is_definition() and ch.is_anonymous():
                    if self._anon_member(ch):  # anonymous member: flatten
                        self.fields(ch, out)
                elif ch.is_definition():
                    self.struct(ch, None)
            elif k == K.FIELD_DECL and ch.spelling:
                out.append(Field(ch.spelling, self.type_ref(ch.type, ch), self.pos(ch)[0]))

    def _initializer(self, c: Cursor) -> Cursor | None:
        K = self.K
        kids = [x for x in self.kids(c) if self.is_expr(x.kind)]
        if not kids:
            return None
        for x in kids:
            if x.kind not in (K.TYPE_REF,):
                return x
        return None

    def function(self, c: Cursor) -> None:
        K = self.K
        body = None
        params: list[Var] = []
        for ch in self.kids(c):
            if ch.kind == K.PARM_DECL and ch.spelling:
                params.append(Var(ch.spelling, self.type_ref(ch.type, ch), self.pos(ch)[0]))
            elif ch.kind == K.COMPOUND_STMT:
                body = ch
        if body is None:
            return
        self._locals = []
        stmt = self.stmt(body) or Stmt("block", *self.pos(body))
        l1, c1, l2, _ = self.pos(c)
        is_static = c.storage_class == self.ci.StorageClass.STATIC
        self.functions.append(
            FunctionDef(
                c.spelling,
                self.type_ref(c.result_type),
                tuple(params),
                tuple(self._locals),
                stmt,
                l1,
                c1,
                l2,
                is_static,
            )
        )

    # -- statements --------------------------------------------------------
    def stmts(self, nodes: Sequence[Cursor]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        K = self.K
        for n in nodes:
            k = n.kind
            if k == K.DECL_STMT:
                out.extend(self.local_decl(n))
            elif k == K.LABEL_STMT:
                out.append(Stmt("label", *self.pos(n), text=n.spelling))
                out.extend(self.stmts(self.kids(n)))
            elif k in (K.CASE_STMT, K.DEFAULT_STMT):
                out.extend(self._cases(n))
            else:
                s = self.stmt(n)
                if s is not None:
                    out.append(s)
        return tuple(out)

    def _cases(self, n: Cursor) -> list[Stmt]:
        """``case 1: case 2: s;`` nests in clang; tree-sitter has flat labels."""
        K = self.K
        kids = self.kids(n)
        value = kids[0] if n.kind == K.CASE_STMT and kids else None
        sub = kids[-1] if kids and (n.kind == K.DEFAULT_STMT or len(kids) > 1) else None
        expr = self.expr(value) if value is not None else None
        if sub is not None and sub.kind in (K.CASE_STMT, K.DEFAULT_STMT):
            return [Stmt("case", *self.pos(n), expr=expr)] + self._cases(sub)
        body = self.stmts([sub]) if sub is not None else ()
        return [Stmt("case", *self.pos(n), expr=expr, body=body)]

    def _group_cases(self, body: Sequence[Stmt]) -> tuple[Stmt, ...]:
        """Statements after a case label belong to it (tree-sitter's shape)."""
        out: list[Stmt] = []
        for s in body:
            if s.kind == "case" or not out or out[-1].kind != "case":
                out.append(s)
            else:
                last = out[-1]
                out[-1] = Stmt(
                    "case",
                    last.line,
                    last.col,
                    s.end_line,
                    s.end_col,
                    expr=last.expr,
                    body=last.body + (s,),
                )
        return tuple(out)

    def local_decl(self, n: Cursor) -> list[Stmt]:
        out: list[Stmt] = []
        K = self.K
        for d in self.kids(n):
            if d.kind != K.VAR_DECL or not d.spelling:
                continue
            tref = self.type_ref(d.type, d)
            line = self.pos(d)[0]
            self._locals.append(Var(d.spelling, tref, line))
            init = self._initializer(d)
            out.append(
                Stmt(
                    "decl",
                    *self.pos(d),
                    text=d.spelling,
                    type=tref,
                    expr=self.expr(init) if init is not None else None,
                )
            )
        return out

    def stmt(self, n: Cursor) -> Stmt | None:
        k = n.kind
        where = self.macro_of(n)
        m = self._root(where)
        if m is not None:
            if self._pure(n, m):
                return Stmt("expr", *self.span(m), expr=self.as_written(n, m))
            self._expanding.append(m)
            try:
                return self.stmt_plain(n, k, self.pos(n, where))
            finally:
                self._expanding.pop()
        return self.stmt_plain(n, k, self.pos(n, where))

    def stmt_plain(self, n: Cursor, k: Any, p: Pos) -> Stmt | None:
        """The statement of cursor ``n`` (of kind ``k``) placed at ``p``."""
        K = self.K
        if k == K.COMPOUND_STMT:
            return Stmt("block", *p, body=self.stmts(self.kids(n)))
        if k == K.IF_STMT:
            return self._if_stmt(n, p)
        if k in (K.WHILE_STMT, K.DO_STMT):
            return self._loop_stmt(n, k, p)
        if k == K.FOR_STMT:
            return self._for_stmt(n, p)
        if k == K.SWITCH_STMT:
            return self._switch_stmt(n, p)
        if k == K.RETURN_STMT:
            kids = self.kids(n)
            return Stmt("return", *p, expr=self.expr(kids[0]) if kids else None)
        if k == K.GOTO_STMT:
            lab = next((x.spelling for x in self.kids(n)), "")
            return Stmt("goto", *p, text=lab)
        if k == K.BREAK_STMT:
            return Stmt("break", *p)
        if k == K.CONTINUE_STMT:
            return Stmt("continue", *p)
        if k in (K.LABEL_STMT, K.CASE_STMT, K.DEFAULT_STMT, K.DECL_STMT):
            return Stmt("block", *p, body=self.stmts([n]))
        if k == K.NULL_STMT:
            return None
        if self.is_expr(k):
            return Stmt("expr", *p, expr=self.expr(n))
        return None

    def _if_stmt(self, n: Cursor, p: Pos) -> Stmt:
        kids = [x for x in self.kids(n) if x.kind != self.K.VAR_DECL]
        cond = kids[0] if kids else None
        then = kids[1] if len(kids) > 1 else None
        alt = kids[2] if len(kids) > 2 else None
        return Stmt(
            "if",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts([then]) if then is not None else (),
            orelse=self.stmts([alt]) if alt is not None else (),
        )

    def _loop_stmt(self, n: Cursor, k: Any, p: Pos) -> Stmt:
        """``while`` and ``do … while``."""
        K = self.K
        kids = self.kids(n)
        if k == K.WHILE_STMT:
            cond, body = (kids[0], kids[-1]) if len(kids) >= 2 else (None, kids[-1])
        else:
            body, cond = (kids[0], kids[-1]) if len(kids) >= 2 else (kids[0], None)
            if self._expanding and self._once(body, cond):
                # a statement macro's ``do { … } while (0)`` runs its body once
                return Stmt("block", *p, body=self.stmts([body]))
        return Stmt(
            "loop",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts([body]),
            text="while" if k == K.WHILE_STMT else "do",
        )

    def _for_stmt(self, n: Cursor, p: Pos) -> Stmt:
        init, cond, inc, body = self._for_parts(n)
        pre: tuple[Stmt, ...] = ()
        if init is not None:
            pre = (
                tuple(self.local_decl(init))
                if init.kind == self.K.DECL_STMT
                else (Stmt("expr", *self.pos(init), expr=self.expr(init)),)
            )
        if inc is not None:
            pre = pre + (Stmt("expr", *self.pos(inc), expr=self.expr(inc)),)
        loop = Stmt(
            "loop",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts([body]) if body is not None else (),
            text="for",
        )
        return Stmt("block", *p, body=pre + (loop,)) if pre else loop

    def _switch_stmt(self, n: Cursor, p: Pos) -> Stmt:
        kids = self.kids(n)
        cond = kids[0] if kids else None
        body = kids[-1] if len(kids) > 1 else None
        inner: tuple[Stmt, ...] = ()
        if body is not None:
            inner = self._group_cases(
                self.stmts(self.kids(body) if body.kind == self.K.COMPOUND_STMT else [body])
            )
        return Stmt("switch", *p, expr=self.expr(cond) if cond is not None else None, body=inner)

    def _once(self, body: Cursor, cond: Cursor | None) -> bool:
        """``do body while (0)`` with no ``break``/``continue`` of its own."""
        K = self.K
        if cond is None or self._strip(cond).kind != K.INTEGER_LITERAL:
            return False
        if self._literal(self._strip(cond)) not in ("0", "0U", "0u"):
            return False
        stack = [body]
        while stack:
            c = stack.pop()
            k = c.kind
            if k in (K.BREAK_STMT, K.CONTINUE_STMT):
                return False
            if k not in (K.WHILE_STMT, K.DO_STMT, K.FOR_STMT, K.SWITCH_STMT):
                stack.extend(self.kids(c))
        return True

    def _for_parts(self, n: Cursor) -> tuple[Cursor | None, Cursor | None, Cursor | None, Cursor]:
        """Which children of a ``for`` are init, condition and increment (libclang
        leaves missing parts out): placed by the header's semicolons."""
        kids = self.kids(n)
        body = kids[-1]
        head = kids[:-1]
        if len(head) == 3:
            return head[0], head[1], head[2], body
        if not head:
            return None, None, None, body
        d = self.data
        ext = n.extent
        s = self.off(ext.start)
        open_at = d.find(b"(", s, self.off(ext.end))
        if self.macro_of(n)[0] is not None or open_at < 0:
            parts: list[Cursor | None] = [None, None, None]
            for i, h in enumerate(head):
                parts[i + (3 - len(head)) if h.kind != self.K.DECL_STMT else 0] = h
            return parts[0], parts[1], parts[2], body
        semis: list[int] = []
        depth = 0
        i = open_at
        while i < self.off(ext.end) and len(semis) < 2:
            ch = d[i : i + 1]
            if ch == b"(":
                depth += 1
            elif ch == b")":
                depth -= 1
            elif ch == b";" and depth == 1:
                semis.append(i)
            i += 1
        out: list[Cursor | None] = [None, None, None]
        for h in head:
            off = self.off(h.extent.start)
            slot = (
                0 if not semis or off < semis[0] else (1 if len(semis) < 2 or off < semis[1] else 2)
            )
            out[slot] = h
        return out[0], out[1], out[2], body

    # -- macros ------------------------------------------------------------
    def _root(self, where: tuple[_Macro | None, int, int]) -> _Macro | None:
        """The macro a node is the outermost node of (from :meth:`macro_of`'s
        answer), unless already expanding it."""
        m = where[0]
        if m is None or any(x is m for x in self._expanding):
            return None
        return m

    def _pure(self, n: Cursor, m: _Macro) -> bool:
        """True when the body of ``m`` (outside its arguments) neither writes
        nor calls through a function pointer, nor holds statements."""
        K = self.K
        stack = [n]
        while stack:
            c = stack.pop()
            k = c.kind
            owner, _, _ = self.macro_of(c)
            if owner is None:  # written in an argument: the caller's text
                continue
            if k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
                if self.binop(c) in _WRITES:
                    return False
            elif k == K.UNARY_OPERATOR:
                if self.unop(c) in ("++", "--"):
                    return False
            elif k == K.CALL_EXPR:
                callee = self._callee(c)
                if callee is None or callee.kind != K.DECL_REF_EXPR:
                    return False
            elif self.is_stmt(k) and k not in (K.COMPOUND_STMT, K.NULL_STMT, K.DO_STMT):
                if k not in (K.IF_STMT,):
                    return False
            stack.extend(self.kids(c))
        return True

    def as_written(self, n: Cursor, m: _Macro) -> Expr:
        """The invocation as tree-sitter reads it: a name, a constant or a call
        whose arguments are the written argument expressions."""
        l1, c1 = self.lc(m.start)
        l2, c2 = self.lc(m.end)
        p = (l1, c1, l2, c2)
        t = self.semantic_type(n.type) if self.is_expr(n.kind) else None
        if not m.is_function:
            if m.name in ("NULL", "true", "false"):
                return Expr("const", *p, text=m.name, type=None)
            return Expr("name", *p, text=m.name, type=t)
        name_end = m.start + len(m.name.encode())
        callee = Expr("name", l1, c1, *self.lc(name_end), text=m.name)
        args: list[Expr] = []
        for a, b in m.args:
            if a == b:
                continue
            node = self._arg_node(n, a, b)
            if node is not None:
                args.append(self.expr(node))
            else:
                args.append(self._arg_text(a, b))
        return Expr("call", *p, args=(callee, *args), type=t)

    def _arg_node(self, n: Cursor, a: int, b: int) -> Cursor | None:
        """The outermost node spelled inside the argument ``[a, b)``."""
        queue = [n]
        while queue:
            c = queue.pop(0)
            ext = c.extent
            if self.is_expr(c.kind) and c.kind != self.K.TYPE_REF:
                fs, fe = self.file_off(ext.start), self.file_off(ext.end)
                if a <= fs < b and fe <= b and fe >= fs:
                    # a node spanning the whole argument, or failing that the first one inside
                    return c
            queue.extend(self.kids(c))
        return None

    def _arg_text(self, a: int, b: int) -> Expr:
        text = self.data[a:b].decode("utf-8", "replace")
        p = (*self.lc(a), *self.lc(b))
        if text.isidentifier():
            return Expr("name", *p, text=text)
        if re.fullmatch(r"[0-9][0-9a-fA-FxX]*[uUlL]*", text):
            return Expr("const", *p, text=text)
        if text.startswith('"'):
            return Expr("string", *p, text=text)
        return Expr("opaque", *p, text=text)

    # -- expressions -------------------------------------------------------
    def _op(self, fn: Any, spell: Any, c: Cursor, kind: str) -> str:
        if fn is None or spell is None:
            return ""
        code = fn(c)
        key = (kind, code)
        got = self._op_names.get(key)
        if got is None:
            got = self.ci._CXString.from_result(spell(code))
            self._op_names[key] = got
        return got

    def binop(self, c: Cursor) -> str:
        return self._op(self._binop, self._binop_s, c, "b")

    def unop(self, c: Cursor) -> str:
        return self._op(self._unop, self._unop_s, c, "u")

    def _callee(self, c: Cursor) -> Cursor | None:
        kids = self.kids(c)
        if not kids:
            return None
        return self._strip(kids[0])

    def _strip(self, c: Cursor) -> Cursor:
        """Skip implicit casts and parentheses (tree-sitter has neither)."""
        K = self.K
        while True:
            k = c.kind
            if k in (K.UNEXPOSED_EXPR, K.PAREN_EXPR):
                kids = self.kids(c)
                if len(kids) == 1 and self.is_expr(kids[0].kind):
                    c = kids[0]
                    continue
            return c

    def expr(self, n: Cursor) -> Expr:
        where = self.macro_of(n)
        m = self._root(where)
        if m is not None:
            if self._pure(n, m):
                return self.as_written(n, m)
            self._expanding.append(m)
            try:
                return self.expr_plain(n, self.pos(n, where))
            finally:
                self._expanding.pop()
        return self.expr_plain(n, self.pos(n, where))

    def expr_plain(self, n: Cursor, p: Pos) -> Expr:
        """The expression of cursor ``n`` placed at ``p``: one handler per kind."""
        K = self.K
        k = n.kind
        if k in (K.UNEXPOSED_EXPR, K.PAREN_EXPR):
            return self._wrapper_expr(n, k, p)
        if k == K.DECL_REF_EXPR:
            return Expr("name", *p, text=n.spelling)
        if k == K.MEMBER_REF_EXPR:
            return self._member_expr(n, p)
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            return Expr("index", *p, args=tuple(self.expr(x) for x in self.kids(n)))
        if k == K.CALL_EXPR:
            return self._call_expr(n, p)
        if k == K.UNARY_OPERATOR:
            return self._unary_expr(n, p)
        if k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
            return self._binary_expr(n, p)
        if k == K.CONDITIONAL_OPERATOR:
            return Expr("ternary", *p, args=tuple(self.expr(x) for x in self.kids(n)))
        if k in (K.CSTYLE_CAST_EXPR, K.COMPOUND_LITERAL_EXPR):
            kids = [x for x in self.kids(n) if self.is_expr(x.kind)]
            return Expr(
                "cast" if k == K.CSTYLE_CAST_EXPR else "compound",
                *p,
                type=self.type_ref(n.type),
                args=(self.expr(kids[-1]),) if kids else (),
            )
        if k in (K.INTEGER_LITERAL, K.CHARACTER_LITERAL, K.FLOATING_LITERAL):
            return Expr("const", *p, text=self._literal(n))
        if k == K.STRING_LITERAL:
            return Expr("string", *p, text=self._literal(n))
        if k == K.INIT_LIST_EXPR:
            return Expr("init", *p, args=tuple(self.expr(x) for x in self.kids(n)))
        if k == K.CXX_UNARY_EXPR:  # sizeof, alignof
            return Expr("sizeof", *p)
        return Expr(
            "opaque",
            *p,
            text=k.name.lower(),
            args=tuple(self.expr(x) for x in self.kids(n) if self.is_expr(x.kind)),
        )

    def _wrapper_expr(self, n: Cursor, k: Any, p: Pos) -> Expr:
        """Unexposed and parenthesised expressions: what they wrap, designated
        initializers, statement expressions."""
        K = self.K
        kids = self.kids(n)
        if len(kids) == 1 and self.is_expr(kids[0].kind):
            name = self._designator(n) if k == K.UNEXPOSED_EXPR else None
            if name is not None:  # .field = value, in an initializer clang could not check
                return Expr("designated", *p, text=name, args=(self.expr(kids[0]),))
            return self.expr(kids[0])
        if len(kids) == 2 and kids[0].kind == K.MEMBER_REF:  # .field = value
            return Expr("designated", *p, text=kids[0].spelling, args=(self.expr(kids[1]),))
        if len(kids) >= 2 and kids[-2].kind == K.MEMBER_REF:  # .a.b = value
            return Expr("designated", *p, text=kids[-2].spelling, args=(self.expr(kids[-1]),))
        if kids and kids[0].kind == K.COMPOUND_STMT:  # ({ … }): statement expression
            inner = self.stmts(self.kids(kids[0]))
            return Expr(
                "opaque",
                *p,
                text="statement_expression",
                args=tuple(_stmt_exprs(inner)),
                type=self.semantic_type(n.type),
            )
        return Expr("opaque", *p, args=tuple(self.expr(x) for x in kids if self.is_expr(x.kind)))

    def _member_expr(self, n: Cursor, p: Pos) -> Expr:
        kids = self.kids(n)
        base = kids[0] if kids else None
        op = "."
        if base is not None:
            bt = base.type
            if bt.kind == self.TK.POINTER or bt.get_canonical().kind == self.TK.POINTER:
                op = "->"
        return Expr(
            "field",
            *p,
            text=n.spelling,
            op=op,
            args=(self.expr(base),) if base is not None else (),
        )

    def _call_expr(self, n: Cursor, p: Pos) -> Expr:
        kids = self.kids(n)
        if not kids:
            return Expr("call", *p, args=(Expr("name", *p, text=n.spelling),))
        callee = self.expr(kids[0])
        return Expr(
            "call",
            *p,
            args=(callee, *(self.expr(a) for a in kids[1:])),
            type=self.semantic_type(n.type),
        )

    def _unary_expr(self, n: Cursor, p: Pos) -> Expr:
        K = self.K
        kids = self.kids(n)
        op = self.unop(n)
        if op == "__extension__" and kids:
            return self.expr(kids[0])
        if (
            op in ("-", "+")
            and kids
            and kids[0].kind in (K.INTEGER_LITERAL, K.FLOATING_LITERAL)
            and self.macro_of(n)[0] is None
        ):
            # tree-sitter reads ``-1`` as one number literal
            return Expr("const", *p, text=self.text(n))
        return Expr("unary", *p, op=op, args=tuple(self.expr(x) for x in kids[:1]))

    def _binary_expr(self, n: Cursor, p: Pos) -> Expr:
        op = self.binop(n)
        args = tuple(self.expr(x) for x in self.kids(n))
        if op in _WRITES:
            return Expr("assign", *p, op=op, args=args)
        if op == ",":
            return Expr("comma", *p, args=args)
        return Expr("binary", *p, op=op, args=args)

    def _designator(self, n: Cursor) -> str | None:
        """The field of a designated initializer written in the file.

        When an initializer depends on something clang could not resolve
        (a type from a missing header), libclang shows the designated item
        without its designator; the written text still has it.
        """
        start = self.off(n.extent.start)
        if self.data[start : start + 1] not in (b".", b"[") or self.macro_of(n)[0] is not None:
            return None
        m = _DESIGNATOR.match(self.data, start)
        return m.group(1).decode() if m else None

    def _literal(self, n: Cursor) -> str:
        m, s, e = self.macro_of(n)
        if m is None and e > s:
            return self.data[s:e].decode("utf-8", "replace")
        # from a macro body: the file's tokens are the invocation's, print the node
        return str(self._pretty(n, None)) or "0"


def _stmt_exprs(stmts: Sequence[Stmt]) -> Iterator[Expr]:
    for s in stmts:
        if s.expr is not None:
            yield s.expr
        yield from _stmt_exprs(s.body)
        yield from _stmt_exprs(s.orelse)


def _unqualified(spelling: str) -> str:
    words = [
        w
        for w in spelling.replace("*", " ").split()
        if w not in ("const", "volatile", "restrict", "struct", "union", "enum")
    ]
    return " ".join(words)


# -- one unit ----------------------------------------------------------------

#: Files a parse read: (absolute path) for every file the unit included.
Deps = tuple[str, ...]


def extract_unit(
    plan: Plan, data: bytes, pch: tuple[str, Deps] | None = None
) -> tuple[FileFacts | str, Deps]:
    """Parse one plan and extract the facts of its file.

    :param plan: from :meth:`Planner.plan`
    :param data: the file's bytes (given to clang in place of the disk copy)
    :param pch: a precompiled ``qemu/osdep.h`` built with the plan's flags and
        the files it read (see :mod:`~qemu_lint.frontends.clang.pch`); not
        used when the file is one of those
    :return: the facts (or the reason it was skipped, when libclang cannot parse it at all) and
        the absolute paths of every file the parse read
    """
    ci = load_cindex()
    target = os.path.realpath(plan.abspath)
    if pch is not None and target in pch[1]:
        pch = None
    unsaved: list[tuple[str, bytes | str]] = [(plan.abspath, data)]
    main = plan.main
    if not main:
        main = os.path.join(os.path.dirname(plan.abspath), ".qemu-lint-unit.c")
        text = ""
        if plan.osdep:
            text += f'#include "{plan.osdep}"\n'
        text += f'#include "{plan.abspath}"\n'
        unsaved.append((main, text))
    opts = (
        ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        | 0x200  # CXTranslationUnit_KeepGoing: go on past missing headers
    )
    args = list(plan.args) + ["-working-directory", plan.directory]
    base = pch
    try:
        tu, pch, errors = _parse_unit(ci, plan, data, target, (main, args, unsaved, opts), pch)
    except ci.TranslationUnitLoadError as e:
        return f"skipped: libclang could not parse it ({e})", ()
    deps = {_realpath(plan.directory, inc.include.name) for inc in tu.get_includes()}
    if pch is not None:  # its files are not among the unit's inclusions
        deps.update(pch[1])
    if plan.main and os.path.realpath(plan.main) != target and target not in deps:
        # its #include is compiled out in that unit: parse it on its own
        alone = Plan(plan.path, plan.abspath, "", plan.args, plan.directory, plan.osdep, plan.how)
        return extract_unit(alone, data, base)
    # clang's errors located in the file itself (those of its headers count
    # with the headers' own facts), as tree-sitter's ERROR nodes do
    for d in tu.diagnostics:
        if d.severity >= ci.Diagnostic.Error:
            f = d.location.file
            if f is not None and _realpath(plan.directory, f.name) == target:
                errors += 1
    try:
        facts = _Extractor(ci, tu, target, plan.path, data, plan.directory).run()
    except RecursionError:
        return "skipped: nesting too deep to analyse", tuple(sorted(deps))
    facts = FileFacts(
        path=facts.path,
        frontend=FRONTEND,
        size=facts.size,
        structs=facts.structs,
        typedefs=facts.typedefs,
        defines=facts.defines,
        macro_uses=facts.macro_uses,
        prototypes=facts.prototypes,
        functions=facts.functions,
        globals=facts.globals,
        error_nodes=errors,
        skipped_bytes=facts.skipped_bytes,
    )
    if plan.main:
        deps.add(os.path.realpath(plan.main))
    deps.add(target)
    return facts, tuple(sorted(deps))


def _parse_unit(
    ci: Any,
    plan: Plan,
    data: bytes,
    target: str,
    how: tuple[str, list[str], list[tuple[str, bytes | str]], int],
    pch: tuple[str, Deps] | None,
) -> tuple[Any, tuple[str, Deps] | None, int]:
    """Parse a unit: with its own leading ``#include`` lines precompiled on
    top of ``pch`` when it can (:func:`_prefix`), else with ``pch``, else whole.

    :param how: the main file, the arguments, the files to give clang, the options
    :return: the unit, the precompiled header used (None: none), and the
        number of clang's errors located in the lines it holds of the file analysed
    """
    main, args, unsaved, opts = how
    tu = None
    prefix = _prefix(plan, data, pch, target) if pch is not None else None
    if prefix is not None:
        try:
            tu = _parse(ci, main, args, prefix.unsaved, opts, prefix.pch)
            if tu is not None and prefix.whole and not _guarded(ci, tu, target):
                tu = _parse(ci, main, args, prefix.whole, opts, prefix.pch)
        finally:
            _unlink(prefix.pch[0])
        if tu is not None:
            return tu, prefix.pch, prefix.errors
    tu = _parse(ci, main, args, unsaved, opts, pch)
    if tu is None:  # the precompiled header was refused
        pch = None
        tu = _parse(ci, main, args, unsaved, opts, None)
    assert tu is not None
    return tu, pch, 0


_prefixes = itertools.count()


class _Prefix(NamedTuple):
    """A unit's precompiled leading ``#include`` lines (see :func:`_prefix`)."""

    pch: tuple[str, Deps]  # its path, and the files it read (osdep.h's too)
    unsaved: list[tuple[str, bytes]]  # the files to give clang
    errors: int  # clang's errors located in those lines of the file analysed
    #: for a header read through the main file: the files to give clang when
    #: the header turns out not to be guarded (the main file whole after the
    #: header's #include); else empty
    whole: list[tuple[str, bytes]]


def _prefix(plan: Plan, data: bytes, pch: tuple[str, Deps], target: str) -> _Prefix | None:
    """A precompiled header of the main file's leading ``#include`` lines,
    built on the precompiled osdep.h ``pch`` (see
    :func:`~qemu_lint.frontends.clang.pch.build_prefix`), the main file with
    those lines blanked out; None when the main file has no ``#include``
    beyond osdep.h's, when the file analysed is among the ones the prefix
    reads, or when building failed.

    For a header whose ``#include`` is in the main file's leading run, the
    main file given to clang also ends after that line: nothing after it
    changes the header's declarations when the header is guarded (a second
    ``#include`` of it is then empty), which clang tells after the parse."""
    if not plan.main:
        return None
    same = os.path.realpath(plan.main) == target
    if same:
        head = data
    else:
        try:
            with open(plan.main, "rb") as fh:
                head = fh.read()
        except OSError:
            return None
    end, includes, after = pchs.include_prefix(plan, head)
    if includes < 2:
        return None
    path = f"{pch[0][: -len('.pch')]}-{os.getpid()}-{next(_prefixes)}.pch"
    built = pchs.build_prefix(plan, head, end, pch, path)
    if built is None or target in built[0]:
        _unlink(path)
        return None
    if same:
        return _Prefix((path, built[0]), [(plan.main, pchs.blank(head, end))], built[1], [])
    whole = [(plan.main, pchs.blank(head, end)), (plan.abspath, data)]
    if not after:
        return _Prefix((path, built[0]), whole, 0, [])
    cut = [(plan.main, pchs.blank(head, end, after)), whole[1]]
    return _Prefix((path, built[0]), cut, 0, whole)


def _guarded(ci: Any, tu: Any, target: str) -> bool:
    """Did clang find ``target`` wrapped in an include guard (or ``#pragma once``)?"""
    lib = ci.conf.lib
    f = lib.clang_getFile(tu, target)
    return bool(f) and bool(lib.clang_isFileMultipleIncludeGuarded(tu, ci.File(f)))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # never written; or still open (Windows): the folder goes at the end
        pass


@functools.lru_cache(maxsize=65536)
def _realpath(directory: str, name: str) -> str:
    return os.path.realpath(os.path.join(directory, name))


def _parse(
    ci: Any,
    main: str,
    args: list[str],
    unsaved: Sequence[tuple[str, bytes | str]],
    opts: int,
    pch: tuple[str, Deps] | None,
) -> Any:
    """Parse a unit, with the precompiled header when there is one (None
    when clang refused it: no unit, or a fatal error located in no file)."""
    if pch is None:
        return _index(ci, False).parse(main, args=args, unsaved_files=unsaved, options=opts)
    # an index excluding the precompiled declarations: the unit's top level
    # then holds only what was parsed (headers after osdep.h, the file)
    try:
        tu = _index(ci, True).parse(
            main, args=args + ["-include-pch", pch[0]], unsaved_files=unsaved, options=opts
        )
    except ci.TranslationUnitLoadError:
        log.debug("clang: %s: could not be parsed with %s", main, pch[0])
        return None
    for d in tu.diagnostics:
        if d.severity >= ci.Diagnostic.Fatal and d.location.file is None:
            log.debug("clang: %s: precompiled header refused: %s", main, d.spelling)
            return None
    return tu


@functools.cache
def _index(ci: Any, exclude_pch: bool) -> Any:
    return ci.Index.create(excludeDecls=exclude_pch)
