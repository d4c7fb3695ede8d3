"""``acpi-cpu-kept-alive`` on edited copies of QEMU 10.0.13 (issue 15).

Each variant is a hard-linked copy of the real tree (``tests/qemu_variants.py``)
edited at test time and checked once (module-scoped); the tests read that one
report.

* ``seed``: the design of commit 2d6cfbaf17 (``CPUClass::cpu_persistent_status``
  declared, target/arm implementing it, the release in acpi_cpu_unplug_cb()
  inside ``if (!should_remain_acpi_present(dev))``): the eject path's
  ``object_unparent()`` in cpu_hotplug_wr() destroys a kept vCPU;
* ``alternative``: the maintainers' shape, an early return on
  ``CPUHotplugState::always_present_cpus`` before both the release and the
  ``object_unparent()`` moved next to it: nothing;
* ``unguarded``: the hook declared and implemented, the release unguarded
  (nothing is kept: the eject path's ``object_unparent()`` is no finding), and
  the i386 board unparenting the vCPU before it calls the ACPI device's unplug
  handler: one ``destroyed-before-release`` finding, there (three variants,
  not four: each costs a cold check).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Finding, Report
from qemu_lint.rules import default_config
from tests import qemu_variants as qv
from tests.conftest import qemu_tree

pytestmark = pytest.mark.real_qemu

RULE = "acpi-cpu-kept-alive"
_EJECT_UNPARENT = "            object_unparent(OBJECT(dev));\n"
_X86_UNPLUG = "    hotplug_handler_unplug(x86ms->acpi_dev, dev, &local_err);\n"
_X86_C = "hw/i386/x86-common.c"

VARIANTS: dict[str, qv.Edits] = {
    "seed": qv.D1_GUARDED,
    "alternative": qv.merge(
        qv.D3,
        {
            qv.ACPI_CPU_C: [
                (_EJECT_UNPARENT, ""),
                (
                    "    cdev->cpu = NULL;\n}\n",
                    "    cdev->cpu = NULL;\n    object_unparent(OBJECT(dev));\n}\n",
                ),
            ]
        },
    ),
    # the release unguarded (nothing kept), and the i386 board destroying
    # the vCPU before the ACPI device's unplug handler runs
    "unguarded": qv.merge(
        qv.HOOK_DECL,
        qv.ARM_IMPL,
        qv.wrapper(),
        {_X86_C: [(_X86_UNPLUG, "    object_unparent(OBJECT(dev));\n" + _X86_UNPLUG)]},
    ),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def checked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Report]:
    name: str = request.param
    dest = tmp_path_factory.mktemp(f"qemu-kept-{name}")
    root = qv.make_variant(qemu_tree("10.0.13"), dest, VARIANTS[name])
    # the rule is opt-in; the flagship rule runs beside it
    report = run(default_config(root=str(root), select=(RULE, "acpi-cpu-persistence")))
    errors = [p for p in report.problems if p.level == "error"]
    assert not errors, errors
    return name, root, report


def _mine(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == RULE]


def test_kept_alive_on_variant(checked: tuple[str, Path, Report]) -> None:
    name, root, report = checked
    got = _mine(report)
    if name == "alternative":
        assert got == [], [(f.file, f.line, f.message) for f in got]
        return
    assert len(got) == 1, [(f.file, f.line, f.message) for f in got]
    f = got[0]
    if name == "seed":
        line = qv.line_of(root / qv.ACPI_CPU_C, "object_unparent(OBJECT(dev));")
        assert (f.file, f.line, f.function, f.kind) == (
            qv.ACPI_CPU_C,
            line,
            "cpu_hotplug_wr",
            "kept-destroyed",
        )
        assert f.hook == "CPUClass::cpu_persistent_status"
        assert tuple(f.archs) == ("i386", "loongarch")
        notes = [s.note for s in f.path]
        assert "asks CPUClass::cpu_persistent_status" in notes[0]
        assert "AcpiCpuStatus::cpu is kept" in notes[1]
        assert notes[-1] == "object_unparent() unparents the vCPU"
        assert any(s.function == "cpu_hotplug_wr" and "returns" in s.note for s in f.path)
        # the flagship rule is satisfied by the guard: the new rule is what is left
        assert not [x for x in report.findings if x.rule == "acpi-cpu-persistence"]
    else:
        line = qv.line_of(root / _X86_C, "object_unparent(OBJECT(dev));")
        assert (f.file, f.line, f.function, f.kind) == (
            _X86_C,
            line,
            "x86_cpu_unplug_cb",
            "destroyed-before-release",
        )
        assert f.hook is None
        assert tuple(f.archs) == ("i386",)
