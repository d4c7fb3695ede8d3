"""Stage 4 (model): functions, registrations and the call graph.

Entry point: :func:`build_index`, one pass over every function body of the
tree that records

* direct calls, by callee name;
* calls through struct fields (``hdc->unplug(…)``, ``cc->get_arch_id(…)``),
  by field name, typed lazily when a caller is asked for;
* registrations: a function stored in a struct field, by assignment
  (``hc->unplug = acpi_ged_unplug_cb``) or by designated initializer of a
  global (``.read = cpu_hotplug_rd``), keyed by ``(struct, field)``;
* local function pointers: a local of function-pointer type given one
  function once (``void (*fn)(…) = release_helper;``, or one assignment),
  so that a call ``fn(…)`` is a call edge into that function.

A call through a field dispatches to every function registered to that
``(struct, field)``: that is how ``hotplug_handler_unplug()`` reaches the
ACPI devices' unplug callbacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from qemu_lint.facts import Expr, FileFacts, FunctionDef, Stmt, TypeRef, stmt_exprs
from qemu_lint.model.guards import single_defs
from qemu_lint.model.types import TypeEnv

FnRef = tuple[str, str]  # (file, function name)


@dataclass(frozen=True, slots=True)
class Registration:
    struct: str
    field: str
    function: str
    file: str
    line: int
    #: the function that performs the assignment, or "" for a global initializer
    by: str = ""


@dataclass(frozen=True, slots=True)
class CallEdge:
    caller: FnRef
    call: Expr
    #: "" for a direct call, else "Struct::field" of the dispatching call
    via: str = ""
    registration: Registration | None = None
    #: what the edge rests on, when the attribution search made it (typed
    #: dispatch, a device-type branch, a guest or creation entry), or the
    #: call through a local function pointer
    note: str = ""
    #: the local function pointer the call goes through ("" for none)
    pointer: str = ""


@dataclass(slots=True)
class CodeIndex:
    env: TypeEnv
    functions: dict[FnRef, FunctionDef] = field(default_factory=dict)
    by_name: dict[str, list[FnRef]] = field(default_factory=dict)
    direct_calls: dict[str, list[tuple[FnRef, Expr]]] = field(default_factory=dict)
    field_calls: dict[str, list[tuple[FnRef, Expr]]] = field(default_factory=dict)
    registrations: dict[tuple[str, str], list[Registration]] = field(default_factory=dict)
    assigns: list[tuple[FnRef, Expr]] = field(default_factory=list)
    #: per function, its local function pointers given one function once:
    #: local name → function name
    local_pointers: dict[FnRef, dict[str, str]] = field(default_factory=dict)
    #: calls through those locals, by the name of the function called:
    #: (caller, call, local name)
    pointer_calls: dict[str, list[tuple[FnRef, Expr, str]]] = field(default_factory=dict)
    #: the prototypes (declarations without a body), by name: (file, line)
    prototypes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: ``&x->field`` operands, by field name (the field may be written through the pointer)
    address_taken: dict[str, list[tuple[FnRef, Expr]]] = field(default_factory=dict)
    _callers: dict[FnRef, list[CallEdge]] = field(default_factory=dict)

    # -- resolution --------------------------------------------------------
    def resolve_name(self, name: str, from_file: str) -> list[FnRef]:
        """Definitions a call to ``name`` from ``from_file`` may reach."""
        refs = self.by_name.get(name, [])
        local = [r for r in refs if r[0] == from_file]
        if local:
            return local
        # a static (inline) function of a header is in every file including it
        return [r for r in refs if not self.functions[r].is_static or _is_header(r[0])]

    def field_ref(self, e: Expr, fn: FunctionDef | None, ctx: str) -> tuple[str, str] | None:
        """``(struct, field)`` of a field expression, typed by its base."""
        if e.kind != "field" or not e.args:
            return None
        base = self.env.type_of(e.args[0], fn, ctx)
        s = self.env.struct_name(base, ctx)
        return (s, e.text) if s is not None else None

    def callers(self, ref: FnRef) -> list[CallEdge]:
        """Every call edge into ``ref``: direct calls and field dispatch."""
        cached = self._callers.get(ref)
        if cached is not None:
            return cached
        fn = self.functions[ref]
        out: list[CallEdge] = []
        for caller, call in self.direct_calls.get(ref[1], []):
            if not fn.is_static or caller[0] == ref[0] or _is_header(ref[0]):
                if ref in self.resolve_name(ref[1], caller[0]):
                    out.append(CallEdge(caller, call))
        for (struct, fld), regs in self.registrations.items():
            for reg in regs:
                if reg.function != ref[1] or ref not in self.resolve_name(reg.function, reg.file):
                    continue
                for caller, call in self.field_calls.get(fld, []):
                    cfn = self.functions[caller]
                    if self.field_ref(call.args[0], cfn, caller[0]) == (struct, fld):
                        out.append(CallEdge(caller, call, f"{struct}::{fld}", reg))
        for caller, call, local in self.pointer_calls.get(ref[1], []):
            if ref in self.resolve_name(ref[1], caller[0]):
                note = f"calls {ref[1]}() through the local function pointer {local}"
                out.append(CallEdge(caller, call, note=note, pointer=local))
        out.sort(key=lambda c: (c.caller, c.call.line, c.call.col))
        self._callers[ref] = out
        return out


def _function_name(e: Expr) -> str | None:
    if e.kind == "unary" and e.op == "&" and e.args:
        e = e.args[0]
    return e.text if e.kind == "name" else None


def _walk_init(idx: CodeIndex, struct: str | None, init: Expr, path: str, line_fn: str) -> None:
    """Record ``.field = function`` items of a (possibly nested) initializer."""
    for item in init.args:
        if item.kind != "designated" or not item.args:
            continue
        value = item.args[0]
        if value.kind == "init":
            sub = idx.env.field_type(TypeRef(struct), item.text, path) if struct else None
            _walk_init(idx, idx.env.struct_name(sub, path), value, path, line_fn)
            continue
        name = _function_name(value)
        if struct is None or name is None:
            continue
        ftype = idx.env.field_type(TypeRef(struct), item.text, path)
        if (
            name in idx.by_name
            or name in idx.env.returns
            or (ftype is not None and ftype.name == "<fn>")
        ):
            idx.registrations.setdefault((struct, item.text), []).append(
                Registration(struct, item.text, name, path, item.line, line_fn)
            )


@dataclass(slots=True)
class _FileParts:
    """What one file's facts add to the index, whatever the other files are."""

    #: its functions (the first of a name: ``#ifdef`` variants repeat it)
    functions: tuple[tuple[FnRef, FunctionDef], ...]
    direct_calls: dict[str, list[tuple[FnRef, Expr]]]
    field_calls: dict[str, list[tuple[FnRef, Expr]]]
    assigns: list[tuple[FnRef, Expr]]
    #: ``&x->field`` operands, by field name
    address_taken: dict[str, list[tuple[FnRef, Expr]]]
    #: per function with local function pointers: local name → the single
    #: value it is given (``&f`` unwrapped), when that value is a name
    pointer_values: dict[FnRef, dict[str, str]]


class IndexMemo:
    """Per run (the file selection's rounds): what each file's facts add to
    the call graph, computed the first time the file enters the model and
    merged again, in path order, by each later round's :func:`build_index`.

    Keyed by the facts object (held, so its ``id`` is not reused); a run
    creates one and drops it with its last model.

    The cache stores a file's parts with its facts (:meth:`derive`, called
    when the facts are extracted; ``cache.session.Derives``), so a run
    that loads the facts takes the parts stored with them (``known``, by
    id of the facts loaded) instead of walking every body again.  They are
    the parts :func:`_file_parts` gives (plain lists, dicts and tuples of
    the facts' own objects: the unpickled entry shares them), and a run's
    cache salt holds the digest of this code.

    :param known: id of facts → (those facts, their stored parts)
    """

    def __init__(self, known: Mapping[int, tuple[FileFacts, object]] | None = None) -> None:
        self._parts: dict[int, tuple[FileFacts, _FileParts]] = {}
        self._known = known if known is not None else {}
        #: files whose function bodies were walked (each once per memo)
        self.files_indexed = 0
        #: files whose parts came from the cache, stored with their facts
        self.files_loaded = 0
        #: indexes built from this memo
        self.builds = 0

    def parts(self, ff: FileFacts) -> _FileParts:
        got = self._parts.get(id(ff))
        if got is not None and got[0] is ff:
            return got[1]
        known = self._known.get(id(ff))
        parts = _stored_parts(known[1]) if known is not None and known[0] is ff else None
        if parts is None:
            parts = _file_parts(ff)
            self.files_indexed += 1
        else:
            self.files_loaded += 1
        self._parts[id(ff)] = (ff, parts)
        return parts

    def derive(self, ff: FileFacts) -> object:
        """The parts of ``ff`` (computed now, and kept), as plain data to
        store with its facts."""
        p = self.parts(ff)
        return (
            p.functions,
            p.direct_calls,
            p.field_calls,
            p.assigns,
            p.address_taken,
            p.pointer_values,
        )


def _stored_parts(plain: object) -> _FileParts | None:
    """The parts :meth:`IndexMemo.derive` stored, or None when ``plain`` has
    another shape (then the bodies are walked)."""
    if not isinstance(plain, tuple) or len(plain) != 6:
        return None
    functions, direct, fields, assigns, taken, pointers = plain
    if not (
        isinstance(functions, tuple)
        and isinstance(direct, dict)
        and isinstance(fields, dict)
        and isinstance(assigns, list)
        and isinstance(taken, dict)
        and isinstance(pointers, dict)
    ):
        return None
    return _FileParts(functions, direct, fields, assigns, taken, pointers)


def _file_parts(ff: FileFacts) -> _FileParts:
    functions: dict[FnRef, FunctionDef] = {}
    for fn in ff.functions:
        functions.setdefault((ff.path, fn.name), fn)
    out = _FileParts(tuple(functions.items()), {}, {}, [], {}, {})
    for ref, fn in out.functions:
        for kind, text, e in _body_items(fn.body):
            if kind == 0:
                out.direct_calls.setdefault(text, []).append((ref, e))
            elif kind == 1:
                out.field_calls.setdefault(text, []).append((ref, e))
            elif kind == 2:
                out.assigns.append((ref, e))
            else:
                out.address_taken.setdefault(text, []).append((ref, e))
        pointers = {v.name for v in fn.locals if v.type.name == "<fn>"}
        if pointers:
            values: dict[str, str] = {}
            for name, d in single_defs(fn).items():
                value = d.args[0] if d.kind == "unary" and d.op == "&" and d.args else d
                if name in pointers and value.kind == "name":
                    values[name] = value.text
            out.pointer_values[ref] = values
    return out


def build_index(
    facts: Iterable[FileFacts], env: TypeEnv, memo: IndexMemo | None = None
) -> CodeIndex:
    """Index functions, calls and registrations of the whole tree.

    :param memo: the run's per-file parts (see :class:`IndexMemo`); without
        one every body is walked
    """
    facts = list(facts)
    memo = memo if memo is not None else IndexMemo()
    memo.builds += 1
    idx = CodeIndex(env)
    parts = [memo.parts(ff) for ff in facts]
    for ff, fp in zip(facts, parts, strict=True):
        for p in ff.prototypes:
            idx.prototypes.setdefault(p.name, []).append((ff.path, p.line))
        for ref, fn in fp.functions:
            idx.functions[ref] = fn
            idx.by_name.setdefault(ref[1], []).append(ref)
    for ff, fp in zip(facts, parts, strict=True):
        for word, got in fp.direct_calls.items():
            idx.direct_calls.setdefault(word, []).extend(got)
        for word, got in fp.field_calls.items():
            idx.field_calls.setdefault(word, []).extend(got)
        idx.assigns.extend(fp.assigns)
        for word, got in fp.address_taken.items():
            idx.address_taken.setdefault(word, []).extend(got)
        for g in ff.globals:
            if g.init is not None and g.init.kind == "init":
                _walk_init(idx, env.struct_name(g.type, ff.path), g.init, ff.path, "")
    _index_local_pointers(idx, parts)
    for ref, e in idx.assigns:
        fn = idx.functions[ref]
        lhs, rhs = e.args[0], e.args[1]
        name = _function_name(rhs)
        if name is None or lhs.kind != "field" or e.op != "=":
            continue
        if any(v.name == name for v in fn.locals + fn.params) or name in env.globals:
            continue
        fr = idx.field_ref(lhs, fn, ref[0])
        if fr is None:
            continue
        # A function is stored: known as one, or the field is a function pointer.
        ftype = env.field_type(TypeRef(fr[0]), fr[1], ref[0])
        if (
            name in idx.by_name
            or name in env.returns
            or (ftype is not None and ftype.name == "<fn>")
        ):
            idx.registrations.setdefault(fr, []).append(
                Registration(fr[0], fr[1], name, ref[0], e.line, fn.name)
            )
    return idx


def _index_local_pointers(idx: CodeIndex, parts: Iterable[_FileParts]) -> None:
    """Local function pointers given one function once, and the calls through them."""
    for fp in parts:
        for ref, values in fp.pointer_values.items():
            found = {n: v for n, v in values.items() if v in idx.by_name}
            if not found:
                continue
            idx.local_pointers[ref] = found
            for name, target in found.items():
                for caller, call in fp.direct_calls.get(name, []):
                    if caller == ref:
                        idx.pointer_calls.setdefault(target, []).append((ref, call, name))


def _body_items(body: Stmt) -> list[tuple[int, str, Expr]]:
    """What a function body adds to the index, in the order the index has
    always listed it (right to left): 0 a direct call, 1 a field call,
    2 an assignment, 3 a field whose address is taken (``&x->f``)."""
    items: list[tuple[int, str, Expr]] = []
    for e in stmt_exprs(body, mirrored=True):
        if e.kind == "call" and e.args:
            callee = e.args[0]
            if callee.kind == "name":
                items.append((0, callee.text, e))
            elif callee.kind == "field":
                items.append((1, callee.text, e))
        elif e.kind == "assign" and len(e.args) == 2:
            if e.args[0].kind in ("field", "unary", "index") or e.op == "|=":
                items.append((2, "", e))
        elif e.kind == "unary" and e.op == "&" and e.args and e.args[0].kind == "field":
            items.append((3, e.args[0].text, e.args[0]))
    return items


def _is_header(path: str) -> bool:
    return path.endswith((".h", ".inc"))
