"""Stage 4 (model): everything the rules ask about the tree.

Entry point: :func:`build_model` (facts of every file → :class:`Model`).
The model is built once per run; expensive questions (flow facts of a
function, wrapper summaries, callers) are answered lazily and memoised.

Importing the package loads none of its submodules: :func:`build_model` and
the methods that need one import it, and the names the package re-exports
from them (``Hook``, ``IndexMemo``, ``Site``…) are loaded on first access
(:func:`__getattr__`, PEP 562).  A run whose diagnostics come from the
cache's record, which builds no model, so never imports the model's code
(docs/performance.md, "Design of a warm run").
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qemu_lint.model.settings import DEFAULT_HOOKS
from qemu_lint.source import arch_of, discover_archs

if TYPE_CHECKING:  # the submodules load when a model is built (see the docstring)
    from qemu_lint.build import BuildConfig
    from qemu_lint.facts import Expr, FileFacts, FunctionDef
    from qemu_lint.model.acpi import AcpiFacts, Site
    from qemu_lint.model.callgraph import CallEdge, CodeIndex, FnRef, IndexMemo
    from qemu_lint.model.cexpr import Macros
    from qemu_lint.model.guards import FlowFacts, Formula, GuardLogic
    from qemu_lint.model.hooks import Hook
    from qemu_lint.model.qom import ClassInit, HookTable, Implementation, QomModel
    from qemu_lint.model.reach import Attribution, BuildAnswers, Reach
    from qemu_lint.model.types import TypeEnv

#: the names the package re-exports, by the submodule defining them
_EXPORTS = {
    "Attribution": "qemu_lint.model.reach",
    "ClassInit": "qemu_lint.model.qom",
    "Hook": "qemu_lint.model.hooks",
    "IndexMemo": "qemu_lint.model.callgraph",
    "Site": "qemu_lint.model.acpi",
}


def __getattr__(name: str) -> Any:
    """A re-exported name (``from qemu_lint.model import Hook``), its module
    imported on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def _no_qom() -> QomModel:
    from qemu_lint.model.qom import QomModel

    return QomModel()


State = tuple["FnRef", "str | None"]  # a function, and the architecture its path is confined to

#: structs whose hooks are asked about one vCPU (not CPUHotplugState's flag)
_VCPU_STRUCTS = frozenset({"CPUClass", "CPUState"})


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Is a site guarded, and if not, along which call paths is it reached?"""

    guarded: bool
    hook: str | None
    #: per architecture reaching the site unguarded: the call edges from that
    #: architecture's entry function down to the site's function; under ""
    #: the chain from the nearest entry point (a function nobody calls)
    chains: dict[str, tuple[tuple[CallEdge, FnRef], ...]] = field(default_factory=dict)
    #: the hooks consulted somewhere on the way, even if not as a guard
    consulted: tuple[str, ...] = ()


@dataclass(slots=True)
class Model:
    root: str
    files: tuple[str, ...]
    env: TypeEnv
    index: CodeIndex
    archs: tuple[str, ...]
    hooks: tuple[Hook, ...]
    acpi: AcpiFacts
    hook_tables: tuple[HookTable, ...]
    _flows: dict[FnRef, FlowFacts] = field(default_factory=dict)
    _summaries: dict[FnRef, Formula | None] = field(default_factory=dict)
    _in_progress: set[FnRef] = field(default_factory=set)
    logic: GuardLogic | None = None
    #: the tree's ``#define``\ s (function-like macro wrappers of a hook)
    macros: Macros | None = None
    _expanding: set[str] = field(default_factory=set)
    qom: QomModel = field(default_factory=_no_qom)
    build: BuildConfig | None = None
    reach: Reach | None = None
    _attributions: dict[tuple[FnRef, str], Attribution] = field(default_factory=dict)
    #: the run's per-file call-graph parts this model was built from (shared
    #: by the file selection's rounds; its counters show how often files
    #: were indexed), or None when built without one
    memo: IndexMemo | None = None
    #: the functions of a hook wrapper's shape, in order (computed on first
    #: use by :mod:`qemu_lint.model.consult`, once for all the sites)
    wrapper_shapes: tuple[tuple[FnRef, FunctionDef], ...] | None = None

    def with_build(self, build: BuildConfig | BuildAnswers | None) -> Model:
        """This model, given the build configuration after it was built.

        The file selection builds its rounds' models without it (no
        question a round asks depends on what is built, only the
        attribution does) while the build configuration is computed beside
        them; the last round's model then gets it here, before anything
        was attributed.  Given only its answers
        (:class:`~qemu_lint.model.reach.BuildAnswers`, a check whose build
        inputs are the recorded run's), :attr:`build` stays None: the
        attribution asks through the answers, and nothing else a check
        runs reads the configuration."""
        from qemu_lint.model.reach import BuildAnswers

        assert not self._attributions, "the build configuration came after an attribution"
        self.build = None if isinstance(build, BuildAnswers) else build
        if self.reach is not None:
            assert not self.reach._machine_handlers, "it came after a board was attributed"
            self.reach.build = BuildAnswers.of(build)
        return self

    def attribute(self, ref: FnRef, arch: str) -> Attribution:
        """How ``arch`` reaches ``ref`` unguarded (see :mod:`qemu_lint.model.reach`)."""
        got = self._attributions.get((ref, arch))
        if got is None:
            assert self.reach is not None
            got = self.reach.attribute(ref, arch)
            self._attributions[(ref, arch)] = got
        return got

    # -- hooks ---------------------------------------------------------------
    def declared_hooks(self) -> tuple[Hook, ...]:
        return tuple(h for h in self.hooks if h.declared)

    def flow(self, ref: FnRef) -> FlowFacts:
        f = self._flows.get(ref)
        if f is None:
            from qemu_lint.model.guards import flow_facts

            f = flow_facts(self.index.functions[ref])
            self._flows[ref] = f
        return f

    def _resolve_atom(self, e: Expr, fn: FunctionDef, ctx: str) -> Formula | None:
        """Meaning of a hook consultation or a wrapper call, else None."""
        if e.kind == "call" and e.args:
            callee = e.args[0]
            if callee.kind == "field":
                fr = self.index.field_ref(callee, fn, ctx)
                if fr is not None:
                    spec = f"{fr[0]}::{fr[1]}"
                    for h in self.hooks:
                        if h.spec == spec and h.is_fnptr:
                            return self._about(e.args[1:], fn, ctx, ("atom", h.spec))
                return None
            if callee.kind == "name":
                # a call through a local function pointer is a call of its function
                name = self.index.local_pointers.get((ctx, fn.name), {}).get(callee.text)
                name = name or callee.text
                for h in self.hooks:
                    if h.function == name:
                        return self._about(e.args[1:], fn, ctx, ("atom", h.spec))
                refs = self.index.resolve_name(name, ctx)
                for ref in refs:
                    s = self.summary(ref)
                    if s is not None:
                        return self._about(e.args[1:], fn, ctx, s)
                if not refs:
                    return self._macro_verdict(e, fn, ctx)
            return None
        if e.kind == "field":
            fr = self.index.field_ref(e, fn, ctx)
            if fr is None:
                return None
            spec = f"{fr[0]}::{fr[1]}"
            for h in self.hooks:
                if h.spec == spec:
                    if h.is_fnptr:
                        return ("atom", h.spec + "#implemented")
                    return self._about(e.args[:1], fn, ctx, ("atom", h.spec))
        return None

    def _about(self, objects: Sequence[Expr], fn: FunctionDef, ctx: str, f: Formula) -> Formula:
        """``f``, a verdict asked about ``objects``; when none of them is the
        vCPU the function handles (a parameter, ``cdev->cpu``, a local alias
        of one, through casts), its vCPU hook atoms become ``spec@other``:
        asking about another vCPU is not going through the hook."""
        if not objects or any(self._is_subject(o, fn, ctx, 0) for o in objects):
            return f
        from qemu_lint.model.guards import OTHER_VCPU, rename_atoms

        specs = frozenset(h.spec for h in self.hooks if h.struct in _VCPU_STRUCTS or h.function)
        return rename_atoms(f, specs, OTHER_VCPU)

    def _is_subject(self, e: Expr, fn: FunctionDef, ctx: str, depth: int) -> bool:
        if depth > 8:
            return True
        if e.kind == "cast" and e.args:
            return self._is_subject(e.args[0], fn, ctx, depth + 1)
        if e.kind == "call" and len(e.args) == 2 and e.args[0].kind == "name":
            if e.args[0].text.isupper():  # a cast macro: CPU(dev), ARM_CPU(obj)
                return self._is_subject(e.args[1], fn, ctx, depth + 1)
            return False  # qemu_get_cpu(0), cpu_by_arch_id(id): another vCPU
        if e.kind == "name":
            if any(p.name == e.text for p in fn.params):
                return True
            if not any(v.name == e.text for v in fn.locals):
                return False  # a global: first_cpu
            ref = (ctx, fn.name)
            d = self.flow(ref).single_defs.get(e.text) if ref in self.index.functions else None
            return d is None or self._is_subject(d, fn, ctx, depth + 1)
        if e.kind == "field" and e.text == "cpu" and e.args:
            fr = self.index.field_ref(e, fn, ctx)
            if fr is not None and fr[0] == "AcpiCpuStatus":
                return e.args[0].kind == "name"  # cdev->cpu, not devs[0].cpu
        return True

    def _macro_verdict(self, e: Expr, fn: FunctionDef, ctx: str) -> Formula | None:
        """A function-like macro wrapper (``#define persistent(cpu) ((cpu) &&
        (cpu)->acpi_persistent)``): the meaning of its expansion when that
        mentions a hook, its arguments taken as non-NULL objects."""
        name = e.args[0].text
        if self.macros is None or name in self._expanding:
            return None
        body = self.macros.expand(e, ctx)
        if body is None:
            return None
        assert self.logic is not None
        self._expanding.add(name)
        try:
            f = self.logic.formula(body, fn, ctx, {})
            objects = set()
            for a in e.args[1:]:
                g = self.logic.formula(a, fn, ctx, {})
                if g[0] == "atom":
                    objects.add(str(g[1]))
        finally:
            self._expanding.discard(name)
        from qemu_lint.model.guards import assume_true

        f = assume_true(f, frozenset(objects))
        text = str(f)
        return f if any(h.spec in text for h in self.declared_hooks()) else None

    def summary(self, ref: FnRef) -> Formula | None:
        """If ``ref`` returns a hook's verdict (or its negation), that formula."""
        if ref in self._summaries:
            return self._summaries[ref]
        if ref in self._in_progress:
            return None
        self._in_progress.add(ref)
        try:
            result = self._compute_summary(ref)
        finally:
            self._in_progress.discard(ref)
        self._summaries[ref] = result
        return result

    def _compute_summary(self, ref: FnRef) -> Formula | None:
        fn = self.index.functions[ref]
        rt = fn.return_type
        if rt.pointers or rt.name in ("void", "<fn>"):
            return None
        flow = self.flow(ref)
        if not flow.returns or any(e is None for e, _ in flow.returns):
            return None
        from qemu_lint.model.guards import assume_true

        assert self.logic is not None
        logic = self.logic
        objects = self._objects(ref)
        rets = [
            (
                assume_true(logic.facts_formula(facts, fn, ref[0], flow.single_defs), objects),
                assume_true(logic.formula(e, fn, ref[0], flow.single_defs), objects),
            )
            for e, facts in flow.returns
            if e is not None
        ]
        for h in self.declared_hooks():
            atom: Formula = ("atom", h.spec)
            mentioned = any(h.spec in str(v) or h.spec in str(f) for f, v in rets)
            if not mentioned:
                continue
            for target in (atom, ("not", atom)):
                if all(logic.equivalent(f, v, target) for f, v in rets):
                    return target
        return None

    def _objects(self, ref: FnRef) -> frozenset[str]:
        """The atoms of ``ref`` that test a pointer parameter (or a local
        holding one) for NULL: a wrapper asks about an object it is given, so
        ``cpu && cpu->acpi_persistent`` or ``if (!cpu) return false;`` still
        make it the hook's verdict about that object."""
        fn = self.index.functions[ref]
        assert self.logic is not None
        defs = self.flow(ref).single_defs
        out: set[str] = set()
        for v in fn.params + fn.locals:
            if not v.type.pointers:
                continue
            out.add(v.name)
            d = defs.get(v.name)
            if d is not None:
                f = self.logic.formula(d, fn, ref[0], defs)
                if f[0] == "atom":
                    out.add(str(f[1]))
        return frozenset(out)

    # -- guards ----------------------------------------------------------------
    def guard(
        self, ref: FnRef, e: Expr, extra: tuple[tuple[Expr, bool], ...] = ()
    ) -> tuple[str | None, tuple[str, ...]]:
        """What the conditions on every path to ``e`` in ``ref`` say about the hooks.

        :param extra: further conditions that hold when ``e`` has its effect
        :return: the hook whose "not persistent" verdict they carry (or None),
            and the hooks they mention at all (guarding or not)
        """
        assert self.logic is not None
        facts = self.flow(ref).at.get((e.line, e.col, e.end_line, e.end_col), ()) + extra
        if not facts:
            return None, ()
        from qemu_lint.model.guards import OTHER_VCPU

        flow = self.flow(ref)
        f = self.logic.facts_formula(facts, self.index.functions[ref], ref[0], flow.single_defs)
        text = str(f)
        mine = text
        for h in self.declared_hooks():
            mine = mine.replace(h.spec + OTHER_VCPU, "")
        mentioned = tuple(h.spec for h in self.declared_hooks() if h.spec in mine)
        # asked about another vCPU only: "spec@other" (never a guard)
        mentioned += tuple(
            h.spec + OTHER_VCPU
            for h in self.declared_hooks()
            if h.spec + OTHER_VCPU in text and h.spec not in mentioned
        )
        for spec in (m for m in mentioned if not m.endswith(OTHER_VCPU)):
            if self.logic.forces_false(f, spec):
                return spec, mentioned
        return None, mentioned

    def _backward(
        self, start: FnRef, stop_at_guards: bool
    ) -> tuple[dict[State, tuple[State, CallEdge] | None], bool, set[str]]:
        """Breadth-first search over callers from ``start``.

        Code of one architecture (``hw/<a>/``, ``target/<a>/``) is only built
        into ``qemu-system-<a>``, so a path never crosses from one
        architecture's code into another's: each search state carries the
        architecture its path is confined to.  Paths confined to an
        architecture that emits no CPU hotplug AML are not followed (no guest
        of that binary sees ``_STA``), unless no architecture emits it at all.
        There is no depth limit: each state is visited once (a cycle of
        calls is followed once round), and the guards of a caller are read
        off its memoised flow facts and wrapper summaries, so a guard placed
        any number of calls higher is found.

        :return: parent links per reached state, whether a function without
            callers (an entry point) was reached, and the hooks consulted on
            the way
        """
        aml = set(self.acpi.emits_cpu_aml)
        first: State = (start, self.arch(start[0]))
        parent: dict[State, tuple[State, CallEdge] | None] = {first: None}
        queue = deque([first])
        reaches_root = False
        consulted: set[str] = set()
        while queue:
            state = queue.popleft()
            cur, color = state
            edges = self.index.callers(cur)
            if not edges:
                reaches_root = True
            for edge in edges:
                a = self.arch(edge.caller[0])
                if a is not None and color is not None and a != color:
                    continue
                if a is not None and aml and a not in aml and a != first[1]:
                    continue
                if stop_at_guards:
                    hook, mentioned = self.guard(edge.caller, edge.call)
                    consulted.update(mentioned)
                    if hook is not None:
                        continue
                nxt: State = (edge.caller, a or color)
                if nxt not in parent:
                    parent[nxt] = (state, edge)
                    queue.append(nxt)
        return parent, reaches_root, consulted

    def _is_cpu_typed(self, ref: FnRef) -> bool:
        fn = self.index.functions[ref]
        for v in fn.params + fn.locals:
            t = self.env.canon(v.type, ref[0])
            if t is not None and t.name in ("CPUState", "ArchCPU"):
                return True
        return False

    def _chains(
        self, parent: dict[State, tuple[State, CallEdge] | None]
    ) -> dict[str, tuple[tuple[CallEdge, FnRef], ...]]:
        depth: dict[State, int] = {}
        for st in parent:  # insertion order is BFS order: parents come first
            link = parent[st]
            depth[st] = 0 if link is None else depth[link[0]] + 1
        best: dict[str, State] = {}
        for st in parent:  # "" : the nearest entry point (a function nobody calls)
            if "" not in best and st[0] != next(iter(parent))[0] and not self.index.callers(st[0]):
                best[""] = st
        for st in parent:
            a = self.arch(st[0][0])
            if a is None:
                continue
            key = (not self._is_cpu_typed(st[0]), depth[st], st[0])
            if a not in best or key < (
                not self._is_cpu_typed(best[a][0]),
                depth[best[a]],
                best[a][0],
            ):
                best[a] = st
        chains: dict[str, tuple[tuple[CallEdge, FnRef], ...]] = {}
        for a, st in best.items():
            edges: list[tuple[CallEdge, FnRef]] = []
            cur = st
            link = parent[cur]
            while link is not None:
                prev, edge = link
                edges.append((edge, prev[0]))
                cur = prev
                link = parent[cur]
            chains[a] = tuple(edges)
        return chains

    def hook_calls(self, ref: FnRef) -> list[tuple[int, str, str]]:
        """Calls in ``ref`` whose value is a hook's verdict (or its negation):
        ``(line, hook, callee)``, whether or not the verdict is then used."""
        from qemu_lint.facts import stmt_exprs

        fn = self.index.functions[ref]
        out: list[tuple[int, str, str]] = []
        for e in stmt_exprs(fn.body):
            if e.kind != "call" or not e.args:
                continue
            f = self._resolve_atom(e, fn, ref[0])
            if f is None:
                continue
            callee = e.args[0]
            name = callee.text if callee.kind == "name" else f"->{callee.text}"
            out.extend((e.line, h.spec, name) for h in self.declared_hooks() if h.spec in str(f))
        return sorted(set(out))

    def verdict(self, site: Site) -> GuardVerdict:
        """Decide whether ``site`` runs only where a hook said "not persistent"."""
        hook, mentioned = self.guard(site.function_ref, site.expr, site.extra)
        consulted = set(mentioned)
        if hook is not None:
            return GuardVerdict(True, hook, {}, tuple(sorted(consulted)))
        parent, reaches_root, seen_hooks = self._backward(site.function_ref, stop_at_guards=True)
        consulted |= seen_hooks
        if not reaches_root:
            return GuardVerdict(True, None, {}, tuple(sorted(consulted)))
        return GuardVerdict(False, None, self._chains(parent), tuple(sorted(consulted)))

    def reaching_archs(self, ref: FnRef) -> set[str]:
        """Architectures whose code can reach ``ref`` along some call path."""
        parent, _, _ = self._backward(ref, stop_at_guards=False)
        return {a for a in (self.arch(st[0][0]) for st in parent) if a is not None}

    def arch(self, path: str) -> str | None:
        return arch_of(path, frozenset(self.archs))

    def implements_hook(self, arch: str) -> bool:
        return arch in self.acpi.hook_implementers

    def implementations(self) -> list[Implementation]:
        from qemu_lint.model.qom import implementations

        return implementations(self.index, self.hook_tables, frozenset(self.archs))

    def class_inits(self, arch: str) -> list[ClassInit]:
        """The functions of ``arch``'s code assigning its ``CPUClass`` hooks, main one first."""
        from qemu_lint.model.qom import class_inits

        return class_inits(self.index, frozenset(self.archs)).get(arch, [])


def _hooks(specs: Sequence[str], env: TypeEnv, index: CodeIndex) -> tuple[Hook, ...]:
    from qemu_lint.model.hooks import Hook

    out = []
    for spec in specs:
        if "::" in spec:
            struct, fld = spec.split("::", 1)
            s = env.struct(struct)
            f = next((x for x in s.fields if x.name == fld), None) if s is not None else None
            loc = env.structs.get(struct, [])
            out.append(
                Hook(
                    spec,
                    struct,
                    fld,
                    None,
                    f is not None,
                    f is not None and f.type.name == "<fn>",
                    loc[0].file if loc and f is not None else "",
                    f.line if f is not None else 0,
                )
            )
        else:
            refs = index.by_name.get(spec, [])
            out.append(
                Hook(
                    spec,
                    None,
                    None,
                    spec,
                    bool(refs),
                    False,
                    refs[0][0] if refs else "",
                    index.functions[refs[0]].line if refs else 0,
                )
            )
    return tuple(out)


def build_model(
    root: str,
    facts: Sequence[FileFacts],
    hooks: Sequence[str] = DEFAULT_HOOKS,
    presence_bit: int | None = None,
    cpu_aml_builder: str = "build_cpus_aml",
    all_paths: Sequence[str] = (),
    presence_fields: Sequence[str] = (),
    build: BuildConfig | None = None,
    memo: IndexMemo | None = None,
) -> Model:
    """Build the model of a tree from its files' facts.

    :param root: absolute path of the QEMU source root
    :param facts: every analysed file's facts
    :param hooks: persistence-hook designs that count (``Struct::field`` or a function name)
    :param presence_bit: the flags-register bit that ``_STA.Present`` is read
        from, overriding the one derived from the AML (None: derive it)
    :param cpu_aml_builder: the function that emits CPU hotplug AML
    :param all_paths: every file of the tree, parsed or not (architecture names)
    :param presence_fields: ``AcpiCpuStatus`` fields that count as feeding
        ``_STA.Present`` besides those the read handler packs into its bit
    :param build: what each system emulator builds (None: the folder rule)
    :param memo: the run's per-file call-graph parts, kept across the file
        selection's rounds (a file's bodies are walked the first time it
        enters the model; see :class:`~qemu_lint.model.callgraph.IndexMemo`)
    """
    from qemu_lint.model.acpi import AcpiFacts, build_acpi
    from qemu_lint.model.callgraph import build_index
    from qemu_lint.model.cexpr import build_macros
    from qemu_lint.model.guards import GuardLogic
    from qemu_lint.model.presence import derive_presence
    from qemu_lint.model.qom import build_hook_tables, build_qom
    from qemu_lint.model.reach import build_reach
    from qemu_lint.model.types import build_type_env

    files = tuple(sorted(f.path for f in facts))
    archs = discover_archs(list(files) + list(all_paths))
    env = build_type_env(facts, frozenset(archs))
    index = build_index(facts, env, memo)
    hook_objs = _hooks(hooks, env, index)
    tables = build_hook_tables(env)
    model = Model(
        root=root,
        files=files,
        env=env,
        index=index,
        archs=archs,
        hooks=hook_objs,
        acpi=AcpiFacts(),
        hook_tables=tables,
        memo=memo,
    )
    constraints = {
        h.spec: ("or", ("not", ("atom", h.spec)), ("atom", h.spec + "#implemented"))
        for h in hook_objs
        if h.is_fnptr
    }
    model.logic = GuardLogic(model._resolve_atom, constraints)
    model.macros = build_macros(facts)
    presence = derive_presence(
        facts, index, cpu_aml_builder, presence_bit, tuple(presence_fields), model.macros
    )
    model.acpi = build_acpi(
        index, env, hook_objs, frozenset(archs), presence, cpu_aml_builder, tuple(presence_fields)
    )
    model.qom = build_qom(facts, index)
    model.build = build
    model.reach = build_reach(
        facts,
        index,
        model.qom,
        frozenset(archs),
        build,
        model.flow,
        lambda ref, e: model.guard(ref, e)[0] is not None,
    )
    return model


__all__ = [
    "DEFAULT_HOOKS",
    "Attribution",
    "ClassInit",
    "GuardVerdict",
    "Hook",
    "IndexMemo",
    "Model",
    "Site",
    "build_model",
]
