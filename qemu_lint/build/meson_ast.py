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


# One alternative per token kind, in one group, so that findall() returns the
# token texts as plain strings (a tuple of groups per match, or a match object,
# cost more than the scan); tokenize() tells the kinds apart by the first
# character.  The commonest tokens come first (identifiers, punctuation and
# newlines, strings): only the ``f'`` of an f-string must be tried before an
# identifier, so an identifier starting with ``f`` is tried after the strings.
# No alternative can match the empty string, none backtracks more than one
# character (no nested quantifiers), so scanning is linear.
_TOKEN = re.compile(
    r"[ \t\r\f]*([A-Za-eg-z_][A-Za-z0-9_]*"
    r"|[(),.:\[\]{}\n]|==|!=|<=|>=|\+=|[-+*/%<>=?]"
    r"|'(?!'')(?:[^'\\\n]|\\.)*'"
    r"|f?'''(?:[^']|'(?!''))*'''"
    r"|f?'(?:[^'\\\n]|\\.)*'"
    r"|f[A-Za-z0-9_]*"
    r"|\#[^\n]*|\\\r?\n"
    r"|0x[0-9a-fA-F]+|[0-9]+"
    r"|.)",
    re.DOTALL,
)
_OPS = frozenset(("==", "!=", "<=", ">=", "+=", *"-+*/%<>=?:,.()[]{}"))
#: the kind of any other token, by its first character
_FIRST = {
    **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", "id"),
    **dict.fromkeys("0123456789", "num"),
    "'": "str",
    "\n": "nl",
    "\\": "cont",
    "#": "comment",
}
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset(_OPEN.values())
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
    append = out.append
    depth = 0
    line = 1
    for tok in _TOKEN.findall(text):
        if tok in _OPS:
            if tok in _OPEN:
                depth += 1
            elif depth and tok in _CLOSE:
                depth -= 1
            append(("op", tok, line))
            continue
        kind = _FIRST.get(tok[0], "")
        if kind == "id":
            if tok[0] != "f" or tok[1:2] != "'":
                append(("kw" if tok in _KEYWORDS else "id", tok, line))
                continue
            kind, tok = "str", tok[1:]  # an f-string, kept as written
        if kind == "nl":
            if depth == 0 and out and out[-1][0] != "nl":
                append(("nl", "", line))
            line += 1
        elif kind == "str" and tok.startswith("'''") and len(tok) >= 6:
            append(("str", tok[3:-3], line))
            line += tok.count("\n")
        elif kind == "str" and len(tok) >= 2:
            append(("str", _unescape(tok[1:-1]), line))
        elif kind == "num":
            append(("num", tok, line))
        elif kind == "cont" and len(tok) > 1:
            line += 1
        elif kind != "comment" and not tok.isspace():
            raise MesonSyntaxError(f"unexpected character {tok!r}", line)
    append(("nl", "", line))
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
        """:meth:`take` the next token, which must be ``kind`` (and ``val``)."""
        tok = self.toks[self.pos]
        if tok[0] != kind or (val is not None and tok[1] != val):
            raise MesonSyntaxError(f"expected {val or kind}, got {tok[1] or tok[0]!r}", tok[2])
        if kind != "eof":
            self.pos += 1
        return tok

    # statements -------------------------------------------------------------

    def block(self, ends: tuple[str, ...]) -> tuple[Stmt, ...]:
        body: list[Stmt] = []
        toks = self.toks
        while True:
            tok = toks[self.pos]
            while tok[0] == "nl":
                self.pos += 1
                tok = toks[self.pos]
            if tok[0] == "eof":
                if ends:
                    raise MesonSyntaxError(f"missing {ends[-1]}", tok[2])
                return tuple(body)
            if tok[0] == "kw" and tok[1] in ends:
                return tuple(body)
            body.append(self.statement())

    def statement(self) -> Stmt:
        kind, val, line = self.toks[self.pos]
        if kind == "kw" and val == "if":
            return self.if_stmt()
        if kind == "kw" and val == "foreach":
            return self.foreach()
        if kind == "kw" and val in ("break", "continue"):
            self.take()
            self.expect("nl")
            return Jump(val, line)
        nxt = self.toks[self.pos + 1]
        if kind == "id" and nxt[0] == "op" and nxt[1] in ("=", "+="):
            self.pos += 2
            value = self.expr()
            self.expect("nl")
            return Assign(val, nxt[1], value, line)
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
        tok = self.toks[self.pos]
        if tok[1] == "?" and tok[0] == "op":
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
        kind, val, _ = self.toks[self.pos]
        if (val == "not" and kind == "kw") or (val == "-" and kind == "op"):
            self.pos += 1
            return UnOp(val, self.unary())
        node = self.primary()
        kind, val, _ = self.toks[self.pos]
        return self.postfix(node) if kind == "op" and val in (".", "[") else node

    def postfix(self, node: Node) -> Node:
        toks = self.toks
        while True:
            kind, val, _ = toks[self.pos]
            if kind != "op":
                return node
            if val == ".":
                self.pos += 1
                name, line = self.expect("id")[1:]
                args, kwargs = self.arguments()
                node = Call(str(name), args, kwargs, int(line), node)
            elif val == "[":
                self.pos += 1
                index = self.expr()
                self.expect("op", "]")
                node = Index(node, index)
            else:
                return node

    def arguments(self) -> tuple[tuple[Node, ...], tuple[tuple[str, Node], ...]]:
        self.expect("op", "(")
        args: list[Node] = []
        kwargs: list[tuple[str, Node]] = []
        toks = self.toks
        while True:
            tok = toks[self.pos]
            if tok[1] == ")" and tok[0] == "op":
                break
            nxt = toks[self.pos + 1]
            if tok[0] == "id" and nxt[1] == ":" and nxt[0] == "op":
                self.pos += 2
                kwargs.append((tok[1], self.expr()))
            else:
                args.append(self.expr())
            tok = toks[self.pos]
            if tok[1] != "," or tok[0] != "op":
                break
            self.pos += 1
        self.expect("op", ")")
        return tuple(args), tuple(kwargs)

    def primary(self) -> Node:
        kind, val, line = self.toks[self.pos]
        if kind == "str":
            self.pos += 1
            return Lit(val)
        if kind == "num":
            self.pos += 1
            return Lit(int(val, 0))
        if kind == "kw" and val in ("true", "false"):
            self.pos += 1
            return Lit(val == "true")
        if kind == "id":
            self.pos += 1
            tok = self.toks[self.pos]
            if tok[1] == "(" and tok[0] == "op":
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
        self.pos += 1
        items: list[Node] = []
        toks = self.toks
        while toks[self.pos][:2] != ("op", "]"):
            items.append(self.expr())
            if toks[self.pos][:2] != ("op", ","):
                break
            self.pos += 1
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
