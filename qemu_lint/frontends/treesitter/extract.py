"""Stage 3 (facts), tree-sitter side: syntax tree → :class:`FileFacts`.

Entry point: :func:`extract_file`.  This is the only module that knows
tree-sitter node types.  It is pure: bytes and a tree in, frozen facts out.

QEMU's macros make tree-sitter produce ERROR nodes in many files.  The policy:
descend into ERROR nodes and keep whatever well-formed declarations,
definitions, statements and expressions they contain; count the ERROR nodes
and the bytes they cover so the run can report what it could not read.
"""

from __future__ import annotations

import re
from typing import Any

from qemu_lint.facts import (
    Define,
    Expr,
    Field,
    FileFacts,
    FunctionDecl,
    FunctionDef,
    GlobalVar,
    MacroUse,
    Stmt,
    StructDef,
    Typedef,
    TypeRef,
    Var,
)

Node = Any  # tree_sitter.Node; kept loose so this module type-checks without stubs

# QOM declaration macros whose arguments name the instance/class types and the
# cast macros they define.  Read from the text: tree-sitter often cannot place
# them (no trailing semicolon) and libclang expands them away.
_QOM_DECL = re.compile(
    rb"^[ \t]*(OBJECT_DECLARE_TYPE|OBJECT_DECLARE_SIMPLE_TYPE|OBJECT_DECLARE_CPU_TYPE|"
    rb"DECLARE_OBJ_CHECKERS|DECLARE_INSTANCE_CHECKER|DECLARE_CLASS_CHECKERS|"
    rb"OBJECT_DEFINE_TYPE|OBJECT_DEFINE_SIMPLE_TYPE)\s*\(([^()]*)\)",
    re.M,
)

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
        self._locals: list[Var] = []

    # -- helpers ---------------------------------------------------------
    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    @staticmethod
    def pos(node: Node) -> tuple[int, int, int, int]:
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
            name = node.child_by_field_name("name")
            return self.text(name) if name is not None else ""
        if t == "macro_type_specifier":
            inner = node.child_by_field_name("type")
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
                inner = node.child_by_field_name("declarator")
                if inner is not None and inner.type == "parenthesized_declarator":
                    is_fnptr = True
                if params is None:
                    params = node.child_by_field_name("parameters")
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
            node = node.child_by_field_name("declarator")
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
                p.child_by_field_name("type"), p.child_by_field_name("declarator")
            )
            if name:
                out.append(Var(name, tref, p.start_point[0] + 1))
        return tuple(out)

    # -- file scope --------------------------------------------------------
    def run(self, root: Node) -> FileFacts:
        self.walk_scope(root)
        macro_uses = tuple(
            MacroUse(
                m.group(1).decode(),
                tuple(a.strip() for a in m.group(2).decode("utf-8", "replace").split(",")),
                self.data.count(b"\n", 0, m.start()) + 1,
            )
            for m in _QOM_DECL.finditer(self.data)
        )
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
        )

    def walk_scope(self, node: Node) -> None:
        for child in node.children:
            t = child.type
            if t == "function_definition":
                self.function(child)
            elif t == "declaration":
                self.declaration(child)
            elif t == "type_definition":
                self.type_definition(child)
            elif t in ("struct_specifier", "union_specifier"):
                self.struct(child, None)
            elif t == "preproc_def":
                self.define(child, None)
            elif t == "preproc_function_def":
                self.define(child, child.child_by_field_name("parameters"))
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
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
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
        tnode = node.child_by_field_name("type")
        decls = node.children_by_field_name("declarator")
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
        body = node.child_by_field_name("body")
        if body is None:
            return
        nm = node.child_by_field_name("name")
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
            tnode = fd.child_by_field_name("type")
            decls = fd.children_by_field_name("declarator")
            if (
                not decls
                and tnode is not None
                and tnode.type in ("struct_specifier", "union_specifier")
            ):
                inner = tnode.child_by_field_name("body")
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
        tnode = node.child_by_field_name("type")
        if tnode is not None and tnode.type in ("struct_specifier", "union_specifier"):
            self.struct(tnode, None)
        for d in node.children_by_field_name("declarator"):
            init = None
            if d.type == "init_declarator":
                init = d.child_by_field_name("value")
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

    def function(self, node: Node) -> None:
        tnode = node.child_by_field_name("type")
        name, rtype, plist = self.type_of(tnode, node.child_by_field_name("declarator"))
        body = node.child_by_field_name("body")
        if not name or body is None:
            return
        is_static = any(
            c.type == "storage_class_specifier" and self.text(c) == "static" for c in node.children
        )
        self._locals = []
        stmt = self.stmt(body) or Stmt("block", *self.pos(body))
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
    def stmts(self, nodes: list[Node]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for n in nodes:
            if n.type == "declaration":
                out.extend(self.local_decl(n))
                continue
            if n.type == "labeled_statement":
                lab = n.child_by_field_name("label")
                out.append(
                    Stmt("label", *self.pos(n), text=self.text(lab) if lab is not None else "")
                )
                inner = [c for c in n.named_children if c.type != "statement_identifier"]
                out.extend(self.stmts(inner))
                continue
            if n.type == "case_statement":
                value = n.child_by_field_name("value")
                rest = [c for c in n.named_children if value is None or c.id != value.id]
                out.append(
                    Stmt(
                        "case",
                        *self.pos(n),
                        expr=self.expr(value) if value is not None else None,
                        body=self.stmts(rest),
                    )
                )
                continue
            s = self.stmt(n)
            if s is not None:
                out.append(s)
        return tuple(out)

    def local_decl(self, node: Node) -> list[Stmt]:
        tnode = node.child_by_field_name("type")
        out: list[Stmt] = []
        for d in node.children_by_field_name("declarator"):
            init = d.child_by_field_name("value") if d.type == "init_declarator" else None
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

    def stmt(self, n: Node) -> Stmt | None:  # noqa: C901 - one dispatch over node types
        t = n.type
        p = self.pos(n)
        if t == "compound_statement":
            return Stmt("block", *p, body=self.stmts(n.named_children))
        if t == "expression_statement":
            if n.has_error:
                self.count_errors(n)
            e = n.named_children[0] if n.named_children else None
            return Stmt("expr", *p, expr=self.expr(e)) if e is not None else None
        if t == "if_statement":
            cond = n.child_by_field_name("condition")
            then = n.child_by_field_name("consequence")
            alt = n.child_by_field_name("alternative")
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
        if t in ("while_statement", "for_statement", "do_statement"):
            cond = n.child_by_field_name("condition")
            body = n.child_by_field_name("body")
            pre: tuple[Stmt, ...] = ()
            if t == "for_statement":
                init = n.child_by_field_name("initializer")
                if init is not None:
                    pre = (
                        self.stmts([init])
                        if init.type == "declaration"
                        else (Stmt("expr", *self.pos(init), expr=self.expr(init)),)
                    )
                upd = n.child_by_field_name("update")
                if upd is not None:
                    pre = pre + (Stmt("expr", *self.pos(upd), expr=self.expr(upd)),)
            loop = Stmt(
                "loop",
                *p,
                expr=self.expr(cond) if cond is not None else None,
                body=self.stmts([body]) if body is not None else (),
                text=t.split("_")[0],
            )
            return Stmt("block", *p, body=pre + (loop,)) if pre else loop
        if t == "switch_statement":
            cond = n.child_by_field_name("condition")
            body = n.child_by_field_name("body")
            return Stmt(
                "switch",
                *p,
                expr=self.expr(cond) if cond is not None else None,
                body=self.stmts(body.named_children) if body is not None else (),
            )
        if t == "return_statement":
            e = n.named_children[0] if n.named_children else None
            return Stmt("return", *p, expr=self.expr(e) if e is not None else None)
        if t == "goto_statement":
            lab = n.child_by_field_name("label")
            return Stmt("goto", *p, text=self.text(lab) if lab is not None else "")
        if t == "break_statement":
            return Stmt("break", *p)
        if t == "continue_statement":
            return Stmt("continue", *p)
        if t in ("labeled_statement", "case_statement", "declaration"):
            return Stmt("block", *p, body=self.stmts([n]))
        if t in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"):
            kids = [
                c
                for c in n.named_children
                if c.type not in ("preproc_arg", "identifier", "preproc_defined")
                and n.child_by_field_name("condition") != c
            ]
            return Stmt("block", *p, body=self.stmts(kids))
        if t == "attributed_statement":
            return Stmt(
                "block",
                *p,
                body=self.stmts([c for c in n.named_children if c.type != "attribute_declaration"]),
            )
        if t == "ERROR":
            self.note_error(n)
            return Stmt("block", *p, body=self.stmts(n.named_children))
        if t in (
            "comment",
            "preproc_call",
            "preproc_def",
            "preproc_function_def",
            "preproc_include",
            ";",
        ):
            return None
        if n.is_named and t.endswith("_expression") or t in ("identifier", "call_expression"):
            return Stmt("expr", *p, expr=self.expr(n))
        return None

    # -- expressions -------------------------------------------------------
    def expr(self, n: Node) -> Expr:  # noqa: C901 - one dispatch over node types
        t = n.type
        p = self.pos(n)
        if t == "parenthesized_expression":
            kids = n.named_children
            if len(kids) == 1:
                return self.expr(kids[0])
            return Expr("opaque", *p, args=tuple(self.expr(k) for k in kids))
        if t == "identifier":
            return Expr("name", *p, text=self.text(n))
        if t == "field_expression":
            base = n.child_by_field_name("argument")
            fld = n.child_by_field_name("field")
            op = n.child_by_field_name("operator")
            return Expr(
                "field",
                *p,
                text=self.text(fld) if fld is not None else "",
                op=self.text(op) if op is not None else "->",
                args=(self.expr(base),) if base is not None else (),
            )
        if t == "subscript_expression":
            base = n.child_by_field_name("argument")
            idx = n.child_by_field_name("index")
            args = tuple(self.expr(x) for x in (base, idx) if x is not None)
            return Expr("index", *p, args=args)
        if t == "call_expression":
            fn = n.child_by_field_name("function")
            al = n.child_by_field_name("arguments")
            args = (
                tuple(self.expr(a) for a in al.named_children if a.type != "comment")
                if al is not None
                else ()
            )
            callee = self.expr(fn) if fn is not None else Expr("opaque", *p)
            return Expr("call", *p, args=(callee, *args))
        if t in ("unary_expression", "pointer_expression", "update_expression"):
            op = n.child_by_field_name("operator")
            arg = n.child_by_field_name("argument")
            return Expr(
                "unary",
                *p,
                op=self.text(op) if op is not None else "",
                args=(self.expr(arg),) if arg is not None else (),
            )
        if t == "binary_expression":
            op = n.child_by_field_name("operator")
            lhs = n.child_by_field_name("left")
            rhs = n.child_by_field_name("right")
            return Expr(
                "binary",
                *p,
                op=self.text(op) if op is not None else "",
                args=tuple(self.expr(x) for x in (lhs, rhs) if x is not None),
            )
        if t == "conditional_expression":
            parts = [n.child_by_field_name(f) for f in ("condition", "consequence", "alternative")]
            return Expr("ternary", *p, args=tuple(self.expr(x) for x in parts if x is not None))
        if t == "assignment_expression":
            op = n.child_by_field_name("operator")
            lhs = n.child_by_field_name("left")
            rhs = n.child_by_field_name("right")
            return Expr(
                "assign",
                *p,
                op=self.text(op) if op is not None else "=",
                args=tuple(self.expr(x) for x in (lhs, rhs) if x is not None),
            )
        if t == "cast_expression":
            tdesc = n.child_by_field_name("type")
            val = n.child_by_field_name("value")
            tref = self.type_descriptor(tdesc)
            return Expr("cast", *p, type=tref, args=(self.expr(val),) if val is not None else ())
        if t == "number_literal" or t == "char_literal":
            return Expr("const", *p, text=self.text(n))
        if t == "null":
            return Expr("const", *p, text="NULL")
        if t in ("true", "false"):
            return Expr("const", *p, text=t)
        if t in ("string_literal", "concatenated_string"):
            return Expr("string", *p, text=self.text(n))
        if t == "initializer_list":
            return Expr(
                "init",
                *p,
                args=tuple(self.expr(c) for c in n.named_children if c.type != "comment"),
            )
        if t == "initializer_pair":
            des = n.children_by_field_name("designator")
            val = n.child_by_field_name("value")
            name = ""
            if des:
                d0 = des[-1]
                fid = d0.named_children[0] if d0.named_children else None
                name = self.text(fid) if fid is not None else self.text(d0)
            return Expr(
                "designated", *p, text=name, args=(self.expr(val),) if val is not None else ()
            )
        if t == "compound_literal_expression":
            tdesc = n.child_by_field_name("type")
            val = n.child_by_field_name("value")
            return Expr(
                "compound",
                *p,
                type=self.type_descriptor(tdesc),
                args=(self.expr(val),) if val is not None else (),
            )
        if t == "comma_expression":
            lhs = n.child_by_field_name("left")
            rhs = n.child_by_field_name("right")
            return Expr("comma", *p, args=tuple(self.expr(x) for x in (lhs, rhs) if x is not None))
        if t == "sizeof_expression":
            return Expr("sizeof", *p)
        if t == "ERROR":
            self.note_error(n)
        return Expr(
            "opaque",
            *p,
            text=t,
            args=tuple(self.expr(c) for c in n.named_children if c.type != "comment"),
        )

    def type_descriptor(self, tdesc: Node | None) -> TypeRef | None:
        if tdesc is None:
            return None
        base = self.base_type(tdesc.child_by_field_name("type"))
        _, pointers, _, _ = self.declarator(tdesc.child_by_field_name("declarator"))
        return TypeRef(base, pointers)


def extract_file(path: str, data: bytes, tree: Any) -> FileFacts:
    """Extract the facts of one file from its tree-sitter tree.

    :param path: root-relative POSIX path (stored in the facts)
    :param data: the bytes that were parsed
    :param tree: the ``tree_sitter.Tree`` of ``data``
    :return: the file's facts
    """
    return _Extractor(path, data).run(tree.root_node)
