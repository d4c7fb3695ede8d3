"""Stage 3 (facts), tree-sitter side: syntax tree → :class:`FileFacts`.

Entry point: :func:`extract_file`.  This is the only module that knows
tree-sitter node types.  It is pure: bytes and a tree in, frozen facts out.

QEMU's macros make tree-sitter produce ERROR nodes in many files.  The policy:
descend into ERROR nodes and keep whatever well-formed declarations,
definitions, statements and expressions they contain; count the ERROR nodes
and the bytes they cover so the run can report what it could not read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from qemu_lint.facts import (
    MAX_DEPTH,
    Define,
    Expr,
    Field,
    FileFacts,
    FunctionDecl,
    FunctionDef,
    GlobalVar,
    Stmt,
    StructDef,
    Typedef,
    TypeRef,
    Var,
    depth,
    qom_macro_uses,
)
from qemu_lint.frontends.treesitter.parse import language

Node = Any  # tree_sitter.Node; kept loose so this module type-checks without stubs
Pos = tuple[int, int, int, int]  # line, column, end line, end column (1-based)

# The grammar's field ids, looked up once: ``child_by_field_id`` is cheaper
# than ``child_by_field_name`` (which looks the name up at every call).
_field_id = language().field_id_for_name
_F_ALTERNATIVE = _field_id("alternative")
_F_ARGUMENT = _field_id("argument")
_F_ARGUMENTS = _field_id("arguments")
_F_BODY = _field_id("body")
_F_CONDITION = _field_id("condition")
_F_CONSEQUENCE = _field_id("consequence")
_F_DECLARATOR = _field_id("declarator")
_F_DESIGNATOR = _field_id("designator")
_F_FIELD = _field_id("field")
_F_FUNCTION = _field_id("function")
_F_INDEX = _field_id("index")
_F_INITIALIZER = _field_id("initializer")
_F_LABEL = _field_id("label")
_F_LEFT = _field_id("left")
_F_NAME = _field_id("name")
_F_OPERATOR = _field_id("operator")
_F_PARAMETERS = _field_id("parameters")
_F_RIGHT = _field_id("right")
_F_TYPE = _field_id("type")
_F_UPDATE = _field_id("update")
_F_VALUE = _field_id("value")


class _Seq(NamedTuple):
    """What a sequence handler (a declaration, a label, a case) returns.

    ``head`` are its statements; ``rest`` the nodes tree-sitter nests under it
    that the facts keep flat: they follow ``head`` in the enclosing sequence,
    or become the body of ``into`` (a ``case``).  ``stmts`` converts ``rest``
    itself, so a chain of labels costs one frame per level, as it always did.
    """

    head: list[Stmt]
    rest: Sequence[Node] = ()
    into: Stmt | None = None


#: What a handler of a one-operand kind (``a->b``, ``!a``, a cast…) returns:
#: ``(kind, operand, text, op, type, rest)``.  ``expr`` converts ``operand``
#: itself and builds the node (``args`` = the operand, then ``rest``), so such
#: chains cost one frame per level, as they always did.  A plain tuple: a
#: NamedTuple's constructor (Python code) cost 2 % of the extraction.
_Wrap = tuple[str, Node, str, str, TypeRef | None, tuple[Expr, ...]]


_CONTAINERS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "linkage_specification",
        "declaration_list",
        "ERROR",
    }
)


class _Extractor:
    def __init__(self, path: str, data: bytes, frontend: str = "tree-sitter") -> None:
        self.path = path
        self.data = data
        self.frontend = frontend
        self.structs: list[StructDef] = []
        self.typedefs: list[Typedef] = []
        self.defines: list[Define] = []
        self.prototypes: list[FunctionDecl] = []
        self.functions: list[FunctionDef] = []
        self.globals: list[GlobalVar] = []
        self.error_nodes = 0
        self.skipped_bytes = 0
        self.cut: list[tuple[str, int, str]] = []
        self._locals: list[Var] = []
        #: the file's text when it is ASCII only (see _AsciiExtractor)
        self.src: str | None = None

    # -- helpers ---------------------------------------------------------
    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    @staticmethod
    def pos(node: Node) -> Pos:
        s, e = node.start_point, node.end_point
        return s[0] + 1, s[1] + 1, e[0] + 1, e[1] + 1

    def note_error(self, node: Node) -> None:
        self.error_nodes += 1
        self.skipped_bytes += node.end_byte - node.start_byte

    # -- types -------------------------------------------------------------
    def base_type(self, node: Node | None) -> str:
        if node is None:
            return ""
        t = node.type
        if t in ("struct_specifier", "union_specifier", "enum_specifier"):
            name = node.child_by_field_id(_F_NAME)
            return self.text(name) if name is not None else ""
        if t == "macro_type_specifier":
            inner = node.child_by_field_id(_F_TYPE)
            return self.base_type(inner) if inner is not None else ""
        if t in ("type_identifier", "primitive_type", "sized_type_specifier"):
            return self.text(node)
        return self.text(node).split()[-1] if t != "ERROR" else ""

    def declarator(self, node: Node | None) -> tuple[str, int, Node | None, bool]:
        """Unwrap a declarator: (name, pointer levels, parameter list, is function pointer)."""
        pointers = 0
        params = None
        is_fnptr = False
        while node is not None:
            t = node.type
            if t in ("identifier", "field_identifier", "type_identifier", "primitive_type"):
                return self.text(node), pointers, params, is_fnptr
            if t == "pointer_declarator" or t == "abstract_pointer_declarator":
                pointers += 1
            elif t == "array_declarator" or t == "abstract_array_declarator":
                pointers += 1
            elif t == "function_declarator" or t == "abstract_function_declarator":
                inner = node.child_by_field_id(_F_DECLARATOR)
                if inner is not None and inner.type == "parenthesized_declarator":
                    is_fnptr = True
                if params is None:
                    params = node.child_by_field_id(_F_PARAMETERS)
            elif t == "parenthesized_declarator":
                node = node.named_children[0] if node.named_children else None
                continue
            elif t == "init_declarator":
                pass
            elif t == "attributed_declarator":
                node = node.named_children[0] if node.named_children else None
                continue
            else:
                return "", pointers, params, is_fnptr
            node = node.child_by_field_id(_F_DECLARATOR)
        return "", pointers, params, is_fnptr

    def type_of(
        self, type_node: Node | None, decl: Node | None
    ) -> tuple[str, TypeRef, Node | None]:
        """The declared name, its type, and (for functions) the parameter list."""
        base = self.base_type(type_node)
        name, pointers, params, is_fnptr = self.declarator(decl)
        if is_fnptr and params is not None:
            ret = base + " " + "*" * max(pointers - 1, 0) if pointers > 1 else base
            sig = f"{ret.strip()} {self.text(params)}"
            return name, TypeRef("<fn>", 0, " ".join(sig.split())), None
        return name, TypeRef(base, pointers), params

    def params(self, plist: Node | None) -> tuple[Var, ...]:
        out: list[Var] = []
        if plist is None:
            return ()
        for p in plist.named_children:
            if p.type != "parameter_declaration":
                continue
            name, tref, _ = self.type_of(
                p.child_by_field_id(_F_TYPE), p.child_by_field_id(_F_DECLARATOR)
            )
            if name:
                out.append(Var(name, tref, p.start_point[0] + 1))
        return tuple(out)

    # -- file scope --------------------------------------------------------
    def facts(self) -> FileFacts:
        """What :meth:`walk_scope` collected, as the file's facts."""
        macro_uses = tuple(use for _, use in qom_macro_uses(self.data))
        return FileFacts(
            path=self.path,
            frontend=self.frontend,
            size=len(self.data),
            structs=tuple(self.structs),
            typedefs=tuple(self.typedefs),
            defines=tuple(self.defines),
            macro_uses=macro_uses,
            prototypes=tuple(self.prototypes),
            functions=tuple(self.functions),
            globals=tuple(self.globals),
            error_nodes=self.error_nodes,
            skipped_bytes=self.skipped_bytes,
            cut=tuple(self.cut),
        )

    def walk_scope(self, node: Node) -> None:
        for child in node.children:
            t = child.type
            if t == "function_definition":
                self.function_or_cut(child)
            elif t == "declaration":
                self.declaration(child)
            elif t == "type_definition":
                self.type_definition(child)
            elif t in ("struct_specifier", "union_specifier"):
                self.struct(child, None)
            elif t == "preproc_def":
                self.define(child, None)
            elif t == "preproc_function_def":
                self.define(child, child.child_by_field_id(_F_PARAMETERS))
            elif t in _CONTAINERS:
                if t == "ERROR":
                    self.note_error(child)
                self.walk_scope(child)
            elif t == "expression_statement" and child.has_error:
                self.count_errors(child)
            elif child.is_missing:
                self.error_nodes += 1

    def count_errors(self, node: Node) -> None:
        if node.type == "ERROR":
            self.note_error(node)
            return
        for c in node.children:
            if c.has_error:
                self.count_errors(c)

    def define(self, node: Node, params: Node | None) -> None:
        name = node.child_by_field_id(_F_NAME)
        value = node.child_by_field_id(_F_VALUE)
        if name is None:
            return
        ptuple = None
        if params is not None:
            ptuple = tuple(self.text(p) for p in params.named_children)
        self.defines.append(
            Define(
                self.text(name),
                ptuple,
                " ".join(self.text(value).split()) if value is not None else "",
                node.start_point[0] + 1,
            )
        )

    def type_definition(self, node: Node) -> None:
        tnode = node.child_by_field_id(_F_TYPE)
        decls = node.children_by_field_id(_F_DECLARATOR)
        tdname = None
        for d in decls:
            name, tref, _ = self.type_of(tnode, d)
            if name:
                self.typedefs.append(Typedef(name, tref, node.start_point[0] + 1))
                tdname = tdname or name
        if tnode is not None and tnode.type in ("struct_specifier", "union_specifier"):
            self.struct(tnode, tdname)
        if node.has_error:
            self.count_errors(node)

    def struct(self, node: Node, tdname: str | None) -> None:
        body = node.child_by_field_id(_F_BODY)
        if body is None:
            return
        nm = node.child_by_field_id(_F_NAME)
        name = self.text(nm) if nm is not None else (tdname or "")
        fields: list[Field] = []
        self.fields(body, fields)
        if name:
            self.structs.append(
                StructDef(name, tuple(fields), node.start_point[0] + 1, node.end_point[0] + 1)
            )

    def fields(self, body: Node, out: list[Field]) -> None:
        for fd in body.named_children:
            if fd.type in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif"):
                self.fields(fd, out)
                continue
            if fd.type == "ERROR":
                self.note_error(fd)
                continue
            if fd.type != "field_declaration":
                continue
            tnode = fd.child_by_field_id(_F_TYPE)
            decls = fd.children_by_field_id(_F_DECLARATOR)
            if (
                not decls
                and tnode is not None
                and tnode.type in ("struct_specifier", "union_specifier")
            ):
                inner = tnode.child_by_field_id(_F_BODY)
                if inner is not None:  # anonymous member struct/union: flatten
                    self.fields(inner, out)
                continue
            if tnode is not None and tnode.type in ("struct_specifier", "union_specifier"):
                self.struct(tnode, None)
            for d in decls:
                name, tref, _ = self.type_of(tnode, d)
                if name:
                    out.append(Field(name, tref, d.start_point[0] + 1))

    def declaration(self, node: Node) -> None:
        tnode = node.child_by_field_id(_F_TYPE)
        if tnode is not None and tnode.type in ("struct_specifier", "union_specifier"):
            self.struct(tnode, None)
        for d in node.children_by_field_id(_F_DECLARATOR):
            init = None
            if d.type == "init_declarator":
                init = d.child_by_field_id(_F_VALUE)
            name, tref, params = self.type_of(tnode, d)
            if not name:
                continue
            line = node.start_point[0] + 1
            if params is not None and init is None:
                self.prototypes.append(FunctionDecl(name, tref, line))
            else:
                self.globals.append(
                    GlobalVar(name, tref, self.expr(init) if init is not None else None, line)
                )
        if node.has_error:
            self.count_errors(node)

    def function_or_cut(self, node: Node) -> None:
        """Extract a function, or leave it out (in ``cut``) when it nests
        deeper than :data:`~qemu_lint.facts.MAX_DEPTH`: the one function is
        lost, never the file's other facts."""
        known = len(self.functions)
        reason = ""
        try:
            self.function(node)
        except RecursionError:
            reason = f"nested too deep to analyse (more than {MAX_DEPTH} levels)"
        if not reason and len(self.functions) > known:
            got = depth(self.functions[-1].body)
            if got > MAX_DEPTH:
                reason = f"nested {got} levels deep (more than {MAX_DEPTH})"
        if reason:
            del self.functions[known:]
            decl = node.child_by_field_id(_F_DECLARATOR)
            name = self.declarator(decl)[0] if decl is not None else ""
            self.cut.append((name or "?", node.start_point[0] + 1, reason))

    def function(self, node: Node) -> None:
        tnode = node.child_by_field_id(_F_TYPE)
        name, rtype, plist = self.type_of(tnode, node.child_by_field_id(_F_DECLARATOR))
        body = node.child_by_field_id(_F_BODY)
        if not name or body is None:
            return
        is_static = any(
            c.type == "storage_class_specifier" and self.text(c) == "static" for c in node.children
        )
        self._locals = []
        # The body's handler, called as ``stmts`` calls them.
        stmt = _STMT.get(body.type, _Extractor.stmt_other)(self, body, self.pos(body))
        stmt = stmt or Stmt("block", *self.pos(body))
        l1, c1, l2, _ = self.pos(node)
        self.functions.append(
            FunctionDef(
                name,
                rtype,
                self.params(plist),
                tuple(self._locals),
                stmt,
                l1,
                c1,
                l2,
                is_static,
            )
        )
        if node.has_error:
            self.count_errors(node)

    # -- statements --------------------------------------------------------
    # One handler per node type (the tables _STMT and _SEQ below the class),
    # pyflakes style.  A handler takes the node and its position and returns
    # the statement, or None for nodes that are not statements.  ``stmts``
    # calls the handlers itself (no ``stmt`` frame in between), so a nesting
    # level costs as much stack as it always did: deep nesting must not make
    # a file "too deep to analyse" that was not before.
    def stmts(self, nodes: Sequence[Node]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for n in nodes:
            t = n.type
            seq = _SEQ.get(t)
            if seq is not None:
                got = seq(self, n)
                out.extend(got.head)
                if got.into is not None:
                    out.append(dataclasses.replace(got.into, body=self.stmts(got.rest)))
                elif got.rest:
                    out.extend(self.stmts(got.rest))
                continue
            handler = _STMT.get(t, _Extractor.stmt_other)
            if handler is _Extractor.stmt_none:  # a comment: no position needed
                continue
            s = handler(self, n, self.pos(n))
            if s is not None:
                out.append(s)
        return tuple(out)

    # Kinds flattened into the enclosing sequence: declarations, labels, cases.
    def seq_decl(self, node: Node) -> _Seq:
        return _Seq(self.local_decl(node))

    def local_decl(self, node: Node) -> list[Stmt]:
        tnode = node.child_by_field_id(_F_TYPE)
        out: list[Stmt] = []
        for d in node.children_by_field_id(_F_DECLARATOR):
            init = d.child_by_field_id(_F_VALUE) if d.type == "init_declarator" else None
            name, tref, _ = self.type_of(tnode, d)
            if not name:
                continue
            self._locals.append(Var(name, tref, d.start_point[0] + 1))
            out.append(
                Stmt(
                    "decl",
                    *self.pos(d),
                    text=name,
                    type=tref,
                    expr=self.expr(init) if init is not None else None,
                )
            )
        if node.has_error:
            self.count_errors(node)
        return out

    def seq_label(self, n: Node) -> _Seq:
        lab = n.child_by_field_id(_F_LABEL)
        label = Stmt("label", *self.pos(n), text=self.text(lab) if lab is not None else "")
        return _Seq([label], [c for c in n.named_children if c.type != "statement_identifier"])

    def seq_case(self, n: Node) -> _Seq:
        value = n.child_by_field_id(_F_VALUE)
        rest = [c for c in n.named_children if value is None or c.id != value.id]
        case = Stmt("case", *self.pos(n), expr=self.expr(value) if value is not None else None)
        return _Seq([], rest, case)

    def stmt_block(self, n: Node, p: Pos) -> Stmt:
        return Stmt("block", *p, body=self.stmts(n.named_children))

    def stmt_expression(self, n: Node, p: Pos) -> Stmt | None:
        if n.has_error:
            self.count_errors(n)
        e = n.named_children[0] if n.named_children else None
        return Stmt("expr", *p, expr=self.expr(e)) if e is not None else None

    def stmt_if(self, n: Node, p: Pos) -> Stmt:
        cond = n.child_by_field_id(_F_CONDITION)
        then = n.child_by_field_id(_F_CONSEQUENCE)
        alt = n.child_by_field_id(_F_ALTERNATIVE)
        orelse: tuple[Stmt, ...] = ()
        if alt is not None:
            inner = [c for c in alt.named_children] if alt.type == "else_clause" else [alt]
            orelse = self.stmts(inner)
        return Stmt(
            "if",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts([then]) if then is not None else (),
            orelse=orelse,
        )

    def stmt_loop(self, n: Node, p: Pos) -> Stmt:
        """``while``, ``do`` and ``for``; a ``for``'s initializer and update go
        in a block before the loop."""
        t = n.type
        cond = n.child_by_field_id(_F_CONDITION)
        body = n.child_by_field_id(_F_BODY)
        pre = self.for_parts(n) if t == "for_statement" else ()
        loop = Stmt(
            "loop",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts([body]) if body is not None else (),
            text=t.split("_")[0],
        )
        return Stmt("block", *p, body=pre + (loop,)) if pre else loop

    def for_parts(self, n: Node) -> tuple[Stmt, ...]:
        pre: tuple[Stmt, ...] = ()
        init = n.child_by_field_id(_F_INITIALIZER)
        if init is not None:
            pre = (
                self.stmts([init])
                if init.type == "declaration"
                else (Stmt("expr", *self.pos(init), expr=self.expr(init)),)
            )
        upd = n.child_by_field_id(_F_UPDATE)
        if upd is not None:
            pre = pre + (Stmt("expr", *self.pos(upd), expr=self.expr(upd)),)
        return pre

    def stmt_switch(self, n: Node, p: Pos) -> Stmt:
        cond = n.child_by_field_id(_F_CONDITION)
        body = n.child_by_field_id(_F_BODY)
        return Stmt(
            "switch",
            *p,
            expr=self.expr(cond) if cond is not None else None,
            body=self.stmts(body.named_children) if body is not None else (),
        )

    def stmt_return(self, n: Node, p: Pos) -> Stmt:
        e = n.named_children[0] if n.named_children else None
        return Stmt("return", *p, expr=self.expr(e) if e is not None else None)

    def stmt_goto(self, n: Node, p: Pos) -> Stmt:
        lab = n.child_by_field_id(_F_LABEL)
        return Stmt("goto", *p, text=self.text(lab) if lab is not None else "")

    def stmt_break(self, n: Node, p: Pos) -> Stmt:
        return Stmt("break", *p)

    def stmt_continue(self, n: Node, p: Pos) -> Stmt:
        return Stmt("continue", *p)

    def stmt_flat(self, n: Node, p: Pos) -> Stmt:
        """A declaration, label or case met alone (not in a sequence)."""
        return Stmt("block", *p, body=self.stmts([n]))

    def stmt_preproc(self, n: Node, p: Pos) -> Stmt:
        kids = [
            c
            for c in n.named_children
            if c.type not in ("preproc_arg", "identifier", "preproc_defined")
            and n.child_by_field_id(_F_CONDITION) != c
        ]
        return Stmt("block", *p, body=self.stmts(kids))

    def stmt_attributed(self, n: Node, p: Pos) -> Stmt:
        return Stmt(
            "block",
            *p,
            body=self.stmts([c for c in n.named_children if c.type != "attribute_declaration"]),
        )

    def stmt_error(self, n: Node, p: Pos) -> Stmt:
        self.note_error(n)
        return Stmt("block", *p, body=self.stmts(n.named_children))

    def stmt_none(self, n: Node, p: Pos) -> None:
        """Comments, preprocessor lines and empty statements carry no statement."""
        return None

    def stmt_other(self, n: Node, p: Pos) -> Stmt | None:
        """Any other node: an expression in statement position, else ignored."""
        t = n.type
        if n.is_named and t.endswith("_expression") or t in ("identifier", "call_expression"):
            return Stmt("expr", *p, expr=self.expr(n))
        return None

    # -- expressions -------------------------------------------------------
    # One handler per node type (the table _EXPR below the class).  Handlers
    # convert several operands through ``map`` (never a generator expression,
    # which would add a frame per level) and leave a single operand to
    # ``expr`` (see _Wrap), so a nesting level costs as much stack as it
    # always did.
    def expr(self, n: Node) -> Expr:
        """One expression node → :class:`Expr`."""
        # ``(x)`` is ``x``: unwrapped in a loop, so parentheses cost no stack.
        t = n.type
        while t == "parenthesized_expression":
            kids = n.named_children
            if len(kids) != 1:
                break
            n = kids[0]
            t = n.type
        kind = _LEAF.get(t)
        if kind is not None:
            # Names, numbers and strings (two nodes in three) are built
            # here: no handler, and the end of a token on one line from its
            # length, one ``Point`` instead of two.
            sb, eb = n.start_byte, n.end_byte
            src = self.src
            txt = src[sb:eb] if src is not None else self.data[sb:eb].decode("utf-8", "replace")
            if "\n" not in txt:
                row, col = n.start_point
                return Expr(kind, row + 1, col + 1, row + 1, col + 1 + eb - sb, txt)
        p = self.pos(n)
        got = _EXPR.get(t, _Extractor.expr_other)(self, n, p)
        if isinstance(got, Expr):
            return got
        kind, operand, text, op, typ, rest = got
        return Expr(kind, *p, text, op, (self.expr(operand), *rest), typ)

    def expr_paren(self, n: Node, p: Pos) -> Expr:
        """Parentheses around other than one expression (one is unwrapped by ``expr``)."""
        return Expr("opaque", *p, args=tuple(map(self.expr, n.named_children)))

    def expr_name(self, n: Node, p: Pos) -> Expr:
        return Expr("name", *p, text=self.text(n))

    def expr_field(self, n: Node, p: Pos) -> Expr | _Wrap:
        base = n.child_by_field_id(_F_ARGUMENT)
        fld = n.child_by_field_id(_F_FIELD)
        op = n.child_by_field_id(_F_OPERATOR)
        text = self.text(fld) if fld is not None else ""
        opt = self.text(op) if op is not None else "->"
        if base is None:
            return Expr("field", *p, text=text, op=opt)
        return ("field", base, text, opt, None, ())

    def expr_index(self, n: Node, p: Pos) -> Expr:
        parts = (n.child_by_field_id(_F_ARGUMENT), n.child_by_field_id(_F_INDEX))
        return Expr("index", *p, args=tuple(map(self.expr, [x for x in parts if x is not None])))

    def expr_call(self, n: Node, p: Pos) -> Expr | _Wrap:
        fn = n.child_by_field_id(_F_FUNCTION)
        al = n.child_by_field_id(_F_ARGUMENTS)
        args = (
            tuple(map(self.expr, [a for a in al.named_children if a.type != "comment"]))
            if al is not None
            else ()
        )
        if fn is None:
            return Expr("call", *p, args=(Expr("opaque", *p), *args))
        return ("call", fn, "", "", None, args)

    def expr_unary(self, n: Node, p: Pos) -> Expr | _Wrap:
        op = n.child_by_field_id(_F_OPERATOR)
        arg = n.child_by_field_id(_F_ARGUMENT)
        opt = self.text(op) if op is not None else ""
        return Expr("unary", *p, op=opt) if arg is None else ("unary", arg, "", opt, None, ())

    def expr_operator(self, n: Node, p: Pos) -> Expr:
        """``binary`` and ``assign``: operator, left, right."""
        op = n.child_by_field_id(_F_OPERATOR)
        sides = (n.child_by_field_id(_F_LEFT), n.child_by_field_id(_F_RIGHT))
        is_binary = n.type == "binary_expression"
        return Expr(
            "binary" if is_binary else "assign",
            *p,
            op=self.text(op) if op is not None else ("" if is_binary else "="),
            args=tuple(map(self.expr, [x for x in sides if x is not None])),
        )

    def expr_ternary(self, n: Node, p: Pos) -> Expr:
        parts = [n.child_by_field_id(f) for f in (_F_CONDITION, _F_CONSEQUENCE, _F_ALTERNATIVE)]
        return Expr("ternary", *p, args=tuple(map(self.expr, [x for x in parts if x is not None])))

    def expr_comma(self, n: Node, p: Pos) -> Expr:
        sides = (n.child_by_field_id(_F_LEFT), n.child_by_field_id(_F_RIGHT))
        return Expr("comma", *p, args=tuple(map(self.expr, [x for x in sides if x is not None])))

    def expr_typed(self, n: Node, p: Pos) -> Expr | _Wrap:
        """``cast`` and ``compound`` (literal): a written type and one operand."""
        tref = self.type_descriptor(n.child_by_field_id(_F_TYPE))
        val = n.child_by_field_id(_F_VALUE)
        kind = "cast" if n.type == "cast_expression" else "compound"
        return Expr(kind, *p, type=tref) if val is None else (kind, val, "", "", tref, ())

    def expr_number(self, n: Node, p: Pos) -> Expr:
        return Expr("const", *p, text=self.text(n))

    def expr_null(self, n: Node, p: Pos) -> Expr:
        return Expr("const", *p, text="NULL")

    def expr_bool(self, n: Node, p: Pos) -> Expr:
        return Expr("const", *p, text=n.type)

    def expr_string(self, n: Node, p: Pos) -> Expr:
        return Expr("string", *p, text=self.text(n))

    def expr_init(self, n: Node, p: Pos) -> Expr:
        kids = [c for c in n.named_children if c.type != "comment"]
        return Expr("init", *p, args=tuple(map(self.expr, kids)))

    def expr_designated(self, n: Node, p: Pos) -> Expr | _Wrap:
        des = n.children_by_field_id(_F_DESIGNATOR)
        val = n.child_by_field_id(_F_VALUE)
        name = ""
        if des:
            d0 = des[-1]
            fid = d0.named_children[0] if d0.named_children else None
            name = self.text(fid) if fid is not None else self.text(d0)
        if val is None:
            return Expr("designated", *p, text=name)
        return ("designated", val, name, "", None, ())

    def expr_sizeof(self, n: Node, p: Pos) -> Expr:
        return Expr("sizeof", *p)

    def expr_other(self, n: Node, p: Pos) -> Expr:
        """Any other node (ERROR included): ``opaque``, keeping its sub-expressions."""
        t = n.type
        if t == "ERROR":
            self.note_error(n)
        kids = [c for c in n.named_children if c.type != "comment"]
        return Expr("opaque", *p, text=t, args=tuple(map(self.expr, kids)))

    def type_descriptor(self, tdesc: Node | None) -> TypeRef | None:
        if tdesc is None:
            return None
        base = self.base_type(tdesc.child_by_field_id(_F_TYPE))
        _, pointers, _, _ = self.declarator(tdesc.child_by_field_id(_F_DECLARATOR))
        return TypeRef(base, pointers)


class _AsciiExtractor(_Extractor):
    """The extractor of a file of ASCII bytes only (all but a few): a node's
    text is sliced from the file's text, decoded once, instead of each
    node's bytes being decoded (the same strings)."""

    def __init__(self, path: str, data: bytes) -> None:
        super().__init__(path, data)
        self.src: str = data.decode("ascii")

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte]


_StmtHandler = Callable[[_Extractor, Node, Pos], Stmt | None]
_ExprHandler = Callable[[_Extractor, Node, Pos], Expr | _Wrap]

#: statement node type → handler (anything else: ``stmt_other``)
_STMT: dict[str, _StmtHandler] = {
    "compound_statement": _Extractor.stmt_block,
    "expression_statement": _Extractor.stmt_expression,
    "if_statement": _Extractor.stmt_if,
    "while_statement": _Extractor.stmt_loop,
    "for_statement": _Extractor.stmt_loop,
    "do_statement": _Extractor.stmt_loop,
    "switch_statement": _Extractor.stmt_switch,
    "return_statement": _Extractor.stmt_return,
    "goto_statement": _Extractor.stmt_goto,
    "break_statement": _Extractor.stmt_break,
    "continue_statement": _Extractor.stmt_continue,
    "labeled_statement": _Extractor.stmt_flat,
    "case_statement": _Extractor.stmt_flat,
    "declaration": _Extractor.stmt_flat,
    "preproc_if": _Extractor.stmt_preproc,
    "preproc_ifdef": _Extractor.stmt_preproc,
    "preproc_else": _Extractor.stmt_preproc,
    "preproc_elif": _Extractor.stmt_preproc,
    "preproc_elifdef": _Extractor.stmt_preproc,
    "attributed_statement": _Extractor.stmt_attributed,
    "ERROR": _Extractor.stmt_error,
    "comment": _Extractor.stmt_none,
    "preproc_call": _Extractor.stmt_none,
    "preproc_def": _Extractor.stmt_none,
    "preproc_function_def": _Extractor.stmt_none,
    "preproc_include": _Extractor.stmt_none,
    ";": _Extractor.stmt_none,
}

#: node types that a statement sequence flattens (see _Seq)
_SEQ: dict[str, Callable[[_Extractor, Node], _Seq]] = {
    "declaration": _Extractor.seq_decl,
    "labeled_statement": _Extractor.seq_label,
    "case_statement": _Extractor.seq_case,
}

#: the expression node types that ``expr`` builds itself (from their text), with their kind
_LEAF = {
    "identifier": "name",
    "number_literal": "const",
    "char_literal": "const",
    "string_literal": "string",
}

#: expression node type → handler (anything else: ``expr_other``)
_EXPR: dict[str, _ExprHandler] = {
    "parenthesized_expression": _Extractor.expr_paren,
    "identifier": _Extractor.expr_name,
    "field_expression": _Extractor.expr_field,
    "subscript_expression": _Extractor.expr_index,
    "call_expression": _Extractor.expr_call,
    "unary_expression": _Extractor.expr_unary,
    "pointer_expression": _Extractor.expr_unary,
    "update_expression": _Extractor.expr_unary,
    "binary_expression": _Extractor.expr_operator,
    "assignment_expression": _Extractor.expr_operator,
    "conditional_expression": _Extractor.expr_ternary,
    "comma_expression": _Extractor.expr_comma,
    "cast_expression": _Extractor.expr_typed,
    "compound_literal_expression": _Extractor.expr_typed,
    "number_literal": _Extractor.expr_number,
    "char_literal": _Extractor.expr_number,
    "null": _Extractor.expr_null,
    "true": _Extractor.expr_bool,
    "false": _Extractor.expr_bool,
    "string_literal": _Extractor.expr_string,
    "concatenated_string": _Extractor.expr_string,
    "initializer_list": _Extractor.expr_init,
    "initializer_pair": _Extractor.expr_designated,
    "sizeof_expression": _Extractor.expr_sizeof,
}


def extract_file(path: str, data: bytes, tree: Any) -> FileFacts:
    """Extract the facts of one file from its tree-sitter tree.

    :param path: root-relative POSIX path (stored in the facts)
    :param data: the bytes that were parsed
    :param tree: the ``tree_sitter.Tree`` of ``data``
    :return: the file's facts
    """
    x = _AsciiExtractor(path, data) if data.isascii() else _Extractor(path, data)
    # Walked from here rather than from a method: a frame less under the
    # handlers' one (the nesting a file may have stays what it always was).
    x.walk_scope(tree.root_node)
    return x.facts()
