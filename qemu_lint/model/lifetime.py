"""Stage 4 (model): object lifetimes along unplug paths.

Entry points: :func:`order_facts` (per function, which statements may run
after which: a small control-flow graph over the statement tree, with
if/else, loops, ``switch`` fall-through, ``break``/``continue``, ``goto``
and early returns), :func:`origin` (what an object expression of a function
is: one of its parameters, a local, a field, through casts, cast macros and
locals assigned once), :func:`destroys` and :func:`references` (the calls
that destroy an object, ``object_unparent``, ``object_unref``, ``g_free``,
and those that take a reference, ``object_ref``), and
:func:`is_vcpu_object` (whether an origin is known to be a vCPU).

``qdev_unrealize()`` is not a destroy: it unrealizes the device and leaves
the object (and its memory) alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FunctionDef, Stmt, iter_exprs, iter_stmts, stmt_exprs
from qemu_lint.model.guards import Key, expr_key, key_of
from qemu_lint.model.types import TypeEnv

#: functions destroying the object they are given, and how messages say it
DESTROYERS: Mapping[str, str] = {
    "object_unparent": "unparents",
    "object_unref": "drops a reference to",
    "g_free": "frees",
}
#: functions taking a reference to the object they are given
REFERRERS = frozenset({"object_ref"})
#: C types (canonical names) that are vCPUs
VCPU_TYPES = frozenset({"CPUState", "ArchCPU"})

Origin = tuple[str, str]  # ("param", index) | ("local", name) | ("field", text) | ("expr", text)


@dataclass(slots=True)
class OrderFacts:
    """Which node of a function's flow graph each call/assignment is in, and
    the graph's edges (node → successors)."""

    node_of: dict[Key, int] = field(default_factory=dict)
    succ: list[list[int]] = field(default_factory=list)

    def may_follow(self, first: Key, then: Key) -> bool:
        """Can ``then`` run after ``first`` on some path of the function?"""
        a, b = self.node_of.get(first), self.node_of.get(then)
        if a is None or b is None:
            return False
        if a == b and then[:2] > first[:2]:
            return True
        seen = {a}
        todo = deque(self.succ[a])
        while todo:
            n = todo.popleft()
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(self.succ[n])
        return False


class _Builder:
    def __init__(self) -> None:
        self.out = OrderFacts()
        self.labels: dict[str, int] = {}
        self.gotos: list[tuple[int, str]] = []
        #: innermost first: (break target, continue target or None for a switch)
        self.jumps: list[tuple[int, int | None]] = []

    def node(self, e: Expr | None, succ: list[int]) -> int:
        n = len(self.out.succ)
        self.out.succ.append(list(succ))
        if e is not None:
            for x in iter_exprs(e):
                if x.kind in ("call", "assign"):
                    self.out.node_of.setdefault(key_of(x), n)
        return n

    def seq(self, stmts: tuple[Stmt, ...], nxt: int) -> int:
        for s in reversed(stmts):
            nxt = self.stmt(s, nxt)
        return nxt

    def stmt(self, s: Stmt, nxt: int) -> int:  # noqa: C901
        k = s.kind
        if k == "block":
            return self.seq(s.body, nxt)
        if k == "if":
            then = self.seq(s.body, nxt)
            other = self.seq(s.orelse, nxt)
            return self.node(s.expr, [then, other])
        if k == "return":
            return self.node(s.expr, [])
        if k == "goto":
            n = self.node(None, [])
            self.gotos.append((n, s.text))
            return n
        if k == "label":
            n = self.labels.setdefault(s.text, self.node(None, []))
            self.out.succ[n].append(nxt)
            return n
        if k in ("break", "continue"):
            target = next((j for j in self.jumps if k == "break" or j[1] is not None), None)
            if target is None:
                return self.node(None, [])
            return self.node(None, [target[0] if k == "break" else target[1] or nxt])
        if k == "loop":
            cond = self.node(s.expr, [nxt])
            self.jumps.insert(0, (nxt, cond))
            body = self.seq(s.body, cond)
            self.jumps.pop(0)
            self.out.succ[cond].append(body)
            return body if s.text == "do" else cond
        if k == "switch":
            head = self.node(s.expr, [])
            self.jumps.insert(0, (nxt, None))
            entry = nxt
            entries = []
            for c in reversed(s.body):
                entry = self.seq(c.body, entry) if c.kind == "case" else self.stmt(c, entry)
                if c.kind == "case":
                    entries.append(entry)
            self.jumps.pop(0)
            self.out.succ[head].extend(entries)
            if not any(c.kind == "case" and c.expr is None for c in s.body):
                self.out.succ[head].append(nxt)
            return head
        return self.node(s.expr, [nxt])


def order_facts(fn: FunctionDef) -> OrderFacts:
    """The flow graph of ``fn`` (one node per simple statement or condition)."""
    b = _Builder()
    end = b.node(None, [])
    b.seq(fn.body.body if fn.body.kind == "block" else (fn.body,), end)
    for n, label in b.gotos:
        if label in b.labels:
            b.out.succ[n].append(b.labels[label])
    return b.out


def _strip(e: Expr) -> Expr:
    """``e`` without casts and cast macros (``OBJECT(dev)``, ``CPU(obj)``)."""
    for _ in range(8):
        if e.kind in ("cast", "paren") and e.args:
            e = e.args[-1]
        elif e.kind == "call" and len(e.args) == 2 and e.args[0].kind == "name":
            if not e.args[0].text.isupper():
                break
            e = e.args[1]
        else:
            break
    return e


def origin(e: Expr, fn: FunctionDef, defs: Mapping[str, Expr]) -> Origin:
    """What object ``e`` is in ``fn``: a parameter (by index), else the
    expression it comes from (through casts and locals assigned once)."""
    for _ in range(8):
        e = _strip(e)
        if e.kind != "name":
            break
        pos = next((i for i, p in enumerate(fn.params) if p.name == e.text), None)
        if pos is not None:
            return ("param", str(pos))
        d = defs.get(e.text)
        if d is None:
            return ("local", e.text)
        e = d
    return ("field" if e.kind == "field" else "expr", expr_key(e))


def _origin_expr(e: Expr, fn: FunctionDef, defs: Mapping[str, Expr]) -> Expr:
    for _ in range(8):
        e = _strip(e)
        if e.kind != "name" or e.text not in defs:
            break
        e = defs[e.text]
    return e


def is_vcpu_object(
    env: TypeEnv, e: Expr, fn: FunctionDef, ctx: str, defs: Mapping[str, Expr]
) -> bool:
    """Is the object ``e`` known to be a vCPU: of a vCPU type (``CPUState``,
    ``X86CPU``…), read from ``AcpiCpuStatus::cpu``, or cast with a CPU cast
    macro (``CPU(dev)``, ``X86_CPU(dev)``) somewhere in ``fn``?"""
    inner = _origin_expr(e, fn, defs)
    if _vcpu_typed(env, inner, fn, ctx):
        return True
    if inner.kind == "name":
        # a local assigned more than once (``dev = NULL; … dev = DEVICE(cdev->cpu);``)
        values = [v for v in _assigned(fn, inner.text) if v.kind != "const"]
        if any(_vcpu_typed(env, _origin_expr(v, fn, defs), fn, ctx) for v in values):
            return True
    me = origin(e, fn, defs)
    for x in iter_exprs_of(fn):
        if x.kind == "call" and len(x.args) == 2 and x.args[0].kind == "name":
            name = x.args[0].text
            if name.isupper() and (name == "CPU" or name.endswith("_CPU")):
                if origin(x.args[1], fn, defs) == me:
                    return True
    return False


def _vcpu_typed(env: TypeEnv, e: Expr, fn: FunctionDef, ctx: str) -> bool:
    """Is ``e`` of a vCPU type, or read from a ``cpu`` field (``cdev->cpu``)?"""
    t = env.canon(env.type_of(e, fn, ctx), ctx)
    if t is not None and (t.name in VCPU_TYPES or t.name.endswith("CPU")):
        return True
    return e.kind == "field" and e.text == "cpu"


def _assigned(fn: FunctionDef, name: str) -> list[Expr]:
    """Every value ``fn`` stores into its local ``name``."""
    out = [
        st.expr
        for st in iter_stmts(fn.body)
        if st.kind == "decl" and st.text == name and st.expr is not None
    ]
    for x in iter_exprs_of(fn):
        if x.kind == "assign" and x.op == "=" and len(x.args) == 2:
            if x.args[0].kind == "name" and x.args[0].text == name:
                out.append(x.args[1])
    return out


def iter_exprs_of(fn: FunctionDef) -> list[Expr]:
    """Every expression node of ``fn``'s body, in source order."""
    return list(stmt_exprs(fn.body))


def _calls_to(fn: FunctionDef, names: frozenset[str] | Mapping[str, str]) -> list[Expr]:
    return [
        x
        for x in iter_exprs_of(fn)
        if x.kind == "call"
        and len(x.args) >= 2
        and x.args[0].kind == "name"
        and x.args[0].text in names
    ]


def destroys(fn: FunctionDef) -> list[Expr]:
    """The calls of ``fn`` that destroy the object they are given."""
    return _calls_to(fn, DESTROYERS)


def references(fn: FunctionDef) -> list[Expr]:
    """The calls of ``fn`` that take a reference to an object."""
    return _calls_to(fn, REFERRERS)
