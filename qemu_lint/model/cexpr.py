"""Stage 4 (model): ``#define`` bodies as expressions, and constant folding.

Entry points: :class:`Macros` (the ``#define``\\ s of a tree, looked up from a
file), :func:`parse_expr` (a macro body's text as an
:class:`~qemu_lint.facts.Expr`) and :meth:`Macros.expand` (a function-like
macro invocation with its arguments substituted).

The facts keep a macro body as text (:class:`~qemu_lint.facts.Define`).  The
presence derivation needs a little more: the string a name such as
``CPU_ENABLED`` stands for, the integer ``ACPI_CPU_FLAGS_OFFSET_RW * 8``
folds to, and what ``PRESENT_BIT(cdev)`` computes from ``cdev``.  This module
parses the small C-expression subset macro bodies use (names, numbers,
strings, ``->``/``.``, calls, unary, binary and ternary operators,
parentheses); anything else (casts, statements, ``#``/``##``) gives ``None``.

TODO(lead): a parsed-body fact on :class:`~qemu_lint.facts.Define` (filled
by the front-ends) would make this parser unnecessary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qemu_lint.facts import Define, Expr, FileFacts

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)"
    r"|(?P<str>\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>?:(),.\[\]]))"
)

#: binary operators by precedence, loosest first
_BINARY: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
)


def _tokens(text: str) -> list[str] | None:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            return None
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


class _Parser:
    """Precedence climbing over the tokens of one macro body."""

    def __init__(self, toks: list[str], line: int) -> None:
        self.toks = toks
        self.pos = 0
        self.line = line

    def peek(self) -> str:
        return self.toks[self.pos] if self.pos < len(self.toks) else ""

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok == "" or (want is not None and tok != want):
            raise ValueError(f"expected {want!r}, got {tok!r}")
        self.pos += 1
        return tok

    def node(self, kind: str, text: str = "", op: str = "", args: tuple[Expr, ...] = ()) -> Expr:
        return Expr(kind, self.line, 1, self.line, 1, text, op, args)

    def ternary(self) -> Expr:
        cond = self.binary(0)
        if self.peek() != "?":
            return cond
        self.take("?")
        then = self.ternary()
        self.take(":")
        return self.node("ternary", args=(cond, then, self.ternary()))

    def binary(self, level: int) -> Expr:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take()
            left = self.node("binary", op=op, args=(left, self.binary(level + 1)))
        return left

    def unary(self) -> Expr:
        if self.peek() in ("!", "~", "-", "+", "*", "&"):
            op = self.take()
            return self.node("unary", op=op, args=(self.unary(),))
        return self.postfix(self.primary())

    def primary(self) -> Expr:
        tok = self.take()
        if tok == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if tok[0] == '"':
            return self.node("string", tok)
        if tok[0].isdigit():
            return self.node("const", tok)
        if tok[0].isalpha() or tok[0] == "_":
            kind = "const" if tok in ("NULL", "true", "false") else "name"
            return self.node(kind, tok)
        raise ValueError(f"unexpected {tok!r}")

    def postfix(self, e: Expr) -> Expr:
        while self.peek() in ("->", ".", "(", "["):
            tok = self.take()
            if tok in ("->", "."):
                e = self.node("field", self.take(), tok, (e,))
            elif tok == "[":
                e = self.node("index", args=(e, self.ternary()))
                self.take("]")
            else:
                args: list[Expr] = [e]
                while self.peek() != ")":
                    args.append(self.ternary())
                    if self.peek() != ")":
                        self.take(",")
                self.take(")")
                e = self.node("call", args=tuple(args))
        return e


def parse_expr(text: str, line: int) -> Expr | None:
    """Parse a macro body as a C expression; every node gets ``line``.

    :return: the expression, or None when the body is not one this subset covers
    """
    toks = _tokens(text)
    if not toks:
        return None
    p = _Parser(toks, line)
    try:
        e = p.ternary()
    except (ValueError, RecursionError):
        return None
    return e if p.pos == len(toks) else None


def substitute(e: Expr, binding: Mapping[str, Expr]) -> Expr:
    """``e`` with every ``name`` node bound in ``binding`` replaced."""
    if e.kind == "name" and e.text in binding:
        return binding[e.text]
    if not e.args:
        return e
    args = tuple(substitute(a, binding) for a in e.args)
    return Expr(e.kind, e.line, e.col, e.end_line, e.end_col, e.text, e.op, args, e.type)


@dataclass(frozen=True, slots=True)
class Macros:
    """The ``#define``\\ s of a tree, by name, with the file defining each."""

    defines: Mapping[str, tuple[tuple[Define, str], ...]]

    def lookup(self, name: str, ctx: str) -> tuple[Define, str] | None:
        """The definition of ``name`` seen from file ``ctx`` (its own file first)."""
        options = self.defines.get(name, ())
        for d, f in options:
            if f == ctx:
                return d, f
        for d, f in options:
            if f.endswith(".h"):
                return d, f
        return options[0] if options else None

    def expand(self, call: Expr, ctx: str) -> Expr | None:
        """The body of the function-like macro ``call`` invokes, arguments substituted."""
        if call.kind != "call" or not call.args or call.args[0].kind != "name":
            return None
        found = self.lookup(call.args[0].text, ctx)
        if found is None or found[0].params is None:
            return None
        d = found[0]
        if len(d.params or ()) != len(call.args) - 1:
            return None
        body = parse_expr(d.value, call.line)
        if body is None:
            return None
        return substitute(body, dict(zip(d.params or (), call.args[1:], strict=True)))

    def object_body(self, name: str, ctx: str, line: int) -> Expr | None:
        """The body of the object-like macro ``name``, parsed."""
        found = self.lookup(name, ctx)
        if found is None or found[0].params is not None:
            return None
        return parse_expr(found[0].value, line)

    def eval_int(self, e: Expr, ctx: str, depth: int = 0) -> int | None:
        """Fold an integer constant expression (literals, defines, arithmetic)."""
        if depth > 32:  # a macro defined in terms of itself
            return None
        k = e.kind
        if k == "const":
            return _literal(e.text)
        if k == "name":
            body = self.object_body(e.text, ctx, e.line)
            return None if body is None else self.eval_int(body, ctx, depth + 1)
        if k == "call":
            body = self.expand(e, ctx)
            return None if body is None else self.eval_int(body, ctx, depth + 1)
        if k == "cast" and e.args:
            return self.eval_int(e.args[-1], ctx, depth + 1)
        if k == "unary" and len(e.args) == 1:
            v = self.eval_int(e.args[0], ctx, depth + 1)
            if v is None or e.op not in ("-", "~", "!", "+"):
                return None
            return {"-": -v, "~": ~v, "!": int(not v), "+": v}[e.op]
        if k == "binary" and len(e.args) == 2:
            a = self.eval_int(e.args[0], ctx, depth + 1)
            b = self.eval_int(e.args[1], ctx, depth + 1)
            return None if a is None or b is None else _fold(e.op, a, b)
        return None

    def eval_str(self, e: Expr, ctx: str, depth: int = 0) -> str | None:
        """The string a literal or a ``#define NAME "…"`` stands for."""
        if e.kind == "string":
            return _string(e.text)
        if e.kind == "name" and depth < 32:
            body = self.object_body(e.text, ctx, e.line)
            return None if body is None else self.eval_str(body, ctx, depth + 1)
        return None


def _literal(text: str) -> int | None:
    if text == "true":
        return 1
    if text in ("false", "NULL"):
        return 0
    try:
        return int(text.rstrip("uUlL"), 0)
    except ValueError:
        return None


def _fold(op: str, a: int, b: int) -> int | None:
    if op in ("/", "%") and b == 0:
        return None
    ops = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "<<": a << b if 0 <= b < 64 else 0,
        ">>": a >> b if 0 <= b < 64 else 0,
        "|": a | b,
        "&": a & b,
        "^": a ^ b,
        "==": int(a == b),
        "!=": int(a != b),
        "&&": int(bool(a and b)),
        "||": int(bool(a or b)),
    }
    if op in ("/", "%"):
        return a // b if op == "/" else a % b
    return ops.get(op)


def _string(text: str) -> str | None:
    # A single literal only: "a" "b" concatenations with macros are not names.
    m = re.fullmatch(r'\s*"((?:[^"\\]|\\.)*)"\s*', text)
    return m.group(1) if m else None


def build_macros(facts: Iterable[FileFacts]) -> Macros:
    """Index the ``#define``\\ s of every file."""
    out: dict[str, list[tuple[Define, str]]] = {}
    for ff in facts:
        for d in ff.defines:
            out.setdefault(d.name, []).append((d, ff.path))
    return Macros({k: tuple(v) for k, v in out.items()})
