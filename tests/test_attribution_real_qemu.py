"""Attribution on edited copies of QEMU 10.0.13 (issue 10): which architectures
a finding names, once the build configuration, typed dispatch, device-type
branches and guest entry points decide it.

Each variant is a hard-linked copy of the real tree (``tests/qemu_variants.py``,
build files included) edited at test time; each test asserts the exact set
of architectures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qemu_lint.engine import run
from qemu_lint.findings import Report
from qemu_lint.rules import default_config
from tests import qemu_variants as qv
from tests.conftest import qemu_tree, shared_facts, variant_config

pytestmark = pytest.mark.real_qemu

RULE = "acpi-cpu-persistence"


@pytest.fixture(scope="module")
def tree_10013() -> Path:
    return qemu_tree("10.0.13")


@pytest.fixture(scope="module")
def variant(
    tree_10013: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[Path, Report]]:
    cache: dict[str, tuple[Path, Report]] = {}

    def get(name: str) -> tuple[Path, Report]:
        if name not in cache:
            dest = tmp_path_factory.mktemp(f"qemu-{name}")
            root = qv.make_variant(tree_10013, dest, qv.ATTRIBUTION_VARIANTS[name])
            report = run(variant_config(root))
            errors = [p for p in report.problems if p.level == "error"]
            assert not errors, errors
            cache[name] = (root, report)
        return cache[name]

    return get


def _archs_at(report: Report, file: str, function: str) -> tuple[str, ...]:
    got = [f for f in report.findings if f.rule == RULE]
    mine = [f for f in got if (f.file, f.function) == (file, function)]
    assert len(mine) == 1, [(f.file, f.line, f.function) for f in got]
    return tuple(mine[0].archs)


def test_variant_links_build_files(variant: Callable[[str], tuple[Path, Report]]) -> None:
    root, _ = variant("arm-ged")
    real = qemu_tree("10.0.13")
    for rel in ("meson.build", "Kconfig", "Kconfig.host", "configs/targets/aarch64-softmmu.mak"):
        assert (root / rel).is_file(), rel
    # the edited Kconfig is a new file; the real one is unchanged
    arm_virt = qv.read_text(real / qv.ARM_KCONFIG).split("config ARM_VIRT")[1].split("config ")[0]
    assert "ACPI_CPU_HOTPLUG" not in arm_virt
    assert "ACPI_CPU_HOTPLUG" in qv.read_text(root / qv.ARM_KCONFIG)


def test_arm_ged_cpu_hotplug_adds_arm(variant: Callable[[str], tuple[Path, Report]]) -> None:
    _, report = variant("arm-ged")
    assert _archs_at(report, qv.ACPI_CPU_C, "acpi_cpu_unplug_cb") == ("arm", "i386", "loongarch")


def test_arm_unplug_path_consulting_hook_drops_arm(
    variant: Callable[[str], tuple[Path, Report]],
) -> None:
    # virt_dimm_unplug() also calls hotplug_handler_unplug() on the GED, but
    # only for a TYPE_PC_DIMM, which cannot take the GED's TYPE_CPU branch; the
    # guest's eject path (cpu_hotplug_wr) unplugs through
    # qdev_get_hotplug_handler(), for a vCPU on arm virt the machine (a bus-less
    # TYPE_CPU has no bus handler), whose unplug consults the hook
    _, report = variant("arm-ged-consults-hook")
    assert _archs_at(report, qv.ACPI_CPU_C, "acpi_cpu_unplug_cb") == ("i386", "loongarch")


def test_ged_caller_guarded_names_i386_only(variant: Callable[[str], tuple[Path, Report]]) -> None:
    # PIIX4 and ICH9 still reach the release unguarded; no loongarch board builds them
    _, report = variant("ged-caller-guarded")
    assert _archs_at(report, qv.ACPI_CPU_C, "acpi_cpu_unplug_cb") == ("i386",)


def test_release_on_eject_path(variant: Callable[[str], tuple[Path, Report]]) -> None:
    # the boards mapping the CPU hotplug register block: q35 (ICH9), pc
    # (PIIX4), microvm and loongarch virt (GED); arm links the stub
    root, report = variant("release-on-eject")
    got = [f for f in report.findings if f.rule == RULE]
    assert [(f.function, f.line) for f in got] == [
        ("cpu_hotplug_wr", qv.line_of(root / qv.ACPI_CPU_C, qv.EJECT_RELEASE.strip()))
    ]
    assert got[0].archs == ("i386", "loongarch")


def test_board_not_selecting_ged_drops_out(variant: Callable[[str], tuple[Path, Report]]) -> None:
    _, report = variant("loongarch-no-ged")
    assert _archs_at(report, qv.ACPI_CPU_C, "acpi_cpu_unplug_cb") == ("i386",)


def test_model_build_facts(tree_10013: Path) -> None:
    from qemu_lint.engine import run_model
    from qemu_lint.model.export import model_to_json

    config = default_config(root=str(tree_10013), cache_dir=shared_facts())
    model, _ = run_model(config, hook_tables=True)
    archs = model_to_json(model)["archs"]
    la, x86, arm = archs["loongarch"], archs["i386"], archs["arm"]
    assert la["boards"] == ["hw/loongarch/virt.c"] and la["acpi_devices"] == ["TYPE_ACPI_GED"]
    assert "hw/acpi/generic_event_device.c" in la["acpi_files"]
    assert "hw/acpi/piix4.c" not in la["acpi_files"] and "hw/acpi/ich9.c" not in la["acpi_files"]
    assert {"hw/acpi/piix4.c", "hw/acpi/ich9.c", "hw/acpi/cpu.c"} <= set(x86["acpi_files"])
    assert "TYPE_ICH9_LPC_DEVICE" in x86["acpi_devices"]
    # arm builds the stub, not the CPU hotplug code
    assert "hw/acpi/acpi-cpu-hotplug-stub.c" in arm["acpi_files"]
    assert "hw/acpi/cpu.c" not in arm["acpi_files"]
    assert all(a["hook_designs"] == [] for a in archs.values())
    # the keys that were there before stay
    assert {"emits_cpu_aml", "unplug_reaches", "implements_persistence_hook"} <= set(la)
