"""Stage 3 (facts): the intermediate representation both front-ends produce.

Entry point: :class:`FileFacts`, one per source file, built by
``frontends/treesitter/extract.py`` or ``frontends/clang/`` (libclang).
Everything here is a frozen, slotted dataclass made of strings, ints and
tuples: no parser object ever escapes a front-end, so facts can be pickled
across processes and cached.

Function bodies are kept as a small structured statement tree (:class:`Stmt`)
whose conditions and effects are expression trees (:class:`Expr`).  That is
enough for the model to resolve types, build the call graph and decide which
statements are guarded by which conditions, without knowing the parser.

Lines and columns are 1-based everywhere.

The walkers over those trees (:func:`iter_stmts`, :func:`iter_exprs`,
:func:`stmt_exprs`) and the text rule that finds QOM declaration macros
(:func:`qom_macro_uses`, shared by both front-ends) live here too.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: Bumped whenever the shape or meaning of facts changes (cache key).
FACTS_VERSION = 3


def _reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
    # Unpickle by calling the constructor with the field values.  The
    # __setstate__ that dataclass(slots=True) generates looks the fields up
    # again for every object, which made loading cached facts 2.5x slower
    # (0.94 s against 0.37 s for the 124 files QEMU 10.0.13 needs).  The
    # values come from one attrgetter per class (C code), not a getattr per
    # field: pickling the 139 files' facts (194,000 objects) took 0.46 s
    # instead of 0.92 s.
    cls = type(self)
    return (cls, _FIELDS[cls](self))


#: per facts class, the getter of all its fields' values (see _reduce)
_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _slot_init(cls: type) -> Callable[..., None]:
    """An ``__init__`` for the frozen, slotted dataclass ``cls`` that stores
    each field through its slot's own setter, with the parameters (names,
    order, defaults) of the one dataclass generated.

    The generated one calls ``object.__setattr__(self, name, value)`` per
    field (a frozen class's own ``__setattr__`` refuses): 2.2 µs for an
    :class:`Expr`, where the slot setters take 1.3 µs.  Building the facts
    creates some 190,000 objects for the 139 files of a cold check on QEMU
    10.0.13 (and loading them from the cache as many): their constructors
    were a fifth of the extraction's CPU time.  The instances are the same;
    assigning an attribute still raises ``FrozenInstanceError``.
    """
    params = []
    for f in dataclasses.fields(cls):
        assert f.default_factory is dataclasses.MISSING and f.init  # not handled below
        params.append(f.name if f.default is dataclasses.MISSING else f"{f.name}=_d_{f.name}")
    assert not hasattr(cls, "__post_init__")
    names = [f.name for f in dataclasses.fields(cls)]
    assert tuple(names) == cls.__dict__["__slots__"]
    scope: dict[str, Any] = {f"_s_{n}": cls.__dict__[n].__set__ for n in names}
    scope.update({f"_d_{f.name}": f.default for f in dataclasses.fields(cls)})
    body = "".join(f"    _s_{n}(self, {n})\n" for n in names)
    exec(f"def __init__(self, {', '.join(params)}):\n{body}", scope)  # noqa: S102
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A C type as written, reduced to what the model needs.

    ``name`` is the base type name with ``struct``/``union``/``enum`` dropped
    (QEMU typedefs every struct to its tag), or ``"<fn>"`` for function
    pointers (then ``signature`` holds ``"ret (params)"``).  ``pointers``
    counts ``*`` levels; arrays count as one more level.
    """

    name: str
    pointers: int = 0
    signature: str | None = None

    def deref(self) -> TypeRef:
        return TypeRef(self.name, max(self.pointers - 1, 0), self.signature)

    def addr(self) -> TypeRef:
        return TypeRef(self.name, self.pointers + 1, self.signature)

    def render(self) -> str:
        if self.name == "<fn>":
            return self.signature or "<fn>"
        return self.name + (" " + "*" * self.pointers if self.pointers else "")


@dataclass(frozen=True, slots=True)
class Expr:
    """An expression node.

    ``kind`` is one of: ``name`` (``text`` = identifier), ``field``
    (``text`` = member, ``op`` = ``->`` or ``.``, ``args`` = (base,)),
    ``index`` (base, index), ``call`` (callee, *arguments), ``unary``
    (``op`` in ``! - ~ & * ++ --``), ``binary`` (``op``; left, right),
    ``ternary`` (cond, then, else), ``assign`` (``op`` = ``=``, ``|=``…;
    lhs, rhs), ``cast`` (``type``; operand), ``const`` (``text`` =
    ``0``/``1``/number literal/``NULL``/``true``/``false``), ``string``,
    ``init`` (initializer list; ``args`` are ``designated`` items or values),
    ``designated`` (``text`` = field name; value), ``compound`` (compound
    literal: ``type``; init), ``comma``, ``sizeof``, ``opaque`` (anything
    else; ``args`` hold its sub-expressions so nothing inside is lost).

    ``type`` is the written type of ``cast`` and ``compound``; on other kinds
    it is the compiler's type when a front-end knows it (the clang front-end
    sets it on calls and on macro invocations kept in their written shape),
    and the model prefers it to its own typing.
    """

    kind: str
    line: int
    col: int
    end_line: int
    end_col: int
    text: str = ""
    op: str = ""
    args: tuple[Expr, ...] = ()
    type: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class Stmt:
    """A statement node of the control skeleton.

    ``kind`` is one of: ``block`` (``body``), ``if`` (``expr`` = condition,
    ``body`` = then, ``orelse`` = else), ``switch`` (``expr``, ``body``),
    ``case`` (``expr`` = label value or None for default), ``loop`` (``while``,
    ``for`` and ``do``: ``expr`` = condition or None, ``body``; ``text`` is
    the loop keyword), ``return`` (``expr`` or None), ``goto`` (``text`` =
    label), ``label`` (``text``), ``break``, ``continue``, ``expr``
    (``expr``), ``decl`` (``text`` = variable, ``type``, ``expr`` =
    initializer or None).
    """

    kind: str
    line: int
    col: int
    end_line: int
    end_col: int
    expr: Expr | None = None
    body: tuple[Stmt, ...] = ()
    orelse: tuple[Stmt, ...] = ()
    text: str = ""
    type: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    type: TypeRef
    line: int


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeRef
    line: int


@dataclass(frozen=True, slots=True)
class StructDef:
    """A struct or union with a body.  ``name`` is the tag, else the typedef."""

    name: str
    fields: tuple[Field, ...]
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Typedef:
    name: str
    type: TypeRef
    line: int


@dataclass(frozen=True, slots=True)
class Define:
    """``#define NAME value`` or ``#define NAME(params) value`` (value as text)."""

    name: str
    params: tuple[str, ...] | None
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class MacroUse:
    """A file-scope macro invocation such as ``OBJECT_DECLARE_TYPE(A, B, C)``."""

    name: str
    args: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class FunctionDecl:
    """A prototype: enough to type the result of a call."""

    name: str
    return_type: TypeRef
    line: int


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    return_type: TypeRef
    params: tuple[Var, ...]
    locals: tuple[Var, ...]
    body: Stmt
    line: int
    col: int
    end_line: int
    is_static: bool


@dataclass(frozen=True, slots=True)
class GlobalVar:
    name: str
    type: TypeRef
    init: Expr | None
    line: int


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything one front-end learnt from one file.

    ``error_nodes`` counts regions the parser could not make sense of (QEMU's
    macros make tree-sitter produce ERROR nodes); ``skipped_bytes`` is their
    total size.  Facts are still extracted from the parts around them.
    """

    path: str
    frontend: str
    size: int
    structs: tuple[StructDef, ...] = ()
    typedefs: tuple[Typedef, ...] = ()
    defines: tuple[Define, ...] = ()
    macro_uses: tuple[MacroUse, ...] = ()
    prototypes: tuple[FunctionDecl, ...] = ()
    functions: tuple[FunctionDef, ...] = ()
    globals: tuple[GlobalVar, ...] = ()
    error_nodes: int = 0
    skipped_bytes: int = 0
    #: functions left out because they nest deeper than :data:`MAX_DEPTH`:
    #: ``(name, line, reason)`` each (the rest of the file is analysed)
    cut: tuple[tuple[str, int, str], ...] = ()


#: The deepest nesting of statements and expressions a function's facts may
#: have (a block in a block, an operand of an operand: each level counts
#: one).  A deeper function is left out with a warning, so that no walker,
#: rule or cache write meets a recursion limit.  QEMU 10.0.13's deepest
#: function is far below it (docs/reliability.md has the figures).
MAX_DEPTH = 200


def depth(s: Stmt) -> int:
    """The nesting depth of a statement tree and its expressions (iterative:
    one level of nodes at a time, each level's children gathered by
    ``list.extend``)."""
    levels = 0
    level: list[Stmt | Expr] = [s]
    while level:
        levels += 1
        below: list[Stmt | Expr] = []
        for x in level:
            if isinstance(x, Stmt):
                below.extend(x.body)
                below.extend(x.orelse)
                if x.expr is not None:
                    below.append(x.expr)
            else:
                below.extend(x.args)
        level = below
    return levels


def iter_exprs(e: Expr) -> Iterator[Expr]:
    """Every node of ``e``, pre-order: a node before its arguments, left to right.

    Iterative, so deeply nested expressions never reach the recursion limit.
    """
    stack = [e]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.args))


def iter_stmts(s: Stmt) -> Iterator[Stmt]:
    """Every statement of ``s``, pre-order: a statement, its ``body``, then its ``orelse``."""
    stack = [s]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.orelse))
        stack.extend(reversed(x.body))


def stmt_exprs(s: Stmt, *, mirrored: bool = False) -> Iterator[Expr]:
    """Every expression node of a statement tree (a function body).

    :param s: the statement tree
    :param mirrored: walk right to left instead of in source order: the last
        statement's expression first, and each node's arguments last to first
        (still a node before its arguments).  The call-graph index has always
        filled its lists in this order, and their order shows in the output.
    :return: the nodes, pre-order
    """
    stack = [st.expr for st in iter_stmts(s) if st.expr is not None]
    if not mirrored:
        stack.reverse()
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.args if mirrored else reversed(x.args))


#: QOM declaration macros whose arguments name the instance/class types and
#: the cast macros they define.
QOM_DECL_MACROS = (
    "OBJECT_DECLARE_TYPE",
    "OBJECT_DECLARE_SIMPLE_TYPE",
    "OBJECT_DECLARE_CPU_TYPE",
    "DECLARE_OBJ_CHECKERS",
    "DECLARE_INSTANCE_CHECKER",
    "DECLARE_CLASS_CHECKERS",
    "OBJECT_DEFINE_TYPE",
    "OBJECT_DEFINE_SIMPLE_TYPE",
    "OBJECT_DEFINE_TYPE_EXTENDED",
    "OBJECT_DEFINE_TYPE_WITH_INTERFACES",
    "OBJECT_DEFINE_ABSTRACT_TYPE",
    "OBJECT_DEFINE_SIMPLE_TYPE_WITH_INTERFACES",
)

#: An invocation of one of :data:`QOM_DECL_MACROS` at the start of a line;
#: group 1 is the macro name, group 2 its (unparenthesised) arguments.  Read
#: from the text: tree-sitter often cannot place them (no trailing semicolon)
#: and libclang expands them away.
QOM_DECL = re.compile(
    rb"^[ \t]*(" + "|".join(QOM_DECL_MACROS).encode() + rb")\s*\(([^()]*)\)",
    re.M,
)


#: substrings one of which every name of :data:`QOM_DECL_MACROS` holds
_QOM_CORES = (b"DECLARE_", b"OBJECT_DEFINE_")
assert all(any(c.decode() in name for c in _QOM_CORES) for name in QOM_DECL_MACROS)


def _qom_line_starts(data: bytes) -> list[int]:
    """The starts of the lines holding one of :data:`_QOM_CORES`, in order:
    every line :data:`QOM_DECL` can match at (its macro name, after blanks
    only, holds one)."""
    starts = set()
    for core in _QOM_CORES:
        at = data.find(core)
        while at >= 0:
            starts.add(data.rfind(b"\n", 0, at) + 1)
            at = data.find(core, at + len(core))
    return sorted(starts)


def qom_macro_uses(data: bytes) -> Iterator[tuple[int, MacroUse]]:
    """The QOM declaration macros invoked in a file's text.

    :data:`QOM_DECL` is tried only at the starts of the lines holding one of
    :data:`_QOM_CORES` (found by ``bytes.find``), which gives the matches
    ``QOM_DECL.finditer`` gives: a scan of the whole text by the regular
    expression was 3 % of a cold check's extraction.

    :param data: the file's bytes
    :return: per invocation, the byte offset of the macro name (a front-end
        may keep only those it saw expanded) and the :class:`MacroUse`
    """
    end = 0
    for start in _qom_line_starts(data):
        m = QOM_DECL.match(data, start) if start >= end else None
        if m is None:
            continue
        end = m.end()
        yield (
            m.start(1),
            MacroUse(
                m.group(1).decode(),
                tuple(a.strip() for a in m.group(2).decode("utf-8", "replace").split(",")),
                data.count(b"\n", 0, m.start()) + 1,
            ),
        )


for _cls in (
    TypeRef,
    Expr,
    Stmt,
    Var,
    Field,
    StructDef,
    Typedef,
    Define,
    MacroUse,
    FunctionDecl,
    FunctionDef,
    GlobalVar,
    FileFacts,
):
    assert len(_cls.__slots__) > 1  # attrgetter of one name returns the value, not a tuple
    _FIELDS[_cls] = operator.attrgetter(*_cls.__slots__)
    _cls.__reduce__ = _reduce  # type: ignore[method-assign]  # see _reduce
    _cls.__init__ = _slot_init(_cls)  # type: ignore[method-assign]  # see _slot_init
