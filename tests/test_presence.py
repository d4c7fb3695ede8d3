"""The ``_STA.Present`` derivation (qemu_lint.model.presence) on real QEMU and its variants.

Real trees come from ``conftest.qemu_tree`` (skipped with the reason when
absent).  Variants of 10.0.13 are made at test time: ``cp -al`` of the two
folders the derivation reads, then each edited file is replaced by a fresh
copy before it is edited, so the cached tree is never written through.  The C
edits are a few lines each, in QEMU style, following the designs of BRIEF.md
§1 (the ARM vCPU hotplug RFC V3, upstream bf1ecc8dad, the maintainers' RFC).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from qemu_lint.frontends.treesitter.extract import extract_file
from qemu_lint.frontends.treesitter.parse import parse_bytes
from qemu_lint.model.callgraph import build_index
from qemu_lint.model.presence import Presence, derive_presence
from qemu_lint.model.types import build_type_env
from tests.conftest import qemu_tree

#: what the derivation reads: the AML builder and read handler, AcpiCpuStatus,
#: and the headers typing ``cdev->cpu``, ``OBJECT()`` and ``MemoryRegionOps``
FILES = (
    "hw/acpi/cpu.c",
    "include/hw/acpi/cpu.h",
    "include/hw/core/cpu.h",
    "include/qom/object.h",
    "include/exec/memory.h",
)
CPU_C = "hw/acpi/cpu.c"
CPU_H = "include/hw/acpi/cpu.h"

Edits = Mapping[str, Sequence[tuple[str, str]]]


def presence_of(
    root: Path, presence_bit: int | None = None, presence_fields: tuple[str, ...] = ()
) -> Presence:
    facts = []
    for rel in FILES:
        path = root / rel
        if path.exists():
            data = path.read_bytes()
            facts.append(extract_file(rel, data, parse_bytes(data)))
    env = build_type_env(facts, frozenset())
    idx = build_index(facts, env)
    return derive_presence(facts, idx, presence_bit=presence_bit, presence_fields=presence_fields)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_variant(real: Path, dest: Path, edits: Edits) -> Path:
    """A hard-linked copy of ``real``'s hw/acpi and include, with ``edits`` applied."""
    for sub in ("hw/acpi", "include"):
        (dest / sub).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(real / sub), str(dest / sub)], check=True)
    for rel, pairs in edits.items():
        target = dest / rel
        before = _sha(real / rel)
        target.unlink()  # break the hard link: a fresh copy, then edit it
        shutil.copyfile(real / rel, target)
        text = target.read_text(encoding="utf-8")
        for old, new in pairs:
            assert text.count(old) == 1, f"{rel}: anchor not found exactly once: {old!r}"
            text = text.replace(old, new)
        target.write_text(text, encoding="utf-8")
        assert _sha(real / rel) == before, f"the cached tree's {rel} was modified"
    return dest


def _line(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    hits = [i + 1 for i, text in enumerate(lines) if needle in text]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


# -- the edits --------------------------------------------------------------

STATUS_FLAGS: Edits = {
    CPU_H: [
        ("    CPUState *cpu;\n", "    CPUState *cpu;\n    bool is_enabled;\n    bool is_present;\n")
    ]
}

#: AML of the ARM RFC V3 and bf1ecc8dad: CPRS at bit 5, _STA 0xF / 0xD / 0x0
CPRS_AML = [
    (
        '#define CPU_ENABLED       "CPEN"\n',
        '#define CPU_ENABLED       "CPEN"\n#define CPU_PRESENT       "CPRS"\n',
    ),
    (
        "        aml_append(field, aml_reserved_field(3));\n",
        "        /* 1 if present, read only */\n"
        "        aml_append(field, aml_named_field(CPU_PRESENT, 1));\n"
        "        aml_append(field, aml_reserved_field(2));\n",
    ),
    (
        '        Aml *is_enabled = aml_name("%s.%s", cphp_res_path, CPU_ENABLED);\n',
        '        Aml *is_enabled = aml_name("%s.%s", cphp_res_path, CPU_ENABLED);\n'
        '        Aml *is_present = aml_name("%s.%s", cphp_res_path, CPU_PRESENT);\n',
    ),
    (
        "            Aml *sta = aml_local(0);\n",
        "            Aml *sta = aml_local(0);\n"
        "            Aml *ifctx2;\n"
        "            Aml *else_ctx;\n",
    ),
    (
        "            ifctx = aml_if(aml_equal(is_enabled, one));\n"
        "            {\n"
        "                aml_append(ifctx, aml_store(aml_int(0xF), sta));\n"
        "            }\n",
        "            ifctx = aml_if(aml_equal(is_present, one));\n"
        "            {\n"
        "                ifctx2 = aml_if(aml_equal(is_enabled, one));\n"
        "                {\n"
        "                    /* present and enabled */\n"
        "                    aml_append(ifctx2, aml_store(aml_int(0xF), sta));\n"
        "                }\n"
        "                aml_append(ifctx, ifctx2);\n"
        "                else_ctx = aml_else();\n"
        "                {\n"
        "                    /* present, not enabled */\n"
        "                    aml_append(else_ctx, aml_store(aml_int(0xD), sta));\n"
        "                }\n"
        "                aml_append(ifctx, else_ctx);\n"
        "            }\n",
    ),
]

BIT0 = "        val |= cdev->cpu ? 1 : 0;\n"
BIT4 = "        val |= cdev->fw_remove  ? 16 : 0;\n"


def _rd(bit0: str, bit5: str = "") -> list[tuple[str, str]]:
    """Read-handler edits: bit 0 computed as ``bit0``, and ``bit5`` after bit 4."""
    out = [(BIT0, bit0)] if bit0 != BIT0 else []
    if bit5:
        out.append((BIT4, BIT4 + bit5))
    return out


def arm_rfc_v3(bit5: str = "        val |= cdev->is_present ? 32 : 0;\n") -> Edits:
    return {
        **STATUS_FLAGS,
        CPU_C: CPRS_AML + _rd("        val |= cdev->is_enabled ? 1 : 0;\n", bit5),
    }


ENABLED_HELPER = (
    "static uint64_t cpu_hotplug_rd(",
    "static bool check_cpu_enabled_status(DeviceState *dev)\n"
    "{\n"
    "    CPUState *cpu = dev ? CPU(dev) : NULL;\n"
    "\n"
    "    return cpu && (!cpu->cc->cpu_enabled_status || cpu->cc->cpu_enabled_status(cpu));\n"
    "}\n"
    "\n"
    "static uint64_t cpu_hotplug_rd(",
)

UPSTREAM_BF1ECC8DAD: Edits = {
    CPU_C: [ENABLED_HELPER]
    + CPRS_AML
    + _rd(
        "        val |= check_cpu_enabled_status(DEVICE(cdev->cpu)) ? 1 : 0;\n",
        "        val |= cdev->cpu ? 32 : 0;\n",
    )
}

REALIZED: Edits = {
    CPU_C: _rd(
        "        val |= cdev->cpu ?\n"
        '            object_property_get_bool(OBJECT(cdev->cpu), "realized", NULL) : 0;\n'
    )
}

PRESENT_HELPER: Edits = {
    **STATUS_FLAGS,
    CPU_C: [
        (
            "static uint64_t cpu_hotplug_rd(",
            "static bool cpu_is_present(const AcpiCpuStatus *cdev)\n"
            "{\n"
            "    return cdev->is_present;\n"
            "}\n"
            "\n"
            "static uint64_t cpu_hotplug_rd(",
        )
    ]
    + CPRS_AML
    + _rd(
        "        val |= cdev->is_enabled ? 1 : 0;\n",
        "        val |= cpu_is_present(cdev) ? 32 : 0;\n",
    ),
}

PRESENT_MACRO: Edits = {
    CPU_C: [
        (
            "#define OVMF_CPUHP_SMI_CMD 4\n",
            "#define OVMF_CPUHP_SMI_CMD 4\n#define CPU_PRESENT_BIT(cdev) ((cdev)->cpu ? 1 : 0)\n",
        )
    ]
    + _rd("        val |= CPU_PRESENT_BIT(cdev);\n")
}

#: a CSTA storing a value the analysis cannot compute
CSTA_OPAQUE: Edits = {
    CPU_C: [
        (
            "                aml_append(ifctx, aml_store(aml_int(0xF), sta));\n",
            "                aml_append(ifctx, aml_store(cpu_sta_value(opts), sta));\n",
        )
    ]
}

#: the ARM AML, but the read handler unchanged: nothing is packed into bit 5
NOTHING_AT_CPRS: Edits = {CPU_C: CPRS_AML}


# -- real trees -------------------------------------------------------------


@pytest.mark.real_qemu
@pytest.mark.parametrize("version", ["10.0.13", "10.0.2", "7.2"])
def test_real_tree_bit0_cpen_cpu(version: str) -> None:
    root = qemu_tree(version)
    p = presence_of(root)
    assert (p.bit, p.field, p.fields, p.source) == (0, "CPEN", ("cpu",), "derived")
    assert (p.enabled_bit, p.enabled_field) == (0, "CPEN")
    assert p.problems == ()
    assert p.read_handler == (CPU_C, "cpu_hotplug_rd")
    where = {(w.file, w.line) for w in p.derivation}
    assert (CPU_C, _line(root, CPU_C, "aml_named_field(CPU_ENABLED, 1)")) in where
    assert (CPU_C, _line(root, CPU_C, "aml_if(aml_equal(is_enabled, one))")) in where
    assert (CPU_C, _line(root, CPU_C, BIT0.strip())) in where
    layout = {f.name: (f.byte, f.bit) for f in p.layout}
    assert layout["CPEN"] == (4, 0) and layout["CEJF"] == (4, 4) and layout["CCMD"] == (5, 0)


# -- variants of 10.0.13 ----------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Path:
    return qemu_tree("10.0.13")


def _variant(real: Path, tmp_path: Path, edits: Edits) -> tuple[Path, Presence]:
    root = make_variant(real, tmp_path / "qemu", edits)
    return root, presence_of(root)


@pytest.mark.real_qemu
def test_arm_rfc_v3_cprs_is_present(real: Path, tmp_path: Path) -> None:
    root, p = _variant(real, tmp_path, arm_rfc_v3())
    assert (p.bit, p.field, p.fields, p.source) == (5, "CPRS", ("is_present",), "derived")
    assert (p.enabled_bit, p.enabled_field, p.enabled_fields) == (0, "CPEN", ("is_enabled",))
    assert p.problems == ()
    where = {(w.file, w.line) for w in p.derivation}
    assert (CPU_C, _line(root, CPU_C, "aml_named_field(CPU_PRESENT, 1)")) in where
    assert (CPU_C, _line(root, CPU_C, "aml_if(aml_equal(is_present, one))")) in where
    assert (CPU_C, _line(root, CPU_C, "cdev->is_present ? 32 : 0")) in where


@pytest.mark.real_qemu
def test_upstream_bf1ecc8dad_cprs_cpu(real: Path, tmp_path: Path) -> None:
    root, p = _variant(real, tmp_path, UPSTREAM_BF1ECC8DAD)
    assert (p.bit, p.field, p.fields, p.source) == (5, "CPRS", ("cpu",), "derived")
    assert (p.enabled_bit, p.enabled_field, p.enabled_fields) == (0, "CPEN", ("cpu",))
    assert p.problems == ()
    assert (CPU_C, _line(root, CPU_C, "cdev->cpu ? 32 : 0")) in {
        (w.file, w.line) for w in p.derivation
    }


@pytest.mark.real_qemu
def test_bit0_from_realized_property(real: Path, tmp_path: Path) -> None:
    _, p = _variant(real, tmp_path, REALIZED)
    assert (p.bit, p.field, p.fields, p.source) == (0, "CPEN", ("cpu",), "derived")
    assert p.problems == ()


@pytest.mark.real_qemu
@pytest.mark.parametrize(
    "bit5",
    [
        "        val |= cdev->is_present << 5;\n",
        "        val = deposit32(val, 5, 1, cdev->is_present);\n",
        "        val |= (uint64_t)cdev->is_present << 5;\n",
    ],
    ids=["shift", "deposit32", "cast-shift"],
)
def test_cprs_packing_forms(real: Path, tmp_path: Path, bit5: str) -> None:
    _, p = _variant(real, tmp_path, arm_rfc_v3(bit5))
    assert (p.bit, p.field, p.fields, p.source) == (5, "CPRS", ("is_present",), "derived")
    assert p.problems == ()


@pytest.mark.real_qemu
def test_present_through_helper_function(real: Path, tmp_path: Path) -> None:
    _, p = _variant(real, tmp_path, PRESENT_HELPER)
    assert (p.bit, p.field, p.fields, p.source) == (5, "CPRS", ("is_present",), "derived")
    assert p.problems == ()


@pytest.mark.real_qemu
def test_present_through_macro(real: Path, tmp_path: Path) -> None:
    _, p = _variant(real, tmp_path, PRESENT_MACRO)
    assert (p.bit, p.field, p.fields, p.source) == (0, "CPEN", ("cpu",), "derived")
    assert p.problems == ()


@pytest.mark.real_qemu
def test_csta_not_understood_falls_back_visibly(real: Path, tmp_path: Path) -> None:
    root, p = _variant(real, tmp_path, CSTA_OPAQUE)
    line = _line(root, CPU_C, "cpu_sta_value(opts)")
    assert (CPU_C, line) in {(q.file, q.line) for q in p.problems}, p.problems
    assert any("cpu_sta_value" in q.message for q in p.problems)
    assert (p.bit, p.field, p.fields, p.source) == (0, "", ("cpu",), "default")
    assert any("falling back" in w.note for w in p.derivation)

    configured = presence_of(root, presence_fields=("is_present",))
    assert (configured.fields, configured.source) == (("is_present",), "presence-fields")


@pytest.mark.real_qemu
def test_nothing_packed_into_present_bit(real: Path, tmp_path: Path) -> None:
    _, p = _variant(real, tmp_path, NOTHING_AT_CPRS)
    assert (p.bit, p.field, p.source, p.fields) == (5, "CPRS", "default", ("cpu",))
    assert any("packs no AcpiCpuStatus field into bit 5" in q.message for q in p.problems)
    assert all(q.file == CPU_C and q.line > 0 for q in p.problems[:1])


@pytest.mark.real_qemu
def test_presence_bit_override(real: Path, tmp_path: Path) -> None:
    _, p = _variant(real, tmp_path, arm_rfc_v3())
    got = presence_of(tmp_path / "qemu", presence_bit=0)
    assert (got.bit, got.field, got.fields, got.source) == (
        0,
        "CPEN",
        ("is_enabled",),
        "presence-bit",
    )
    assert p.bit == 5


#: an AML option keeping every vCPU present: _STA returns a constant
STA_CONSTANT: Edits = {
    CPU_C: [
        (
            "            aml_append(method, aml_return(aml_call1(CPU_STS_METHOD, uid)));\n",
            "            aml_append(method, aml_return(aml_int(0xF)));\n",
        )
    ]
}


@pytest.mark.real_qemu
def test_constant_sta_is_a_fixed_present(real: Path, tmp_path: Path) -> None:
    """``_STA`` returning 0xF is an answer (Present fixed), not a failed
    derivation: no problem, no fallback, no field feeding Present."""
    root, p = _variant(real, tmp_path, STA_CONSTANT)
    assert p.problems == ()
    assert (p.source, p.fixed, p.sta_value, p.fields, p.field) == ("fixed", True, 0xF, (), "")
    line = _line(root, CPU_C, 'aml_method("_STA", 0, AML_SERIALIZED)')
    assert [(w.file, w.line) for w in p.derivation] == [(CPU_C, line)]
    assert "returns 0xF whatever the register holds" in p.derivation[0].note
    # an override still names the bit (the user says where Present is)
    over = presence_of(root, presence_bit=0)
    assert (over.source, over.fixed, over.fields) == ("presence-bit", None, ("cpu",))


#: CSTA: Present when CPEN and CPRS are both set; bit 5 packs cpu && is_present
SEVERAL_BITS: Edits = {
    **STATUS_FLAGS,
    CPU_C: CPRS_AML[:3]
    + [
        (
            "            ifctx = aml_if(aml_equal(is_enabled, one));\n",
            "            ifctx = aml_if(aml_land(aml_equal(is_enabled, one),\n"
            "                                    aml_equal(is_present, one)));\n",
        )
    ]
    + _rd(BIT0, "        val |= (cdev->cpu && cdev->is_present) ? 32 : 0;\n"),
}


@pytest.mark.real_qemu
def test_present_following_several_bits_takes_all(real: Path, tmp_path: Path) -> None:
    root, p = _variant(real, tmp_path, SEVERAL_BITS)
    assert p.problems == ()
    assert (p.aml_fields, p.field, p.bit, p.source) == (("CPEN", "CPRS"), "CPEN", 0, "derived")
    assert p.fields == ("cpu", "is_present")
    assert p.feeds == (("cpu", "CPEN"), ("cpu", "CPRS"), ("is_present", "CPRS"))
    assert p.bits_fed_by("is_present") == ("CPRS",)
    where = {(w.file, w.line) for w in p.derivation}
    assert (CPU_C, _line(root, CPU_C, "aml_named_field(CPU_PRESENT, 1)")) in where
    assert (CPU_C, _line(root, CPU_C, "cdev->cpu && cdev->is_present")) in where


# -- without a real tree: a small builder written for the test ---------------

MINI_H = """
typedef struct CPUState CPUState;
typedef struct AcpiCpuStatus {
    CPUState *cpu;
    bool is_on;
} AcpiCpuStatus;
"""

MINI_C = """
#define FLAGS_OFF 2
#define F_ON "FON_"
#define F_HERE "FHRE"
#define HERE_BIT(s) (!!(s)->cpu << 3)

static uint64_t foo_rd(void *opaque, hwaddr addr, unsigned size)
{
    AcpiCpuStatus *s = opaque;
    uint64_t v = 0;

    switch (addr) {
    case FLAGS_OFF:
        v = deposit32(v, 0, 1, s->is_on);
        v |= HERE_BIT(s);
        break;
    }
    return v;
}

void build_cpus_aml(Aml *table)
{
    Aml *f, *m, *c, *e;
    Aml *on = aml_name("%s", F_ON);
    Aml *here = aml_name("%s", F_HERE);
    Aml *r = aml_local(0);

    f = aml_field("REGS", AML_BYTE_ACC, AML_NOLOCK, AML_PRESERVE);
    aml_append(f, aml_reserved_field(FLAGS_OFF * 8));
    aml_append(f, aml_named_field(F_ON, 1));
    aml_append(f, aml_reserved_field(2));
    aml_append(f, aml_named_field(F_HERE, 1));
    m = aml_method("FSTA", 1, AML_SERIALIZED);
    aml_append(m, aml_store(aml_int(0), r));
    c = aml_if(aml_lnot(aml_equal(here, aml_int(0))));
    aml_append(c, aml_store(aml_int(0xD), r));
    aml_append(m, c);
    c = aml_if(aml_land(aml_equal(here, aml_int(1)), aml_equal(on, aml_int(1))));
    aml_append(c, aml_store(aml_int(0xF), r));
    aml_append(m, c);
    aml_append(m, aml_return(r));
    m = aml_method("_STA", 0, AML_SERIALIZED);
    aml_append(m, aml_return(aml_call1("FSTA", aml_int(0))));
}
"""


def _mini(tmp_path: Path, c_text: str = MINI_C) -> Presence:
    (tmp_path / "include/hw/acpi").mkdir(parents=True)
    (tmp_path / "hw/acpi").mkdir(parents=True)
    (tmp_path / CPU_H).write_text(MINI_H)
    (tmp_path / CPU_C).write_text(c_text)
    return presence_of(tmp_path)


def test_mini_tree_bit3_from_a_macro(tmp_path: Path) -> None:
    p = _mini(tmp_path)
    assert (p.bit, p.field, p.fields, p.source) == (3, "FHRE", ("cpu",), "derived")
    assert (p.enabled_bit, p.enabled_field, p.enabled_fields) == (0, "FON_", ("is_on",))
    assert p.read_handler == (CPU_C, "foo_rd") and p.problems == ()


def test_mini_tree_while_in_sta_is_a_problem(tmp_path: Path) -> None:
    text = MINI_C.replace("c = aml_if(aml_lnot(", "c = aml_while(aml_lnot(")
    p = _mini(tmp_path, text)
    assert p.source == "default" and p.fields == ("cpu",)
    assert any("While" in q.message and q.line > 0 for q in p.problems), p.problems


def test_macro_bodies_parse_and_fold() -> None:
    from qemu_lint.facts import Define, FileFacts
    from qemu_lint.model.cexpr import build_macros, parse_expr

    defs = (Define("OFF", None, "4", 1), Define("BIT", ("n",), "(1U << (n))", 2))
    macros = build_macros([FileFacts("a.c", "test", 0, defines=defs)])
    e = parse_expr("OFF * 8 + BIT(2)", 3)
    assert e is not None and macros.eval_int(e, "a.c") == 36
    assert parse_expr("(c)->cpu ? 1 : 0", 1) is not None
    assert parse_expr("do { x; } while (0)", 1) is None


def test_mini_tree_packings_and_names(tmp_path: Path) -> None:
    p = _mini(tmp_path)
    assert {(pk.mask, pk.fields, pk.case, pk.form) for pk in p.packings} == {
        (1, ("is_on",), 2, "deposit32"),
        (8, ("cpu",), 2, "macro HERE_BIT()"),
    }
    assert p.bit_name == "FHRE"
    assert [f.name for f in p.layout] == ["FON_", "FHRE"]
