"""Settings on real QEMU trees: ``required-archs`` (rule persistence-hook-required)
and ``presence-fields`` on 10.0.13 and on a variant of it with design 1.

Trees come from ``conftest.qemu_tree`` (skipped with the reason when
unavailable); the variant is a hard-linked copy edited by
``tests/qemu_variants.py``, and the real tree's edited files are checked
unchanged afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.errors import ConfigError
from qemu_lint.findings import Finding
from tests import qemu_variants as qv
from tests.conftest import qemu_tree, variant_config

pytestmark = pytest.mark.real_qemu

REQUIRED = "persistence-hook-required"


def _findings(root: Path, **settings: object) -> list[Finding]:
    config = variant_config(root, **settings)
    report = run(config)
    assert not [p for p in report.problems if p.level == "error"], report.problems
    return list(report.findings)


def _line(root: Path, rel: str, needle: str) -> int:
    return qv.line_of(root / rel, needle)


def test_required_arch_on_released_qemu() -> None:
    root = qemu_tree("10.0.13")
    before = qv.sha256(root / "target/arm/cpu.c")
    [f] = _findings(root, select=(REQUIRED,), required_archs=("arm",))
    assert (f.rule, f.file, f.function, f.kind) == (
        REQUIRED,
        "target/arm/cpu.c",
        "arm_cpu_class_init",
        "hook-not-implemented",
    )
    assert f.line == _line(root, "target/arm/cpu.c", "static void arm_cpu_class_init(")
    assert "no CPU persistence hook is declared in this tree" in f.message
    assert f.archs == ("arm",) and f.hook is None
    assert qv.sha256(root / "target/arm/cpu.c") == before


def test_required_arch_absent_from_released_qemu() -> None:
    root = qemu_tree("10.0.13")
    with pytest.raises(ConfigError, match="no architecture 'arm64'"):
        _findings(root, required_archs=("arm64",))


def test_required_archs_on_a_design1_variant(tmp_path: Path) -> None:
    src = qemu_tree("10.0.13")
    hashes = {rel: qv.sha256(src / rel) for rel in qv.EDITED_FILES}
    root = qv.make_variant(
        src, tmp_path / "qemu", qv.VARIANTS["d1-wrong-polarity-loongarch-implements"]
    )
    findings = _findings(root, required_archs=("arm", "i386", "loongarch"))
    required = [f for f in findings if f.rule == REQUIRED]
    # arm and loongarch register CPUClass::cpu_persistent_status; i386 does not
    [f] = required
    assert (f.file, f.function) == ("target/i386/cpu.c", "x86_cpu_common_class_init")
    assert f.line == _line(root, "target/i386/cpu.c", "static void x86_cpu_common_class_init(")
    assert f.hook == "CPUClass::cpu_persistent_status"
    # the release finding of the variant is still there
    assert [g.rule for g in findings].count("acpi-cpu-persistence") == 1
    assert {rel: qv.sha256(src / rel) for rel in qv.EDITED_FILES} == hashes


def test_presence_fields_on_released_qemu() -> None:
    root = qemu_tree("10.0.13")
    # is_inserting is not read into CPEN; counting it is what the setting is for
    findings = _findings(root, presence_fields=("is_inserting",))
    toggles = [f for f in findings if f.kind == "presence-toggle"]
    assert toggles, [(f.file, f.line, f.message) for f in findings]
    lines = {(f.file, f.line) for f in toggles}
    clear = _line(root, qv.ACPI_CPU_C, "cdev->is_inserting = false;")
    assert (qv.ACPI_CPU_C, clear) in lines
    for f in toggles:
        assert "the configuration counts as clearing _STA.Present" in f.message
    # the release of cpu is still the one release
    assert [(f.file, f.function) for f in findings if f.kind == "release"] == [
        (qv.ACPI_CPU_C, "acpi_cpu_unplug_cb")
    ]
