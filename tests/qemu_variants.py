"""Variants of a real QEMU tree, made at test time (never committed).

:func:`make_variant` builds a cheap copy of a real tree — ``hw/``, ``include/``,
``target/``, ``configs/``, the top-level ``*.c``/``*.h`` files and every
``meson.build`` and ``Kconfig*`` file the build configuration reads
(:mod:`qemu_lint.build`), as *hard links* — and then
edits a few files by exact string replacement.  An edited file is always
written to a temporary file beside it and ``os.replace()``d over the link, so
the cached real tree (which shares the inodes) is never modified.

The edit sets below are the persistence-hook designs of docs/usage.md applied to
QEMU 10.0.  Every anchor must occur exactly once in the file being edited, so
a change in QEMU makes the test fail loudly instead of testing nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

Edit = tuple[str, str]

#: as the ``old`` of an edit: append ``new`` at the end of the file
APPEND = "\0append\0"
Edits = Mapping[str, Sequence[Edit]]

LINKED_DIRS = ("hw", "include", "target", "configs")
#: build files linked wherever they are (the build configuration reads them)
BUILD_FILES = ("meson.build", "meson_options.txt", "meson.options")


class AnchorError(AssertionError):
    """An anchor string was not found exactly once in the real QEMU text."""


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def read_text(path: Path) -> str:
    return _decode(path.read_bytes())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replace_file(path: Path, text: str) -> None:
    """Give ``path`` new content without writing through it (it may be a hard link)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".qemu-lint-variant-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_encode(text))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def apply_edits(rel: str, text: str, edits: Iterable[Edit]) -> str:
    for old, new in edits:
        if old == APPEND:
            text = text + ("" if text.endswith("\n") else "\n") + new
            continue
        n = text.count(old)
        if n != 1:
            raise AnchorError(f"{rel}: anchor found {n} times (expected exactly once): {old!r}")
        text = text.replace(old, new)
    return text


def merge(*parts: Edits) -> dict[str, list[Edit]]:
    """Concatenate edit sets, file by file, in order."""
    out: dict[str, list[Edit]] = {}
    for p in parts:
        for rel, edits in p.items():
            out.setdefault(rel, []).extend(edits)
    return out


def make_variant(src: Path, dest: Path, edits: Edits) -> Path:
    """A hard-linked copy of ``src`` under ``dest`` with ``edits`` applied.

    ``edits`` maps a path relative to the root to a list of ``(old, new)``
    exact replacements, applied in order, each anchor found exactly once.
    """
    src, dest = Path(src), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for d in LINKED_DIRS:
        subprocess.run(["cp", "-al", str(src / d), str(dest / d)], check=True)
    for f in sorted(src.iterdir()):
        if f.suffix in (".c", ".h") and f.is_file() and not f.is_symlink():
            os.link(f, dest / f.name)
    _link_build_files(src, dest)
    for rel, file_edits in edits.items():
        target = dest / rel
        original = src / rel
        text = apply_edits(rel, read_text(target), file_edits)
        replace_file(target, text)
        # The edited file must be a new inode: the real tree's file is untouched.
        if original.exists():
            assert os.stat(target).st_ino != os.stat(original).st_ino, rel
            assert read_text(original) != text, rel
    return dest


def _is_build_file(name: str) -> bool:
    return name in BUILD_FILES or name.startswith("Kconfig")


def _link_build_files(src: Path, dest: Path) -> None:
    """Hard-link every ``meson.build``/``Kconfig*`` outside :data:`LINKED_DIRS`."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in LINKED_DIRS and not d.startswith(".")]
        for name in filenames:
            f = Path(dirpath) / name
            if _is_build_file(name) and f.is_file() and not f.is_symlink():
                (dest / rel).mkdir(parents=True, exist_ok=True)
                if not (dest / rel / name).exists():
                    os.link(f, dest / rel / name)


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line number of the ``nth`` line containing ``needle`` (asserted to exist)."""
    seen = 0
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return n
    raise AnchorError(f"{path}: {needle!r} not found ({seen} occurrence(s), wanted #{nth})")


# --------------------------------------------------------------------------
# Edit sets (QEMU 10.0 text)
# --------------------------------------------------------------------------

CPU_H = "include/hw/core/cpu.h"
ACPI_CPU_C = "hw/acpi/cpu.c"
ACPI_CPU_H = "include/hw/acpi/cpu.h"
ARM_CPU_C = "target/arm/cpu.c"
CPU_COMMON_C = "hw/core/cpu-common.c"
ICH9_C = "hw/acpi/ich9.c"
PIIX4_C = "hw/acpi/piix4.c"
GED_C = "hw/acpi/generic_event_device.c"
LOONGARCH_VIRT_C = "hw/loongarch/virt.c"

RELEASE = "    cdev->cpu = NULL;\n"
UNPLUG_CB_DEF = "void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st,\n"

# Design 1: bool (*cpu_persistent_status)(CPUState *cpu) in struct CPUClass.
_GET_ARCH_ID = "    int64_t (*get_arch_id)(CPUState *cpu);\n"
HOOK_DECL: Edits = {
    CPU_H: [(_GET_ARCH_ID, _GET_ARCH_ID + "    bool (*cpu_persistent_status)(CPUState *cpu);\n")],
}

_ARM_CLASS_INIT = "static void arm_cpu_class_init(ObjectClass *oc,"
_ARM_GDB = "    cc->gdb_arch_name = arm_gdb_arch_name;\n"
ARM_IMPL: Edits = {
    ARM_CPU_C: [
        (
            _ARM_CLASS_INIT,
            "static bool arm_cpu_persistent_status(CPUState *cs)\n"
            "{\n"
            "    /* GIC redistributors cannot be reconfigured after boot */\n"
            "    return true;\n"
            "}\n"
            "\n" + _ARM_CLASS_INIT,
        ),
        (_ARM_GDB, _ARM_GDB + "    cc->cpu_persistent_status = arm_cpu_persistent_status;\n"),
    ],
}

_LA_CLASS_INIT = "static void loongarch_cpu_class_init(ObjectClass *c,"
_LA_ARCH_ID = "    cc->get_arch_id = loongarch_cpu_get_arch_id;\n"
LOONGARCH_IMPL: Edits = {
    "target/loongarch/cpu.c": [
        (
            _LA_CLASS_INIT,
            "static bool loongarch_cpu_persistent_status(CPUState *cs)\n"
            "{\n"
            "    return false;\n"
            "}\n"
            "\n" + _LA_CLASS_INIT,
        ),
        (
            _LA_ARCH_ID,
            _LA_ARCH_ID + "    cc->cpu_persistent_status = loongarch_cpu_persistent_status;\n",
        ),
    ],
}


def _wrapper(static: bool) -> str:
    return (
        ("static " if static else "") + "bool should_remain_acpi_present(DeviceState *dev)\n"
        "{\n"
        "    CPUClass *k = CPU_GET_CLASS(dev);\n"
        "\n"
        "    return k->cpu_persistent_status && k->cpu_persistent_status(CPU(dev));\n"
        "}\n"
        "\n"
    )


def wrapper(static: bool = True) -> Edits:
    """``should_remain_acpi_present()`` defined just before acpi_cpu_unplug_cb()."""
    out: dict[str, list[Edit]] = {ACPI_CPU_C: [(UNPLUG_CB_DEF, _wrapper(static) + UNPLUG_CB_DEF)]}
    if not static:
        proto = (
            "void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st,\n"
            "                        DeviceState *dev, Error **errp);\n"
        )
        out[ACPI_CPU_H] = [
            (proto, proto + "\nbool should_remain_acpi_present(DeviceState *dev);\n")
        ]
    return out


def release(replacement: str) -> Edits:
    """Replace the release statement of acpi_cpu_unplug_cb()."""
    return {ACPI_CPU_C: [(RELEASE, replacement)]}


GUARDED_RELEASE = "    if (!should_remain_acpi_present(dev)) {\n        cdev->cpu = NULL;\n    }\n"

D1_GUARDED = merge(HOOK_DECL, ARM_IMPL, wrapper(), release(GUARDED_RELEASE))

D1_WRONG_POLARITY = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(),
    release("    if (should_remain_acpi_present(dev)) {\n        cdev->cpu = NULL;\n    }\n"),
)

#: as D1_WRONG_POLARITY, and loongarch (which reaches the site) implements the hook
D1_WRONG_POLARITY_LA = merge(D1_WRONG_POLARITY, LOONGARCH_IMPL)

D1_IGNORED = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(),
    release("    should_remain_acpi_present(dev);\n    cdev->cpu = NULL;\n"),
)

D1_DIFFERENT_HOOK = merge(
    HOOK_DECL,
    ARM_IMPL,
    release(
        "    if (CPU(dev)->cc->get_arch_id(CPU(dev)) != 0) {\n        cdev->cpu = NULL;\n    }\n"
    ),
)

D1_EARLY_GOTO = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(),
    release(
        "    if (should_remain_acpi_present(dev)) {\n"
        "        goto out;\n"
        "    }\n"
        "    cdev->cpu = NULL;\n"
        "out:\n"
        "    return;\n"
    ),
)

# Design 2: CPUState::acpi_persistent read by qemu_persistent_cpu() in cpu-common.c.
_UNPLUG_FIELD = "    bool unplug;\n"
_REALIZEFN_PROTO = "bool cpu_exec_realizefn(CPUState *cpu, Error **errp);\n"


D2_HELPER = merge(
    {
        CPU_H: [
            (_UNPLUG_FIELD, _UNPLUG_FIELD + "    bool acpi_persistent;\n"),
            (_REALIZEFN_PROTO, _REALIZEFN_PROTO + "bool qemu_persistent_cpu(CPUState *cpu);\n"),
        ]
    },
    {
        CPU_COMMON_C: [
            (
                APPEND,
                "\n"
                "bool qemu_persistent_cpu(CPUState *cpu)\n"
                "{\n"
                "    return cpu->acpi_persistent;\n"
                "}\n",
            )
        ]
    },
    release(
        "    if (qemu_persistent_cpu(CPU(dev))) {\n        return;\n    }\n    cdev->cpu = NULL;\n"
    ),
)

# Design 3: CPUHotplugState::always_present_cpus with an early return.
_DEVS_FIELD = "    AcpiCpuStatus *devs;\n"
_D3_DECL: Edits = {ACPI_CPU_H: [(_DEVS_FIELD, _DEVS_FIELD + "    bool always_present_cpus;\n")]}

D3 = merge(
    _D3_DECL,
    release(
        "    if (cpu_st->always_present_cpus) {\n        return;\n    }\n    cdev->cpu = NULL;\n"
    ),
)

D3_WRONG_POLARITY = merge(
    _D3_DECL,
    release(
        "    if (!cpu_st->always_present_cpus) {\n        return;\n    }\n    cdev->cpu = NULL;\n"
    ),
)

# Guards in the three callers of acpi_cpu_unplug_cb() instead of in it.
CALLER_LINES = {
    ICH9_C: "        acpi_cpu_unplug_cb(&lpc->pm.cpuhp_state, dev, errp);\n",
    PIIX4_C: "        acpi_cpu_unplug_cb(&s->cpuhp_state, dev, errp);\n",
    GED_C: "        acpi_cpu_unplug_cb(&s->cpuhp_state, dev, errp);\n",
}


def guard_caller(rel: str) -> Edits:
    call = CALLER_LINES[rel]
    return {
        rel: [
            (call, "        if (!should_remain_acpi_present(dev)) {\n    " + call + "        }\n")
        ]
    }


GUARDS_IN_CALLERS = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(static=False),
    guard_caller(ICH9_C),
    guard_caller(PIIX4_C),
    guard_caller(GED_C),
)

ONE_CALLER_UNGUARDED = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(static=False),
    guard_caller(ICH9_C),
    guard_caller(GED_C),
)

# A release written in loongarch board code, through the GED's hotplug state.
_LVMS = (
    "    LoongArchVirtMachineState *lvms = LOONGARCH_VIRT_MACHINE(hotplug_dev);\n"
    "\n"
    "    /* Notify ipi and extioi irqchip to remove interrupt routing to CPU */\n"
)
_GED_NOTIFY = (
    "    /* Notify acpi ged CPU removed */\n"
    "    hotplug_handler_unplug(HOTPLUG_HANDLER(lvms->acpi_ged), dev, &error_abort);\n"
)
BOARD_RELEASE = "    ged->cpuhp_state.devs[0].cpu = NULL;\n"
RELEASE_IN_BOARD = merge(
    D1_GUARDED,
    {
        LOONGARCH_VIRT_C: [
            (
                _LVMS,
                _LVMS.replace("\n\n", "\n    AcpiGedState *ged = ACPI_GED(lvms->acpi_ged);\n\n", 1),
            ),
            (_GED_NOTIFY, _GED_NOTIFY + BOARD_RELEASE),
        ]
    },
)

# An explicit presence flag read into the Present bit.
_FW_REMOVE = "    bool fw_remove;\n"
_READ_CPU = "        val |= cdev->cpu ? 1 : 0;\n"
_PLUG = "    cdev->cpu = CPU(dev);\n"
PRESENCE_CLEAR = "    cdev->is_present = false;\n"
INSERTING_CLEAR = "    cdev->is_inserting = false;\n"
PRESENCE_FLAG = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(),
    {ACPI_CPU_H: [(_FW_REMOVE, _FW_REMOVE + "    bool is_present;\n")]},
    {
        ACPI_CPU_C: [
            (_READ_CPU, "        val |= (cdev->cpu && cdev->is_present) ? 1 : 0;\n"),
            (_PLUG, _PLUG + "    cdev->is_present = true;\n"),
            (RELEASE + "}\n", GUARDED_RELEASE + PRESENCE_CLEAR + INSERTING_CLEAR + "}\n"),
        ]
    },
)

# Beyond the three designs' plain shapes (docs/usage.md: "a local bool holding the
# result", "wrappers of any depth, including wrappers that negate").
D1_LOCAL_BOOL = merge(
    HOOK_DECL,
    ARM_IMPL,
    wrapper(),
    release(
        "    bool keep = should_remain_acpi_present(dev);\n"
        "\n"
        "    if (!keep) {\n"
        "        cdev->cpu = NULL;\n"
        "    }\n"
    ),
)

_MAY_RELEASE = (
    "\n"
    "bool cpu_acpi_may_release(DeviceState *dev)\n"
    "{\n"
    "    CPUClass *k = CPU_GET_CLASS(dev);\n"
    "\n"
    "    return !(k->cpu_persistent_status && k->cpu_persistent_status(CPU(dev)));\n"
    "}\n"
)
#: a negating wrapper in hw/core/cpu-common.c, called from hw/acpi/cpu.c
D1_NEGATING_WRAPPER_ELSEWHERE = merge(
    HOOK_DECL,
    ARM_IMPL,
    {
        CPU_H: [
            (_REALIZEFN_PROTO, _REALIZEFN_PROTO + "bool cpu_acpi_may_release(DeviceState *dev);\n")
        ]
    },
    {CPU_COMMON_C: [(APPEND, _MAY_RELEASE)]},
    release("    if (cpu_acpi_may_release(dev)) {\n        cdev->cpu = NULL;\n    }\n"),
)

# A release in a file that names none of the ACPI CPU hotplug types, the hooks
# or build_cpus_aml (the check must still find it), reached by no architecture.
OUTSIDE_FILE = "hw/misc/unimp.c"
OUTSIDE_RELEASE = "    ged->cpuhp_state.devs[i].cpu = NULL;\n"
RELEASE_OUTSIDE_ACPI = merge(
    D1_GUARDED,
    {
        OUTSIDE_FILE: [
            (
                APPEND,
                "\n"
                '#include "hw/acpi/generic_event_device.h"\n'
                "\n"
                "void ged_forget_cpu(AcpiGedState *ged, int i);\n"
                "\n"
                "void ged_forget_cpu(AcpiGedState *ged, int i)\n"
                "{\n" + OUTSIDE_RELEASE + "}\n",
            )
        ]
    },
)

VARIANTS: dict[str, dict[str, list[Edit]]] = {
    "d1-guarded": D1_GUARDED,
    "d1-wrong-polarity": D1_WRONG_POLARITY,
    "d1-wrong-polarity-loongarch-implements": D1_WRONG_POLARITY_LA,
    "d1-ignored": D1_IGNORED,
    "d1-different-hook": D1_DIFFERENT_HOOK,
    "d1-early-return-goto": D1_EARLY_GOTO,
    "d2-helper": D2_HELPER,
    "d3": D3,
    "d3-wrong-polarity": D3_WRONG_POLARITY,
    "guards-in-callers": GUARDS_IN_CALLERS,
    "one-caller-unguarded": ONE_CALLER_UNGUARDED,
    "release-in-board": RELEASE_IN_BOARD,
    "presence-flag": PRESENCE_FLAG,
    "d1-local-bool": D1_LOCAL_BOOL,
    "d1-negating-wrapper-elsewhere": D1_NEGATING_WRAPPER_ELSEWHERE,
    "release-outside-acpi": RELEASE_OUTSIDE_ACPI,
}

#: every file some variant edits (their real copies are checked to stay unchanged)
EDITED_FILES = sorted({rel for v in VARIANTS.values() for rel in v})


# --------------------------------------------------------------------------
# Attribution variants (issue 10): arm virt given CPU hotplug through its GED,
# as the ARM vCPU hotplug series wires it; build edits (Kconfig) included.
# --------------------------------------------------------------------------

ARM_KCONFIG = "hw/arm/Kconfig"
ARM_VIRT_C = "hw/arm/virt.c"
ARM_VIRT_ACPI_C = "hw/arm/virt-acpi-build.c"
LOONGARCH_KCONFIG = "hw/loongarch/Kconfig"

_ARM_SELECT_ACPI = "    select ACPI\n"
_ARM_GED_EVENT = "    uint32_t event = ACPI_GED_PWR_DOWN_EVT;\n"
_ARM_UNPLUG_CB = "static void virt_machine_device_unplug_cb(HotplugHandler *hotplug_dev,\n"
_ARM_UNPLUG_DIMM_BRANCH = (
    "    if (object_dynamic_cast(OBJECT(dev), TYPE_PC_DIMM)) {\n"
    "        virt_dimm_unplug(hotplug_dev, dev, errp);\n"
)
_ARM_GED_INCLUDE = '#include "hw/acpi/generic_event_device.h"\n'
_ARM_POWER_BUTTON = "    acpi_dsdt_add_power_button(scope);\n"


def _arm_cpu_unplug(consult_hook: bool) -> str:
    check = (
        "    if (should_remain_acpi_present(dev)) {\n"
        '        error_setg(errp, "vCPU %d cannot be unplugged", CPU(dev)->cpu_index);\n'
        "        return;\n"
        "    }\n"
        "\n"
        if consult_hook
        else ""
    )
    return (
        "static void virt_cpu_unplug(HotplugHandler *hotplug_dev,\n"
        "                            DeviceState *dev, Error **errp)\n"
        "{\n"
        "    VirtMachineState *vms = VIRT_MACHINE(hotplug_dev);\n"
        "\n" + check + "    /* notify the GED: it clears the vCPU's ACPI state */\n"
        "    hotplug_handler_unplug(HOTPLUG_HANDLER(vms->acpi_dev), dev, errp);\n"
        "}\n"
        "\n"
    )


def arm_ged_cpu_hotplug(consult_hook: bool = False) -> Edits:
    """arm virt with CPU hotplug through its GED: ARM_VIRT selects
    ACPI_CPU_HOTPLUG, the GED is created with the CPU hotplug event (its
    realize then maps the register block through cpu_hotplug_hw_init()), the
    DSDT gets the CPU hotplug AML, and the board's CPU unplug handler calls
    hotplug_handler_unplug() on the GED (with ``consult_hook``, only when
    should_remain_acpi_present() says the vCPU may go)."""
    return {
        ARM_KCONFIG: [(_ARM_SELECT_ACPI, _ARM_SELECT_ACPI + "    select ACPI_CPU_HOTPLUG\n")],
        ARM_VIRT_C: [
            (_ARM_GED_EVENT, _ARM_GED_EVENT + "\n    event |= ACPI_GED_CPU_HOTPLUG_EVT;\n"),
            (_ARM_UNPLUG_CB, _arm_cpu_unplug(consult_hook) + _ARM_UNPLUG_CB),
            (
                _ARM_UNPLUG_DIMM_BRANCH,
                "    if (object_dynamic_cast(OBJECT(dev), TYPE_CPU)) {\n"
                "        virt_cpu_unplug(hotplug_dev, dev, errp);\n"
                "    } else if (object_dynamic_cast(OBJECT(dev), TYPE_PC_DIMM)) {\n"
                "        virt_dimm_unplug(hotplug_dev, dev, errp);\n",
            ),
        ],
        ARM_VIRT_ACPI_C: [
            (_ARM_GED_INCLUDE, _ARM_GED_INCLUDE + '#include "hw/acpi/cpu.h"\n'),
            (
                _ARM_POWER_BUTTON,
                "    if (vms->acpi_dev) {\n"
                "        CPUHotplugFeatures opts = {\n"
                "            .acpi_1_compatible = false,\n"
                "            .has_legacy_cphp = false,\n"
                "        };\n"
                "\n"
                "        build_cpus_aml(scope, ms, opts, NULL,\n"
                "                       memmap[VIRT_ACPI_GED].base + ACPI_GED_EVT_SEL_LEN,\n"
                '                       "\\\\_SB", AML_GED_EVT_CPU_SCAN_METHOD,\n'
                "                       AML_SYSTEM_MEMORY);\n"
                "    }\n"
                "\n" + _ARM_POWER_BUTTON,
            ),
        ],
    }


#: arm's GED CPU hotplug, the generic release unguarded
ARM_GED = arm_ged_cpu_hotplug()
#: the same, arm's own CPU unplug path consulting the hook before it unplugs
ARM_GED_CONSULTS = merge(
    HOOK_DECL, ARM_IMPL, wrapper(static=False), arm_ged_cpu_hotplug(consult_hook=True)
)
#: the GED's call of acpi_cpu_unplug_cb() guarded, ICH9's and PIIX4's not
GED_CALLER_GUARDED = merge(HOOK_DECL, ARM_IMPL, wrapper(static=False), guard_caller(GED_C))

_EJECT_UNPARENT = "            object_unparent(OBJECT(dev));\n"
EJECT_RELEASE = "            cdev->cpu = NULL;\n"
#: a release on the guest's eject path (cpu_hotplug_wr()), the unplug one guarded
RELEASE_ON_EJECT = merge(
    D1_GUARDED, {ACPI_CPU_C: [(_EJECT_UNPARENT, _EJECT_UNPARENT + EJECT_RELEASE)]}
)
#: loongarch virt no longer selects the GED (ACPI_HW_REDUCED)
LOONGARCH_NO_GED: Edits = {LOONGARCH_KCONFIG: [("    select ACPI_HW_REDUCED\n", "")]}

ATTRIBUTION_VARIANTS: dict[str, dict[str, list[Edit]]] = {
    "arm-ged": merge(ARM_GED),
    "arm-ged-consults-hook": ARM_GED_CONSULTS,
    "ged-caller-guarded": GED_CALLER_GUARDED,
    "release-on-eject": RELEASE_ON_EJECT,
    "loongarch-no-ged": merge(LOONGARCH_NO_GED),
}
VARIANTS.update(ATTRIBUTION_VARIANTS)
EDITED_FILES = sorted({rel for v in VARIANTS.values() for rel in v})
