"""The clang front-end's shared precompiled ``qemu/osdep.h`` (frontends/clang/pch.py).

* Which units may share one: their main file begins with the ``#include``, no
  forced include, at least two units with the same flags, not osdep.h itself.
* The facts and the included files of a unit are the same with and without it,
  for a ``.c`` file and for a header read through its includer.
* A header osdep.h includes is parsed whole; a precompiled file clang refuses
  (corrupt) falls back to a whole parse with the same facts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qemu_lint.facts import FileFacts

pytest.importorskip("clang.cindex", reason="the libclang package is not installed")

pytestmark = pytest.mark.clang

OSDEP = """\
#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H
#include "qemu/compiler.h"
typedef struct Object { int refs; } Object;
#define OBJECT(o) ((Object *)(o))
#define FORGET(p) ((p)->refs = 0)
static inline int object_refs(Object *o) { return o->refs; }
#endif
"""
COMPILER = """\
#ifndef QEMU_COMPILER_H
#define QEMU_COMPILER_H
#define QEMU_ALWAYS 1
static inline int always(void) { return QEMU_ALWAYS; }
#endif
"""
DEV_H = """\
#include "qemu/compiler.h"
typedef struct Dev { Object parent; void *cpu; } Dev;
static inline void dev_forget(Dev *d) { d->cpu = 0; FORGET(OBJECT(d)); }
"""
A_C = """\
/* a licence comment */
// and a line comment
#include "qemu/osdep.h"
#include "hw/dev.h"
#define LOCAL(d) ((d)->cpu = 0)
void a(Dev *d, void *o)
{
    LOCAL(d);
    dev_forget(d);
    if (object_refs(OBJECT(o)) > always())
        FORGET(OBJECT(o));
}
"""
B_C = '#include "qemu/osdep.h"\nint b(Object *o) { return object_refs(o); }\n'
LATE_C = '#include "hw/dev.h"\n#include "qemu/osdep.h"\nint late;\n'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "include/qemu/osdep.h": OSDEP,
        "include/qemu/compiler.h": COMPILER,
        "include/hw/dev.h": DEV_H,
        "hw/a.c": A_C,
        "hw/b.c": B_C,
        "hw/late.c": LATE_C,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def _plans(tree: Path, paths: list[str]) -> list:  # type: ignore[type-arg]
    from qemu_lint.frontends.clang.compdb import Planner

    every = sorted(str(p.relative_to(tree)) for p in tree.rglob("*.[ch]"))
    planner = Planner(str(tree), every, lambda i: (tree / every[i]).read_bytes(), None)
    return [planner.plan(p) for p in paths]


def _read(path: str) -> bytes | None:
    return Path(path).read_bytes()


def test_which_units_share_one(tree: Path) -> None:
    from qemu_lint.frontends.clang.pch import plan_pchs

    paths = ["hw/a.c", "hw/b.c", "hw/late.c", "include/hw/dev.h", "include/qemu/osdep.h"]
    a, b, late, dev, osdep = plan_pchs(_plans(tree, paths), str(tree / "pch"), _read)
    assert a is not None and b == a  # same flags (derived for hw/), comments before the include
    assert late is None  # osdep.h is not its first include
    assert osdep is None  # the precompiled header itself
    assert dev == a  # read through hw/a.c, with its flags
    # one unit alone with its flags: building would cost what it saves
    assert plan_pchs(_plans(tree, ["hw/a.c"]), str(tree / "pch"), _read) == [None]
    # a forced include would come after the precompiled osdep.h instead of before it
    forced = [
        p.__class__(**{**_fields(p), "args": (*p.args, "-include", "x.h")})
        for p in _plans(tree, ["hw/a.c", "hw/b.c"])
    ]
    assert plan_pchs(forced, str(tree / "pch"), _read) == [None, None]


def _fields(plan: object) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}  # type: ignore[arg-type]


def _with_and_without(tree: Path, path: str, pch_for: str = "hw/a.c") -> tuple:  # type: ignore[type-arg]
    from qemu_lint.frontends.clang.extract import extract_unit
    from qemu_lint.frontends.clang.pch import build, plan_pchs

    plan, other = _plans(tree, [pch_for, "hw/b.c"])
    spec = plan_pchs([plan, other], str(tree), _read)[0]
    assert spec is not None
    deps = build(spec)
    assert deps is not None and str(tree / "include/qemu/compiler.h") in deps
    target = _plans(tree, [path])[0]
    data = (tree / path).read_bytes()
    whole = extract_unit(target, data)
    shared = extract_unit(target, data, (spec.path, deps))
    return whole, shared, spec


def test_same_facts_with_the_precompiled_header(tree: Path) -> None:
    (whole, whole_deps), (shared, shared_deps), _ = _with_and_without(tree, "hw/a.c")
    assert isinstance(whole, FileFacts) and isinstance(shared, FileFacts)
    assert repr(shared) == repr(whole)
    assert set(shared_deps) == set(whole_deps)
    # the macros osdep.h defines are still seen at their invocations
    fn = shared.functions[0]
    assert [s.expr.kind for s in fn.body.body[:1]] == ["assign"]  # type: ignore[union-attr]
    assert [d.name for d in shared.defines] == ["LOCAL"]


def test_a_header_osdep_includes_is_parsed_whole(tree: Path) -> None:
    from qemu_lint.frontends.clang.extract import extract_unit

    (whole, whole_deps), (shared, _), spec = _with_and_without(tree, "include/qemu/compiler.h")
    assert isinstance(whole, FileFacts) and [d.name for d in whole.defines] == [
        "QEMU_COMPILER_H",
        "QEMU_ALWAYS",
    ]
    assert repr(shared) == repr(whole)
    # and a header read after osdep.h (through hw/a.c) keeps its inline functions
    target = _plans(tree, ["include/hw/dev.h"])[0]
    data = (tree / "include/hw/dev.h").read_bytes()
    deps = (str(tree / "include/qemu/osdep.h"), str(tree / "include/qemu/compiler.h"))
    got, _ = extract_unit(target, data, (spec.path, deps))
    assert isinstance(got, FileFacts) and [f.name for f in got.functions] == ["dev_forget"]
    assert repr(got) == repr(extract_unit(target, data)[0])


def test_a_refused_precompiled_header_falls_back(tree: Path) -> None:
    from qemu_lint.frontends.clang.extract import extract_unit

    (whole, _), _, spec = _with_and_without(tree, "hw/a.c")
    Path(spec.path).write_bytes(b"not a precompiled header")
    data = (tree / "hw/a.c").read_bytes()
    got, deps = extract_unit(_plans(tree, ["hw/a.c"])[0], data, (spec.path, ("/nowhere.h",)))
    assert repr(got) == repr(whole)
    assert "/nowhere.h" not in deps


# -- a unit's own leading #include lines, precompiled on top of osdep.h ------

BASE_H = """\
#ifndef HW_BASE_H
#define HW_BASE_H
typedef struct Base { int x; } Base;
#define BASE_X 1
#endif
"""
T_H = """\
#ifndef HW_T_H
#define HW_T_H
#include "hw/base.h"
typedef struct T { Base b; struct Later *later; } T;
#define T_X(t) ((t)->b.x + BASE_X)
static inline int t_x(T *t) { return T_X(t); }
#endif
"""
U_H = "int u_count;\nstatic inline int u_more(void) { return u_count + 1; }\n"  # no guard
C_C = """\
/* leading comment */
#include "qemu/osdep.h"
#include "hw/base.h"
#include "hw/t.h"   // trailing comment
#include "hw/u.h"
#include "gen/missing.h"
#define LOCAL 2
struct Later { int y; };
int c(T *t) { return T_X(t) + t_x(t) + u_more() + LOCAL; }
"""


@pytest.fixture
def prefixed(tree: Path) -> Path:
    for rel, text in {"include/hw/base.h": BASE_H, "include/hw/t.h": T_H}.items():
        (tree / rel).write_text(text)
    (tree / "include/hw/u.h").write_text(U_H)
    (tree / "hw/c.c").write_text(C_C)
    return tree


@pytest.mark.parametrize("path", ["hw/c.c", "include/hw/t.h", "include/hw/u.h"])
def test_same_facts_with_the_main_files_includes_precompiled(
    prefixed: Path, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qemu_lint.frontends.clang import extract, pch

    built: list[object] = []
    real = pch.build_prefix

    def counting(*args: object) -> object:
        got = real(*args)  # type: ignore[arg-type]
        built.append(got)
        return got

    monkeypatch.setattr(pch, "build_prefix", counting)
    guarded: list[bool] = []
    real_guarded = extract._guarded

    def asking(*args: object) -> bool:
        guarded.append(real_guarded(*args))  # type: ignore[arg-type]
        return guarded[-1]

    monkeypatch.setattr(extract, "_guarded", asking)
    (whole, whole_deps), (shared, shared_deps), _ = _with_and_without(prefixed, path, "hw/c.c")
    assert len(built) == 1 and built[0] is not None  # the prefix was precompiled and used
    assert isinstance(whole, FileFacts) and repr(shared) == repr(whole)
    if path == "hw/c.c":
        # the missing header's error is on a line of the prefix: still counted
        assert whole.error_nodes == 1 and [d.name for d in whole.defines] == ["LOCAL"]
        assert set(shared_deps) == set(whole_deps) and guarded == []
    elif path == "include/hw/t.h":
        # read through hw/c.c, which clang was given up to its #include line: a
        # guarded header's declarations do not depend on what follows
        assert [f.name for f in whole.functions] == ["t_x"]
        assert str(prefixed / "include/hw/u.h") in whole_deps
        assert str(prefixed / "include/hw/u.h") not in shared_deps
        assert set(shared_deps) <= set(whole_deps) and guarded == [True]
    else:  # not guarded: the main file is parsed whole after all
        assert [f.name for f in whole.functions] == ["u_more"]
        assert set(shared_deps) == set(whole_deps) and guarded == [False]


def test_the_rounds_of_a_selection_share_what_they_precompiled(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches given the same workers (a file selection's rounds) build a
    header once: a later batch's single unit with those flags uses it; the
    folder goes when the workers close.  A batch without workers builds
    and removes its own."""
    import os

    from qemu_lint.frontends import pool

    real = pool._build_pch
    builds: list[str] = []

    def spy(spec):  # type: ignore[no-untyped-def]
        builds.append(spec.path)
        return real(spec)

    monkeypatch.setattr(pool, "_build_pch", spy)
    a, b, alone = _plans(tree, ["hw/a.c", "hw/b.c", "hw/b.c"])
    batch = [(a, (tree / "hw/a.c").read_bytes()), (b, (tree / "hw/b.c").read_bytes())]
    workers = pool.Workers(1)
    first = pool.extract_units(batch, 1, scratch=str(tree), workers=workers)
    assert len(builds) == 1 and os.path.isfile(builds[0])
    used: list[object] = []
    real_unit = pool._extract_unit

    def unit_spy(task):  # type: ignore[no-untyped-def]
        used.append(task[2])
        return real_unit(task)

    monkeypatch.setattr(pool, "_extract_unit", unit_spy)
    later = pool.extract_units([(alone, batch[1][1])], 1, scratch=str(tree), workers=workers)
    assert len(builds) == 1, "built again"
    assert used and used[0] is not None and used[0][0] == builds[0]  # type: ignore[index]
    assert repr(later[0][0]) == repr(first[1][0])
    folder = os.path.dirname(builds[0])
    workers.close()
    assert not os.path.exists(folder)
    # on its own, one unit with those flags builds nothing
    pool.extract_units([(alone, batch[1][1])], 1, scratch=str(tree))
    assert len(builds) == 1
