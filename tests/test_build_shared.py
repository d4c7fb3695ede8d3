"""qemu_lint.build: the work shared between targets, and the scanners, give
what one target's own run gives.

The build configuration applies each source set once for all the targets that
link it (``meson.apply_many``, a bit set per configuration) and runs the
Kconfig clauses once for all the targets (``kconfig.evaluate_many``); the
targets share their hits' rule chains (``_Trails``).  Each is checked here
against a plain one-target implementation of the same rules, written out in
this file, on random inputs that reach every branch (nested and shared source
sets, conditions only the host knows, Kconfig cycles and contradictions).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence

import pytest

from qemu_lint.build import _Trails, load_build_config
from qemu_lint.build.configs import Location, Unparsed
from qemu_lint.build.kconfig import (
    And,
    Clause,
    Expr,
    KconfigResult,
    KconfigTree,
    Not,
    Or,
    Var,
    _eval,
    _tokens,
    evaluate_many,
    plan,
)
from qemu_lint.build.meson import Dep, File, Hit, Rule, SourceSet, Step, Unknown, apply_many
from qemu_lint.build.meson_ast import MesonSyntaxError, tokenize

from .conftest import SAMPLES

# source sets ---------------------------------------------------------------------

KEYS = ("CONFIG_A", "CONFIG_B", "CONFIG_C", "CONFIG_D")


def one_target_apply(ss: SourceSet, config: Mapping[str, object]) -> Iterator[Hit]:
    """``ss.apply(config, strict: false)`` for one configuration: each set once,
    depth first; a ``when:`` of unknown truth is taken as true, both branches."""
    stack: list[tuple[SourceSet, tuple[Step, ...], tuple[Unparsed, ...]]] = [(ss, (), ())]
    done: set[int] = set()
    while stack:
        cur, steps, doubts = stack.pop()
        if id(cur) in done:
            continue
        done.add(id(cur))
        nested = []
        for rule in cur.rules:
            ok, unknown = True, []
            for c in rule.when:
                if isinstance(c, str):
                    ok = ok and bool(config.get(c))
                elif isinstance(c, Dep) and c.found is not None:
                    ok = ok and c.found
                else:
                    what = c.name if isinstance(c, Dep) else c.what
                    reason = "when: condition only the host knows; taken as true"
                    unknown.append(Unparsed(rule.where, what, reason))
            unknown = unknown if ok else []
            branches = [True, False] if ok and unknown else [ok]
            here = (*unknown, rule.uncertain) if rule.uncertain is not None else tuple(unknown)
            for branch in branches:
                trail = (*steps, Step(rule.where, rule.when_text, branch))
                for item in rule.if_true if branch else rule.if_false:
                    if isinstance(item, File):
                        yield Hit(item.path, trail, (*doubts, *here))
                    elif isinstance(item, SourceSet):
                        nested.append((item, trail, (*doubts, *here)))
        stack.extend(reversed(nested))


def random_sets(rnd: random.Random) -> SourceSet:
    """A few source sets, nested in one another (shared, and in a cycle too)."""
    sets = [SourceSet(f"s{i}", Location("meson.build", i)) for i in range(rnd.randint(1, 5))]
    conds: list[object] = [*KEYS, Dep("x", True), Dep("y", False), Dep("z", None), Unknown("u")]
    line = 100
    for ss in sets:
        for _ in range(rnd.randint(0, 4)):
            line += 1
            when = tuple(rnd.sample(conds, rnd.randint(0, 2)))

            def items(n: int) -> tuple[object, ...]:
                pool = [File(f"f{rnd.randint(0, 9)}.c") for _ in range(n)]
                return tuple(pool + [rnd.choice(sets) for _ in range(rnd.randint(0, 1))])

            doubt = Unparsed(Location("meson.build", line), "if x", "d")
            keys = tuple(c for c in when if isinstance(c, str))
            text = tuple(c if isinstance(c, str) else "<c>" for c in when)
            ss.rules.append(
                Rule(
                    when,  # type: ignore[arg-type]  # the conditions of a when:
                    items(rnd.randint(0, 3)),
                    items(rnd.randint(0, 2)),
                    Location("meson.build", line),
                    doubt if rnd.random() < 0.2 else None,
                    keys if len(keys) == len(when) else None,
                    text,
                )
            )
    return sets[0]


@pytest.mark.parametrize("seed", range(4))
def test_apply_many_gives_each_configuration_its_own_hits(seed: int) -> None:
    rnd = random.Random(seed)
    uncertain = shared = 0
    for _ in range(300):
        ss = random_sets(rnd)
        configs = [{k: "y" for k in KEYS if rnd.random() < 0.5} for _ in range(rnd.randint(1, 6))]
        got = list(apply_many(ss, configs))
        for i, config in enumerate(configs):
            mine = [hit for hit, bits in got if bits >> i & 1]
            assert mine == list(one_target_apply(ss, config))
            uncertain += any(h.uncertain for h in mine)
        shared += any(bits & (bits - 1) for _, bits in got)
    assert uncertain and shared  # the inputs reach doubts, and hits of several configurations


def test_trails_are_numbered_by_value_in_order_of_first_use() -> None:
    trails = _Trails()
    a = (Step(Location("m", 1), ("CONFIG_A",), True),)
    b = (Step(Location("m", 2), (), False),)
    twin = (Step(Location("m", 1), ("CONFIG_A",), True),)  # equal to a, another tuple
    assert [trails.index(t) for t in (a, b, a, twin, b)] == [0, 1, 0, 0, 1]
    assert list(trails.numbers) == [a, b]


def test_targets_share_no_chain_twice() -> None:
    bc = load_build_config(SAMPLES / "trees" / "build-mini")
    assert len(set(bc.trails)) == len(bc.trails) > 1
    for t in bc.targets:
        for file, index in t.trail_of.items():
            last = bc.trails[index][-1]  # the rule that names the file
            assert any(m.where == last.where for m in bc.mentions[file]), (t.name, file)


# Kconfig -------------------------------------------------------------------------

SYMBOLS = [f"S{i}" for i in range(7)]


def one_target_evaluate(
    tree: KconfigTree, before: Sequence[Clause], after: Sequence[Clause]
) -> KconfigResult:
    """minikconf for one target: the clauses in plan order, each run once."""
    p = plan(tree)
    order = sorted(
        [*((k, c) for k, c in zip(p.keys, p.clauses, strict=True))]
        + [((-p.dfo.get(c.dest, -1), 0, 0, i), c) for i, c in enumerate(before)]
        + [((-p.dfo.get(c.dest, -1), 0, 2, i), c) for i, c in enumerate(after)],
        key=lambda kc: kc[0],
    )
    nowhere = Location("Kconfig", 0)
    problems = [
        Unparsed(w or nowhere, n, "undefined Kconfig symbol")
        for n, w in p.names.items()
        if n not in tree.declared
    ]
    extra = sorted(
        [((-p.dfo.get(c.dest, -1), 0, 0, i), c) for i, c in enumerate(before)]
        + [((-p.dfo.get(c.dest, -1), 0, 2, i), c) for i, c in enumerate(after)],
        key=lambda kc: kc[0],
    )
    problems += [
        Unparsed(c.where or nowhere, c.dest, "undefined Kconfig symbol")
        for _, c in extra
        if c.dest not in tree.declared
    ]
    values: dict[str, bool] = {}
    reasons: dict[str, Clause] = {}
    for _, c in order:
        try:
            ok = c.cond is None or _eval(c.cond, values)
        except KeyError as e:
            problems.append(Unparsed(c.where or nowhere, str(e), "Kconfig cycle"))
            continue
        if c.kind == "default" and (c.dest in values or not ok):
            continue
        if (c.kind == "depends" and ok) or (c.kind == "select" and not ok):
            continue
        value = c.kind == "select" or (c.kind != "depends" and c.value)
        if c.dest not in values:
            values[c.dest], reasons[c.dest] = value, c
        elif values[c.dest] != value:
            text = f"{reasons[c.dest].describe()} / {c.describe()}"
            problems.append(Unparsed(c.where or nowhere, text, "contradiction"))
    return KconfigResult(values, reasons, tuple(problems))


def random_expr(rnd: random.Random, depth: int = 0) -> Expr:
    roll = rnd.random()
    if depth > 2 or roll < 0.4:
        return Var(rnd.choice(SYMBOLS))
    if roll < 0.55:
        return Not(random_expr(rnd, depth + 1))
    kind = And if roll < 0.8 else Or
    return kind(random_expr(rnd, depth + 1), random_expr(rnd, depth + 1))


def random_tree(rnd: random.Random) -> KconfigTree:
    clauses = []
    for line in range(1, rnd.randint(2, 14)):
        kind = rnd.choice(["default", "default", "depends", "select", "assign"])
        cond = None if kind == "assign" or rnd.random() < 0.3 else random_expr(rnd)
        if kind == "depends" and cond is None:
            cond = random_expr(rnd)
        source = rnd.choice([None, "X"]) if kind in ("select", "default") else None
        dest = rnd.choice([*SYMBOLS, "UNDECLARED"])
        where = Location("Kconfig", line)
        clauses.append(Clause(kind, dest, rnd.random() < 0.6, cond, where, source))
    declared = frozenset(rnd.sample(SYMBOLS, rnd.randint(3, len(SYMBOLS))))
    return KconfigTree(declared, tuple(clauses), ("Kconfig",))


def assignments(rnd: random.Random, where: str | None) -> list[Clause]:
    return [
        Clause(
            "assign",
            rnd.choice([*SYMBOLS, "OTHER"]),
            rnd.random() < 0.5,
            None,
            Location(where, i + 1) if where else None,
            origin="" if where else "(host)",
        )
        for i in range(rnd.randint(0, 3))
    ]


def as_lists(r: KconfigResult) -> tuple[object, ...]:
    return list(r.values.items()), list(r.reasons.items()), r.problems


@pytest.mark.parametrize("seed", range(4))
def test_evaluate_many_gives_each_target_its_own_run(seed: int) -> None:
    rnd = random.Random(seed)
    seen: set[str] = set()
    for _ in range(500):
        tree = random_tree(rnd)
        runs = [
            (assignments(rnd, f"t{t}.mak"), assignments(rnd, None))
            for t in range(rnd.randint(1, 6))
        ]
        for (before, after), got in zip(runs, evaluate_many(tree, runs), strict=True):
            want = one_target_evaluate(tree, before, after)
            assert as_lists(got) == as_lists(want)  # values and reasons in the same order too
            seen.update(p.reason for p in got.problems)
    assert {"Kconfig cycle", "contradiction", "undefined Kconfig symbol"} <= seen


# scanners ------------------------------------------------------------------------


def test_meson_tokens_by_first_character() -> None:
    text = "f = files('a.c', f'@0@', '''x\ny''', '', 'it\\'s')\nfoo\t# c\n0x1F 7 e == 'f'\r\n"
    assert tokenize(text)[:-5] == [
        ("id", "f", 1),
        ("op", "=", 1),
        ("id", "files", 1),
        ("op", "(", 1),
        ("str", "a.c", 1),
        ("op", ",", 1),
        ("str", "@0@", 1),  # an f-string, kept as written
        ("op", ",", 1),
        ("str", "x\ny", 1),
        ("op", ",", 2),
        ("str", "", 2),
        ("op", ",", 2),
        ("str", "it's", 2),
        ("op", ")", 2),
        ("nl", "", 2),
        ("id", "foo", 3),
        ("nl", "", 3),
        ("num", "0x1F", 4),
        ("num", "7", 4),
        ("id", "e", 4),
        ("op", "==", 4),
        ("str", "f", 4),
        ("nl", "", 4),
    ]
    for bad, line in (("x = 'open\n", 1), ("a\\b", 1), ("\n\nx = é", 3), ("f'", 1)):
        with pytest.raises(MesonSyntaxError) as err:
            tokenize(bad)
        assert err.value.line == line, bad


def test_kconfig_tokens_by_text() -> None:
    text = "source hw/Kconfig  \nsourcex include\tinc/K\nconfig _X && !(a||b)=y & \t\r\n#c"
    assert _tokens(text) == [
        ("source", "hw/Kconfig", 1),
        ("id", "sourcex", 2),
        ("source", "inc/K", 2),
        ("kw", "config", 3),
        ("bad", "_", 3),
        ("id", "X", 3),
        ("op", "&&", 3),
        ("op", "!", 3),
        ("op", "(", 3),
        ("id", "a", 3),
        ("op", "||", 3),
        ("id", "b", 3),
        ("op", ")", 3),
        ("op", "=", 3),
        ("kw", "y", 3),
        ("bad", "&", 3),
        ("eof", "", 4),
    ]
