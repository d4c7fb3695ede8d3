"""qemu_lint.build: what each qemu-system-<target> builds.

Unit tests run on ``samples/trees/build-mini`` (one test per construct);
``real_qemu`` tests check facts of real QEMU trees and of copies edited at
test time (hard-linked with ``cp -al``, the edited file replaced by a fresh
one, so the cached tree is never written).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from qemu_lint.build import BuildConfig, HostConfig, build_config, load_build_config
from qemu_lint.build.kconfig import And, Clause, KconfigTree, Not, Or, Var, _parse_one, evaluate
from qemu_lint.build.meson_ast import MesonSyntaxError, parse_meson, tokenize

from .conftest import SAMPLES, qemu_tree

MINI = SAMPLES / "trees" / "build-mini"
KVM_FOO64 = HostConfig(accelerators={"CONFIG_KVM": ("foo64",)})


@pytest.fixture(scope="module")
def mini() -> BuildConfig:
    return load_build_config(MINI, KVM_FOO64)


def target_files(bc: BuildConfig, name: str) -> frozenset[str]:
    return next(t.files for t in bc.targets if t.name == name)


def symbols(bc: BuildConfig, name: str) -> frozenset[str]:
    return next(t.symbols for t in bc.targets if t.name == name)


def problem_texts(bc: BuildConfig) -> list[str]:
    return [str(p) for p in bc.problems]


# configs/ ---------------------------------------------------------------------


def test_targets_are_the_softmmu_ones_and_arch_is_the_base_arch(mini: BuildConfig) -> None:
    assert [(t.name, t.target_arch, t.arch) for t in mini.targets] == [
        ("bar-softmmu", "bar", "bar"),
        ("foo-softmmu", "foo", "foo"),
        ("foo64-softmmu", "foo64", "foo"),
    ]
    assert mini.archs == ("bar", "foo")
    assert [t.name for t in mini.for_arch("foo")] == ["foo-softmmu", "foo64-softmmu"]


def test_target_keys_follow_meson_build(mini: BuildConfig) -> None:
    foo64 = next(t for t in mini.targets if t.name == "foo64-softmmu")
    assert foo64.keys["TARGET_FOO64"] == "y"
    assert foo64.keys["TARGET_BASE_ARCH"] == "foo"
    assert foo64.keys["CONFIG_SYSTEM_ONLY"] == "y"
    assert foo64.keys["CONFIG_KVM"] == "y"  # the host's accelerator
    assert "CONFIG_FOO64" not in foo64.keys  # minikconf's command-line symbols stay out


def test_device_mak_include_and_n_override(mini: BuildConfig) -> None:
    # foo64's default.mak includes foo's (which includes common.mak) ...
    assert "FOO_VIRT" in symbols(mini, "foo64-softmmu")
    # ... and turns off a board that Kconfig defaults to y
    assert "FOO_LEGACY" in symbols(mini, "foo-softmmu")
    assert "FOO_LEGACY" not in symbols(mini, "foo64-softmmu")
    assert "hw/acpi/legacy.c" in target_files(mini, "foo-softmmu")
    assert "hw/acpi/legacy.c" not in target_files(mini, "foo64-softmmu")


def test_device_mak_bad_line_is_reported(mini: BuildConfig) -> None:
    assert any(
        "bar-softmmu/default.mak:2" in p and "CONFIG_BAR_MISSPELT" in p for p in problem_texts(mini)
    )


# Kconfig ------------------------------------------------------------------------


def test_select_chain_default_and_depends(mini: BuildConfig) -> None:
    # FOO_VIRT default y, depends on (FOO || FOO64) && FDT; selects
    # ACPI_HW_REDUCED, which selects ACPI
    for name in ("foo-softmmu", "foo64-softmmu"):
        assert {"FOO_VIRT", "ACPI_HW_REDUCED", "ACPI"} <= symbols(mini, name)
    assert not {"FOO_VIRT", "ACPI"} & symbols(mini, "bar-softmmu")


def test_select_if(mini: BuildConfig) -> None:
    assert "ACPI_CPU_HOTPLUG" in symbols(mini, "foo64-softmmu")
    assert "ACPI_CPU_HOTPLUG" not in symbols(mini, "foo-softmmu")


def test_imply(mini: BuildConfig) -> None:
    assert "FOO_EXTRA" in symbols(mini, "foo-softmmu")
    assert "FOO_EXTRA" not in symbols(mini, "bar-softmmu")
    assert "FOO_VIRT implies FOO_EXTRA (hw/foo/Kconfig:7)" in mini.evidence("foo", "hw/foo/extra.c")


def test_default_if_with_minikconf_precedence(mini: BuildConfig) -> None:
    # "BAR_BOARD || FOO_VIRT && !FOO_VIRT" is (BAR_BOARD || FOO_VIRT) && !FOO_VIRT
    assert "BAR_DEP" in symbols(mini, "bar-softmmu")
    assert "BAR_DEP" not in symbols(mini, "foo-softmmu")
    assert "BAR_DISABLED" not in symbols(mini, "bar-softmmu")


def test_target_and_host_symbols(mini: BuildConfig) -> None:
    assert "FOO_KVM_ONLY" in symbols(mini, "foo64-softmmu")  # depends on KVM && FOO64
    plain = load_build_config(MINI)  # the default host has no KVM for "foo64"
    assert "FOO_KVM_ONLY" not in symbols(plain, "foo64-softmmu")
    assert "target/foo/kvm-stub.c" in target_files(plain, "foo64-softmmu")
    assert "target/foo/kvm.c" in target_files(mini, "foo64-softmmu")


def test_kconfig_expression_grammar() -> None:
    parsed, problem = _parse_one("K", "config X\n    bool\n    default y if A || B && !(C)\n")
    assert problem is None
    clause = parsed.items[0]
    assert isinstance(clause, Clause)
    assert clause.cond == And(Or(Var("A"), Var("B")), Not(Var("C")))


def test_kconfig_syntax_error_is_reported() -> None:
    _, problem = _parse_one("hw/x/Kconfig", "config X\n    bool\n    select\n")
    assert problem is not None and problem.where.file == "hw/x/Kconfig"


def test_kconfig_contradiction_is_reported() -> None:
    tree = KconfigTree(
        frozenset({"A", "B"}),
        (Clause("depends", "A", False, Var("B"), None),),
        ("Kconfig",),
    )
    result = evaluate(tree, [Clause("assign", "A", True, None, None)])
    assert [p.reason for p in result.problems] == ["contradiction"]


def test_kconfig_contradiction_in_a_tree(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    shutil.copytree(MINI, tree)
    mak = tree / "configs/devices/bar-softmmu/default.mak"
    mak.write_text("CONFIG_BAR_BOARD=y\nCONFIG_FOO_LEGACY=y\n")  # depends on FOO || FOO64
    bc = load_build_config(tree)
    assert any("contradiction" in p and "FOO_LEGACY" in p for p in problem_texts(bc))


# meson.build ----------------------------------------------------------------------


def test_if_true_if_false(mini: BuildConfig) -> None:
    assert "hw/acpi/cpu.c" in target_files(mini, "foo64-softmmu")
    assert "hw/acpi/cpu-stub.c" not in target_files(mini, "foo64-softmmu")
    assert "hw/acpi/cpu-stub.c" in target_files(mini, "foo-softmmu")
    assert "hw/acpi/cpu.c" not in target_files(mini, "foo-softmmu")


def test_add_all_and_system_ss(mini: BuildConfig) -> None:
    bar = target_files(mini, "bar-softmmu")
    assert "hw/acpi/acpi-stub.c" in bar
    assert not {"hw/acpi/core.c", "hw/acpi/ged.c"} & bar
    assert {"hw/acpi/core.c", "hw/acpi/ged.c"} <= target_files(mini, "foo-softmmu")


def test_per_arch_dictionaries(mini: BuildConfig) -> None:
    foo = target_files(mini, "foo-softmmu")
    assert {"target/foo/cpu.c", "target/foo/machine.c", "hw/foo/virt.c"} <= foo
    assert "hw/foo/wide.c" not in foo  # when: 'TARGET_FOO64'
    assert "hw/foo/wide.c" in target_files(mini, "foo64-softmmu")
    bar = target_files(mini, "bar-softmmu")
    assert not any(f.startswith(("target/foo/", "hw/foo/")) for f in bar)
    assert {"hw/bar/board.c", "hw/bar/dep.c"} <= bar
    assert "hw/bar/disabled.c" not in bar


def test_common_and_specific(mini: BuildConfig) -> None:
    for t in mini.targets:
        assert {"cpu-common.c", "cpu-target.c"} <= t.files


def test_known_if_and_current_source_dir(mini: BuildConfig) -> None:
    foo64 = target_files(mini, "foo64-softmmu")
    assert "os-posix.c" in foo64 and "os-win32.c" not in foo64
    assert "hw/foo/kvm-only.c" in foo64


def test_unknown_if_is_uncertain_and_said(mini: BuildConfig) -> None:
    assert mini.is_built("foo", "fancy.c") is None
    assert any(p.startswith("meson.build:23:") and "fancy" in p for p in problem_texts(mini))


def test_unknown_foreach_is_said(mini: BuildConfig) -> None:
    assert any(p.startswith("meson.build:26:") and "extras" in p for p in problem_texts(mini))


def test_unknown_dependency_in_when(mini: BuildConfig) -> None:
    assert mini.is_built("foo", "hw/acpi/fdt-acpi.c") is None
    assert mini.is_built("bar", "hw/acpi/fdt-acpi.c") is False  # CONFIG_ACPI decides
    assert any(p.startswith("hw/acpi/meson.build:6:") for p in problem_texts(mini))
    # a dependency among if_true files is not a file, and not a doubt
    assert mini.is_built("foo", "hw/foo/extra.c") is True


def test_unknown_dependency_builds_either_branch(mini: BuildConfig) -> None:
    assert mini.is_built("foo", "hw/foo/fdt-on.c") is None
    assert mini.is_built("foo", "hw/foo/fdt-off.c") is None


def test_value_assigned_under_unknown_if_is_unknown(mini: BuildConfig) -> None:
    assert mini.is_built("foo", "probed.c") is None
    assert any(p.startswith("meson.build:40:") and "probed" in p for p in problem_texts(mini))


def test_syntax_outside_the_subset_falls_back(mini: BuildConfig) -> None:
    assert mini.is_built("foo", "hw/broken/weird.c") is None
    assert any(p.startswith("hw/broken/meson.build:1:") for p in problem_texts(mini))


def test_archive_members_are_left_to_the_caller(mini: BuildConfig) -> None:
    assert mini.archive_files == {"util/cutils.c", "stubs/cpu-stub.c"}
    assert mini.is_built("foo", "util/cutils.c") is None
    assert "util/cutils.c" not in target_files(mini, "foo-softmmu")


def test_evidence(mini: BuildConfig) -> None:
    ged = mini.evidence("foo", "hw/acpi/ged.c")
    assert ged.startswith("foo builds hw/acpi/ged.c: FOO_VIRT selects ACPI_HW_REDUCED")
    assert "hw/acpi/meson.build:4 when: CONFIG_ACPI_HW_REDUCED" in ged
    assert "CONFIG_FOO_VIRT=y (configs/devices/foo-softmmu/common.mak:2)" in ged
    stub = mini.evidence("foo", "hw/acpi/cpu-stub.c")
    assert "ACPI_CPU_HOTPLUG is n" in stub and "(if_false)" in stub
    assert mini.evidence("bar", "hw/acpi/ged.c").startswith("bar does not build hw/acpi/ged.c")
    assert "no system emulator" in mini.evidence("sparc", "hw/acpi/ged.c")


def test_reads_only_build_files() -> None:
    asked: list[str] = []

    def read(rel: str) -> bytes | None:
        asked.append(rel)
        p = MINI / rel
        return p.read_bytes() if p.is_file() else None

    listed: list[str] = []

    def listdir(rel: str) -> list[str] | None:
        listed.append(rel)
        return sorted(p.name for p in (MINI / rel).iterdir())

    bc = build_config(read, listdir, KVM_FOO64)
    assert listed == ["configs/targets"]
    assert all(r.endswith((".mak", "meson.build")) or "Kconfig" in r for r in asked)
    assert bc.targets == load_build_config(MINI, KVM_FOO64).targets


def test_meson_tokens_and_lines() -> None:
    text = "a = 'x' + \\\n  '''multi\nline'''\nb = [\n  1,\n]\nc = f'@0@'\n"
    toks = tokenize(text)
    assert ("id", "b", 4) in toks and ("id", "c", 7) in toks
    assert ("str", "multi\nline", 2) in toks
    stmts = parse_meson("if a and not b or c in d\nx = y ? 1 : 2\nelif e\nendif\n")
    assert len(stmts) == 1
    with pytest.raises(MesonSyntaxError) as err:
        parse_meson("x = 1\ny = (2\n")
    assert err.value.line >= 2


# real QEMU ------------------------------------------------------------------------

ACPI = "hw/acpi/"


@pytest.fixture(scope="module")
def q10013() -> BuildConfig:
    return load_build_config(qemu_tree("10.0.13"))


def built(bc: BuildConfig, target: str, *files: str) -> dict[str, bool]:
    have = target_files(bc, target)
    return {f: ACPI + f in have for f in files}


@pytest.mark.real_qemu
def test_real_10_0_13_acpi_files(q10013: BuildConfig) -> None:
    assert built(
        q10013, "loongarch64-softmmu", "generic_event_device.c", "cpu.c", "piix4.c", "ich9.c"
    ) == {"generic_event_device.c": True, "cpu.c": True, "piix4.c": False, "ich9.c": False}
    assert built(q10013, "x86_64-softmmu", "ich9.c", "piix4.c", "cpu.c") == dict.fromkeys(
        ["ich9.c", "piix4.c", "cpu.c"], True
    )
    # arm virt has the GED but selects no ACPI_CPU_HOTPLUG in 10.0.13: it links the stub
    assert built(
        q10013, "aarch64-softmmu", "generic_event_device.c", "acpi-cpu-hotplug-stub.c", "cpu.c"
    ) == {"generic_event_device.c": True, "acpi-cpu-hotplug-stub.c": True, "cpu.c": False}
    for arch in ("i386", "loongarch", "arm"):
        assert q10013.is_built(arch, ACPI + "generic_event_device.c") is True


@pytest.mark.real_qemu
def test_real_10_0_13_evidence(q10013: BuildConfig) -> None:
    ev = q10013.evidence("loongarch", ACPI + "generic_event_device.c")
    assert ev.startswith(
        "loongarch builds hw/acpi/generic_event_device.c: LOONGARCH_VIRT selects ACPI_HW_REDUCED"
    )
    assert "when: CONFIG_ACPI_HW_REDUCED" in ev
    assert "ACPI_CPU_HOTPLUG is n" in q10013.evidence("arm", ACPI + "cpu.c")


@pytest.mark.real_qemu
def test_real_10_0_13_no_acpi_file_is_uncertain(q10013: BuildConfig) -> None:
    for arch in q10013.archs:
        for f in sorted(q10013.known_files):
            if f.startswith(ACPI):
                assert q10013.is_built(arch, f) is not None, (arch, f)
    assert not [
        p
        for p in q10013.problems
        if p.where.file.startswith(("hw/", "configs/")) and "syntax" in p.reason
    ]


def edited_copy(tree: Path, dest: Path, rel: str, old: str, new: str) -> Path:
    """A hard-linked copy of ``tree`` with one file replaced by an edited fresh copy."""
    subprocess.run(["cp", "-al", str(tree), str(dest)], check=True)
    path = dest / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{rel}: anchor not found exactly once: {old!r}"
    path.unlink()  # the cached tree keeps its inode; the copy gets a new file
    path.write_text(text.replace(old, new), encoding="utf-8")
    return dest


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.real_qemu
def test_real_10_0_13_arm_virt_selecting_cpu_hotplug_builds_cpu_c(tmp_path: Path) -> None:
    tree = qemu_tree("10.0.13")
    before = _digest(tree / "hw/arm/Kconfig")
    copy = edited_copy(
        tree,
        tmp_path / "q",
        "hw/arm/Kconfig",
        "config ARM_VIRT\n    bool\n",
        "config ARM_VIRT\n    bool\n    select ACPI_CPU_HOTPLUG\n",
    )
    bc = load_build_config(copy)
    assert built(bc, "aarch64-softmmu", "cpu.c", "acpi-cpu-hotplug-stub.c") == {
        "cpu.c": True,
        "acpi-cpu-hotplug-stub.c": False,
    }
    assert "ARM_VIRT selects ACPI_CPU_HOTPLUG" in bc.evidence("arm", ACPI + "cpu.c")
    assert _digest(tree / "hw/arm/Kconfig") == before


@pytest.mark.real_qemu
def test_real_10_0_13_board_dropping_the_ged(tmp_path: Path) -> None:
    tree = qemu_tree("10.0.13")
    anchor = "    select ACPI_CPU_HOTPLUG\n    select ACPI_PCI\n    select ACPI_HW_REDUCED\n"
    copy = edited_copy(
        tree,
        tmp_path / "q",
        "hw/loongarch/Kconfig",
        anchor,
        "    select ACPI_CPU_HOTPLUG\n    select ACPI_PCI\n",
    )
    bc = load_build_config(copy)
    assert built(bc, "loongarch64-softmmu", "generic_event_device.c") == {
        "generic_event_device.c": False
    }


Table = dict[str, dict[str, bool]]
ACPI_FILES = ("cpu.c", "acpi-cpu-hotplug-stub.c", "generic_event_device.c", "piix4.c", "ich9.c")


def acpi_table(bc: BuildConfig) -> Table:
    out: Table = {}
    for arch in bc.archs:
        row = {f: bool(bc.is_built(arch, ACPI + f)) for f in ACPI_FILES}
        if any(row.values()):
            out[arch] = row
    return out


def row(*flags: int) -> dict[str, bool]:
    return {f: bool(v) for f, v in zip(ACPI_FILES, flags, strict=True)}


#                 cpu stub ged piix4 ich9
TABLE_10 = {
    "arm": row(0, 1, 1, 0, 0),
    "i386": row(1, 0, 1, 1, 1),
    "loongarch": row(1, 0, 1, 0, 0),
    "mips": row(0, 1, 0, 1, 0),
    "ppc": row(0, 1, 0, 0, 0),
    "riscv": row(0, 1, 0, 0, 0),
}
TABLE_7_2 = {
    "arm": row(0, 1, 1, 0, 0),
    "i386": row(1, 0, 1, 1, 1),
    "loongarch": row(0, 1, 1, 0, 0),
    "mips": row(0, 1, 0, 1, 0),
    "ppc": row(1, 0, 0, 1, 0),  # pegasos2 selected ACPI_X86 then
}


@pytest.mark.real_qemu
@pytest.mark.parametrize(
    ("version", "table"), [("10.0.13", TABLE_10), ("10.0.2", TABLE_10), ("7.2", TABLE_7_2)]
)
def test_real_acpi_tables(version: str, table: Table) -> None:
    assert acpi_table(load_build_config(qemu_tree(version))) == table


def test_overrides_are_the_tree_at_a_revision(mini: BuildConfig) -> None:
    """A state read from git (``--diff-base``, audit): the files that differ
    replace the folder's, a None removes one (also from ``configs/targets``)."""
    meson = (MINI / "hw" / "acpi" / "meson.build").read_bytes()
    overrides: dict[str, bytes | None] = {
        "hw/acpi/meson.build": meson + b"acpi_ss.add(files('added.c'))\n",
        "configs/targets/bar-softmmu.mak": None,
    }
    bc = load_build_config(MINI, KVM_FOO64, overrides=overrides)
    assert [t.name for t in bc.targets] == ["foo-softmmu", "foo64-softmmu"]
    assert "hw/acpi/added.c" in target_files(bc, "foo-softmmu")
    assert "hw/acpi/added.c" not in target_files(mini, "foo-softmmu")
    assert target_files(bc, "foo64-softmmu") - {"hw/acpi/added.c"} == target_files(
        mini, "foo64-softmmu"
    )
