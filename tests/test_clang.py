"""The clang front-end (precise mode): parity with tree-sitter, compile commands, real QEMU.

* Parity: every sample (each case of ``samples/rules/<rule>/`` overlaid on its
  ``_base``, and each ``samples/trees/<tree>``) is checked with both
  front-ends; the findings (every field) and the ``model --format json``
  document must be identical, except at lines a sample marks
  ``/* expect-clang: … */`` or ``/* expect-tree-sitter: … */`` (a difference
  on purpose).  The clang findings must match ``expect`` + ``expect-clang``.
* A tiny ``compile_commands.json`` with a ``-D`` that switches an ``#ifdef``
  guard: the clang front-end honours it.
* Real QEMU 10.0.13 without a build: same finding set as tree-sitter.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.engine import run, run_model
from qemu_lint.facts import FileFacts
from qemu_lint.findings import Report
from qemu_lint.model.export import model_to_json
from qemu_lint.rules import ALL_RULES, default_config
from qemu_lint.settings import Config
from tests.conftest import SAMPLES, cold_report, marker_attrs, markers, materialize, qemu_tree
from tests.test_samples import CASES

clang = pytest.importorskip("clang.cindex", reason="the libclang package is not installed")


def _libclang_loads() -> str | None:
    from qemu_lint.errors import LintError
    from qemu_lint.frontends.clang.loader import load_cindex

    try:
        load_cindex()
    except LintError as e:
        return str(e)
    return None


_why = _libclang_loads()
pytestmark = [
    pytest.mark.clang,
    pytest.mark.skipif(_why is not None, reason=f"libclang unavailable: {_why}"),
]


def _config(tree: Path, frontend: str, **kw: Any) -> Config:
    """The configuration the generic sample test uses for ``tree`` (its own
    ``.qemu-lint.toml``, if any), on ``frontend``.  With ``select=(rule,)``,
    the rules the tree's suppressions name run too, as there."""
    from tests.test_samples import case_config

    select = kw.pop("select", None)
    base = case_config(tree, select[0] if select else ALL_RULES[0].id)
    if not select:
        base = dataclasses.replace(base, select=())
    return dataclasses.replace(base, frontend=frontend, **kw)


def _findings(report: Report) -> list[dict[str, Any]]:
    out = []
    for f in report.findings:
        d = dataclasses.asdict(f)
        d.pop("frame", None)  # the source lines around the site (same file, same lines)
        if d.get("fix") and d["fix"]["span"]:
            # clang's statement extent stops before its ';', tree-sitter's takes
            # it: the fix stage edits whole lines, so the lines are what count
            d["fix"]["span"].pop("end_col")
        out.append(d)
    return out


def _model_doc(
    tree: Path, frontend: str, skip: set[tuple[str, int]], cache: Path
) -> dict[str, Any]:
    model, _ = run_model(_config(tree, frontend, cache_dir=str(cache)), hook_tables=True)
    doc = model_to_json(model)
    marked_fns = {
        (s["file"], s["function"]) for s in doc["sites"] if (s["file"], s["line"]) in skip
    }
    doc["sites"] = [s for s in doc["sites"] if (s["file"], s["line"]) not in skip]
    kept_fns = {(s["file"], s["function"]) for s in doc["sites"]}
    gone = {f"{f}:{fn}" for f, fn in marked_fns - kept_fns}
    for facts in doc["archs"].values():
        facts["unplug_reaches"] = [r for r in facts["unplug_reaches"] if r not in gone]
    return doc


#: Cases where the front-ends disagree since issues 10 and 11 landed (known,
#: listed as open work in docs/precise-mode.md): strict, so a fix is noticed.
KNOWN_DIFFERENCES = {
    "macro-release": "clang's path to the macro release reaches loongarch; tree-sitter's, none",
    "typeof-alias": "clang's path to the typeof release reaches loongarch; tree-sitter's, none",
    "release-free": "clang does not see g_free() of an AcpiCpuStatus entry in cpu_free.c",
}


def _parity_params() -> list[object]:
    out: list[object] = []
    for r, c in CASES:
        why = KNOWN_DIFFERENCES.get(c.name) if r == "acpi-cpu-persistence" else None
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        out.append(pytest.param(r, c, id=f"{r}/{c.name}", marks=marks))
    return out


@pytest.mark.parametrize(("rule_id", "case"), _parity_params())
def test_parity(rule_id: str, case: Path, tmp_path: Path) -> None:
    tree = materialize(case, tmp_path / "tree")
    marks = markers(tree)
    only_clang = {m for m in marks["expect-clang"] if m[2] == rule_id}
    only_ts = {m for m in marks["expect-tree-sitter"] if m[2] == rule_id}
    cache = tmp_path / "cache"  # shared by the runs below: each file is parsed once per front-end
    ts = run(_config(tree, "tree-sitter", select=(rule_id,), cache_dir=str(cache)))
    cl = run(_config(tree, "clang", select=(rule_id,), cache_dir=str(cache)))
    assert not [p for p in cl.problems if p.level == "error"], cl.problems

    # clang reports exactly what the markers say it should
    want = {m for m in marks["expect"] | marks["expect-clang"] if m[2] == rule_id}
    tolerated = {m for m in marks["todo-expect"] | marks["todo-ok"] if m[2] == rule_id}
    got = {(f.file, f.line, f.rule) for f in cl.findings if f.rule == rule_id}
    assert want - got == set(), f"clang missed {sorted(want - got)}"
    assert got - want - tolerated == set(), f"clang reported {sorted(got - want - tolerated)}"
    for (kind, path, line, rule), attrs in marker_attrs(tree).items():
        if kind == "expect-clang" and rule == rule_id:
            f = next(f for f in cl.findings if (f.file, f.line) == (path, line))
            if "archs" in attrs:
                assert list(f.archs) == ([] if attrs["archs"] == "-" else attrs["archs"].split(","))
            if "kind" in attrs:
                assert f.kind == attrs["kind"]

    # everywhere else, the same findings, field for field
    marked = {(m[0], m[1]) for m in only_clang | only_ts}
    a = [f for f in _findings(ts) if (f["file"], f["line"]) not in marked]
    b = [f for f in _findings(cl) if (f["file"], f["line"]) not in marked]
    assert json.dumps(b, indent=1) == json.dumps(a, indent=1)

    # and the same model
    doc_ts = _model_doc(tree, "tree-sitter", marked, cache)
    doc_cl = _model_doc(tree, "clang", marked, cache)
    assert json.dumps(doc_cl, indent=1, sort_keys=True) == json.dumps(
        doc_ts, indent=1, sort_keys=True
    )


def test_some_sample_differs_on_purpose() -> None:
    """At least one sample holds a macro-hidden release only clang sees."""
    found = []
    for rule_dir in (SAMPLES / "rules").iterdir():
        for p in rule_dir.rglob("*.c"):
            if "expect-clang:" in p.read_text(encoding="utf-8"):
                found.append(p)
    assert any("#define" in p.read_text(encoding="utf-8") for p in found), found


def _write_db(tree: Path, build: Path, defines: list[str]) -> None:
    build.mkdir()
    entries = []
    for c in sorted(tree.rglob("*.c")):
        rel = c.relative_to(tree).as_posix()
        argv = ["cc", "-I../tree/include", "-I../tree", *defines, "-c", f"../tree/{rel}"]
        argv += ["-o", f"{rel}.o", "-MD", "-MF", f"{rel}.d", "-Wall", "-fno-gcse"]
        entries.append({"directory": str(build), "arguments": argv, "file": f"../tree/{rel}"})
    # QEMU compiles some files once per target: a second, user-mode entry for one file
    dup = dict(entries[0])
    dup["arguments"] = [*entries[0]["arguments"], "-DCONFIG_USER_ONLY"]
    entries.append(dup)
    (build / "compile_commands.json").write_text(json.dumps(entries, indent=1))


def test_compile_commands_define_switches_a_guard(tmp_path: Path) -> None:
    case = SAMPLES / "rules" / "acpi-cpu-persistence" / "config-guard"
    tree = materialize(case, tmp_path / "tree")
    site = next(iter(markers(tree)["expect-clang"]))

    with_define = tmp_path / "build-on"
    _write_db(tree, with_define, ["-DCONFIG_ACPI_CPU_ALWAYS_PRESENT"])
    # the flagship rule's guard is what the switch is about (with it on, a
    # vCPU is kept, and the eject path's unparent is acpi-cpu-kept-alive's)
    on = run(_config(tree, "clang", build_dir=str(with_define), select=(site[2],)))
    assert [(f.file, f.line) for f in on.findings] == []

    without = tmp_path / "build-off"
    _write_db(tree, without, [])
    off = run(_config(tree, "clang", build_dir=str(without)))
    assert [(f.file, f.line, f.rule) for f in off.findings] == [site]

    # tree-sitter reads both branches of the #ifdef: the guard is there
    assert run(_config(tree, "tree-sitter", select=(site[2],))).findings == ()


def test_compile_commands_dedup_prefers_system_emulation(tmp_path: Path) -> None:
    from qemu_lint.frontends.clang.compdb import load_compile_db

    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    _write_db(tree, tmp_path / "build", ["-DX=1"])
    db = load_compile_db(str(tmp_path / "build"), str(tree))
    assert len(db) == len(list(tree.rglob("*.c")))
    for cmd in db.values():
        assert "-DCONFIG_USER_ONLY" not in cmd.flags
        assert "-DX=1" in cmd.flags and "-Wall" not in cmd.flags and "-fno-gcse" not in cmd.flags


def test_bad_compile_commands_is_an_input_error(tmp_path: Path) -> None:
    from qemu_lint.cli import main

    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    build = tmp_path / "build"
    build.mkdir()
    assert main(["check", "--frontend", "clang", "--no-cache", "-p", str(build), str(tree)]) == 2
    (build / "compile_commands.json").write_text("{not json")
    assert main(["check", "--frontend", "clang", "--no-cache", "-p", str(build), str(tree)]) == 2
    assert main(["check", "--no-cache", "-p", str(build), str(tree)]) == 2
    missing = str(tmp_path / "no-such-build")
    assert main(["check", "--frontend", "clang", "--no-cache", "-p", missing, str(tree)]) == 2


def test_clang_cache_is_kept_apart_and_follows_headers(tmp_path: Path) -> None:
    """Entries are keyed by front-end; editing a header re-extracts its includers."""
    tree = materialize(SAMPLES / "rules" / "acpi-cpu-persistence" / "macro-release", tmp_path / "t")
    cache = tmp_path / "cache"
    first = run(_config(tree, "clang", cache_dir=str(cache)))
    ts = run(_config(tree, "tree-sitter", cache_dir=str(cache)))
    assert len(first.findings) == 2 and len(ts.findings) == 1
    again = run(_config(tree, "clang", cache_dir=str(cache)))
    assert [f.line for f in again.findings] == [f.line for f in first.findings]
    # the macro moves to a header: cpu.c's facts must follow the header's edits
    cpu_c = tree / "hw" / "acpi" / "cpu.c"
    text = cpu_c.read_text()
    define = "#define ACPI_CPU_FORGET(cdev) ((cdev)->cpu = NULL)\n"
    cpu_c.write_text(text.replace(define, '#include "hw/acpi/forget.h"\n'))
    header = tree / "include" / "hw" / "acpi" / "forget.h"
    header.write_text(define)
    assert len(run(_config(tree, "clang", cache_dir=str(cache))).findings) == 2
    header.write_text("#define ACPI_CPU_FORGET(cdev) ((cdev)->is_removing = false)\n")
    assert len(run(_config(tree, "clang", cache_dir=str(cache))).findings) == 1


@pytest.mark.real_qemu
@pytest.mark.memory_heavy
def test_real_qemu_same_findings_without_a_build() -> None:
    """QEMU 10.0.13, no build folder: clang runs to the end with tree-sitter's findings."""
    root = qemu_tree("10.0.13")
    ts = cold_report("10.0.13")  # tree-sitter's cold check, shared with other tests
    cl = run(default_config(root=str(root), frontend="clang", jobs=2))
    key = [(f.file, f.line, f.rule, f.kind, f.archs) for f in ts.findings]
    assert [(f.file, f.line, f.rule, f.kind, f.archs) for f in cl.findings] == key
    assert ("hw/acpi/cpu.c", 292) in {(f.file, f.line) for f in cl.findings}
    assert not [p for p in cl.problems if p.level == "error"]


MACROS_C = """\
typedef struct S { void *cpu; int x; } S;
#define NULL ((void *)0)
#define AS_S(o) ((S *)(o))
#define FORGET(s) ((s)->cpu = NULL)
#define SET(a, v) a = v
typedef void (*fn_t)(S *s);
void f(S *s, void *o, fn_t cb)
{
    FORGET(s);
    AS_S(o)->x = 1;
    SET(s->cpu, NULL);
    __typeof__(s) t = s;
    t->cpu = NULL;
    cb(s);
}
"""


def test_macro_shapes(tmp_path: Path) -> None:
    """Pure macros keep their written shape, writing ones are expanded in place."""
    from qemu_lint.facts import TypeRef
    from qemu_lint.frontends.clang.compdb import Planner
    from qemu_lint.frontends.clang.extract import extract_unit

    (tmp_path / "m.c").write_text(MACROS_C)
    data = MACROS_C.encode()
    plan = Planner(str(tmp_path), ["m.c"], lambda i: data, None).plan("m.c")
    facts, deps = extract_unit(plan, data)
    assert isinstance(facts, FileFacts), facts
    assert str(tmp_path / "m.c") in deps
    fn = facts.functions[0]
    forget, cast, setter, decl, plain, call = fn.body.body
    # FORGET(s): the assignment its body writes, placed at the invocation
    e = forget.expr
    assert e is not None and (e.kind, e.op) == ("assign", "=")
    assert (e.line, e.col, e.end_line, e.end_col) == (9, 5, 9, 14)
    lhs, rhs = e.args
    assert (lhs.kind, lhs.text, lhs.args[0].kind, lhs.args[0].text) == ("field", "cpu", "name", "s")
    assert (lhs.args[0].line, lhs.args[0].col) == (9, 12)  # the argument keeps its place
    assert rhs.kind == "cast" and rhs.args[0].kind == "const" and rhs.args[0].text == "0"
    # AS_S(o)->x: a call of AS_S, typed by the compiler
    base = cast.expr.args[0].args[0]  # type: ignore[union-attr]
    assert (base.kind, base.args[0].text, base.args[1].text) == ("call", "AS_S", "o")
    assert base.type == TypeRef("S", 1)
    # SET(s->cpu, NULL): the assignment is in the body, its operands written as arguments
    lhs, rhs = setter.expr.args  # type: ignore[union-attr]
    assert (lhs.kind, lhs.text, lhs.col, lhs.end_col) == ("field", "cpu", 9, 15)
    assert (rhs.kind, rhs.text) == ("const", "NULL")
    # typeof(s) is the type of s
    assert decl.kind == "decl" and decl.type == TypeRef("S", 1)
    assert plain.expr.args[1].text == "NULL"  # type: ignore[union-attr]
    assert call.expr.args[0].text == "cb"  # type: ignore[union-attr]


def test_function_pointer_without_prototype(tmp_path: Path) -> None:
    """``void (*f)()`` from a header (its text not at hand) has no parameter
    types to list: the signature is ``()`` (target/s390x/cpu.h was skipped
    on a libclang assertion)."""
    from qemu_lint.frontends.clang.compdb import Planner
    from qemu_lint.frontends.clang.extract import extract_unit

    (tmp_path / "k.h").write_text("#define OLD(n) void (*n)()\n")
    text = '#include "k.h"\nstruct Ops { OLD(old); int (*new)(int); };\n'
    (tmp_path / "k.c").write_text(text)
    plan = Planner(str(tmp_path), ["k.c", "k.h"], lambda i: text.encode(), None).plan("k.c")
    facts, _ = extract_unit(plan, text.encode())
    assert isinstance(facts, FileFacts), facts
    old, new = facts.structs[0].fields
    assert (old.type.name, old.type.signature) == ("<fn>", "void ()")
    assert new.type.signature == "int (int)"


def test_unparsable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qemu_lint.frontends.clang.extract as front

    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    real = front.extract_unit

    def broken(plan: front.Plan, data: bytes, pch: Any = None) -> Any:
        if plan.path == "hw/i386/pc.c":
            raise RuntimeError("libclang crashed")
        return real(plan, data, pch)

    monkeypatch.setattr(front, "extract_unit", broken)
    report = run(_config(tree, "clang"))
    assert [p.file for p in report.problems] == ["hw/i386/pc.c"]
    assert "skipped: libclang could not parse it" in report.problems[0].message
    assert [(f.file, f.line) for f in report.findings] == [("hw/acpi/cpu.c", 53)]


def test_derived_flags_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    with caplog.at_level("WARNING"):
        report = run(_config(tree, "clang"))
    said = [r for r in caplog.records if "no compilation database" in r.getMessage()]
    assert len(said) == 1
    assert report.stats.parsed_files > 10


def test_no_system_compiler_is_said_and_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import qemu_lint.frontends.clang.loader as front

    monkeypatch.setattr(front, "builtin_include_dir", lambda: None)
    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    with caplog.at_level("WARNING"):
        report = run(_config(tree, "clang"))
    assert any("builtin headers" in r.getMessage() for r in caplog.records)
    assert [(f.file, f.line) for f in report.findings] == [("hw/acpi/cpu.c", 53)]


def test_missing_libclang_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    import qemu_lint.frontends.clang.loader as front
    from qemu_lint.cli import main

    tree = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    monkeypatch.setitem(sys.modules, "clang", None)  # import clang.cindex fails
    monkeypatch.setitem(sys.modules, "clang.cindex", None)
    front.load_cindex.cache_clear()
    try:
        assert main(["check", "--frontend", "clang", "--no-cache", str(tree)]) == 2
    finally:
        front.load_cindex.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "needs libclang" in err[0] and "[clang] extra" in err[0], err
