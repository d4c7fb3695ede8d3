"""Build stage, third step (meaning): source sets of QEMU's ``meson.build`` files.

Interprets the statements of :mod:`qemu_lint.build.meson_ast` from the top
``meson.build`` through every ``subdir()``, without running anything from the
tree: values are strings, numbers, booleans, arrays, dictionaries, ``files()``,
source sets (``import('sourceset').source_set()`` with ``add`` and
``add_all``), dependencies, and :class:`Unknown` for everything that depends on
the host (compilers, ``get_option``, ``dependency()`` …).

Host facts are *pinned* (:data:`DEFAULT_PINS`: a Linux host with system
emulation, no modules); assignments to pinned names are ignored.  An ``if``
whose condition is unknown runs each branch that is not known false, and the
source-set rules added there are *uncertain*: :func:`apply` reports them, and
the construct is listed in ``problems`` (the caller falls back to the folder
rule for those files).  A dependency of unknown ``found()`` in a ``when:`` is
taken as found, uncertain too.  Entry points: :func:`interpret`, :func:`apply`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .configs import Location, Reader, Unparsed, decode
from .meson_ast import (
    Array,
    Assign,
    BinOp,
    Call,
    Dict,
    ExprStmt,
    Foreach,
    If,
    Index,
    Lit,
    MesonSyntaxError,
    Name,
    Node,
    Stmt,
    Ternary,
    UnOp,
    parse_meson,
)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value the tree cannot tell without configuring a build."""

    what: str = ""


@dataclass(frozen=True, slots=True)
class File:
    """``files('x.c')``: a root-relative path."""

    path: str


@dataclass(frozen=True, slots=True)
class Dep:
    """A dependency object; ``found`` is ``None`` when only the host knows."""

    name: str
    found: bool | None


@dataclass(frozen=True, slots=True)
class Module:
    name: str


Cond = str | Dep | Unknown


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``add``/``add_all`` call of a source set."""

    when: tuple[Cond, ...]
    if_true: tuple[object, ...]
    if_false: tuple[object, ...]
    where: Location
    uncertain: Unparsed | None = None
    #: ``when`` when it holds only configuration keys (the fast path of apply)
    keys: tuple[str, ...] | None = None
    when_text: tuple[str, ...] = ()


@dataclass(eq=False, slots=True)
class SourceSet:
    """A source set; mutable only while the files are interpreted."""

    name: str
    where: Location
    rules: list[Rule] = field(default_factory=list)


Value = object


class _SubdirDone(Exception):
    pass


class _Jump(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


#: Names whose value the analysis fixes: a Linux host building system
#: emulators, default options, modules built in (``enable_modules`` false
#: puts every module's source set into ``system_ss``/``specific_ss``).
DEFAULT_PINS: Mapping[str, Value] = {
    "host_os": "linux",
    "targetos": "linux",
    "have_system": True,
    "have_user": True,
    "have_block": True,
    "have_tools": True,
    "enable_modules": False,
    # host features a full-featured Linux build has; they match the host
    # Kconfig symbols TPM, VHOST_*, VIRTFS and IVSHMEM (see HostConfig)
    "have_tpm": True,
    "have_vhost": True,
    "have_vhost_user": True,
    "have_vhost_vdpa": True,
    "have_vhost_kernel": True,
    "have_vhost_net": True,
    "have_vhost_net_user": True,
    "have_vhost_net_vdpa": True,
    "have_virtfs": True,
    "have_ivshmem": True,
}

_BUILD_CALLS = frozenset({"add", "add_all", "subdir", "source_set", "files"})


def _relevant(stmts: Sequence[Stmt]) -> bool:
    """Whether statements touch source sets (so an unknown guard matters)."""
    for s in stmts:
        if isinstance(s, If) and any(_relevant(b) for _, b in s.branches):
            return True
        if isinstance(s, Foreach) and _relevant(s.body):
            return True
        node = s.value if isinstance(s, Assign) else s.expr if isinstance(s, ExprStmt) else None
        if node is not None and _node_relevant(node):
            return True
    return False


def _assigned(stmts: Sequence[Stmt]) -> Iterator[str]:
    """The names statements assign, nested blocks included."""
    for s in stmts:
        if isinstance(s, Assign):
            yield s.name
        elif isinstance(s, If):
            for _, body in s.branches:
                yield from _assigned(body)
        elif isinstance(s, Foreach):
            yield from s.names
            yield from _assigned(s.body)


def _node_relevant(node: Node) -> bool:
    if isinstance(node, Call):
        if node.func in _BUILD_CALLS:
            return True
        parts: list[Node] = [*node.args, *(v for _, v in node.kwargs)]
        if node.obj is not None:
            parts.append(node.obj)
        return any(_node_relevant(p) for p in parts)
    if isinstance(node, Array):
        return any(_node_relevant(i) for i in node.items)
    if isinstance(node, Dict):
        return any(isinstance(v, Name) and v.name.endswith("_ss") for _, v in node.items) or any(
            _node_relevant(v) for _, v in node.items
        )
    if isinstance(node, BinOp):
        return _node_relevant(node.lhs) or _node_relevant(node.rhs)
    if isinstance(node, Ternary):
        return _node_relevant(node.then) or _node_relevant(node.other)
    return False


def _text(node: Node) -> str:
    """A short Meson spelling of a condition, for problems and evidence."""
    if isinstance(node, Lit):
        return repr(node.value) if isinstance(node.value, str) else str(node.value).lower()
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        obj = _text(node.obj) + "." if node.obj is not None else ""
        return f"{obj}{node.func}({', '.join(_text(a) for a in node.args)})"
    if isinstance(node, BinOp):
        return f"{_text(node.lhs)} {node.op} {_text(node.rhs)}"
    if isinstance(node, UnOp):
        return f"{node.op} {_text(node.arg)}"
    if isinstance(node, Index):
        return f"{_text(node.obj)}[{_text(node.index)}]"
    if isinstance(node, Array):
        return "[" + ", ".join(_text(i) for i in node.items) + "]"
    return "…"


def truth(v: Value) -> bool | None:
    """Meson truthiness; ``None`` for unknown."""
    if isinstance(v, Unknown):
        return None
    if isinstance(v, Dep):
        return v.found
    return bool(v)


@dataclass(frozen=True, slots=True)
class MesonResult:
    """The interpreted tree: final variables, files read, constructs not understood."""

    variables: Mapping[str, Value]
    #: every source set by the first name it was assigned to (``qom_ss`` stays
    #: reachable after ``qom_ss = qom_ss.apply({})``)
    sets: Mapping[str, SourceSet]
    files: tuple[str, ...]
    problems: tuple[Unparsed, ...]


def _flatten(v: Value) -> list[Value]:
    if isinstance(v, list):
        return [x for item in v for x in _flatten(item)]
    return [] if v is None else [v]


def _plus(a: Value, b: Value) -> Value:
    if isinstance(a, list):
        return a + (b if isinstance(b, list) else [b])
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **b}
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a | b, bool):
        return a + b
    return Unknown("+")


def _str_method(s: str, name: str, args: list[Value]) -> Value:
    a0 = args[0] if args else None
    if name == "split":
        return s.split(a0) if isinstance(a0, str) else s.split()
    if name in ("startswith", "endswith", "contains") and isinstance(a0, str):
        return {"startswith": s.startswith, "endswith": s.endswith, "contains": s.__contains__}[
            name
        ](a0)
    if name in ("to_upper", "to_lower", "strip", "underscorify"):
        if name == "underscorify":
            return "".join(c if c.isalnum() else "_" for c in s)
        return {"to_upper": s.upper, "to_lower": s.lower, "strip": s.strip}[name]()
    if name == "join" and isinstance(a0, list) and all(isinstance(x, str) for x in a0):
        return s.join(str(x) for x in a0)
    if name == "to_int" and s.strip().lstrip("-").isdigit():
        return int(s)
    if name == "replace" and len(args) == 2 and all(isinstance(x, str) for x in args):
        return s.replace(str(args[0]), str(args[1]))
    return Unknown(f"str.{name}")


def _container_method(obj: list[Value] | dict[Value, Value], name: str, args: list[Value]) -> Value:
    if any(isinstance(a, Unknown) for a in args):
        return Unknown(name)
    if isinstance(obj, list):
        if name == "contains" and args:
            return args[0] in obj
        if name == "length":
            return len(obj)
        if name == "get" and args and isinstance(args[0], int):
            i = args[0]
            return obj[i] if -len(obj) <= i < len(obj) else (args[1] if len(args) > 1 else None)
        return Unknown(f"list.{name}")
    if name == "get" and args:
        return obj.get(args[0], args[1] if len(args) > 1 else Unknown("dict.get"))
    if name == "has_key" and args:
        return args[0] in obj
    if name == "keys":
        return sorted(obj, key=str)
    if name == "values":
        return list(obj.values())
    return Unknown(f"dict.{name}")


_MISSING = object()
_IF_DOUBT = "condition only the host knows; both branches taken"
_OBJECTS = {"meson": Module("meson"), "host_machine": Module("host_machine")}
_QUIET = frozenset(
    {
        "error",
        "warning",
        "message",
        "summary",
        "assert",
        "add_project_arguments",
        "add_global_arguments",
        "add_project_link_arguments",
        "alias_target",
    }
)


@dataclass(slots=True)
class _Interp:
    read: Reader
    env: dict[str, Value]
    pins: Mapping[str, Value]
    cur_dir: str = ""
    cur_file: str = "meson.build"
    doubt: list[Unparsed] = field(default_factory=list)
    loop_doubt: list[int] = field(default_factory=list)
    file_doubt: list[int] = field(default_factory=list)
    problems: dict[tuple[str, int, str], Unparsed] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    relevant_memo: dict[int, bool] = field(default_factory=dict)
    sets: dict[str, SourceSet] = field(default_factory=dict)

    def relevant(self, body: tuple[Stmt, ...]) -> bool:
        key = id(body)
        if key not in self.relevant_memo:
            self.relevant_memo[key] = _relevant(body)
        return self.relevant_memo[key]

    def problem(self, line: int, text: str, reason: str) -> Unparsed:
        u = Unparsed(Location(self.cur_file, line), text, reason)
        return self.problems.setdefault((self.cur_file, line, reason), u)

    # files and statements -----------------------------------------------------

    def run_file(self, rel_dir: str, line: int) -> None:
        path = posixpath.join(rel_dir, "meson.build") if rel_dir else "meson.build"
        data = self.read(path)
        if data is None:
            self.problem(line, path, "subdir() file not found")
            return
        try:
            stmts = parse_meson(decode(data))
        except MesonSyntaxError as e:
            saved = self.cur_file
            self.cur_file = path
            self.problem(e.line, str(e), "meson.build syntax not understood; folder rule")
            self.cur_file = saved
            return
        self.files.append(path)
        saved_dir, saved_file, depth = self.cur_dir, self.cur_file, len(self.doubt)
        self.cur_dir, self.cur_file = rel_dir, path
        self.loop_doubt.append(-1)
        self.file_doubt.append(depth)
        try:
            self.block(stmts)
        except _SubdirDone:
            pass
        finally:
            self.loop_doubt.pop()
            self.file_doubt.pop()
            self.cur_dir, self.cur_file = saved_dir, saved_file
            del self.doubt[depth:]

    def block(self, stmts: Sequence[Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: Stmt) -> None:
        if isinstance(s, Assign):
            self.assign(s)
        elif isinstance(s, ExprStmt):
            self.eval(s.expr)
        elif isinstance(s, If):
            self.if_stmt(s)
        elif isinstance(s, Foreach):
            self.foreach(s)
        elif self.loop_doubt and self.loop_doubt[-1] == len(self.doubt):
            raise _Jump(s.kind)

    def assign(self, s: Assign) -> None:
        if s.name in self.pins:
            return
        value = self.eval(s.value)
        if isinstance(value, SourceSet) and not value.name:
            value.name = s.name
            self.sets.setdefault(s.name, value)
        if s.op == "+=":
            value = _plus(self.env.get(s.name, Unknown(s.name)), value)
        self.env[s.name] = value

    def if_stmt(self, s: If) -> None:
        """Run the branch a known condition picks; under an unknown one, see below.

        A branch reached only through a condition only the host knows runs
        under doubt when it touches source sets (its rules are uncertain and
        the ``if`` is reported); otherwise it is not run and the names it
        assigns become :class:`Unknown` (so no branch's value is guessed).
        """
        entered = len(self.doubt)
        unknown: Node | None = None  # the first condition only the host knows
        try:
            for cond, body in s.branches:
                known = True if cond is None else truth(self.eval(cond))
                if known is False:
                    continue
                if known is True and unknown is None:
                    self.block(body)
                    return
                if unknown is None:
                    unknown = cond
                if self.relevant(body):
                    self.doubt.append(self.if_doubt(s, unknown))
                    self.block(body)
                else:
                    self.forget(body)
                if known is True:
                    return
        finally:
            del self.doubt[entered:]

    def if_doubt(self, s: If, cond: Node | None) -> Unparsed:
        """The problem an ``if`` under a condition only the host knows is reported
        as (made when a branch that touches source sets is run under it)."""
        key = (self.cur_file, s.line, _IF_DOUBT)
        got = self.problems.get(key)
        if got is None:
            text = "if " + (_text(cond) if cond is not None else "…")
            got = self.problems[key] = Unparsed(Location(self.cur_file, s.line), text, _IF_DOUBT)
        return got

    def forget(self, body: Sequence[Stmt]) -> None:
        for name in _assigned(body):
            if name not in self.pins:
                self.env[name] = Unknown(name)

    def foreach(self, s: Foreach) -> None:
        if not self.relevant(s.body):
            # no source set, files() or subdir() inside: nothing the build
            # configuration reads (the host-probing loops of the top file)
            return
        it = self.eval(s.iterable)
        if isinstance(it, dict):
            items: list[tuple[Value, ...]] = [(k, v) for k, v in it.items()]
        elif isinstance(it, list):
            items = [(v,) for v in it]
        else:
            self.problem(
                s.line,
                "foreach over " + _text(s.iterable),
                "loop over a value only the host knows; body skipped",
            )
            return
        self.loop_doubt.append(len(self.doubt))
        try:
            for values in items:
                for name, v in zip(s.names, values, strict=False):
                    if name not in self.pins:
                        self.env[name] = v
                try:
                    self.block(s.body)
                except _Jump as j:
                    if j.kind == "break":
                        break
        finally:
            self.loop_doubt.pop()

    # expressions --------------------------------------------------------------

    def eval(self, node: Node) -> Value:
        # the node classes are final: an exact type test, the commonest first
        if type(node) is Lit:
            return node.value
        if type(node) is Name:
            got = self.env.get(node.name, _MISSING)
            return _OBJECTS.get(node.name, Unknown(node.name)) if got is _MISSING else got
        if type(node) is Call:
            return self.call(node)
        if isinstance(node, Array):
            return [self.eval(i) for i in node.items]
        if isinstance(node, Dict):
            return {self.eval(k): self.eval(v) for k, v in node.items}
        if isinstance(node, Index):
            return self.index(self.eval(node.obj), self.eval(node.index))
        if isinstance(node, BinOp):
            return self.binop(node)
        if isinstance(node, UnOp):
            v = self.eval(node.arg)
            if node.op == "not":
                t = truth(v)
                return Unknown("not") if t is None else not t
            return -v if isinstance(v, int) else Unknown("-")
        assert isinstance(
            node, Ternary
        )  # the last kind (mypy: the exact tests above do not narrow)
        c = truth(self.eval(node.cond))
        if c is None:
            return Unknown("?:")
        return self.eval(node.then if c else node.other)

    @staticmethod
    def index(obj: Value, idx: Value) -> Value:
        if isinstance(obj, dict) and not isinstance(idx, Unknown) and idx in obj:
            return obj[idx]
        if isinstance(obj, list) and isinstance(idx, int) and -len(obj) <= idx < len(obj):
            return obj[idx]
        return Unknown("[]")

    def binop(self, node: BinOp) -> Value:
        op = node.op
        lhs = self.eval(node.lhs)
        if op in ("and", "or"):
            lt = truth(lhs)
            if lt is (op == "or"):
                return lt
            rt = truth(self.eval(node.rhs))
            if lt is None:
                return Unknown(op) if rt is None or rt is (op == "and") else rt
            return Unknown(op) if rt is None else rt
        rhs = self.eval(node.rhs)
        if op == "+":
            return _plus(lhs, rhs)
        if isinstance(lhs, Unknown) or isinstance(rhs, Unknown):
            return Unknown(op)
        if op == "/" and isinstance(lhs, str) and isinstance(rhs, str):
            return posixpath.join(lhs, rhs)
        if op in ("in", "not in") and isinstance(rhs, list | dict | str):
            return (lhs in rhs) is (op == "in")
        if op in ("==", "!="):
            return (lhs == rhs) is (op == "==")
        both = (isinstance(lhs, int) and isinstance(rhs, int)) or (
            isinstance(lhs, str) and isinstance(rhs, str)
        )
        if both and op in ("<", ">", "<=", ">="):
            cmp: Mapping[str, Callable[[object, object], bool]] = {
                "<": lambda a, b: a < b,  # type: ignore[operator]  # both int or both str
                ">": lambda a, b: a > b,  # type: ignore[operator]  # both int or both str
                "<=": lambda a, b: a <= b,  # type: ignore[operator]  # both int or both str
                ">=": lambda a, b: a >= b,  # type: ignore[operator]  # both int or both str
            }
            return cmp[op](lhs, rhs)
        if isinstance(lhs, int) and isinstance(rhs, int) and op in ("-", "*", "%", "/") and rhs:
            return {"-": lhs - rhs, "*": lhs * rhs, "%": lhs % rhs, "/": lhs // rhs}[op]
        return Unknown(op)

    def path(self, v: Value) -> File | None:
        if isinstance(v, File):
            return v
        if isinstance(v, str):
            p = v[1:] if v.startswith("/") else posixpath.join(self.cur_dir, v)
            return File(posixpath.normpath(p))
        return None

    def call(self, node: Call) -> Value:
        args = list(map(self.eval, node.args))
        kwargs = {k: self.eval(v) for k, v in node.kwargs} if node.kwargs else {}
        if node.obj is not None:
            return self.method(self.eval(node.obj), node, args, kwargs)
        f = node.func
        if f == "files":
            return [p for p in (self.path(a) for a in _flatten(args)) if p is not None]
        if f == "subdir" and args and isinstance(args[0], str):
            self.run_file(posixpath.normpath(posixpath.join(self.cur_dir, args[0])), node.line)
            return None
        if f == "subdir_done":
            if len(self.doubt) == self.file_doubt[-1]:
                raise _SubdirDone
            return None
        if f == "import":
            return Module(str(args[0]) if args else "")
        if f == "declare_dependency":
            return Dep("declare_dependency", True)
        if f == "dependency":
            req = kwargs.get("required", True)
            name = str(args[0]) if args else ""
            return Dep(name, False if name == "" else True if req is True else None)
        if f == "is_variable" and args:
            return args[0] in self.env
        if f == "get_variable" and args and isinstance(args[0], str):
            return self.env.get(args[0], args[1] if len(args) > 1 else Unknown(args[0]))
        if f == "set_variable" and len(args) == 2 and isinstance(args[0], str):
            if args[0] not in self.pins:
                self.env[args[0]] = args[1]
            return None
        if f == "join_paths" and all(isinstance(a, str) for a in args):
            return posixpath.join(*(str(a) for a in args)) if args else ""
        return None if f in _QUIET else Unknown(f + "()")

    def method(self, obj: Value, node: Call, args: list[Value], kwargs: dict[str, Value]) -> Value:
        name = node.func
        if isinstance(obj, SourceSet) and name in ("add", "add_all"):
            self.add(obj, node, args, kwargs)
            return None
        if isinstance(obj, Module):
            if obj.name == "sourceset" and name == "source_set":
                return SourceSet("", Location(self.cur_file, node.line))
            if obj.name == "meson" and name == "current_source_dir":
                return "/" + self.cur_dir
            if obj.name == "meson" and name in (
                "project_source_root",
                "source_root",
                "global_source_root",
            ):
                return "/"
            return Unknown(f"{obj.name}.{name}()")
        if isinstance(obj, Dep):
            if name == "found":
                return Unknown(f"{obj.name}.found()") if obj.found is None else obj.found
            return Unknown(f"{obj.name}.{name}()")
        if isinstance(obj, str):
            if name == "format":
                return Unknown("format") if args else obj
            return _str_method(obj, name, args)
        if isinstance(obj, list | dict):
            return _container_method(obj, name, args)
        return Unknown(f".{name}()")

    def add(self, ss: SourceSet, node: Call, args: list[Value], kw: dict[str, Value]) -> None:
        where = Location(self.cur_file, node.line)
        when = tuple(
            c if isinstance(c, str | Dep | Unknown) else Unknown(repr(c))
            for c in _flatten(kw.get("when", []))
        )

        def items(v: Value) -> tuple[object, ...]:
            out: list[object] = []
            for x in _flatten(v):
                f = self.path(x) if isinstance(x, str) else None
                out.append(f if f is not None else x)
            return tuple(out)

        if_true = items(args) + items(kw.get("if_true", []))
        keys = tuple(c for c in when if isinstance(c, str))
        rule = Rule(
            when,
            if_true,
            items(kw.get("if_false", [])),
            where,
            self.doubt[-1] if self.doubt else None,
            keys if len(keys) == len(when) else None,
            tuple(_cond_text(c) for c in when),
        )
        ss.rules.append(rule)


def interpret(
    read: Reader, env: Mapping[str, Value], pins: Mapping[str, Value] = DEFAULT_PINS, top: str = ""
) -> MesonResult:
    """Interpret ``meson.build`` at ``top`` and every file ``subdir()`` reaches.

    :param read: the tree reader
    :param env: names known before the first statement (``config_all_devices`` …)
    :param pins: names whose value is fixed (:data:`DEFAULT_PINS`)
    :param top: the root-relative folder of the top ``meson.build``
    :return: the final variables (source sets among them)
    """
    it = _Interp(read, {**env, **pins}, {**pins, **{k: v for k, v in env.items()}})
    it.run_file(top, 0)
    return MesonResult(dict(it.env), dict(it.sets), tuple(it.files), tuple(it.problems.values()))


@dataclass(frozen=True, slots=True)
class Step:
    """One rule on the way to a file: where, its ``when:``, the branch taken."""

    where: Location
    when: tuple[str, ...]
    branch: bool


@dataclass(frozen=True, slots=True)
class Hit:
    """A file a source set yields under a configuration, and why."""

    file: str
    steps: tuple[Step, ...]
    uncertain: tuple[Unparsed, ...]


def _rule_bits(rule: Rule, bits: Callable[[str], int], full: int) -> tuple[int, list[Unparsed]]:
    """The configurations (a bit set) where a rule's ``when:`` holds, and the
    conditions only the host knows that it rests on there (each taken as true).

    ``config.get(key)`` decides a key; a dependency of known ``found()``
    holds everywhere or nowhere; anything else holds, uncertain.
    """
    if rule.keys is not None:
        ok = full
        for k in rule.keys:
            ok &= bits(k)
            if not ok:
                break
        return ok, []
    ok, found = full, []
    for c in rule.when:
        if isinstance(c, str):
            ok &= bits(c)
        elif isinstance(c, Dep) and c.found is not None:
            ok &= full if c.found else 0
        else:
            what = c.name if isinstance(c, Dep) else c.what
            reason = "when: condition only the host knows; taken as true"
            found.append(Unparsed(rule.where, what, reason))
    return ok, found if ok else []


def _cond_text(c: Cond) -> str:
    """A configuration key as is; a dependency or unknown value as ``<name>``."""
    return c if isinstance(c, str) else f"<{c.name if isinstance(c, Dep) else c.what}>"


def apply(ss: SourceSet, config: Mapping[str, object]) -> Iterator[Hit]:
    """The files ``ss.apply(config, strict: false)`` yields, each with its rule chain.

    :param ss: a source set from :func:`interpret`
    :param config: the target's configuration keys (``CONFIG_*``, ``TARGET_*``)
    :return: hits in rule order; a file may come more than once
    """
    for hit, _ in apply_many(ss, (config,)):
        yield hit


_Item = tuple[SourceSet, tuple[Step, ...], tuple[Unparsed, ...], int]


def apply_many(ss: SourceSet, configs: Sequence[Mapping[str, object]]) -> Iterator[tuple[Hit, int]]:
    """:func:`apply` for several configurations in one walk of the rules.

    :param ss: a source set from :func:`interpret`
    :param configs: the configurations; bit ``1 << i`` stands for ``configs[i]``
    :return: ``(hit, bits)``: the hits whose bits include ``1 << i`` are those
        ``apply(ss, configs[i])`` yields, in the same order, with equal values
    """
    full = (1 << len(configs)) - 1
    key_bits: dict[str, int] = {}

    def bits(key: str) -> int:
        got = key_bits.get(key)
        if got is None:
            got = key_bits[key] = sum(1 << i for i, c in enumerate(configs) if c.get(key))
        return got

    # one stack for all configurations: filtered to one, it is apply's stack
    stack: list[_Item] = [(ss, (), (), full)]
    active: dict[int, int] = {}
    while stack:
        cur, steps, doubts, mask = stack.pop()
        done = active.get(id(cur), 0)
        mask &= ~done
        if not mask:
            continue
        active[id(cur)] = done | mask
        nested: list[_Item] = []
        for rule in cur.rules:
            ok, found = _rule_bits(rule, bits, full)
            # under a condition only the host knows, both branches may be built
            for group, branches, doubt_here in (
                (mask & ok, (True, False) if found else (True,), found),
                (mask & ~ok, (False,), []),
            ):
                if not group:
                    continue
                if rule.uncertain is not None:
                    doubt_here = [*doubt_here, rule.uncertain]
                extra = (*doubts, *doubt_here) if doubt_here else doubts
                for branch in branches:
                    items = rule.if_true if branch else rule.if_false
                    if not items:
                        continue
                    trail = (*steps, Step(rule.where, rule.when_text, branch))
                    for item in items:
                        if isinstance(item, File):
                            yield Hit(item.path, trail, extra), group
                        elif isinstance(item, SourceSet):
                            nested.append((item, trail, extra, group))
        stack.extend(reversed(nested))
