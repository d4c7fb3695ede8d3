"""frontends/treesitter/extract.py and facts.py: the paths the extraction
takes for speed give the facts the plain ones gave (positions of names,
numbers and strings from their text, ASCII and other files, one-operand
kinds, comments in a sequence; the QOM macros found without a scan by the
regular expression; the facts constructors)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import random

import pytest

from qemu_lint import facts
from qemu_lint.facts import QOM_DECL, QOM_DECL_MACROS, MacroUse, iter_stmts, stmt_exprs
from qemu_lint.frontends.treesitter.extract import extract_file
from qemu_lint.frontends.treesitter.parse import parse_bytes

SRC = b"""int f(S *s)
{
    /* note */
    s->n = g(s->a, 12, "t", 'c', !x, (T *)p, .5);
    h(q)(r) + "a\\
b";
    { int v = { .k = 1, [2] = z }; }
}
"""
#: the same function with a two-byte character before the first statement,
#: on its line: columns count bytes
SRC_UTF8 = SRC.replace(b"    /* note */\n    s->n", b"    /* \xc3\xa9 */ s->n")

# The facts phase 6's extractor gave (before the fast paths).
STMTS = [("block", 2, 1, 8, 2), ("expr", 4, 5, 4, 50), ("expr", 5, 5, 6, 4)]
STMTS += [("block", 7, 5, 7, 37), ("decl", 7, 11, 7, 34)]
EXPRS = [
    ("assign", 4, 5, 4, 49, "", "="),
    ("field", 4, 5, 4, 9, "n", "->"),
    ("name", 4, 5, 4, 6, "s", ""),
    ("call", 4, 12, 4, 49, "", ""),
    ("name", 4, 12, 4, 13, "g", ""),
    ("field", 4, 14, 4, 18, "a", "->"),
    ("name", 4, 14, 4, 15, "s", ""),
    ("const", 4, 20, 4, 22, "12", ""),
    ("string", 4, 24, 4, 27, '"t"', ""),
    ("const", 4, 29, 4, 32, "'c'", ""),
    ("unary", 4, 34, 4, 36, "", "!"),
    ("name", 4, 35, 4, 36, "x", ""),
    ("cast", 4, 38, 4, 44, "", ""),
    ("name", 4, 43, 4, 44, "p", ""),
    ("const", 4, 46, 4, 48, ".5", ""),
    ("binary", 5, 5, 6, 3, "", "+"),
    ("call", 5, 5, 5, 12, "", ""),
    ("call", 5, 5, 5, 9, "", ""),
    ("name", 5, 5, 5, 6, "h", ""),
    ("name", 5, 7, 5, 8, "q", ""),
    ("name", 5, 10, 5, 11, "r", ""),
    ("string", 5, 15, 6, 3, '"a\\\nb"', ""),  # a string over two lines
    ("init", 7, 15, 7, 34, "", ""),
    ("designated", 7, 17, 7, 23, "k", ""),
    ("const", 7, 22, 7, 23, "1", ""),
    ("designated", 7, 25, 7, 32, "2", ""),
    ("name", 7, 31, 7, 32, "z", ""),
]


def _utf8(row: tuple[object, ...]) -> tuple[object, ...]:
    """``row`` in SRC_UTF8: a line less, and line 4's columns 9 bytes further."""
    kind, line, col, end_line, end_col, *rest = row
    assert isinstance(line, int) and isinstance(col, int)
    assert isinstance(end_line, int) and isinstance(end_col, int)
    if line >= 4:
        col += 9 if line == 4 else 0
        line -= 1
    if end_line >= 4:
        end_col += 9 if end_line == 4 else 0
        end_line -= 1
    return (kind, line, col, end_line, end_col, *rest)


@pytest.mark.parametrize("utf8", [False, True], ids=["ascii", "utf8"])
def test_expression_facts_and_positions(utf8: bool) -> None:
    src = SRC_UTF8 if utf8 else SRC
    got = extract_file("x.c", src, parse_bytes(src))
    body = got.functions[0].body
    stmts = [(s.kind, s.line, s.col, s.end_line, s.end_col) for s in iter_stmts(body)]
    exprs = [(e.kind, e.line, e.col, e.end_line, e.end_col, e.text, e.op) for e in stmt_exprs(body)]
    want_stmts = [_utf8(s) for s in STMTS] if utf8 else STMTS
    want_exprs = [_utf8(e) for e in EXPRS] if utf8 else EXPRS
    # The outer block ends a line earlier in SRC_UTF8 (one line less).
    if utf8:
        want_stmts[0] = ("block", 2, 1, 7, 2)
    assert stmts == want_stmts
    assert exprs == want_exprs
    cast = next(e for e in stmt_exprs(body) if e.kind == "cast")
    assert cast.type == facts.TypeRef("T", 1)
    assert got.error_nodes == 0


def _reference_uses(data: bytes) -> list[tuple[int, MacroUse]]:
    """What qom_macro_uses gave before: QOM_DECL over the whole text."""
    out = []
    for m in QOM_DECL.finditer(data):
        args = tuple(a.strip() for a in m.group(2).decode("utf-8", "replace").split(","))
        line = data.count(b"\n", 0, m.start()) + 1
        out.append((m.start(1), MacroUse(m.group(1).decode(), args, line)))
    return out


def test_qom_macro_uses_are_the_regex_matches() -> None:
    """On random texts made of macro names, near misses, blanks, newlines,
    parentheses and words, the uses are those of ``QOM_DECL.finditer``."""
    rng = random.Random(6)
    names = [m.encode() for m in QOM_DECL_MACROS]
    misses = [b"XDECLARE_OBJ_CHECKERS", b"DECLARE_BITMAP", b"OBJECT_DEFINE", b"DEFINE_TYPES"]
    calls = [n + b"(A, B)" for n in names] + [n + b" (\n  A,\n  B\n)" for n in names]
    parts = [*names, *calls, *misses, b" ", b"\t", b"\n", b"\n", b"(", b")", b"A, B", b"x;"]
    found = 0
    for _ in range(3000):
        text = b"".join(rng.choice(parts) for _ in range(rng.randrange(1, 40)))
        want = _reference_uses(text)
        assert list(facts.qom_macro_uses(text)) == want, text
        found += len(want)
    assert found > 300  # the texts do hold uses, at line starts and not


def test_facts_constructors_are_the_dataclass_ones() -> None:
    """Each facts class's ``__init__`` takes the dataclass's parameters
    (names, order, defaults), stores them, and the instances stay frozen
    and pickle as before."""
    for cls in facts._FIELDS:
        fields = dataclasses.fields(cls)
        params = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in params] == [f.name for f in fields]
        for p, f in zip(params, fields, strict=True):
            want = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
            assert p.default == want, (cls, f.name)
            assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    e = facts.Expr("call", 1, 2, 3, 4, args=(facts.Expr("name", 1, 2, 1, 3, "g"),))
    assert (e.kind, e.line, e.col, e.end_line, e.end_col) == ("call", 1, 2, 3, 4)
    assert (e.text, e.op, e.type) == ("", "", None) and e.args[0].text == "g"
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.text = "x"  # type: ignore[misc]
    assert dataclasses.replace(e, text="y").text == "y"
    assert pickle.loads(pickle.dumps(e)) == e
    with pytest.raises(TypeError):
        facts.Expr("name", 1, 2, 3)  # type: ignore[call-arg]
