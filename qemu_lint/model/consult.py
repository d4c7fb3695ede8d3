"""Stage 4 (model): how code at a site can consult a persistence-hook design, as C text.

Entry point: :func:`propose_fix` (a release or presence toggle, the designs
the tree declares → the :class:`~qemu_lint.rule.Fix` that ``check --fix``
applies).  The guard is written the way the tree already consults the
design: through its wrapper function when it has one (a function whose
result is the hook's verdict, such as ``should_remain_acpi_present(dev)``),
else by reading the flag (an early return when the site ends a ``void``
function, as the maintainers' ``always_present_cpus`` design does).  Nothing
here reads a file: the fix stage builds the edit from these facts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from qemu_lint.facts import Expr, FunctionDef, Stmt, Var, iter_stmts
from qemu_lint.model.callgraph import FnRef
from qemu_lint.model.hooks import Hook
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
    if not declared:
        return Fix(refusal="no CPU persistence hook is declared in this tree")
    if len(declared) > 1:
        specs = ", ".join(h.spec for h in declared)
        return Fix(
            refusal=f"{len(declared)} persistence-hook designs are declared ({specs}); "
            "which one guards the site is for a person to choose"
        )
    hook = declared[0]
    fn = model.index.functions[site.function_ref]
    stmt = _statement_of(fn.body, site.expr)
    if stmt is None:
        return Fix(hook=hook.spec, refusal="the site is not a statement of its own")
    span = Span(site.file, stmt.line, stmt.col, stmt.end_line, stmt.end_col)
    in_scope = _pointer_vars(model, fn, site.file)
    wrapper = _wrapper(model, hook, site.file, fn.line)
    if isinstance(wrapper, str):
        return Fix(
            span=span, hook=hook.spec, refusal=f"{wrapper}: {site.function}() cannot call it"
        )
    if wrapper is not None:
        name, param_type = wrapper
        arg = _as_type(in_scope, param_type)
        if arg is None:
            return Fix(
                span=span,
                hook=hook.spec,
                refusal=f"no {param_type} in scope in {site.function}() to pass to {name}()",
            )
        return Fix(span=span, guard=f"!{name}({arg})", hook=hook.spec)
    if hook.is_fnptr or hook.function or hook.struct is None or hook.field is None:
        return Fix(
            span=span,
            hook=hook.spec,
            refusal=f"the tree has no wrapper function returning the {hook.spec} verdict to call",
        )
    base = _as_type(in_scope, hook.struct)
    if base is None:
        return Fix(
            span=span,
            hook=hook.spec,
            refusal=f"no {hook.struct} in scope in {site.function}() to read {hook.field} from",
        )
    flag = f"{base}->{hook.field}"
    if _ends_void_function(fn, stmt):
        return Fix(span=span, early_return=flag, hook=hook.spec)
    return Fix(span=span, guard=f"!{flag}", hook=hook.spec)


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


def _wrapper(model: Model, hook: Hook, file: str, line: int) -> tuple[str, str] | str | None:
    """The function returning ``hook``'s verdict (true: persistent) about the
    one object it is given, callable from ``file`` at ``line``: ``(name,
    parameter's struct)``; one in ``file`` (or a header) first.

    A ``static`` function of another ``.c`` file cannot be called, nor one of
    ``file`` defined after ``line`` (it may have no prototype before it); an
    exported one is taken to have its prototype in a header, as QEMU's
    ``-Wmissing-prototypes`` wants.

    :return: None when there is no wrapper; why none can be called, when
        there are only such
    """
    found: list[tuple[int, str, str, str]] = []
    hidden: list[str] = []
    for ref, fn in _candidates(model):
        if model.summary(ref) != ("atom", hook.spec):
            continue
        if fn.is_static and (ref[0] != file or fn.line > line) and not ref[0].endswith(".h"):
            where = "later in the file" if ref[0] == file else f"in {ref[0]}"
            hidden.append(f"{fn.name}() is static and defined {where}")
            continue
        rank = 0 if ref[0] == file else 1 if ref[0].endswith(".h") else 2
        found.append((rank, ref[0], fn.name, _struct(model, fn.params[0], ref[0])))
    if not found:
        return ", ".join(sorted(hidden)) or None
    _, _, name, struct = min(found)
    return name, struct


def _candidates(model: Model) -> Iterator[tuple[FnRef, FunctionDef]]:
    """Short functions of one pointer parameter returning a scalar: the shape
    of every wrapper of a hook (the verdict is asked only of these)."""
    for ref, fn in sorted(model.index.functions.items()):
        rt = fn.return_type
        if rt.pointers or rt.name == "void" or len(fn.params) != 1:
            continue
        if fn.params[0].type.pointers != 1 or fn.end_line - fn.line > _WRAPPER_LINES:
            continue
        yield ref, fn
