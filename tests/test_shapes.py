"""The shapes real patches use, on copies of QEMU 10.0.13 edited at test time
(issue 11): Present moved to another bit, the RFC's ``cpu &&`` helper, a
header wrapper, a switch on the verdict, another vCPU asked about, and the
release shapes.  Each checks the findings, their kinds and messages, and the
model's ``presence``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Finding
from tests.conftest import qemu_tree, variant_config
from tests.qemu_variants import (
    ACPI_CPU_C,
    CPU_COMMON_C,
    CPU_H,
    RELEASE,
    Edits,
    line_of,
    make_variant,
    merge,
    release,
)
from tests.test_presence import arm_rfc_v3

pytestmark = pytest.mark.real_qemu

_UNPLUG_FIELD = "    bool unplug;\n"
_REALIZEFN_PROTO = "bool cpu_exec_realizefn(CPUState *cpu, Error **errp);\n"
_FIELD: Edits = {CPU_H: [(_UNPLUG_FIELD, _UNPLUG_FIELD + "    bool acpi_persistent;\n")]}
EARLY_RETURN = "    if (qemu_persistent_cpu(CPU(dev))) {\n        return;\n    }\n" + RELEASE


def _helper_in_c(body: str) -> Edits:
    return merge(
        _FIELD,
        {
            CPU_H: [
                (_REALIZEFN_PROTO, _REALIZEFN_PROTO + "bool qemu_persistent_cpu(CPUState *cpu);\n")
            ]
        },
        {
            CPU_COMMON_C: [
                ("\0append\0", f"\nbool qemu_persistent_cpu(CPUState *cpu)\n{{\n{body}}}\n")
            ]
        },
    )


def _helper_in_header(body: str) -> Edits:
    return merge(
        _FIELD,
        {
            CPU_H: [
                (
                    _REALIZEFN_PROTO,
                    _REALIZEFN_PROTO
                    + f"static inline bool qemu_persistent_cpu(CPUState *cpu)\n{{\n{body}}}\n",
                )
            ]
        },
    )


@pytest.fixture(scope="module")
def real() -> Path:
    return qemu_tree("10.0.13")


def _check(real: Path, tmp_path: Path, edits: Edits) -> tuple[Path, list[Finding]]:
    root = make_variant(real, tmp_path / "qemu", edits)
    report = run(variant_config(root, jobs=1))
    return root, [f for f in report.findings if f.rule == "acpi-cpu-persistence"]


@pytest.mark.parametrize(
    "edits",
    [
        _helper_in_c("    return cpu && cpu->acpi_persistent;\n"),
        _helper_in_c(
            "    if (!cpu) {\n        return false;\n    }\n    return cpu->acpi_persistent;\n"
        ),
        _helper_in_header("    return cpu && cpu->acpi_persistent;\n"),
    ],
    ids=["cpu-and-helper", "early-null-return", "header-static-inline"],
)
def test_wrapper_shapes_guard_the_release(real: Path, tmp_path: Path, edits: Edits) -> None:
    _, found = _check(real, tmp_path, merge(edits, release(EARLY_RETURN)))
    assert found == []


def test_switch_on_the_verdict(real: Path, tmp_path: Path) -> None:
    body = (
        "    switch (qemu_persistent_cpu(CPU(dev))) {\n    case true:\n        return;\n"
        "    default:\n        break;\n    }\n" + RELEASE
    )
    _, found = _check(
        real, tmp_path, merge(_helper_in_c("    return cpu->acpi_persistent;\n"), release(body))
    )
    assert found == []


def test_asking_about_another_vcpu(real: Path, tmp_path: Path) -> None:
    body = "    if (qemu_persistent_cpu(first_cpu)) {\n        return;\n    }\n" + RELEASE
    root, found = _check(
        real, tmp_path, merge(_helper_in_c("    return cpu->acpi_persistent;\n"), release(body))
    )
    assert [(f.file, f.line, f.kind) for f in found] == [
        (ACPI_CPU_C, line_of(root / ACPI_CPU_C, RELEASE.strip()), "release")
    ]
    assert "is asked about another vCPU than the one released" in found[0].message


@pytest.mark.parametrize(
    ("stmt", "what"),
    [
        ("    *cdev = (AcpiCpuStatus) { .arch_id = cdev->arch_id };\n", "overwrites a whole"),
        ("    g_clear_pointer(&cdev->cpu, object_unref);\n", "with g_clear_pointer()"),
        ("    CPUState **p = &cdev->cpu;\n    *p = NULL;\n", "through the pointer p"),
    ],
    ids=["whole-struct", "g-clear-pointer", "pointer-to-field"],
)
def test_release_shapes(real: Path, tmp_path: Path, stmt: str, what: str) -> None:
    _, found = _check(real, tmp_path, release(stmt))
    assert [(f.file, f.kind) for f in found] == [(ACPI_CPU_C, "release")]
    assert what in found[0].message
    assert "which clears CPEN, the bit `_STA` reads Present from" in found[0].message


def test_arm_rfc_v3_present_moved_to_cprs(real: Path, tmp_path: Path) -> None:
    """CPEN becomes Enabled, CPRS (bit 5) Present fed by is_present: clearing
    is_enabled is no finding, clearing is_present is a presence-toggle."""
    body = "    cdev->is_enabled = false;\n    cdev->is_present = false;\n"
    root, found = _check(real, tmp_path, merge(arm_rfc_v3(), release(body)))
    assert [(f.kind, f.line) for f in found] == [
        ("presence-toggle", line_of(root / ACPI_CPU_C, "cdev->is_present = false;"))
    ]
    assert "which clears CPRS, the bit `_STA` reads Present from" in found[0].message
