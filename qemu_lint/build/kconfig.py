"""Build stage, second step: QEMU's Kconfig files as ``scripts/minikconf.py`` reads them.

Grammar (minikconf's, nothing more): ``config X`` followed by properties
``bool``, ``default y|n [if expr]``, ``depends on expr``, ``select Y [if expr]``,
``imply Y [if expr]``; ``source path`` / ``include path`` (rest of the line,
relative to the including file, each file read once); ``CONFIG_X=y|n``
assignments; ``#`` comments.  Expressions: identifiers, ``!``, ``&&``, ``||``,
parentheses, where ``||`` binds *tighter* than ``&&`` (minikconf's
``expr: disj (AND disj)*``).  There is no ``=`` comparison in expressions.

Semantics (:func:`evaluate`): every referenced symbol gets a last ``default n``;
clauses are ordered topologically over the edges "a symbol in a clause's
condition → the symbol the clause sets", assignments and dependencies before
defaults, then each sets its symbol once (a second, different value is a
contradiction, which minikconf reports as an error).  ``select Y if C`` in
``config X`` sets Y when ``C && X``; ``imply Y if C`` is ``default y if C && X``
on Y.  minikconf's ``--defconfig`` mode, the one a default build uses, keeps
the written defaults.  Entry points: :func:`parse_kconfig`, :func:`evaluate`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .configs import Location, Reader, Unparsed, decode


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    arg: Expr


@dataclass(frozen=True, slots=True)
class And:
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True, slots=True)
class Or:
    lhs: Expr
    rhs: Expr


Expr = Var | Not | And | Or


def expr_vars(e: Expr) -> Iterator[str]:
    """The symbols an expression reads."""
    if isinstance(e, Var):
        yield e.name
    elif isinstance(e, Not):
        yield from expr_vars(e.arg)
    else:
        yield from expr_vars(e.lhs)
        yield from expr_vars(e.rhs)


def expr_str(e: Expr) -> str:
    """Kconfig spelling of an expression."""
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Not):
        return "!" + expr_str(e.arg)
    op = " && " if isinstance(e, And) else " || "
    return f"({expr_str(e.lhs)}{op}{expr_str(e.rhs)})"


def _eval(e: Expr, values: Mapping[str, bool]) -> bool:
    if isinstance(e, Var):
        return values[e.name]
    if isinstance(e, Not):
        return not _eval(e.arg, values)
    if isinstance(e, And):
        return _eval(e.lhs, values) and _eval(e.rhs, values)
    return _eval(e.lhs, values) or _eval(e.rhs, values)


@dataclass(frozen=True, slots=True)
class Clause:
    """One minikconf clause.

    ``kind`` is ``assign`` (value, no condition), ``depends`` (``cond`` must
    hold or ``dest`` is n), ``select`` (``dest`` is y when ``cond``; ``source``
    is the selecting symbol), or ``default`` (``dest`` gets ``value`` when
    unset and ``cond`` holds; ``source`` is the implying symbol for ``imply``).
    """

    kind: str
    dest: str
    value: bool
    cond: Expr | None
    where: Location | None
    source: str | None = None
    origin: str = ""

    def priority(self) -> int:
        return -1 if self.kind == "default" else 0

    def describe(self) -> str:
        """The clause as a reader would write it."""
        at = f" ({self.where})" if self.where else ""
        if self.kind == "select":
            return f"{self.source} selects {self.dest}{at}"
        if self.kind == "default" and self.source:
            return f"{self.source} implies {self.dest}{at}"
        if self.kind == "default":
            cond = f" if {expr_str(self.cond)}" if self.cond else ""
            return f"{self.dest} default {'y' if self.value else 'n'}{cond}{at}"
        if self.kind == "depends":
            cond = expr_str(self.cond) if self.cond else ""
            return f"{self.dest} depends on {cond}, which is false{at}"
        origin = f" {self.origin}" if self.origin else ""
        return f"CONFIG_{self.dest}={'y' if self.value else 'n'}{origin}{at}"


@dataclass(frozen=True, slots=True)
class KconfigTree:
    """The parsed Kconfig files: declarations and clauses in reading order."""

    declared: frozenset[str]
    clauses: tuple[Clause, ...]
    files: tuple[str, ...]
    problems: tuple[Unparsed, ...] = ()


# One group, so that findall() returns the token texts as plain strings (a
# match object per token cost more than the scan); _tokens() tells the kinds
# apart by the text.  Blanks before a token, or at the end, are skipped by the
# pattern (none is a token).
_TOKEN = re.compile(
    r"[ \t\r\f\v]*(\n|\#[^\n]*"
    r"|(?:source|include)(?![A-Za-z0-9_])[ \t]*[^\n]*"
    r"|[A-Za-z0-9][A-Za-z0-9_]*|&&|\|\||[=()!]|[^ \t\r\f\v\n])"
)
_OPS = frozenset({"&&", "||", "=", "(", ")", "!"})
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_KEYWORDS = frozenset({"depends", "on", "select", "imply", "config", "default", "y", "n", "bool"})
_PROPS = frozenset({"default", "depends", "select", "imply", "bool"})


class _Error(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    append = out.append
    line = 1
    for tok in _TOKEN.findall(text):
        c = tok[0]
        if c == "\n":
            line += 1
        elif c == "#":
            continue
        elif tok in _OPS:
            append(("op", tok, line))
        elif c not in _WORD or c == "_":
            append(("bad", tok, line))
        elif tok[:6] == "source" and tok[6:7] not in _WORD:
            append(("source", tok[6:].lstrip(" \t").rstrip(), line))
        elif tok[:7] == "include" and tok[7:8] not in _WORD:
            append(("source", tok[7:].lstrip(" \t").rstrip(), line))
        else:
            append(("kw" if tok in _KEYWORDS else "id", tok, line))
    out.append(("eof", "", line))
    return out


@dataclass(slots=True)
class _Parser:
    path: str
    toks: list[tuple[str, str, int]]
    pos: int = 0
    declared: list[str] = field(default_factory=list)
    #: clauses and ``(path, location)`` source lines, in reading order
    items: list[Clause | tuple[str, Location]] = field(default_factory=list)

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.pos]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def at(self) -> Location:
        return Location(self.path, self.peek()[2])

    def expect_id(self) -> str:
        kind, val, _ = self.take()
        if kind != "id":
            raise _Error(f"expected identifier, got {val!r}")
        return val

    def primary(self) -> Expr:
        kind, val, _ = self.peek()
        if (kind, val) == ("op", "!"):
            self.take()
            return Not(self.primary())
        if (kind, val) == ("op", "("):
            self.take()
            e = self.expr()
            if self.take()[1] != ")":
                raise _Error('expected ")"')
            return e
        return Var(self.expect_id())

    def disj(self) -> Expr:
        e = self.primary()
        while self.peek()[1] == "||":
            self.take()
            e = Or(e, self.primary())
        return e

    def expr(self) -> Expr:
        e = self.disj()
        while self.peek()[1] == "&&":
            self.take()
            e = And(e, self.disj())
        return e

    def condition(self) -> Expr | None:
        if self.peek()[:2] == ("id", "if") or self.peek()[1] == "if":
            self.take()
            return self.expr()
        return None

    def y_or_n(self) -> bool:
        val = self.take()[1]
        if val not in ("y", "n"):
            raise _Error('expected "y" or "n"')
        return val == "y"

    def prop(self, var: str) -> None:
        where = self.at()
        word = self.take()[1]
        if word == "default":
            value = self.y_or_n()
            self.items.append(Clause("default", var, value, self.condition(), where))
        elif word == "depends":
            if self.take()[1] != "on":
                raise _Error('expected "on"')
            self.items.append(Clause("depends", var, False, self.expr(), where))
        elif word in ("select", "imply"):
            sym = self.expect_id()
            cond = self.condition()
            full: Expr = And(cond, Var(var)) if cond is not None else Var(var)
            kind = "select" if word == "select" else "default"
            self.items.append(Clause(kind, sym, True, full, where, var))

    def clause(self) -> None:
        kind, val, line = self.peek()
        if kind == "source":
            self.take()
            self.items.append((val, Location(self.path, line)))
        elif (kind, val) == ("kw", "config"):
            self.take()
            var = self.expect_id()
            self.declared.append(var)
            while self.peek()[0] == "kw" and self.peek()[1] in _PROPS:
                self.prop(var)
        elif kind == "id" and val.startswith("CONFIG_"):
            where = self.at()
            self.take()
            if self.take()[1] != "=":
                raise _Error('expected "="')
            self.items.append(Clause("assign", val[7:], self.y_or_n(), None, where))
        else:
            raise _Error(f'expected "source", "config" or CONFIG_ assignment, got {val!r}')


def _parse_one(path: str, text: str) -> tuple[_Parser, Unparsed | None]:
    # minikconf's "if" is a keyword only after a property; an identifier "if"
    # elsewhere is an error there too.
    toks = [(("kw" if v == "if" else k), v, n) for k, v, n in _tokens(text)]
    p = _Parser(path, toks)
    try:
        while p.peek()[0] != "eof":
            p.clause()
    except _Error as e:
        kind, val, line = p.toks[min(p.pos, len(p.toks) - 1)]
        return p, Unparsed(Location(path, line), val, f"Kconfig: {e}")
    return p, None


def parse_kconfig(read: Reader, top: str = "Kconfig") -> KconfigTree:
    """Parse ``top`` and every file it sources, depth first, each once.

    A file that fails to parse keeps the clauses read before the error and is
    reported in ``problems`` (minikconf would stop the build there).

    :param read: the tree reader
    :param top: the root-relative top file
    :return: declarations and clauses in minikconf's reading order
    """
    clauses: list[Clause] = []
    declared: list[str] = []
    problems: list[Unparsed] = []
    files: list[str] = []

    def visit(path: str, where: Location | None) -> None:
        if path in files:
            return
        data = read(path)
        if data is None:
            problems.append(Unparsed(where or Location(path, 0), path, "Kconfig file not found"))
            return
        files.append(path)
        p, problem = _parse_one(path, decode(data))
        if problem:
            problems.append(problem)
        declared.extend(p.declared)
        # a sourced file is read where its source line is (minikconf's order)
        for item in p.items:
            if isinstance(item, Clause):
                clauses.append(item)
            else:
                src = posixpath.normpath(posixpath.join(posixpath.dirname(path), item[0]))
                visit(src, item[1])

    visit(top, None)
    return KconfigTree(frozenset(declared), tuple(clauses), tuple(files), tuple(problems))


@dataclass(frozen=True, slots=True)
class KconfigResult:
    """Symbol values of one target and, per symbol, the clause that set it."""

    values: Mapping[str, bool]
    reasons: Mapping[str, Clause]
    problems: tuple[Unparsed, ...] = ()

    def enabled(self) -> frozenset[str]:
        """The symbols set to y."""
        return frozenset(k for k, v in self.values.items() if v)

    def why(self, symbol: str) -> tuple[Clause, ...]:
        """See :func:`chain`."""
        return chain(self.reasons, symbol)


def chain(reasons: Mapping[str, Clause], symbol: str, limit: int = 12) -> tuple[Clause, ...]:
    """The clauses that set ``symbol``: its own, then the selector's, and so on.

    :param reasons: symbol → the clause that set it
    :param symbol: a Kconfig symbol without ``CONFIG_``
    :param limit: longest chain followed
    :return: the clauses, the symbol's own first
    """
    out: list[Clause] = []
    seen: set[str] = set()
    while symbol not in seen and len(out) < limit:
        seen.add(symbol)
        clause = reasons.get(symbol)
        if clause is None:
            break
        out.append(clause)
        if clause.source is None:
            break
        symbol = clause.source
    return tuple(out)


def _order(clauses: list[Clause], names: Iterable[str]) -> dict[str, int]:
    """minikconf's depth-first post-order numbers over condition → dest edges."""
    outgoing: dict[str, list[str]] = {}
    for c in clauses:
        if c.cond is not None:
            for v in expr_vars(c.cond):
                outgoing.setdefault(v, []).append(c.dest)
    dfo: dict[str, int] = {}
    visited: set[str] = set()
    for root in names:
        if root in visited:
            continue
        visited.add(root)
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(outgoing.get(root, ())))]
        while stack:
            node, it = stack[-1]
            nxt = next((v for v in it if v not in visited), None)
            if nxt is None:
                stack.pop()
                dfo[node] = len(dfo)
            else:
                visited.add(nxt)
                stack.append((nxt, iter(outgoing.get(nxt, ()))))
    return dfo


@dataclass(frozen=True, slots=True)
class Plan:
    """The target-independent part of :func:`evaluate`, computed once per tree.

    Assignments (the device ``.mak`` and the command line) carry no condition,
    so they add no edge: the order of the tree's clauses is the same for every
    target, and each target's assignments are merged into it.
    """

    dfo: Mapping[str, int]
    names: Mapping[str, Location | None]
    #: the tree's clauses in order, and their sort keys (a target's list is a copy)
    keys: tuple[tuple[int, int, int, int], ...]
    clauses: tuple[Clause, ...]


def _key(dfo: Mapping[str, int], c: Clause, group: int, idx: int) -> tuple[int, int, int, int]:
    return (-dfo.get(c.dest, -1), -c.priority(), group, idx)


def plan(tree: KconfigTree) -> Plan:
    """Order the tree's clauses as minikconf does (see :func:`evaluate`)."""
    names: dict[str, Location | None] = {}
    for c in tree.clauses:
        names.setdefault(c.dest, c.where)
        if c.cond is not None:
            for v in expr_vars(c.cond):
                names.setdefault(v, c.where)
    defaults = [Clause("default", n, False, None, None) for n in names]
    dfo = _order([*tree.clauses, *defaults], names)
    keyed = [(_key(dfo, c, 1, i), c) for i, c in enumerate(tree.clauses)]
    keyed += [(_key(dfo, c, 3, i), c) for i, c in enumerate(defaults)]
    keyed.sort(key=lambda kc: kc[0])
    keys = tuple(k for k, _ in keyed)
    return Plan(dfo, names, keys, tuple(c for _, c in keyed))


def evaluate(
    tree: KconfigTree,
    before: Iterable[Clause] = (),
    after: Iterable[Clause] = (),
    prepared: Plan | None = None,
) -> KconfigResult:
    """Compute every symbol as minikconf ``--defconfig`` does.

    :param tree: the parsed Kconfig files
    :param before: assignments read before the tree (the device ``.mak``)
    :param after: assignments given on the command line (host and target symbols)
    :param prepared: :func:`plan` of ``tree``, to share between targets
    :return: values, reasons, and contradictions, cycles or undefined symbols
    """
    return evaluate_many(tree, [(before, after)], prepared)[0]


def evaluate_many(
    tree: KconfigTree,
    runs: Sequence[tuple[Iterable[Clause], Iterable[Clause]]],
    prepared: Plan | None = None,
) -> list[KconfigResult]:
    """:func:`evaluate` for several targets in one pass over the tree's clauses.

    Each clause runs once for all the targets, on bit sets (bit ``1 << i``
    stands for ``runs[i]``); an assignment of ``before`` or ``after`` runs for
    its own target, at its place in that target's order.

    :param runs: each target's ``before`` and ``after`` assignments
    :return: one result per run, each equal to :func:`evaluate`'s
    """
    p = prepared or plan(tree)
    undefined = [
        Unparsed(where or Location("Kconfig", 0), n, "undefined Kconfig symbol")
        for n, where in p.names.items()
        if n not in tree.declared
    ]
    state = _Evaluation(len(runs))
    extras: list[tuple[tuple[int, int, int, int], int, Clause]] = []
    for t, (before, after) in enumerate(runs):
        extra = [(_key(p.dfo, c, 0, i), c) for i, c in enumerate(before)]
        extra += [(_key(p.dfo, c, 2, i), c) for i, c in enumerate(after)]
        extra.sort(key=lambda kc: kc[0])
        state.problems[t] += undefined
        state.problems[t] += [
            Unparsed(c.where or Location("Kconfig", 0), c.dest, "undefined Kconfig symbol")
            for _, c in extra
            if c.dest not in tree.declared
        ]
        extras += [(k, t, c) for k, c in extra]
    # a target's assignments go before the tree's clauses of a larger key
    extras.sort(key=lambda ktc: (ktc[0], ktc[1]))
    full = (1 << len(runs)) - 1
    j = 0
    for key, c in zip(p.keys, p.clauses, strict=True):
        while j < len(extras) and extras[j][0] < key:
            state.run(extras[j][2], 1 << extras[j][1])
            j += 1
        state.run(c, full)
    for _, t, c in extras[j:]:
        state.run(c, 1 << t)
    return [
        KconfigResult(v, r, tuple(pr))
        for v, r, pr in zip(state.values, state.reasons, state.problems, strict=True)
    ]


def _targets(bits: int) -> Iterator[int]:
    """The numbers of the bits set, lowest first."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


@dataclass(slots=True)
class _Evaluation:
    """minikconf's run of several targets at once: per symbol, the targets
    where it is set and those where it is y (bit sets), and per target its
    values, reasons and problems, filled in the order one target's run would."""

    count: int
    isset: dict[str, int] = field(default_factory=dict)
    yes: dict[str, int] = field(default_factory=dict)
    values: list[dict[str, bool]] = field(default_factory=list)
    reasons: list[dict[str, Clause]] = field(default_factory=list)
    problems: list[list[Unparsed]] = field(default_factory=list)

    full: int = 0
    both: list[tuple[dict[str, bool], dict[str, Clause]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = [{} for _ in range(self.count)]
        self.reasons = [{} for _ in range(self.count)]
        self.problems = [[] for _ in range(self.count)]
        self.full = (1 << self.count) - 1
        self.both = list(zip(self.values, self.reasons, strict=True))

    def truth(self, e: Expr, among: int) -> tuple[int, int]:
        """``e`` for the targets ``among``: those where it holds, those where
        reading it fails (a symbol not set yet: minikconf's cycle)."""
        if isinstance(e, Var):
            missing = among & ~self.isset.get(e.name, 0)
            return among & self.yes.get(e.name, 0), missing
        if isinstance(e, Not):
            holds, fails = self.truth(e.arg, among)
            return among & ~holds & ~fails, fails
        holds, fails = self.truth(e.lhs, among)
        if isinstance(e, And):  # the right side is read only where the left holds
            holds, fails_rhs = self.truth(e.rhs, holds)
            return holds, fails | fails_rhs
        rest = among & ~holds & ~fails
        holds_rhs, fails_rhs = self.truth(e.rhs, rest)
        return holds | holds_rhs, fails | fails_rhs

    def run(self, c: Clause, among: int) -> None:
        """One clause for the targets ``among`` (minikconf's ``Clause.process``)."""
        if c.cond is None:
            ok = among
        else:
            ok, fails = self.truth(c.cond, among)
            if fails:
                self.cycle(c, c.cond, fails)
                among &= ~fails
        dest, isset = c.dest, self.isset.get(c.dest, 0)
        if c.kind == "default":
            hit, value = among & ok & ~isset, c.value
        elif c.kind == "depends":
            hit, value = among & ~ok, False
        elif c.kind == "select":
            hit, value = ok & among, True
        else:
            hit, value = among, c.value
        new = hit & ~isset
        if new:
            self.isset[dest] = isset | new
            if value:
                self.yes[dest] = self.yes.get(dest, 0) | new
            self.record(dest, value, c, new)
        yes = self.yes.get(dest, 0)
        clash = hit & isset & (~yes if value else yes)
        for t in _targets(clash):
            text = f"{self.reasons[t][dest].describe()} / {c.describe()}"
            where = c.where or Location("Kconfig", 0)
            self.problems[t].append(Unparsed(where, text, "contradiction"))

    def record(self, dest: str, value: bool, c: Clause, targets: int) -> None:
        """``dest`` is set to ``value`` by ``c`` in ``targets``."""
        if targets == self.full:  # the commonest case: a loop without bit tests
            for values, reasons in self.both:
                values[dest] = value
                reasons[dest] = c
            return
        while targets:
            low = targets & -targets
            t = low.bit_length() - 1
            self.values[t][dest] = value
            self.reasons[t][dest] = c
            targets ^= low

    def cycle(self, c: Clause, cond: Expr, fails: int) -> None:
        """The problem of each target whose reading of ``c``'s condition fails,
        with the symbol one target's run fails on."""
        for t in _targets(fails):
            try:
                _eval(cond, self.values[t])
            except KeyError as e:
                where = c.where or Location("Kconfig", 0)
                self.problems[t].append(Unparsed(where, str(e), "Kconfig cycle"))
