"""Guard shapes, one by one: the body of acpi_cpu_unplug_cb is replaced by a
snippet (on the d1-if sample, which declares CPUClass::cpu_persistent_status
and the wrapper should_remain_acpi_present()), and the release must be
reported exactly when the snippet lets it run while the hook may say
"persistent".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.rules import default_config
from tests.conftest import SAMPLES, materialize

HEAD = "    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);\n    CPUClass *cc = CPU_GET_CLASS(dev);\n"

# (name, body, reported?)
CASES = [
    ("ternary-guard", "    cdev->cpu = should_remain_acpi_present(dev) ? cdev->cpu : NULL;", False),
    ("ternary-wrong", "    cdev->cpu = should_remain_acpi_present(dev) ? NULL : cdev->cpu;", True),
    ("ternary-unguarded", "    cdev->cpu = cdev->is_removing ? NULL : cdev->cpu;", True),
    (
        "ternary-cond",
        "    if (should_remain_acpi_present(dev) ? false : true) { cdev->cpu = NULL; }",
        False,
    ),
    ("eq-false", "    if (should_remain_acpi_present(dev) == false) { cdev->cpu = NULL; }", False),
    (
        "ne-true-wrong",
        "    if (should_remain_acpi_present(dev) != false) { cdev->cpu = NULL; }",
        True,
    ),
    (
        "double-negation",
        "    if (!!should_remain_acpi_present(dev)) { return; }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "or-wrong",
        "    if (!cdev || !should_remain_acpi_present(dev)) { return; }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "and-short-circuit",
        "    if (cdev && !should_remain_acpi_present(dev)) { cdev->cpu = NULL; }",
        False,
    ),
    (
        "nested-if",
        "    if (cdev) {\n        if (!should_remain_acpi_present(dev)) {\n            cdev->cpu = NULL;\n        }\n    }",
        False,
    ),
    (
        "after-nested-exit",
        "    if (should_remain_acpi_present(dev)) {\n        if (cdev) { return; }\n        return;\n    }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "one-branch-exits",
        "    if (should_remain_acpi_present(dev)) {\n        if (cdev) { return; }\n    }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "loop-break",
        "    for (;;) {\n        if (should_remain_acpi_present(dev)) { break; }\n        cdev->cpu = NULL;\n        break;\n    }",
        False,
    ),
    (
        "after-loop",
        "    while (cdev) {\n        if (should_remain_acpi_present(dev)) { break; }\n        break;\n    }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "switch-case",
        "    switch (should_remain_acpi_present(dev)) {\n    case 0:\n        cdev->cpu = NULL;\n        break;\n    default:\n        break;\n    }",
        False,
    ),
    (
        "switch-wrong-case",
        "    switch (should_remain_acpi_present(dev)) {\n    case true:\n        cdev->cpu = NULL;\n        break;\n    default:\n        break;\n    }",
        True,
    ),
    (
        "switch-fallthrough",
        "    switch (should_remain_acpi_present(dev)) {\n    case true:\n        cdev->is_removing = true;\n    case false:\n        cdev->cpu = NULL;\n        break;\n    }",
        True,
    ),
    (
        "after-switch-wrong",
        "    switch (should_remain_acpi_present(dev)) {\n    case false:\n        return;\n    default:\n        break;\n    }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "after-switch-no-default",
        "    switch (should_remain_acpi_present(dev)) {\n    case true:\n        return;\n    }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "after-switch-break-in-if",
        "    switch (should_remain_acpi_present(dev)) {\n    case true:\n        if (cdev->is_removing) { break; }\n        return;\n    default:\n        break;\n    }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "after-switch-loop-break",
        "    switch (should_remain_acpi_present(dev)) {\n    case 1:\n        for (;;) { break; }\n        return;\n    case 0:\n        break;\n    }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "label-join",
        "    if (should_remain_acpi_present(dev)) { goto out; }\n    cdev->cpu = NULL;\nout:\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "goto-backward",
        "again:\n    if (should_remain_acpi_present(dev)) { return; }\n    cdev->cpu = NULL;\n    if (cdev->is_removing) { goto again; }",
        False,
    ),
    (
        "abort-branch",
        "    if (should_remain_acpi_present(dev)) { abort(); }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "local-reassigned",
        "    bool keep = should_remain_acpi_present(dev);\n    keep = false;\n    if (!keep) { cdev->cpu = NULL; }",
        True,
    ),
    (
        "assign-in-cond",
        "    bool keep;\n    if (!(keep = should_remain_acpi_present(dev))) { cdev->cpu = NULL; }",
        False,
    ),
    (
        "direct-hook-no-impl-check",
        "    if (!cc->cpu_persistent_status(CPU(dev))) { cdev->cpu = NULL; }",
        False,
    ),
    ("impl-check-only", "    if (!cc->cpu_persistent_status) { cdev->cpu = NULL; }", False),
    ("impl-check-wrong", "    if (cc->cpu_persistent_status) { cdev->cpu = NULL; }", True),
    (
        "local-pointer-guard",
        "    bool (*keep)(DeviceState *) = should_remain_acpi_present;\n"
        "    if (keep(dev)) { return; }\n    cdev->cpu = NULL;",
        False,
    ),
    (
        "local-pointer-guard-wrong",
        "    bool (*keep)(DeviceState *) = should_remain_acpi_present;\n"
        "    if (!keep(dev)) { return; }\n    cdev->cpu = NULL;",
        True,
    ),
    (
        "local-pointer-reassigned",
        "    bool (*keep)(DeviceState *) = should_remain_acpi_present;\n"
        "    keep = cpu_hotplug_keep_none;\n    if (keep(dev)) { return; }\n    cdev->cpu = NULL;",
        True,
    ),
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialize(
        SAMPLES / "rules" / "acpi-cpu-persistence" / "d1-if", tmp_path_factory.mktemp("d1") / "t"
    )


@pytest.mark.parametrize(("name", "body", "reported"), CASES, ids=[c[0] for c in CASES])
def test_guard_shape(name: str, body: str, reported: bool, base: Path, tmp_path: Path) -> None:
    tree = tmp_path / "t"
    import shutil

    shutil.copytree(base, tree)
    cpu_c = tree / "hw" / "acpi" / "cpu.c"
    text = cpu_c.read_text()
    m = re.search(r"(void acpi_cpu_unplug_cb\([^)]*\)\n\{\n)(.*?)(\n\}\n)", text, re.S)
    assert m, "anchor acpi_cpu_unplug_cb not found in the sample"
    cpu_c.write_text(text[: m.start(2)] + HEAD + body + text[m.end(2) :])
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    in_fn = [f for f in report.findings if f.function == "acpi_cpu_unplug_cb"]
    assert bool(in_fn) == reported, [f.message for f in in_fn] or "no finding"
    if reported:
        assert in_fn[0].hook == "CPUClass::cpu_persistent_status"


def test_release_through_a_local_pointer(base: Path, tmp_path: Path) -> None:
    """A release helper called through a local function pointer is reached
    from the callers of the function holding the pointer: guarded there, no
    finding; unguarded, the finding's path goes through the pointer."""
    import shutil

    tree = tmp_path / "t"
    shutil.copytree(base, tree)
    cpu_c = tree / "hw" / "acpi" / "cpu.c"
    helper = "\nstatic void drop_slot(AcpiCpuStatus *cdev)\n{\n    cdev->cpu = NULL;\n}\n"
    guarded = "    if (should_remain_acpi_present(dev)) {\n        return;\n    }\n    fn(cdev);\n"
    entry = (
        "\nvoid drop_entry(AcpiCpuStatus *cdev, DeviceState *dev)\n{\n"
        f"    void (*fn)(AcpiCpuStatus *) = drop_slot;\n\n{guarded}}}\n"
    )
    cpu_c.write_text(cpu_c.read_text() + helper + entry)
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    assert [f for f in report.findings if f.function == "drop_slot"] == []
    cpu_c.write_text(cpu_c.read_text().replace(guarded, "    fn(cdev);\n"))
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    found = [f for f in report.findings if f.function == "drop_slot"]
    assert len(found) == 1, found
    assert "without consulting the persistence hook" in found[0].message


def test_guard_after_switch(base: Path, tmp_path: Path) -> None:
    body = (
        "    switch (should_remain_acpi_present(dev)) {\n    case true:\n        return;\n"
        "    default:\n        break;\n    }\n    cdev->cpu = NULL;"
    )
    test_guard_shape("after-switch", body, False, base, tmp_path)


def test_guard_any_number_of_calls_above(base: Path, tmp_path: Path) -> None:
    """No depth limit: a guard 12 calls above the release is found (the
    search used to stop at 8 and report the site)."""
    import shutil

    tree = tmp_path / "t"
    shutil.copytree(base, tree)
    cpu_c = tree / "hw" / "acpi" / "cpu.c"
    chain = [
        "\nstatic void deep0(AcpiCpuStatus *cdev, DeviceState *dev)\n{\n    cdev->cpu = NULL;\n}\n"
    ]
    for i in range(1, 12):
        chain.append(
            f"\nstatic void deep{i}(AcpiCpuStatus *cdev, DeviceState *dev)\n"
            f"{{\n    deep{i - 1}(cdev, dev);\n}}\n"
        )
    guarded = "    if (!should_remain_acpi_present(dev)) {\n        deep11(cdev, dev);\n    }\n"
    chain.append(f"\nvoid deep_entry(AcpiCpuStatus *cdev, DeviceState *dev)\n{{\n{guarded}}}\n")
    cpu_c.write_text(cpu_c.read_text() + "".join(chain))
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    assert [f.function for f in report.findings if f.function.startswith("deep")] == []
    cpu_c.write_text(cpu_c.read_text().replace(guarded, "    deep11(cdev, dev);\n"))
    report = run(default_config(root=str(tree), jobs=1, strict=True))
    assert [f.function for f in report.findings if f.function.startswith("deep")] == ["deep0"]
