"""Stage 4 (model): guard conditions.

Entry points: :func:`flow_facts` (per function, the conditions known to hold
at every call and assignment, from if/else, early returns, goto past the site,
``&&``/``||``/ternary short-circuits and switch/loop structure) and
:class:`GuardLogic` (turns those conditions into boolean formulas over atoms
and decides whether they imply that a persistence hook said "not
persistent").

Conditions are kept as ``(Expr, polarity)`` pairs.  Formulas are tiny tuples:
``("atom", key)``, ``("not", f)``, ``("and", f, g)``, ``("or", f, g)``,
``("const", bool)``.  Implication is decided by enumerating the assignments of
the atoms involved (conditions in QEMU are small; past ``MAX_ATOMS`` we give
up and report the site as unguarded, never the reverse).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FunctionDef, Stmt

# The walkers live in qemu_lint.facts; re-exported for callers that import
# them from here.
from qemu_lint.facts import iter_exprs as iter_exprs
from qemu_lint.facts import iter_stmts as iter_stmts
from qemu_lint.facts import stmt_exprs as stmt_exprs

Cond = tuple[Expr, bool]
Facts = tuple[Cond, ...]
Formula = tuple[object, ...]
Key = tuple[int, int, int, int]

MAX_ATOMS = 14
NORETURN = frozenset(
    {"abort", "exit", "_exit", "g_assert_not_reached", "__builtin_unreachable", "qemu_abort"}
)
TRUE: Formula = ("const", True)
FALSE: Formula = ("const", False)


def key_of(e: Expr | Stmt) -> Key:
    return (e.line, e.col, e.end_line, e.end_col)


@dataclass(slots=True)
class FlowFacts:
    """What :func:`flow_facts` learnt about one function."""

    at: dict[Key, Facts] = field(default_factory=dict)
    returns: list[tuple[Expr | None, Facts]] = field(default_factory=list)
    #: locals assigned exactly once (declaration initializer or one assignment)
    single_defs: dict[str, Expr] = field(default_factory=dict)


class _Walker:
    def __init__(self, fn: FunctionDef) -> None:
        self.fn = fn
        self.out = FlowFacts()
        self.goto_facts: dict[str, list[Facts]] = {}
        self.goto_lines: dict[str, list[int]] = {}
        #: per enclosing switch (None: a loop), the facts at each ``break`` out of it
        self.breaks: list[list[Facts] | None] = []
        for st in iter_stmts(fn.body):
            if st.kind == "goto":
                self.goto_lines.setdefault(st.text, []).append(st.line)

    def record(self, e: Expr | None, facts: Facts) -> None:
        if e is None:
            return
        k = e.kind
        if k in ("call", "assign"):
            self.out.at.setdefault(key_of(e), facts)
        if k == "binary" and e.op in ("&&", "||") and len(e.args) == 2:
            self.record(e.args[0], facts)
            self.record(e.args[1], facts + ((e.args[0], e.op == "&&"),))
            return
        if k == "ternary" and len(e.args) == 3:
            self.record(e.args[0], facts)
            self.record(e.args[1], facts + ((e.args[0], True),))
            self.record(e.args[2], facts + ((e.args[0], False),))
            return
        for a in e.args:
            self.record(a, facts)

    def seq(self, stmts: tuple[Stmt, ...], facts: Facts) -> tuple[Facts, bool]:
        exited = False
        for s in stmts:
            if s.kind == "label":
                facts = self.join_label(s, facts, exited)
                exited = False
                continue
            facts, ex = self.stmt(s, facts)
            exited = exited or ex
        return facts, exited

    def join_label(self, s: Stmt, facts: Facts, exited: bool) -> Facts:
        if any(line > s.line for line in self.goto_lines.get(s.text, [])):
            return ()  # a backward jump reaches it: nothing known
        incoming = list(self.goto_facts.get(s.text, []))
        if not exited:
            incoming.append(facts)
        if not incoming:
            return facts
        common = [c for c in incoming[0] if all(c in other for other in incoming[1:])]
        return tuple(common)

    def stmt(self, s: Stmt, facts: Facts) -> tuple[Facts, bool]:  # noqa: C901
        k = s.kind
        if k == "block":
            return self.seq(s.body, facts)
        if k == "expr":
            self.record(s.expr, facts)
            return facts, _is_noreturn(s.expr)
        if k == "decl":
            self.record(s.expr, facts)
            return facts, False
        if k == "if":
            cond = s.expr
            self.record(cond, facts)
            if cond is None:
                return facts, False
            t_out, t_ex = self.seq(s.body, facts + ((cond, True),))
            e_out, e_ex = self.seq(s.orelse, facts + ((cond, False),))
            if t_ex and e_ex:
                return facts, True
            if t_ex:
                return e_out, False
            if e_ex:
                return t_out, False
            return facts, False
        if k == "return":
            self.record(s.expr, facts)
            self.out.returns.append((s.expr, facts))
            return facts, True
        if k == "goto":
            self.goto_facts.setdefault(s.text, []).append(facts)
            return facts, True
        if k in ("break", "continue"):
            if k == "break" and self.breaks and self.breaks[-1] is not None:
                self.breaks[-1].append(facts)  # leaves the innermost switch
            return facts, True
        if k == "loop":
            self.record(s.expr, facts)
            inner = facts + ((s.expr, True),) if s.expr is not None and s.text != "do" else facts
            self.breaks.append(None)  # a break in it leaves the loop
            self.seq(s.body, inner)
            self.breaks.pop()
            return facts, False
        if k == "switch":
            return self.switch(s, facts)
        if k == "case":
            self.seq(s.body, facts)
            return facts, False
        return facts, False

    def switch(self, s: Stmt, facts: Facts) -> tuple[Facts, bool]:
        """A ``switch``: each case under its label's match (no fall-through
        into it), ``default`` under no label matching; past the switch, what
        holds on one of the ways out (a ``break``, the end of the last case,
        no label matching without a ``default``), so a returning case rules
        its value out."""
        self.record(s.expr, facts)
        labels = [c.expr for c in s.body if c.kind == "case" and c.expr is not None]
        has_default = any(c.kind == "case" and c.expr is None for c in s.body)
        outs: list[Facts] = []
        self.breaks.append(outs)
        fallthrough = False
        exits = False
        for c in s.body:
            if c.kind != "case":
                _, exits = self.stmt(c, facts)
                fallthrough = not exits
                continue
            self.record(c.expr, facts)
            inner = facts
            if s.expr is not None and not fallthrough:
                if c.expr is not None:
                    inner = facts + ((_match(s.expr, c), True),)
                else:  # default: no label matched
                    inner = facts + tuple((_match(s.expr, c, lbl), False) for lbl in labels)
            end, exits = self.seq(c.body, inner)
            fallthrough = not exits
            if not exits and c is s.body[-1]:
                outs.append(end)
        self.breaks.pop()
        if not s.body or not exits and s.body[-1].kind != "case":
            outs.append(facts)
        if not has_default:
            if s.expr is None:
                outs.append(facts)
            else:
                outs.append(facts + tuple((_match(s.expr, s, lbl), False) for lbl in labels))
        if not outs:
            return facts, True
        return facts + _disjunction(facts, outs, s), False


def _match(value: Expr, at: Stmt, label: Expr | None = None) -> Expr:
    """``value == label`` (the case's own label by default), placed at ``at``."""
    lbl = label if label is not None else at.expr
    assert lbl is not None
    return Expr("binary", at.line, at.col, at.end_line, at.end_col, op="==", args=(value, lbl))


def _disjunction(base: Facts, outs: list[Facts], at: Stmt) -> Facts:
    """One condition: one of ``outs`` holds (each beyond ``base``); () when
    one of them adds nothing to ``base`` or does not extend it."""
    terms: list[Expr] = []
    for out in outs:
        if out[: len(base)] != base or len(out) == len(base):
            return ()
        term: Expr | None = None
        for e, pol in out[len(base) :]:
            lit = (
                e if pol else Expr("unary", e.line, e.col, e.end_line, e.end_col, op="!", args=(e,))
            )
            term = lit if term is None else _binary("&&", term, lit, at)
        assert term is not None
        terms.append(term)
    result = terms[0]
    for t in terms[1:]:
        result = _binary("||", result, t, at)
    return ((result, True),)


def _binary(op: str, a: Expr, b: Expr, at: Stmt) -> Expr:
    return Expr("binary", at.line, at.col, at.end_line, at.end_col, op=op, args=(a, b))


def _is_noreturn(e: Expr | None) -> bool:
    return (
        e is not None
        and e.kind == "call"
        and bool(e.args)
        and e.args[0].kind == "name"
        and e.args[0].text in NORETURN
    )


def single_defs(fn: FunctionDef) -> dict[str, Expr]:
    local_names = {v.name for v in fn.locals}
    defs: dict[str, list[Expr | None]] = {}
    escaped: set[str] = set()
    for st in iter_stmts(fn.body):
        if st.kind == "decl" and st.text in local_names:
            defs.setdefault(st.text, [])
            if st.expr is not None:
                defs[st.text].append(st.expr)
    for e in stmt_exprs(fn.body):
        if e.kind == "assign" and e.args and e.args[0].kind == "name" and e.args[0].text in defs:
            defs[e.args[0].text].append(e.args[1] if e.op == "=" and len(e.args) > 1 else None)
        elif (
            e.kind == "unary" and e.op in ("&", "++", "--") and e.args and e.args[0].kind == "name"
        ):
            escaped.add(e.args[0].text)
    return {
        n: v[0] for n, v in defs.items() if len(v) == 1 and v[0] is not None and n not in escaped
    }


def flow_facts(fn: FunctionDef) -> FlowFacts:
    """Compute the conditions that hold at each call/assignment of ``fn``."""
    w = _Walker(fn)
    w.seq(fn.body.body if fn.body.kind == "block" else (fn.body,), ())
    w.out.single_defs = single_defs(fn)
    return w.out


def expr_key(e: Expr) -> str:
    """A position-free text form of an expression (atom identity)."""
    if e.kind == "name" or e.kind == "const" or e.kind == "string":
        return e.text
    if e.kind == "field" and e.args:
        return f"{expr_key(e.args[0])}{e.op}{e.text}"
    if e.kind == "call" and e.args:
        return f"{expr_key(e.args[0])}({','.join(expr_key(a) for a in e.args[1:])})"
    inner = ",".join(expr_key(a) for a in e.args)
    return f"{e.kind}{e.op}[{inner}]"


# An atom resolver maps an expression to a formula when it knows its meaning
# (a hook consultation, a wrapper call), else returns None.
AtomResolver = Callable[[Expr, FunctionDef, str], "Formula | None"]


@dataclass(slots=True)
class GuardLogic:
    """Formulas over atoms, and the implication test for a hook's verdict.

    :param resolve: gives the meaning of hook consultations and wrapper calls
    :param constraints: extra formulas that always hold (a hook can only say
        "persistent" when it is implemented)
    """

    resolve: AtomResolver
    constraints: Mapping[str, Formula] = field(default_factory=dict)

    def formula(
        self, e: Expr, fn: FunctionDef, ctx: str, defs: Mapping[str, Expr], depth: int = 0
    ) -> Formula:  # noqa: C901
        if depth > 12:
            return ("atom", expr_key(e))
        k = e.kind
        if k == "const":
            if e.text in ("0", "false", "NULL", "0x0"):
                return FALSE
            if e.text in ("true",) or e.text.rstrip("uUlL").isdigit():
                return TRUE
        if k == "cast" and e.args:
            return self.formula(e.args[0], fn, ctx, defs, depth + 1)
        known = self.resolve(e, fn, ctx)
        if known is not None:
            return known
        if k == "unary" and e.op == "!" and e.args:
            return ("not", self.formula(e.args[0], fn, ctx, defs, depth + 1))
        if k == "binary" and len(e.args) == 2:
            a, b = e.args
            if e.op in ("&&", "||"):
                fa = self.formula(a, fn, ctx, defs, depth + 1)
                fb = self.formula(b, fn, ctx, defs, depth + 1)
                return ("and" if e.op == "&&" else "or", fa, fb)
            if e.op in ("==", "!="):
                for x, y in ((a, b), (b, a)):
                    if y.kind == "const" and y.text in ("0", "NULL", "false"):
                        f = self.formula(x, fn, ctx, defs, depth + 1)
                        return ("not", f) if e.op == "==" else f
                    if y.kind == "const" and y.text in ("true", "1"):
                        f = self.formula(x, fn, ctx, defs, depth + 1)
                        return f if e.op == "==" else ("not", f)
        if k == "ternary" and len(e.args) == 3:
            fc = self.formula(e.args[0], fn, ctx, defs, depth + 1)
            ft = self.formula(e.args[1], fn, ctx, defs, depth + 1)
            fe = self.formula(e.args[2], fn, ctx, defs, depth + 1)
            return ("or", ("and", fc, ft), ("and", ("not", fc), fe))
        if k == "name" and e.text in defs:
            return self.formula(defs[e.text], fn, ctx, defs, depth + 1)
        if k == "assign" and e.op == "=" and len(e.args) == 2:
            return self.formula(e.args[1], fn, ctx, defs, depth + 1)
        return ("atom", expr_key(e))

    def facts_formula(
        self, facts: Facts, fn: FunctionDef, ctx: str, defs: Mapping[str, Expr]
    ) -> Formula:
        f: Formula = TRUE
        for e, pol in facts:
            g = self.formula(e, fn, ctx, defs)
            f = ("and", f, g if pol else ("not", g))
        return f

    def _closure(self, f: Formula, extra: Formula | None = None) -> Formula:
        """The constraints of every hook atom in ``f``, conjoined with ``extra``.

        With ``extra`` None the result is ``f`` and its constraints.
        """
        out = f if extra is None else extra
        for a in sorted(_atoms(f)):
            c = self.constraints.get(a)
            if c is not None:
                out = ("and", out, c)
        return out

    def forces_false(self, facts_f: Formula, hook_atom: str) -> bool | None:
        """Does ``facts_f`` (plus constraints) force ``hook_atom`` false?

        A test of whether a function-pointer hook is implemented counts: an
        unimplemented hook cannot say "persistent".

        :return: True/False, or None when the hook does not occur at all or
            there are too many atoms to decide
        """
        present = _atoms(facts_f)
        if hook_atom not in present and hook_atom + "#implemented" not in present:
            return None
        f = self._closure(("and", facts_f, ("atom", hook_atom)), extra=facts_f)
        atoms = sorted(_atoms(f) | {hook_atom})
        if len(atoms) > MAX_ATOMS:
            return None
        satisfiable = False
        for values in itertools.product((False, True), repeat=len(atoms)):
            env = dict(zip(atoms, values, strict=True))
            if _eval(f, env):
                satisfiable = True
                if env[hook_atom]:
                    return False
        return satisfiable

    def equivalent(self, facts_f: Formula, value: Formula, target: Formula) -> bool:
        """Under ``facts_f`` (and constraints), is ``value`` ⇔ ``target``?"""
        pre = self._closure(("and", facts_f, ("and", value, target)), extra=facts_f)
        atoms = sorted(_atoms(pre) | _atoms(value) | _atoms(target))
        if len(atoms) > MAX_ATOMS:
            return False
        for values in itertools.product((False, True), repeat=len(atoms)):
            env = dict(zip(atoms, values, strict=True))
            if _eval(pre, env) and _eval(value, env) != _eval(target, env):
                return False
        return True


#: the suffix of a hook atom asked about another vCPU than the one handled
OTHER_VCPU = "@other"


def rename_atoms(f: Formula, atoms: frozenset[str], suffix: str) -> Formula:
    """``f`` with each atom of ``atoms`` renamed ``atom + suffix``."""
    tag = f[0]
    if tag == "atom":
        return ("atom", str(f[1]) + suffix) if str(f[1]) in atoms else f
    if tag == "const":
        return f
    return (tag, *(rename_atoms(sub, atoms, suffix) for sub in f[1:]))  # type: ignore[arg-type]  # sub-formulas


def assume_true(f: Formula, atoms: frozenset[str]) -> Formula:
    """``f`` with each atom of ``atoms`` replaced by true (a non-NULL object)."""
    tag = f[0]
    if tag == "atom":
        return TRUE if str(f[1]) in atoms else f
    if tag == "const" or not atoms:
        return f
    return (tag, *(assume_true(sub, atoms) for sub in f[1:]))  # type: ignore[arg-type]  # sub-formulas


def _atoms(f: Formula) -> set[str]:
    tag = f[0]
    if tag == "atom":
        return {str(f[1])}
    if tag == "const":
        return set()
    out: set[str] = set()
    for sub in f[1:]:
        out |= _atoms(sub)  # type: ignore[arg-type]  # sub-formulas are tuples
    return out


def _eval(f: Formula, env: Mapping[str, bool]) -> bool:
    tag = f[0]
    if tag == "atom":
        return env[str(f[1])]
    if tag == "const":
        return bool(f[1])
    if tag == "not":
        return not _eval(f[1], env)  # type: ignore[arg-type]  # sub-formula
    if tag == "and":
        return _eval(f[1], env) and _eval(f[2], env)  # type: ignore[arg-type]  # sub-formulas
    return _eval(f[1], env) or _eval(f[2], env)  # type: ignore[arg-type]  # sub-formulas
