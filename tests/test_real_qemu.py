"""Integration tests on real QEMU trees (10.0.13, 10.0.2, 7.2) and variants of 10.0.13.

The trees come from ``../shared/scripts/qemu-src`` (via ``conftest.qemu_tree``,
which skips with a visible reason when they are unavailable; set
``QEMU_LINT_SKIP_REAL=1`` to skip on purpose).  Nothing of QEMU is committed:
variants are hard-linked copies made at test time, edited by exact string
replacement (see ``tests/qemu_variants.py``).  Each analysis of a tree runs
once per module (a check takes seconds; the whole-tree model about a minute).
"""

from __future__ import annotations

import inspect
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.engine import run, run_model
from qemu_lint.findings import Finding, Report
from qemu_lint.model.export import model_to_json
from qemu_lint.rules import default_config
from tests import qemu_variants as qv
from tests.conftest import cold_model_10013, cold_report, in_child, qemu_tree, variant_config

pytestmark = pytest.mark.real_qemu

RULE = "acpi-cpu-persistence"
HOOK_D1 = "CPUClass::cpu_persistent_status"

#: Seconds per analysis, for the curious (``pytest -s`` prints them at the end).
TIMINGS: dict[str, float] = {}


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        TIMINGS[label] = time.monotonic() - t0


def _check(root: Path, label: str, cold: bool = False) -> Report:
    # a variant's check takes its tree's unchanged files from the session's
    # facts cache; the released trees' checks (cold=True) parse every file
    config = default_config(root=str(root), cache_dir=None) if cold else variant_config(root)
    report: Report = _timed(f"check {label}", lambda: run(config))
    errors = [p for p in report.problems if p.level == "error"]
    assert not errors, errors
    return report


def _run_model(root: Path, cold: bool = False, **kw: bool) -> Any:
    # As ``qemu-lint model`` does: the check's file closure leaves out the
    # files registering hook implementations unless asked for hook tables.
    accepted = inspect.signature(run_model).parameters
    config = default_config(root=str(root), cache_dir=None) if cold else variant_config(root)
    return run_model(config, **{k: v for k, v in kw.items() if k in accepted})


def whole_tree_model(root: Path) -> dict[str, Any]:
    """The parts of the whole-tree model (every file parsed, cold) that
    test_model_closure_matches_whole_tree compares; run in a child process."""
    model = _model(root, "whole tree", cold=True, whole_tree=True)
    keep = ("implementations", "hook_tables", "archs", "persistence_hooks", "sites")
    return {k: model[k] for k in keep}


def _model(root: Path, label: str, cold: bool = False, **kw: bool) -> dict[str, Any]:
    kw = kw or {"hook_tables": True}
    model, _ = _timed(f"model {label} {sorted(kw)}", lambda: _run_model(root, cold, **kw))
    return model_to_json(model)


@pytest.fixture(scope="module")
def tree_10013() -> Path:
    return qemu_tree("10.0.13")


@pytest.fixture(scope="module", autouse=True)
def real_tree_guard() -> Iterator[dict[str, str]]:
    """sha256 of the real files the variants edit, taken before any test runs."""
    try:
        root = qemu_tree("10.0.13")
    except pytest.skip.Exception:
        yield {}
        return
    hashes = {rel: qv.sha256(root / rel) for rel in qv.EDITED_FILES}
    yield hashes
    if TIMINGS:
        lines = [f"  {v:7.1f}s  {k}" for k, v in TIMINGS.items()]
        print(f"\nqemu-lint analyses ({sum(TIMINGS.values()):.0f}s in all):\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def real_report() -> Callable[[str], tuple[Path, Report]]:
    """``real_report(version)``: the tree and its cold check report, computed
    once per test run (``conftest.cold_report``)."""

    def get(version: str) -> tuple[Path, Report]:
        root = qemu_tree(version)
        report: Report = _timed(f"check {version}", lambda: cold_report(version))
        errors = [p for p in report.problems if p.level == "error"]
        assert not errors, errors
        return root, report

    return get


@pytest.fixture(scope="module")
def model_10013(tree_10013: Path) -> dict[str, Any]:
    """The hook-table model of 10.0.13, built cold once per test run."""
    return _timed("model 10.0.13 ['hook_tables']", cold_model_10013)


@dataclass
class Variant:
    name: str
    root: Path
    report: Report

    def release_line(self, needle: str = "cdev->cpu = NULL;", rel: str = qv.ACPI_CPU_C) -> int:
        return qv.line_of(self.root / rel, needle)


@pytest.fixture(scope="module")
def variant(tree_10013: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Variant]:
    """``variant(name)``: a variant of 10.0.13 (see qemu_variants.VARIANTS), checked once."""
    cache: dict[str, Variant] = {}

    def get(name: str) -> Variant:
        if name not in cache:
            dest = tmp_path_factory.mktemp(f"qemu-{name}")
            root = qv.make_variant(tree_10013, dest, qv.VARIANTS[name])
            cache[name] = Variant(name, root, _check(root, name))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def model_d1_guarded(variant: Callable[[str], Variant]) -> dict[str, Any]:
    return _model(variant("d1-guarded").root, "d1-guarded")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _describe(findings: tuple[Finding, ...] | list[Finding]) -> str:
    return (
        "\n".join(
            f"  {f.file}:{f.line}: [{f.kind}] {f.function} archs={f.archs} hook={f.hook}: "
            f"{f.message}"
            for f in findings
        )
        or "  (no findings)"
    )


def _ours(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == RULE]


def _one(report: Report) -> Finding:
    found = _ours(report)
    assert len(found) == 1, "expected exactly one finding, got:\n" + _describe(found)
    return found[0]


def _none(report: Report) -> None:
    found = _ours(report)
    assert not found, "expected no finding, got:\n" + _describe(found)


_NULL_CPU = re.compile(r"(->|\.)cpu\s*=\s*(NULL|0)\s*;")


def _null_cpu_assignments(root: Path) -> set[tuple[str, int]]:
    """Every ``…->cpu = NULL;`` / ``….cpu = NULL;`` of the tree's C sources (tests/ excluded)."""
    r = subprocess.run(
        ["grep", "-rnE", "--include=*.c", "--include=*.h", _NULL_CPU.pattern, "."],
        cwd=root,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    assert r.returncode in (0, 1), r.stderr
    out = set()
    for hit in r.stdout.splitlines():
        path, line, _ = hit.split(":", 2)
        path = path.removeprefix("./")
        if not path.startswith("tests/"):
            out.add((path, int(line)))
    return out


def _impl_archs(model: dict[str, Any], struct: str, hook: str) -> set[str]:
    return {
        i["arch"] for i in model["implementations"] if i["struct"] == struct and i["hook"] == hook
    }


# --------------------------------------------------------------------------
# 1. Real trees: exactly the one release in acpi_cpu_unplug_cb()
# --------------------------------------------------------------------------

REAL = [
    ("10.0.13", ("i386", "loongarch")),
    ("10.0.2", ("i386", "loongarch")),
    ("7.2", ("i386",)),
]

#: other `->cpu = NULL` assignments, known to exist (not AcpiCpuStatus: never findings)
DECOYS = {
    "10.0.13": {
        "hw/intc/loongarch_extioi_common.c",
        "hw/intc/loongarch_ipi.c",
        "hw/i386/x86-common.c",
        "hw/loongarch/virt.c",
        "hw/ppc/spapr.c",
        "accel/tcg/translate-all.c",
    },
    "10.0.2": {
        "hw/intc/loongarch_extioi_common.c",
        "hw/intc/loongarch_ipi.c",
        "hw/i386/x86-common.c",
        "hw/loongarch/virt.c",
        "hw/ppc/spapr.c",
        "accel/tcg/translate-all.c",
    },
    "7.2": {"hw/i386/x86.c", "hw/ppc/spapr.c", "accel/tcg/translate-all.c"},
}


@pytest.mark.parametrize(("version", "archs"), REAL, ids=[v for v, _ in REAL])
def test_real_tree_single_release(
    version: str, archs: tuple[str, ...], real_report: Callable[[str], tuple[Path, Report]]
) -> None:
    root, report = real_report(version)
    f = _one(report)
    line = qv.line_of(root / qv.ACPI_CPU_C, "cdev->cpu = NULL;")
    assert (f.file, f.line, f.function, f.kind) == (
        qv.ACPI_CPU_C,
        line,
        "acpi_cpu_unplug_cb",
        "release",
    )
    assert f.archs == archs
    assert f.hook is None
    assert dict(f.arch_hooks) == {a: False for a in archs}
    assert re.search(r"no (CPU )?persistence hook is declared", f.message), f.message
    assert f.column == 5
    assert f.fingerprint


@pytest.mark.parametrize("version", [v for v, _ in REAL])
def test_real_tree_other_cpu_null_not_reported(
    version: str, real_report: Callable[[str], tuple[Path, Report]]
) -> None:
    root, report = real_report(version)
    sites = _null_cpu_assignments(root)
    release = (qv.ACPI_CPU_C, qv.line_of(root / qv.ACPI_CPU_C, "cdev->cpu = NULL;"))
    assert release in sites
    # the negative check means something only if the decoys are really there
    assert DECOYS[version] <= {p for p, _ in sites}, sorted(sites)
    reported = {(f.file, f.line) for f in _ours(report)}
    assert reported & sites == {release}, _describe(_ours(report))


@pytest.mark.parametrize("version", [v for v, _ in REAL])
def test_real_tree_path(version: str, real_report: Callable[[str], tuple[Path, Report]]) -> None:
    root, report = real_report(version)
    f = _one(report)
    assert len(f.path) >= 2, f.path
    last, first = f.path[-1], f.path[0]
    assert (last.file, last.line, last.function) == (f.file, f.line, f.function)
    assert first.file.startswith(("hw/i386/", "hw/loongarch/")), f.path
    # every step names a real line of a real file
    for step in f.path:
        assert (root / step.file).is_file(), step
        assert 1 <= step.line <= len(qv.read_text(root / step.file).splitlines()), step


# --------------------------------------------------------------------------
# 2. The CPUClass hook model of 10.0.13
# --------------------------------------------------------------------------


def test_model_get_arch_id(model_10013: dict[str, Any]) -> None:
    assert _impl_archs(model_10013, "CPUClass", "get_arch_id") == {
        "common",
        "i386",
        "loongarch",
        "riscv",
    }


def test_model_gdb_arch_name(model_10013: dict[str, Any]) -> None:
    assert _impl_archs(model_10013, "CPUClass", "gdb_arch_name") == {
        "arm",
        "i386",
        "loongarch",
        "ppc",
        "riscv",
        "s390x",
        "tricore",
    }


def test_model_hook_tables(model_10013: dict[str, Any]) -> None:
    tables = {t["struct"]: t for t in model_10013["hook_tables"]}
    assert tables["CPUClass"]["file"] == qv.CPU_H
    assert "SysemuCPUOps" in tables
    names = {h["name"] for h in tables["CPUClass"]["hooks"]}
    assert {"get_arch_id", "set_pc", "dump_state", "gdb_arch_name"} <= names
    assert "cpu_persistent_status" not in names


def test_model_acpi_facts(model_10013: dict[str, Any]) -> None:
    archs = model_10013["archs"]
    assert archs["i386"]["emits_cpu_aml"] is True
    assert archs["loongarch"]["emits_cpu_aml"] is True
    assert archs["arm"]["emits_cpu_aml"] is False
    assert "hw/acpi/cpu.c:acpi_cpu_unplug_cb" in archs["i386"]["unplug_reaches"]
    assert "hw/acpi/cpu.c:acpi_cpu_unplug_cb" in archs["loongarch"]["unplug_reaches"]
    assert not [a for a, v in archs.items() if v["implements_persistence_hook"]]
    assert not [h for h in model_10013["persistence_hooks"] if h["declared"]]


def test_model_generic_loader_decoy(model_10013: dict[str, Any], tree_10013: Path) -> None:
    decoy = tree_10013 / "hw/core/generic-loader.c"
    assert "s->set_pc = " in qv.read_text(decoy)  # the decoy is really there
    from_loader = [
        i for i in model_10013["implementations"] if i["file"] == "hw/core/generic-loader.c"
    ]
    assert not from_loader, from_loader


@pytest.mark.memory_heavy(rank=0)  # the largest: first (tests/conftest.py)
def test_model_closure_matches_whole_tree(model_10013: dict[str, Any], tree_10013: Path) -> None:
    """The model built from the chosen files equals the one built from every file."""
    if "whole_tree" not in inspect.signature(run_model).parameters:
        pytest.skip("run_model() always parses the whole tree")
    # cold: writing every file's facts to the cache would cost more than it
    # saves.  In a process of its own: every file's facts and the model built
    # from them (about 1 GB) go back to the system when it ends, where this
    # worker's heap would keep most of it for the rest of the run.
    whole = _timed("model 10.0.13 whole tree", lambda: in_child(whole_tree_model, tree_10013))

    def impls(m: dict[str, Any]) -> set[tuple[str, str, str, str]]:
        return {(i["struct"], i["hook"], i["arch"], i["function"]) for i in m["implementations"]}

    assert impls(model_10013) == impls(whole)
    assert model_10013["hook_tables"] == whole["hook_tables"]
    assert model_10013["archs"] == whole["archs"]
    assert model_10013["persistence_hooks"] == whole["persistence_hooks"]
    assert model_10013["sites"] == whole["sites"]


# --------------------------------------------------------------------------
# 3. Variants of 10.0.13
# --------------------------------------------------------------------------


def test_d1_guarded(variant: Callable[[str], Variant]) -> None:
    _none(variant("d1-guarded").report)


def test_d1_guarded_model(model_d1_guarded: dict[str, Any]) -> None:
    archs = model_d1_guarded["archs"]
    assert archs["arm"]["implements_persistence_hook"] is True
    assert archs["i386"]["implements_persistence_hook"] is False
    assert archs["loongarch"]["implements_persistence_hook"] is False
    impls = [i for i in model_d1_guarded["implementations"] if i["hook"] == "cpu_persistent_status"]
    assert [(i["struct"], i["arch"], i["function"], i["file"]) for i in impls] == [
        ("CPUClass", "arm", "arm_cpu_persistent_status", qv.ARM_CPU_C)
    ]
    declared = {h["hook"]: h for h in model_d1_guarded["persistence_hooks"] if h["declared"]}
    assert set(declared) == {HOOK_D1}
    assert declared[HOOK_D1]["file"] == qv.CPU_H


def _assert_release_finding(v: Variant, hook: str | None = HOOK_D1) -> Finding:
    f = _one(v.report)
    assert (f.file, f.line, f.function, f.kind) == (
        qv.ACPI_CPU_C,
        v.release_line(),
        "acpi_cpu_unplug_cb",
        "release",
    ), _describe([f])
    assert f.archs == ("i386", "loongarch")
    assert f.hook == hook
    return f


def test_d1_wrong_polarity(variant: Callable[[str], Variant]) -> None:
    f = _assert_release_finding(variant("d1-wrong-polarity"))
    assert dict(f.arch_hooks) == {"i386": False, "loongarch": False}


def test_d1_finding_says_which_archs_implement_the_hook(variant: Callable[[str], Variant]) -> None:
    # The check parses only the files that can matter: it must still find the
    # implementation registered in target/loongarch/cpu.c.
    f = _assert_release_finding(variant("d1-wrong-polarity-loongarch-implements"))
    assert dict(f.arch_hooks) == {"i386": False, "loongarch": True}
    assert f.to_json()["arch_implements_hook"] == {"i386": False, "loongarch": True}


def test_d1_ignored(variant: Callable[[str], Variant]) -> None:
    _assert_release_finding(variant("d1-ignored"))


def test_d1_different_hook(variant: Callable[[str], Variant]) -> None:
    _assert_release_finding(variant("d1-different-hook"))


def test_d1_early_return_goto(variant: Callable[[str], Variant]) -> None:
    _none(variant("d1-early-return-goto").report)


def test_d2_helper(variant: Callable[[str], Variant]) -> None:
    _none(variant("d2-helper").report)


def test_d3(variant: Callable[[str], Variant]) -> None:
    _none(variant("d3").report)


def test_d3_wrong_polarity(variant: Callable[[str], Variant]) -> None:
    _assert_release_finding(
        variant("d3-wrong-polarity"), hook="CPUHotplugState::always_present_cpus"
    )


def test_guards_in_callers(variant: Callable[[str], Variant]) -> None:
    _none(variant("guards-in-callers").report)


def test_one_caller_unguarded(variant: Callable[[str], Variant]) -> None:
    v = variant("one-caller-unguarded")
    f = _one(v.report)
    assert (f.file, f.line, f.function, f.kind) == (
        qv.ACPI_CPU_C,
        v.release_line(),
        "acpi_cpu_unplug_cb",
        "release",
    )
    assert "i386" in f.archs
    assert f.hook == HOOK_D1


def test_release_in_board(variant: Callable[[str], Variant]) -> None:
    v = variant("release-in-board")
    f = _one(v.report)
    line = v.release_line(qv.BOARD_RELEASE.strip(), qv.LOONGARCH_VIRT_C)
    assert (f.file, f.line, f.function, f.kind) == (
        qv.LOONGARCH_VIRT_C,
        line,
        "virt_cpu_unplug",
        "release",
    )
    assert f.archs == ("loongarch",)
    assert f.hook == HOOK_D1


def test_presence_flag(variant: Callable[[str], Variant]) -> None:
    v = variant("presence-flag")
    f = _one(v.report)
    line = v.release_line(qv.PRESENCE_CLEAR.strip())
    assert (f.file, f.line, f.function, f.kind) == (
        qv.ACPI_CPU_C,
        line,
        "acpi_cpu_unplug_cb",
        "presence-toggle",
    ), _describe([f])
    assert f.archs == ("i386", "loongarch")
    assert f.hook == HOOK_D1
    inserting = v.release_line(qv.INSERTING_CLEAR.strip())
    assert inserting not in {g.line for g in _ours(v.report)}


def test_d1_local_bool(variant: Callable[[str], Variant]) -> None:
    _none(variant("d1-local-bool").report)


def test_d1_negating_wrapper_elsewhere(variant: Callable[[str], Variant]) -> None:
    _none(variant("d1-negating-wrapper-elsewhere").report)


def test_release_outside_acpi_files(variant: Callable[[str], Variant]) -> None:
    v = variant("release-outside-acpi")
    f = _one(v.report)
    line = v.release_line(qv.OUTSIDE_RELEASE.strip(), qv.OUTSIDE_FILE)
    assert (f.file, f.line, f.function, f.kind) == (
        qv.OUTSIDE_FILE,
        line,
        "ged_forget_cpu",
        "release",
    )
    assert f.archs == ()
    assert "no call path" in " ".join(f.notes), f.notes  # a note at the site, not the header


# --------------------------------------------------------------------------
# Last: the real tree was not modified by any variant
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# CI output formats and related locations on the real tree
# --------------------------------------------------------------------------

#: GitHub's primaryLocationLineHash of hw/acpi/cpu.c:292 in 10.0.13, as computed
#: independently by a transliteration of github/codeql-action's src/fingerprints.ts
#: run under Node.js on the file (same value for all 738 lines of the file).
LINE_HASH_10013 = "fc3063e4f5a4e97c:1"


def test_real_tree_related_locations(real_report: Callable[[str], tuple[Path, Report]]) -> None:
    root, report = real_report("10.0.13")
    f = _one(report)
    heads = [s.note.split(" ", 2)[:2] for s in f.related]
    # where _STA.Present was derived from (issue 11) comes last
    assert heads[-4:] == [
        ["the", "AML"],
        ["CSTA", "(_STA)"],
        ["CSTA", "(_STA)"],
        ["cpu_hotplug_rd()", "packs"],
    ]
    assert all(s.file == "hw/acpi/cpu.c" for s in f.related[-4:])
    assert "CPEN as bit 0" in f.related[-4].note
    # the i386 entry is where the shown path starts
    assert (f.related[0].file, f.related[0].line) == (f.path[0].file, f.path[0].line)
    for arch in ("i386", "loongarch"):
        own = [s for s in f.related if s.note.startswith(f"{arch} ")]
        kinds = {s.note.split(" ", 2)[1] for s in own}
        assert {"enters", "emits", "builds"} <= kinds, (arch, kinds)
        for step in own:
            if step.note.split(" ", 2)[1] in ("enters", "emits"):
                assert step.file.startswith(f"hw/{arch}/"), step
                code = qv.read_text(root / step.file).splitlines()[step.line - 1]
                callee = "hotplug_handler_unplug(" if " enters " in step.note else "build_cpus_aml("
                assert callee in code, (step, code)
                assert step.function, step


def test_real_tree_sarif(real_report: Callable[[str], tuple[Path, Report]]) -> None:
    from qemu_lint.report.sarif import to_sarif
    from tests import sarif_schema

    root, report = real_report("10.0.13")
    doc = to_sarif(report)
    assert sarif_schema.errors(doc) == []
    [run] = doc["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path(report.root).as_uri() + "/"
    [result] = run["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert (loc["artifactLocation"]["uri"], loc["region"]["startLine"]) == (qv.ACPI_CPU_C, 292)
    assert result["partialFingerprints"]["primaryLocationLineHash"] == LINE_HASH_10013
    f = _one(report)
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(flow) == len(f.path) >= 2
    assert all(step["location"]["message"]["text"] for step in flow)
    related = result["relatedLocations"]
    assert [r["id"] for r in related] == list(range(1, len(f.related) + 1))
    for r in related:
        assert f"]({r['id']})" in result["message"]["text"]


def test_real_tree_gitlab_and_github(real_report: Callable[[str], tuple[Path, Report]]) -> None:
    import io

    from qemu_lint.report import github
    from qemu_lint.report.base import RenderOptions
    from qemu_lint.report.gitlab import to_gitlab

    _, report = real_report("10.0.13")
    [issue] = to_gitlab(report)
    assert issue["location"] == {"path": qv.ACPI_CPU_C, "lines": {"begin": 292, "end": 292}}
    assert issue["severity"] == "major" and issue["description"].endswith(f" [{RULE}]")
    out = io.StringIO()
    github.render(report, out, RenderOptions())
    first = out.getvalue().splitlines()[0]
    assert first.startswith(
        "::error file=hw/acpi/cpu.c,line=292,col=5,endLine=292,endColumn=21,"
        f"title=qemu-lint ({RULE})::"
    )


def test_related_names_the_hook_and_its_implementer(variant: Callable[[str], Variant]) -> None:
    v = variant("d1-wrong-polarity-loongarch-implements")
    f = _assert_release_finding(v)
    places = {(s.file, s.line): s.note for s in f.related}
    decl = qv.line_of(v.root / "include/hw/core/cpu.h", "(*cpu_persistent_status)")
    assert places[("include/hw/core/cpu.h", decl)] == f"declares the persistence hook {HOOK_D1}"
    impl = qv.line_of(v.root / "target/loongarch/cpu.c", "cc->cpu_persistent_status =")
    assert places[("target/loongarch/cpu.c", impl)] == (
        f"loongarch implements the persistence hook {HOOK_D1}"
    )
    # i386 does not implement it, and arm (which does) does not reach the site
    assert not any(n.startswith(("i386 implements", "arm ")) for n in places.values())


def test_zz_real_tree_unchanged(tree_10013: Path, real_tree_guard: dict[str, str]) -> None:
    assert {qv.ACPI_CPU_C, qv.CPU_H} <= set(real_tree_guard)
    now = {rel: qv.sha256(tree_10013 / rel) for rel in real_tree_guard}
    assert now == real_tree_guard
