"""Build stage, third step (syntax): the subset of Meson that QEMU's ``meson.build`` files use.

A tokenizer and a recursive-descent parser producing a small, frozen AST;
nothing is evaluated here (see :mod:`qemu_lint.build.meson`).  Covers
assignments (``=``, ``+=``), ``if``/``elif``/``else``/``endif``,
``foreach … endforeach``, ``break``/``continue``, function and method calls
with positional and keyword arguments, arrays, dictionaries, strings
(``'…'``, ``'''…'''``, ``f'…'``), integers, booleans, the operators
``+ - * / % == != < > <= >= in not in and or not`` and the ternary ``?:``,
and backslash line continuation.  Entry point: :func:`parse_meson`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Lit:
    value: str | int | bool


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Dict:
    items: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Call:
    """``func(args, key: value)``, or ``obj.func(…)`` when ``obj`` is set."""

    func: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]
    line: int
    obj: Node | None = None


@dataclass(frozen=True, slots=True)
class Index:
    obj: Node
    index: Node


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    lhs: Node
    rhs: Node


@dataclass(frozen=True, slots=True)
class UnOp:
    op: str
    arg: Node


@dataclass(frozen=True, slots=True)
class Ternary:
    cond: Node
    then: Node
    other: Node


Node = Lit | Name | Array | Dict | Call | Index | BinOp | UnOp | Ternary


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    op: str
    value: Node
    line: int


@dataclass(frozen=True, slots=True)
class ExprStmt:
    expr: Node
    line: int


@dataclass(frozen=True, slots=True)
class If:
    """``branches`` are ``(condition, body)``; ``else`` has condition ``None``."""

    branches: tuple[tuple[Node | None, tuple[Stmt, ...]], ...]
    line: int


@dataclass(frozen=True, slots=True)
class Foreach:
    names: tuple[str, ...]
    iterable: Node
    body: tuple[Stmt, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Jump:
    """``break`` or ``continue``."""

    kind: str
    line: int


Stmt = Assign | ExprStmt | If | Foreach | Jump


class MesonSyntaxError(Exception):
    """Text outside the supported subset; ``line`` is 1-based."""

    def __init__(self, msg: str, line: int) -> None:
        super().__init__(msg)
        self.line = line


# One alternative per token kind, each a capture group, so that findall()
# returns plain tuples (the per-match Python overhead dominated otherwise).
# No alternative can match the empty string, none backtracks more than one
# character (no nested quantifiers), so scanning is linear.
_TOKEN = re.compile(
    r"[ \t\r\f]*(?:(\#[^\n]*)|(\\\r?\n)|(\n)"
    r"|(f?'''(?:[^']|'(?!''))*''')"
    r"|(f?'(?:[^'\\\n]|\\.)*')"
    r"|(0x[0-9a-fA-F]+|[0-9]+)"
    r"|([A-Za-z_][A-Za-z0-9_]*)"
    r"|(==|!=|<=|>=|\+=|[-+*/%<>=?:,.()\[\]{}])"
    r"|(.))",
    re.DOTALL,
)
_OPEN = {"(": ")", "[": "]", "{": "}"}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", "r": "\r"}
_KEYWORDS = frozenset(
    {
        "if",
        "elif",
        "else",
        "endif",
        "foreach",
        "endforeach",
        "and",
        "or",
        "not",
        "in",
        "true",
        "false",
        "break",
        "continue",
    }
)

Token = tuple[str, str, int]


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def tokenize(text: str) -> list[Token]:
    """Tokens ``(kind, text, line)``; newlines inside brackets are dropped.

    :raise MesonSyntaxError: on a character Meson does not have
    """
    out: list[Token] = []
    depth = 0
    line = 1
    for _comment, cont, nl, mstr, string, num, ident, op, bad in _TOKEN.findall(text):
        if ident:
            out.append(("kw" if ident in _KEYWORDS else "id", ident, line))
        elif op:
            if op in _OPEN:
                depth += 1
            elif op in ")]}":
                depth = max(0, depth - 1)
            out.append(("op", op, line))
        elif nl or cont:
            if nl and depth == 0 and out and out[-1][0] != "nl":
                out.append(("nl", "", line))
            line += 1
        elif string:
            out.append(("str", _unescape(string[string.index("'") + 1 : -1]), line))
        elif num:
            out.append(("num", num, line))
        elif mstr:
            out.append(("str", mstr[mstr.index("'") + 3 : -3], line))
            line += mstr.count("\n")
        elif bad and not bad.isspace():
            raise MesonSyntaxError(f"unexpected character {bad!r}", line)
    out.append(("nl", "", line))
    # padding, so that the parser's look-ahead needs no bounds check
    out.extend([("eof", "", line)] * 4)
    return out


_PREC = {
    "or": 1,
    "and": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    ">": 3,
    "<=": 3,
    ">=": 3,
    "in": 3,
    "not in": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}
_BLOCK_END = {"if": ("elif", "else", "endif"), "foreach": ("endforeach",)}


@dataclass(slots=True)
class _Parser:
    toks: list[Token]
    pos: int = 0
    ends: list[tuple[str, ...]] = field(default_factory=list)

    def peek(self, ahead: int = 0) -> Token:
        return self.toks[self.pos + ahead]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        if tok[0] != "eof":
            self.pos += 1
        return tok

    def is_(self, kind: str, val: str | None = None) -> bool:
        tok = self.toks[self.pos]
        return tok[0] == kind and (val is None or tok[1] == val)

    def expect(self, kind: str, val: str | None = None) -> Token:
        if not self.is_(kind, val):
            k, v, line = self.peek()
            raise MesonSyntaxError(f"expected {val or kind}, got {v or k!r}", line)
        return self.take()

    # statements -------------------------------------------------------------

    def block(self, ends: tuple[str, ...]) -> tuple[Stmt, ...]:
        body: list[Stmt] = []
        while True:
            while self.is_("nl"):
                self.take()
            if self.is_("eof"):
                if ends:
                    raise MesonSyntaxError(f"missing {ends[-1]}", self.peek()[2])
                return tuple(body)
            if self.is_("kw") and self.peek()[1] in ends:
                return tuple(body)
            body.append(self.statement())

    def statement(self) -> Stmt:
        kind, val, line = self.peek()
        if kind == "kw" and val == "if":
            return self.if_stmt()
        if kind == "kw" and val == "foreach":
            return self.foreach()
        if kind == "kw" and val in ("break", "continue"):
            self.take()
            self.expect("nl")
            return Jump(val, line)
        if kind == "id" and self.peek(1)[0] == "op" and self.peek(1)[1] in ("=", "+="):
            self.take()
            op = self.take()[1]
            value = self.expr()
            self.expect("nl")
            return Assign(val, op, value, line)
        expr = self.expr()
        self.expect("nl")
        return ExprStmt(expr, line)

    def if_stmt(self) -> If:
        line = self.take()[2]
        branches: list[tuple[Node | None, tuple[Stmt, ...]]] = []
        cond: Node | None = self.expr()
        while True:
            self.expect("nl")
            body = self.block(_BLOCK_END["if"])
            branches.append((cond, body))
            word = self.take()[1]
            if word == "endif":
                break
            if word == "elif":
                cond = self.expr()
            elif cond is None:
                raise MesonSyntaxError("else after else", self.peek()[2])
            else:
                cond = None
        return If(tuple(branches), line)

    def foreach(self) -> Foreach:
        line = self.take()[2]
        names = [self.expect("id")[1]]
        while self.is_("op", ","):
            self.take()
            names.append(self.expect("id")[1])
        self.expect("op", ":")
        iterable = self.expr()
        self.expect("nl")
        body = self.block(_BLOCK_END["foreach"])
        self.expect("kw", "endforeach")
        return Foreach(tuple(names), iterable, body, line)

    # expressions, lowest precedence first -----------------------------------

    def expr(self) -> Node:
        cond = self.binary()
        if self.is_("op", "?"):
            self.take()
            then = self.expr()
            self.expect("op", ":")
            return Ternary(cond, then, self.expr())
        return cond

    def binary(self, min_prec: int = 1) -> Node:
        """Precedence climbing over ``or`` < ``and`` < comparisons < ``+ -`` < ``* / %``."""
        lhs = self.unary()
        while True:
            kind, val, _ = self.toks[self.pos]
            op = val
            if kind == "kw" and val == "not" and self.toks[self.pos + 1][1] == "in":
                op = "not in"
            prec = _PREC.get(op, 0) if kind in ("op", "kw") else 0
            if prec < min_prec:
                return lhs
            self.pos += 2 if op == "not in" else 1
            rhs = self.binary(prec + 1)
            lhs = BinOp(op, lhs, rhs)

    def unary(self) -> Node:
        if self.is_("kw", "not"):
            self.take()
            return UnOp("not", self.unary())
        if self.is_("op", "-"):
            self.take()
            return UnOp("-", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.is_("op", "."):
                self.take()
                name, line = self.expect("id")[1:]
                args, kwargs = self.arguments()
                node = Call(str(name), args, kwargs, int(line), node)
            elif self.is_("op", "["):
                self.take()
                index = self.expr()
                self.expect("op", "]")
                node = Index(node, index)
            else:
                return node

    def arguments(self) -> tuple[tuple[Node, ...], tuple[tuple[str, Node], ...]]:
        self.expect("op", "(")
        args: list[Node] = []
        kwargs: list[tuple[str, Node]] = []
        while not self.is_("op", ")"):
            if self.is_("id") and self.peek(1)[:2] == ("op", ":"):
                key = self.take()[1]
                self.take()
                kwargs.append((key, self.expr()))
            else:
                args.append(self.expr())
            if not self.is_("op", ","):
                break
            self.take()
        self.expect("op", ")")
        return tuple(args), tuple(kwargs)

    def primary(self) -> Node:
        kind, val, line = self.peek()
        if kind == "str":
            self.take()
            return Lit(val)
        if kind == "num":
            self.take()
            return Lit(int(val, 0))
        if kind == "kw" and val in ("true", "false"):
            self.take()
            return Lit(val == "true")
        if kind == "id":
            self.take()
            if self.is_("op", "("):
                args, kwargs = self.arguments()
                return Call(val, args, kwargs, line)
            return Name(val)
        if (kind, val) == ("op", "("):
            self.take()
            inner = self.expr()
            self.expect("op", ")")
            return inner
        if (kind, val) == ("op", "["):
            return self.array()
        if (kind, val) == ("op", "{"):
            return self.dictionary()
        raise MesonSyntaxError(f"unexpected {val or kind!r}", line)

    def array(self) -> Array:
        self.take()
        items: list[Node] = []
        while not self.is_("op", "]"):
            items.append(self.expr())
            if not self.is_("op", ","):
                break
            self.take()
        self.expect("op", "]")
        return Array(tuple(items))

    def dictionary(self) -> Dict:
        self.take()
        items: list[tuple[Node, Node]] = []
        while not self.is_("op", "}"):
            key = self.expr()
            self.expect("op", ":")
            items.append((key, self.expr()))
            if not self.is_("op", ","):
                break
            self.take()
        self.expect("op", "}")
        return Dict(tuple(items))


def parse_meson(text: str) -> tuple[Stmt, ...]:
    """Parse one ``meson.build``.

    :param text: the file's content
    :return: its statements
    :raise MesonSyntaxError: outside the supported subset
    """
    return _Parser(tokenize(text)).block(())
