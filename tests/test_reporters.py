"""Reporters (stage 7): exact output pinned by golden files, plus format contracts.

Regenerate the golden files with ``QEMU_TEST_REGENERATE=1``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from qemu_lint.findings import Finding, Problem, Report, RuleInfo, Stats
from qemu_lint.report.base import RenderOptions
from qemu_lint.report.model import render_model_json, render_model_table
from qemu_lint.report.registry import REPORTERS
from qemu_lint.report.text import summary_line
from qemu_lint.rule import PathStep, Properties

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[")
HEADER = re.compile(r"^[^:]+:\d+:\d+: (error|warning|note): .+ \[[a-z-]+\]$")

RELEASE = Finding(
    rule="acpi-cpu-persistence",
    severity="error",
    kind="release",
    file="hw/acpi/cpu.c",
    line=292,
    column=5,
    end_line=292,
    end_column=21,
    function="acpi_cpu_unplug_cb",
    message="AcpiCpuStatus::cpu released without consulting the CPU persistence hook",
    path=(
        PathStep("hw/acpi/ich9.c", 512, "ich9_pm_device_unplug_cb", "unplug handler of ICH9 LPC"),
        PathStep("hw/acpi/cpu.c", 288, "acpi_cpu_unplug_cb", "no persistence hook consulted"),
        PathStep("hw/acpi/cpu.c", 292, "acpi_cpu_unplug_cb", "'cdev->cpu' cleared here"),
    ),
    fingerprint="0123456789abcdef0123456789abcdef",
    properties=Properties(
        archs=("i386", "loongarch"), arch_hooks={"i386": False, "loongarch": False}
    ),
    related=(
        PathStep(
            "hw/i386/x86-common.c",
            233,
            "x86_cpu_unplug_cb",
            "i386 enters the path to the site: calls hotplug_handler_unplug()",
        ),
        PathStep(
            "hw/loongarch/virt-acpi-build.c",
            377,
            "build_la_ged_aml",
            "loongarch emits the CPU hotplug AML: calls build_cpus_aml()",
        ),
    ),
    line_hash="fc3063e4f5a4e97c:1",
    frame=(
        (290, "    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);"),
        (291, ""),
        (292, "    cdev->cpu = NULL;"),
        (293, "    cdev->is_removing = false;"),
        (294, "}"),
    ),
)

TOGGLE = Finding(
    rule="acpi-cpu-persistence",
    severity="warning",
    kind="presence-toggle",
    file="hw/loongarch/virt.c",
    line=40,
    column=9,
    end_line=40,
    end_column=33,
    function="virt_cpu_unplug",
    message="'is_present' cleared without consulting the CPU persistence hook",
    path=(),
    fingerprint="fedcba9876543210fedcba9876543210",
    properties=Properties(
        archs=("loongarch",), hook="CPUClass::cpu_persistent_status", arch_hooks={"loongarch": True}
    ),
)

REPORT = Report(
    root="/src/qemu",
    findings=(RELEASE, TOGGLE),
    problems=(Problem("hw/arm/virt.c", "3 syntax error regions; results may be incomplete"),),
    stats=Stats(files=3, bytes=123456, seconds=0.5),
    rules=(RuleInfo("acpi-cpu-persistence", "error", "summary", "doc"),),
    tool_version="0.1.0",
)

MODEL: dict[str, Any] = {
    "version": 1,
    "root": "/src/qemu",
    "hook_tables": [
        {
            "struct": "CPUClass",
            "file": "include/hw/core/cpu.h",
            "line": 100,
            "hooks": [
                {"name": "get_arch_id", "signature": "int64_t (CPUState *cpu)", "line": 110},
                {"name": "set_pc", "signature": "void (CPUState *cpu, vaddr value)", "line": 111},
                {"name": "cpu_persistent_status", "signature": "bool (CPUState *cpu)", "line": 112},
                {"name": "dump_state", "signature": "void (CPUState *, FILE *, int)", "line": 113},
                {"name": "gdb_arch_name", "signature": "const char *(CPUState *)", "line": 114},
            ],
        },
        {
            "struct": "SysemuCPUOps",
            "file": "include/hw/core/sysemu-cpu-ops.h",
            "line": 20,
            "hooks": [
                {
                    "name": "get_phys_page_debug",
                    "signature": "hwaddr (CPUState *, vaddr)",
                    "line": 25,
                },
            ],
        },
    ],
    "implementations": [
        {
            "struct": "CPUClass",
            "hook": "get_arch_id",
            "arch": "common",
            "function": "cpu_common_get_arch_id",
            "file": "hw/core/cpu-common.c",
            "line": 300,
        },
        {
            "struct": "CPUClass",
            "hook": "get_arch_id",
            "arch": "i386",
            "function": "x86_cpu_get_arch_id",
            "file": "target/i386/cpu.c",
            "line": 8000,
        },
        {
            "struct": "CPUClass",
            "hook": "set_pc",
            "arch": "arm",
            "function": "arm_cpu_set_pc",
            "file": "target/arm/cpu.c",
            "line": 60,
        },
        {
            "struct": "CPUClass",
            "hook": "set_pc",
            "arch": "loongarch",
            "function": "loongarch_cpu_set_pc",
            "file": "target/loongarch/cpu.c",
            "line": 90,
        },
        {
            "struct": "CPUClass",
            "hook": "dump_state",
            "arch": "i386",
            "function": "x86_cpu_dump_state",
            "file": "target/i386/cpu-dump.c",
            "line": 345,
        },
        {
            "struct": "SysemuCPUOps",
            "hook": "get_phys_page_debug",
            "arch": "arm",
            "function": "arm_cpu_get_phys_page_attrs_debug",
            "file": "target/arm/ptw.c",
            "line": 70,
        },
    ],
    "archs": {
        "i386": {
            "emits_cpu_aml": True,
            "unplug_reaches": ["hw/acpi/cpu.c:acpi_cpu_unplug_cb"],
            "implements_persistence_hook": False,
        },
        "arm": {"emits_cpu_aml": False, "unplug_reaches": [], "implements_persistence_hook": True},
        "loongarch": {
            "emits_cpu_aml": True,
            "unplug_reaches": [
                "hw/acpi/cpu.c:acpi_cpu_unplug_cb",
                "hw/acpi/generic_event_device.c:acpi_ged_unplug_cb",
            ],
            "implements_persistence_hook": False,
            "boards": ["hw/loongarch/virt.c"],
            "acpi_devices": ["TYPE_ACPI_GED"],
            "acpi_files": ["hw/acpi/cpu.c", "hw/acpi/generic_event_device.c"],
            "hook_designs": [
                {
                    "hook": "CPUHotplugState::always_present_cpus",
                    "file": "hw/loongarch/virt.c",
                    "line": 12,
                }
            ],
        },
    },
}


def render(fmt: str, report: Report = REPORT, **opts: Any) -> str:
    out = io.StringIO()
    REPORTERS[fmt].render(report, out, RenderOptions(**opts))
    return out.getvalue()


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("QEMU_TEST_REGENERATE") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs; see tests/golden/"


def test_text_golden() -> None:
    check_golden("report.txt", render("text"))


def test_text_interactive_golden() -> None:
    check_golden("report-interactive.txt", render("text", interactive=True, width=80))


def test_json_golden() -> None:
    check_golden("report.json", render("json"))


def test_model_golden() -> None:
    out = io.StringIO()
    render_model_table(MODEL, out, RenderOptions(width=100))
    check_golden("model.txt", out.getvalue())


@pytest.mark.parametrize("interactive", [False, True])
def test_text_without_color_has_no_ansi(interactive: bool) -> None:
    assert not ANSI.search(render("text", interactive=interactive))


def test_model_without_color_has_no_ansi() -> None:
    out = io.StringIO()
    render_model_table(MODEL, out, RenderOptions())
    assert not ANSI.search(out.getvalue())


def test_color_adds_ansi_but_keeps_lines_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    colored = render("text", color=True, width=40)
    assert ANSI.search(colored)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", colored)
    assert plain == render("text", width=40)


def test_header_lines_are_editor_parsable() -> None:
    lines = render("text", width=20).splitlines()
    headers = [ln for ln in lines if ": note: " not in ln and ln.endswith("]")]
    assert len(headers) == 2
    for line in headers:
        assert HEADER.match(line), line
    assert lines[0] == (
        "hw/acpi/cpu.c:292:5: error: AcpiCpuStatus::cpu released without consulting "
        "the CPU persistence hook [acpi-cpu-persistence]"
    )
    assert lines[1] == (
        "hw/acpi/ich9.c:512:1: note: unplug handler of ICH9 LPC (in ich9_pm_device_unplug_cb)"
    )
    assert lines[4] == (
        "hw/acpi/cpu.c:292:5: note: architectures: "
        "i386 (hook not implemented), loongarch (hook not implemented)"
    )


@pytest.mark.parametrize("opts", [{}, {"interactive": True}, {"color": True, "interactive": True}])
def test_rich_markup_in_c_text_is_literal(opts: dict[str, bool]) -> None:
    finding = dataclasses.replace(
        RELEASE,
        message="[bold]x[/bold] released",
        path=(PathStep("hw/acpi/cpu.c", 290, "f", "[red]y[/red]"),),
        frame=((292, "    s[i].cpu = NULL; /* [bold]z[/] */"),),
    )
    text = render("text", dataclasses.replace(REPORT, findings=(finding,)), **opts)
    assert "[bold]x[/bold] released" in text
    assert "[red]y[/red]" in text
    if opts:
        assert "[bold]z[/]" in text


def test_control_characters_cannot_break_lines() -> None:
    finding = dataclasses.replace(
        RELEASE, message="a\nb\x1b[31mc", path=(), properties=Properties(), related=()
    )
    text = render("text", dataclasses.replace(REPORT, findings=(finding,), problems=()))
    assert text == "hw/acpi/cpu.c:292:5: error: a b [31mc [acpi-cpu-persistence]\n"


def test_quiet_drops_summary_table() -> None:
    assert "count" in render("text", interactive=True)
    assert "count" not in render("text", interactive=True, quiet=True)


def test_summary_line_is_not_rendered() -> None:
    assert summary_line(REPORT) == "Found 2 findings in 2 files."
    one = dataclasses.replace(REPORT, findings=(RELEASE,))
    assert summary_line(one) == "Found 1 finding in 1 file."
    assert "Found" not in render("text", interactive=True)


def test_json_contract() -> None:
    doc = json.loads(render("json", color=True, interactive=True))
    assert list(doc)[:5] == ["version", "tool", "root", "stats", "findings"]
    assert doc["version"] == 1
    assert doc["tool"] == {"name": "qemu-lint", "version": "0.1.0"}
    assert doc["root"] == "/src/qemu"
    assert {"files", "bytes", "seconds"} <= doc["stats"].keys()
    assert (doc["stats"]["files"], doc["stats"]["bytes"], doc["stats"]["seconds"]) == (
        3,
        123456,
        0.5,
    )
    first = doc["findings"][0]
    contract = [
        "rule",
        "severity",
        "kind",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "function",
        "message",
        "archs",
        "hook",
        "path",
        "fingerprint",
    ]
    assert [k for k in first if k in contract] == contract
    assert first["archs"] == ["i386", "loongarch"]
    assert first["hook"] is None
    assert doc["findings"][1]["hook"] == "CPUClass::cpu_persistent_status"
    assert [list(step) for step in first["path"]] == [["file", "line", "function", "note"]] * 3
    assert first["path"][2] == {
        "file": "hw/acpi/cpu.c",
        "line": 292,
        "function": "acpi_cpu_unplug_cb",
        "note": "'cdev->cpu' cleared here",
    }
    assert doc["problems"] == [
        {
            "file": "hw/arm/virt.c",
            "level": "warning",
            "message": "3 syntax error regions; results may be incomplete",
            "untrusted": "",
        }
    ]
    assert doc["trusted"] is True


@pytest.mark.parametrize("untrusted", ["", "input", "crash"])
def test_json_trusted_agrees_with_sarif_execution_successful(untrusted: str) -> None:
    """JSON's ``trusted`` and SARIF's ``executionSuccessful`` say the same: false
    exactly when a problem keeps the run from saying "clean" (exit 2 or 3)."""
    bad = Problem("hw/acpi/cpu.c", "skipped: binary file (NUL bytes)", untrusted=untrusted)
    report = dataclasses.replace(REPORT, problems=(*REPORT.problems, bad))
    doc = json.loads(render("json", report))
    sarif = json.loads(render("sarif", report))
    assert doc["trusted"] is (not untrusted)
    assert doc["trusted"] is sarif["runs"][0]["invocations"][0]["executionSuccessful"]
    assert doc["problems"][-1]["untrusted"] == untrusted


def test_model_json_round_trips() -> None:
    out = io.StringIO()
    render_model_json(MODEL, out)
    assert out.getvalue().endswith("}\n")
    assert json.loads(out.getvalue()) == MODEL


def test_model_table_lists_only_implemented_hooks() -> None:
    out = io.StringIO()
    render_model_table(MODEL, out, RenderOptions(width=100))
    text = out.getvalue()
    assert "cpu_persistent_status" not in text
    assert "gdb_arch_name" not in text
    assert "2 of 5 hooks implemented by no architecture (not shown)" in text
    header = next(ln for ln in text.splitlines() if "hook" in ln and "common" in ln)
    assert header.index("common") < header.index("arm") < header.index("i386")


def test_model_table_splits_many_archs_to_fit_width() -> None:
    targets = ["alpha", "hexagon", "microblaze", "openrisc", "s390x", "tricore", "xtensa"]
    model = dict(MODEL)
    model["implementations"] = MODEL["implementations"] + [
        {"struct": "CPUClass", "hook": "set_pc", "arch": a, "function": "f", "file": "x", "line": 1}
        for a in targets
    ]
    out = io.StringIO()
    render_model_table(model, out, RenderOptions(width=60))
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= 60
    headers = " ".join(ln for ln in lines if ln.startswith("| hook "))
    for arch in ["common", "arm", "i386", "loongarch", *targets]:
        assert f" {arch} " in headers
