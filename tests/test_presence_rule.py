"""What the flagship rule says when ``_STA.Present`` is fixed or follows
several bits, and the ``g_free`` release shapes, on copies of QEMU 10.0.13
edited at test time (issue 11).

Each tree is made and checked once (module-scoped) and serves several
asserts: the check of a real tree is the slow part.

* ``fixed``: ``_STA`` returns ``aml_int(0xF)`` (an AML option keeping every
  vCPU present).  Present follows no register field: a legitimate answer, no
  problem and no fallback.  The release in ``acpi_cpu_unplug_cb()`` is still
  reported (releasing ``AcpiCpuStatus::cpu`` without the hook is half the
  invariant), saying that the guest goes on seeing the vCPU present, never
  that it clears ``CPEN``.
* ``several``: ``CSTA`` returns 0xF only when ``CPEN`` *and* a new ``CPRS``
  (bit 5) are set, and the read handler packs ``cdev->cpu && cdev->is_present``
  into bit 5: Present follows both bits, fed by ``cpu`` and ``is_present``;
  clearing either is reported.  The same tree frees the ``devs`` array with
  ``g_free()`` and with ``g_clear_pointer()``: each is a release.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qemu_lint.engine import run, run_model
from qemu_lint.findings import Finding
from qemu_lint.model.export import model_to_json
from tests.conftest import qemu_tree, variant_config
from tests.qemu_variants import ACPI_CPU_C, APPEND, RELEASE, Edits, line_of, make_variant, merge
from tests.test_presence import BIT0, CPRS_AML, STATUS_FLAGS, _rd

pytestmark = pytest.mark.real_qemu

RULE = "acpi-cpu-persistence"

FIXED: Edits = {
    ACPI_CPU_C: [
        (
            "            aml_append(method, aml_return(aml_call1(CPU_STS_METHOD, uid)));\n",
            "            aml_append(method, aml_return(aml_int(0xF)));\n",
        )
    ]
}

_CSTA_IF = "            ifctx = aml_if(aml_equal(is_enabled, one));\n"
_FREE_FNS = (
    "\nvoid acpi_cpu_hotplug_free(CPUHotplugState *cpu_st)\n"
    "{\n"
    "    g_free(cpu_st->devs);\n"
    "}\n"
    "\nvoid acpi_cpu_hotplug_clear(CPUHotplugState *cpu_st)\n"
    "{\n"
    "    g_clear_pointer(&cpu_st->devs, g_free);\n"
    "}\n"
)
SEVERAL: Edits = merge(
    STATUS_FLAGS,
    {
        ACPI_CPU_C: CPRS_AML[:3]
        + [
            (
                _CSTA_IF,
                "            ifctx = aml_if(aml_land(aml_equal(is_enabled, one),\n"
                "                                    aml_equal(is_present, one)));\n",
            )
        ]
        + _rd(BIT0, "        val |= (cdev->cpu && cdev->is_present) ? 32 : 0;\n")
        + [(RELEASE, "    cdev->is_present = false;\n" + RELEASE), (APPEND, _FREE_FNS)]
    },
)


def _findings(root: Path) -> list[Finding]:
    report = run(variant_config(root, jobs=1))
    return [f for f in report.findings if f.rule == RULE]


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Finding], dict[str, Any]]:
    root = make_variant(qemu_tree("10.0.13"), tmp_path_factory.mktemp("fixed") / "qemu", FIXED)
    found = _findings(root)
    model, _ = run_model(variant_config(root, jobs=1))
    return root, found, model_to_json(model)


@pytest.fixture(scope="module")
def several(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Finding]]:
    root = make_variant(qemu_tree("10.0.13"), tmp_path_factory.mktemp("several") / "qemu", SEVERAL)
    return root, _findings(root)


def test_fixed_present_release_still_reported_honestly(
    fixed: tuple[Path, list[Finding], dict[str, Any]],
) -> None:
    root, found, _ = fixed
    line = line_of(root / ACPI_CPU_C, RELEASE.strip())
    assert [(f.file, f.line, f.kind, f.archs) for f in found] == [
        (ACPI_CPU_C, line, "release", ("i386", "loongarch"))
    ]
    msg = found[0].message
    assert "`_STA` returns 0xF whatever the register holds" in msg, msg
    assert "the guest goes on seeing the vCPU present" in msg
    assert "clears" not in msg and "CPEN" not in msg
    notes = [s.note for s in found[0].related]
    assert any("returns 0xf whatever the register holds" in n.lower() for n in notes), notes


def test_fixed_present_in_the_model(fixed: tuple[Path, list[Finding], dict[str, Any]]) -> None:
    root, _, doc = fixed
    p = doc["presence"]
    assert (p["source"], p["fixed"], p["sta_value"], p["bit"]) == ("fixed", True, 15, None)
    assert (p["fields"], p["aml_field"], p["aml_fields"], p["feeds"]) == ([], None, [], [])
    assert p["problems"] == []
    sta = line_of(root / ACPI_CPU_C, 'aml_method("_STA", 0, AML_SERIALIZED)')
    assert [(w["file"], w["line"]) for w in p["derivation"]] == [(ACPI_CPU_C, sta)]
    assert "the vCPU is always present" in p["derivation"][0]["note"]


def test_present_follows_several_bits(several: tuple[Path, list[Finding]]) -> None:
    root, found = several
    cpu_c = root / ACPI_CPU_C
    in_unplug = sorted(
        ((f.line, f.kind, f.message) for f in found if f.function == "acpi_cpu_unplug_cb"),
    )
    assert [(ln, kind) for ln, kind, _ in in_unplug] == [
        (line_of(cpu_c, "cdev->is_present = false;"), "presence-toggle"),
        (line_of(cpu_c, RELEASE.strip()), "release"),
    ]
    toggle, rel = in_unplug[0][2], in_unplug[1][2]
    assert "which clears CPRS, one of the bits (CPEN, CPRS) `_STA` reads Present from" in toggle
    assert "which clears CPEN and CPRS, the bits `_STA` reads Present from" in rel
    assert all(
        f.archs == ("i386", "loongarch") for f in found if f.function == "acpi_cpu_unplug_cb"
    )


def test_g_free_of_the_status_array(several: tuple[Path, list[Finding]]) -> None:
    root, found = several
    cpu_c = root / ACPI_CPU_C
    freed = sorted(
        (f.line, f.kind, f.message) for f in found if f.function.startswith("acpi_cpu_hotplug_")
    )
    assert [(ln, kind) for ln, kind, _ in freed] == [
        (line_of(cpu_c, "g_free(cpu_st->devs);"), "release"),
        (line_of(cpu_c, "g_clear_pointer(&cpu_st->devs, g_free);"), "release"),
    ]
    assert "frees cpu_st->devs (AcpiCpuStatus *) with g_free() while its vCPUs stay" in freed[0][2]
    assert "with g_clear_pointer() while its vCPUs stay" in freed[1][2]
