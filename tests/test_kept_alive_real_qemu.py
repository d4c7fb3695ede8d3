"""``acpi-cpu-kept-alive`` on edited copies of QEMU 10.0.13 (issue 15).

Each variant is a hard-linked copy of the real tree (``tests/qemu_variants.py``)
edited at test time and checked once (module-scoped); the tests read that one
report.

* ``seed``: the design of commit 2d6cfbaf17 (``CPUClass::cpu_persistent_status``
  declared, target/arm implementing it, the release in acpi_cpu_unplug_cb()
  inside ``if (!should_remain_acpi_present(dev))``): the eject path's
  ``object_unparent()`` in cpu_hotplug_wr() destroys a kept vCPU;
* ``alternative``: the maintainers' shape (RFC 7/7), an early return at the
  top of acpi_cpu_unplug_cb() on ``CPUHotplugState::always_present_cpus``
  (set from cpu_hotplug_hw_init()'s new parameter; its two callers pass
  false) before both the release and the ``object_unparent()`` moved from
  cpu_hotplug_wr() right after it: nothing;
* ``unguarded``: the hook declared and implemented, the release unguarded
  (nothing is kept: the eject path's ``object_unparent()`` is no finding), and
  the i386 board unparenting the vCPU before it calls the ACPI device's unplug
  handler: one ``destroyed-before-release`` finding, there (three variants,
  not four: each costs a check).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Finding, Report
from qemu_lint.fix import plan_fixes
from tests import qemu_variants as qv
from tests.conftest import qemu_tree, variant_config

pytestmark = pytest.mark.real_qemu

RULE = "acpi-cpu-kept-alive"
_EJECT_UNPARENT = "            object_unparent(OBJECT(dev));\n"
_X86_UNPLUG = "    hotplug_handler_unplug(x86ms->acpi_dev, dev, &local_err);\n"
_X86_C = "hw/i386/x86-common.c"

_INIT_PARAMS = "                         CPUHotplugState *state, hwaddr base_addr"
_INIT_PARAM = ",\n                         bool always_present_cpus"
_UNPLUG_CB = (
    "void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st,\n"
    "                        DeviceState *dev, Error **errp)\n{\n    AcpiCpuStatus *cdev;\n\n"
)

#: The shape of the maintainers' RFC 7/7 ("acpi: cpuhp: preserve always
#: present vCPUs on unplug", Nov 2024), written for these tests: the flag
#: CPUHotplugState::always_present_cpus set by cpu_hotplug_hw_init()'s new
#: parameter (the GED and the PIIX4/ICH9 switch to modern CPU hotplug pass
#: false), an early return at the top of acpi_cpu_unplug_cb(), and the eject
#: path's object_unparent() moved right after the release.
ALTERNATIVE: qv.Edits = {
    qv.ACPI_CPU_H: [
        ("    uint32_t dev_count;\n", "    uint32_t dev_count;\n    bool always_present_cpus;\n"),
        (_INIT_PARAMS + ");\n", _INIT_PARAMS + _INIT_PARAM + ");\n"),
    ],
    "hw/acpi/acpi-cpu-hotplug-stub.c": [
        (_INIT_PARAMS + ")\n", _INIT_PARAMS + _INIT_PARAM + ")\n"),
    ],
    qv.ACPI_CPU_C: [
        (_EJECT_UNPARENT, ""),
        (_INIT_PARAMS + ")\n", _INIT_PARAMS + _INIT_PARAM + ")\n"),
        (
            "    state->devs = g_new0(typeof(*state->devs), state->dev_count);\n",
            "    state->devs = g_new0(typeof(*state->devs), state->dev_count);\n"
            "    state->always_present_cpus = always_present_cpus;\n",
        ),
        (
            _UNPLUG_CB,
            _UNPLUG_CB + "    if (cpu_st->always_present_cpus) {\n        return;\n    }\n\n",
        ),
        (
            "    cdev->cpu = NULL;\n}\n",
            "    cdev->cpu = NULL;\n    object_unparent(OBJECT(dev));\n}\n",
        ),
    ],
    "hw/acpi/cpu_hotplug.c": [
        (
            "    cpu_hotplug_hw_init(parent, gpe_cpu->device, cpuhp_state, io_port);\n",
            "    cpu_hotplug_hw_init(parent, gpe_cpu->device, cpuhp_state, io_port, false);\n",
        ),
    ],
    qv.GED_C: [
        (
            "                                &s->cpuhp_state, 0);\n",
            "                                &s->cpuhp_state, 0, false);\n",
        ),
    ],
}

VARIANTS: dict[str, qv.Edits] = {
    "seed": qv.D1_GUARDED,
    "alternative": ALTERNATIVE,
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
    # every rule on by default, as `qemu-lint check` runs them; the files the
    # edits left alone come from the test run's facts cache
    report = run(variant_config(root))
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
        # the early return also guards the release: 10.0.13's one finding is gone
        assert [(f.rule, f.line) for f in report.findings] == []
        assert plan_fixes(report).files == ()  # so --fix has nothing to change
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
        # --fix puts the unparent under the same guard; the static wrapper is
        # defined below cpu_hotplug_wr(), so its prototype goes before it
        assert f.fix is not None and not f.fix.refusal
        assert f.fix.guard == "!should_remain_acpi_present(dev)"
        assert f.fix.declare is not None and f.fix.declare_at < line
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
        assert f.fix is None  # no hook decides here: no guard to write
