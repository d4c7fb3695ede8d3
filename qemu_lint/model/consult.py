"""Stage 4 (model): how code at a site can consult a persistence-hook design, as C text.

Entry points: :func:`propose_fix` (a release or presence toggle, the designs
the tree declares → the :class:`~qemu_lint.rule.Fix` that ``check --fix``
applies) and :func:`propose_destroy_fix` (the same for a call destroying a
vCPU the hook keeps: ``object_unparent(OBJECT(dev))`` under the guard).
The guard is written the way the tree already consults the design: through
its wrapper function when it has one (a function whose result is the hook's
verdict, such as ``should_remain_acpi_present(dev)``),
else by reading the flag (an early return when the site ends a ``void``
function, as the maintainers' ``always_present_cpus`` design does).  Nothing
here reads a file: the fix stage builds the edit from these facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qemu_lint.facts import Expr, FunctionDef, Stmt, Var, iter_stmts
from qemu_lint.model.callgraph import FnRef
from qemu_lint.model.hooks import Hook
from qemu_lint.model.types import strip_casts
from qemu_lint.rule import Fix
from qemu_lint.source import Span

if TYPE_CHECKING:
    from qemu_lint.model import Model
    from qemu_lint.model.acpi import Site

#: the QOM cast macro that turns any object pointer into one of these types
_CASTS = {"DeviceState": "DEVICE", "CPUState": "CPU", "Object": "OBJECT"}
#: names the vCPU being unplugged goes by, most likely first
_VCPU_NAMES = ("dev", "cpu", "cs", "cpu_dev", "obj")
#: a wrapper is a short function: its body is a line or a few
_WRAPPER_LINES = 12


def propose_fix(model: Model, site: Site, declared: Sequence[Hook]) -> Fix:
    """The edit that makes ``site`` consult the one declared design, or why there is none.

    :param declared: the persistence-hook designs the tree declares (among those that count)
    """
    return _propose(model, site.function_ref, site.expr, declared, None)


def propose_destroy_fix(model: Model, ref: FnRef, call: Expr, declared: Sequence[Hook]) -> Fix:
    """The edit that puts the destroying ``call`` of function ``ref`` (an
    ``object_unparent(OBJECT(dev))`` the persistence hook's "persistent"
    verdict must skip) under the one declared design's guard, asked about the
    object it destroys; or why there is none.

    :param declared: the persistence-hook designs the tree declares (among those that count)
    """
    obj = _object_var(call.args[1]) if len(call.args) > 1 else None
    got = _propose(model, ref, call, declared, obj)
    if obj is None and not got.refusal:
        return Fix(
            span=got.span,
            hook=got.hook,
            refusal="the object it destroys is not a variable to ask the hook about",
        )
    return got


def _propose(
    model: Model, ref: FnRef, expr: Expr, declared: Sequence[Hook], obj: str | None
) -> Fix:
    """The guard of statement ``expr`` of ``ref``; ``obj``: the variable the
    vCPU asked about is (None: the likeliest vCPU in scope)."""
    if not declared:
        return Fix(refusal="no CPU persistence hook is declared in this tree")
    if len(declared) > 1:
        specs = ", ".join(h.spec for h in declared)
        return Fix(
            refusal=f"{len(declared)} persistence-hook designs are declared ({specs}); "
            "which one guards the site is for a person to choose"
        )
    hook = declared[0]
    file, name = ref
    fn = model.index.functions[ref]
    stmt = _statement_of(fn.body, expr)
    if stmt is None:
        return Fix(hook=hook.spec, refusal="the site is not a statement of its own")
    span = Span(file, stmt.line, stmt.col, stmt.end_line, stmt.end_col)
    in_scope = _pointer_vars(model, fn, file)
    # the vCPU asked about: the object the site is about when it is known
    # (it is assigned wherever the site runs), else the likeliest in scope
    vcpus = in_scope if obj is None else [nv for nv in in_scope if nv[0] == obj]
    wrapper = _wrapper(model, hook, file, fn.line, declare=obj is not None)
    if isinstance(wrapper, str):
        return Fix(span=span, hook=hook.spec, refusal=f"{wrapper}: {name}() cannot call it")
    if wrapper is not None:
        arg = _as_type(vcpus, wrapper.struct)
        if arg is None:
            return Fix(
                span=span,
                hook=hook.spec,
                refusal=f"no {wrapper.struct} in scope in {name}() to pass to {wrapper.name}()",
            )
        return Fix(
            span=span,
            guard=f"!{wrapper.name}({arg})",
            hook=hook.spec,
            declare=wrapper.declare,
            declare_at=fn.line if wrapper.declare is not None else 0,
        )
    if hook.is_fnptr or hook.function or hook.struct is None or hook.field is None:
        return Fix(
            span=span,
            hook=hook.spec,
            refusal=f"the tree has no wrapper function returning the {hook.spec} verdict to call",
        )
    base = _as_type(vcpus if hook.struct in _CASTS else in_scope, hook.struct)
    if base is None:
        return Fix(
            span=span,
            hook=hook.spec,
            refusal=f"no {hook.struct} in scope in {name}() to read {hook.field} from",
        )
    flag = f"{base}->{hook.field}"
    if _ends_void_function(fn, stmt):
        return Fix(span=span, early_return=flag, hook=hook.spec)
    return Fix(span=span, guard=f"!{flag}", hook=hook.spec)


def _object_var(e: Expr) -> str | None:
    """The variable an object expression names, through casts and QOM cast
    macros (``OBJECT(dev)`` → ``dev``); None for anything else."""
    e = strip_casts(e)
    return e.text if e.kind == "name" else None


def _statement_of(body: Stmt, expr: Expr) -> Stmt | None:
    """The expression statement whose expression is ``expr``."""
    for s in iter_stmts(body):
        if s.kind == "expr" and s.expr == expr:
            return s
    return None


def _ends_void_function(fn: FunctionDef, stmt: Stmt) -> bool:
    """Is ``stmt`` the last statement of ``fn``, a function returning nothing?

    Only there does an early return before it skip nothing else.
    """
    if fn.return_type.name != "void" or fn.return_type.pointers:
        return False
    return bool(fn.body.body) and fn.body.body[-1] == stmt


def _pointer_vars(model: Model, fn: FunctionDef, ctx: str) -> list[tuple[str, str]]:
    """``(name, struct)`` of the single-pointer parameters and locals of ``fn``,
    parameters first, the usual names of the vCPU first among them."""
    out: list[tuple[str, str]] = []
    for group in (fn.params, fn.locals):
        found = [(v.name, _struct(model, v, ctx)) for v in group if v.type.pointers == 1]
        found.sort(key=lambda nv: _VCPU_NAMES.index(nv[0]) if nv[0] in _VCPU_NAMES else 99)
        out.extend(found)
    return out


def _struct(model: Model, v: Var, ctx: str) -> str:
    return model.env.struct_name(v.type, ctx) or v.type.name


def _as_type(in_scope: Sequence[tuple[str, str]], want: str) -> str | None:
    """An expression of type ``want *`` from the variables in scope: one of that
    type, else a QOM cast of a device or vCPU pointer (``CPU(dev)``)."""
    for name, struct in in_scope:
        if struct == want:
            return name
    cast = _CASTS.get(want)
    if cast is None:
        return None
    for name, struct in in_scope:
        if struct in _CASTS and "hotplug" not in name:
            return f"{cast}({name})"
    return None


@dataclass(frozen=True, slots=True)
class _Wrapper:
    name: str
    #: the struct its parameter points to
    struct: str
    #: its definition's head, when the site needs a prototype of it first
    declare: Span | None = None


def _wrapper(
    model: Model, hook: Hook, file: str, line: int, declare: bool = False
) -> _Wrapper | str | None:
    """The function returning ``hook``'s verdict (true: persistent) about the
    one object it is given, callable from ``file`` at ``line``; one in
    ``file`` (or a header) first.

    A ``static`` function of another ``.c`` file cannot be called.  With
    ``declare``, one of ``file`` defined after ``line`` can be, given a
    prototype first: the one the file has before ``line``, else the one the
    fix adds (its :attr:`_Wrapper.declare`); without, it cannot.  An exported
    one is taken to have its prototype in a header, as QEMU's
    ``-Wmissing-prototypes`` wants.

    :return: None when there is no wrapper; why none can be called, when
        there are only such
    """
    found: list[tuple[int, str, str, str, Span | None]] = []
    hidden: list[str] = []
    for ref, fn in _candidates(model):
        if model.summary(ref) != ("atom", hook.spec):
            continue
        head = None
        if fn.is_static and not ref[0].endswith(".h"):
            if ref[0] != file:
                hidden.append(f"{fn.name}() is static and defined in {ref[0]}")
                continue
            if fn.line > line and not declare:
                hidden.append(f"{fn.name}() is static and defined later in the file")
                continue
            if fn.line > line and not _declared_before(model, fn.name, file, line):
                head = Span(file, fn.line, fn.col, fn.body.line, fn.body.col)
        rank = 0 if ref[0] == file else 1 if ref[0].endswith(".h") else 2
        found.append((rank, ref[0], fn.name, _struct(model, fn.params[0], ref[0]), head))
    if not found:
        return ", ".join(sorted(hidden)) or None
    _, _, name, struct, head = min(found, key=lambda f: f[:4])
    return _Wrapper(name, struct, head)


def _declared_before(model: Model, name: str, file: str, line: int) -> bool:
    """Does ``file`` have a prototype of ``name`` before ``line``?"""
    return any(f == file and ln < line for f, ln in model.index.prototypes.get(name, ()))


def _candidates(model: Model) -> tuple[tuple[FnRef, FunctionDef], ...]:
    """Short functions of one pointer parameter returning a scalar: the shape
    of every wrapper of a hook (the verdict is asked only of these).  Found
    once per model: each site asks (2,000 sites in one file took 8 s when
    every site sorted every function again)."""
    if model.wrapper_shapes is None:
        model.wrapper_shapes = tuple(
            (ref, fn) for ref, fn in sorted(model.index.functions.items()) if _wrapper_shape(fn)
        )
    return model.wrapper_shapes


def _wrapper_shape(fn: FunctionDef) -> bool:
    rt = fn.return_type
    if rt.pointers or rt.name == "void" or len(fn.params) != 1:
        return False
    return fn.params[0].type.pointers == 1 and fn.end_line - fn.line <= _WRAPPER_LINES
