"""QOM types and typed dispatch (:mod:`qemu_lint.model.qom`,
:mod:`qemu_lint.model.reach`) on small trees written here: TypeInfo records
with ``.instance_init``, the ``OBJECT_DEFINE_*`` macros, the machine's
hotplug handler behind ``qdev_get_hotplug_handler()``, and an MMIO table
mapped from an instance_init."""

from __future__ import annotations

import os
from pathlib import Path

from qemu_lint.frontends import TreeSitter
from qemu_lint.model import Model, build_model

HEADER = """\
typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct DeviceState DeviceState;
typedef struct MachineState MachineState;
typedef struct HotplugHandler HotplugHandler;
typedef struct Error Error;
typedef struct MemoryRegion MemoryRegion;
typedef struct MemoryRegionOps {
    unsigned long (*read)(void *opaque, unsigned long addr, unsigned size);
    void (*write)(void *opaque, unsigned long addr, unsigned long data, unsigned size);
} MemoryRegionOps;
typedef struct TypeInfo {
    const char *name;
    const char *parent;
    void (*class_init)(ObjectClass *oc, void *data);
    void (*instance_init)(Object *obj);
} TypeInfo;
typedef struct DeviceClass {
    const char *bus_type;
    void (*realize)(DeviceState *dev, Error **errp);
} DeviceClass;
typedef struct MachineClass {
    HotplugHandler *(*get_hotplug_handler)(MachineState *machine, DeviceState *dev);
} MachineClass;
typedef struct HotplugHandlerClass {
    void (*unplug)(HotplugHandler *h, DeviceState *dev, Error **errp);
} HotplugHandlerClass;
#define TYPE_OBJECT "object"
#define TYPE_DEVICE "device"
#define TYPE_MACHINE "machine"
#define TYPE_CPU "cpu"
#define TYPE_HOTPLUG_HANDLER "hotplug-handler"
#define TYPE_TOY_GED "toy-ged"
#define TYPE_TOY_BOARD "toy-board"
#define TYPE_TOY_TIMER "toy-timer"
#define TYPE_TOY_BUS_DEV "toy-bus-dev"
"""

CORE = """\
#include "qom.h"
static const TypeInfo core_types[] = {
    { .name = TYPE_DEVICE, .parent = TYPE_OBJECT },
    { .name = TYPE_MACHINE, .parent = TYPE_OBJECT },
    { .name = TYPE_CPU, .parent = TYPE_DEVICE },
};
void hotplug_handler_unplug(HotplugHandler *plug_handler, DeviceState *plugged_dev,
                            Error **errp)
{
    HotplugHandlerClass *hdc = HOTPLUG_HANDLER_GET_CLASS(plug_handler);

    hdc->unplug(plug_handler, plugged_dev, errp);
}
"""

GED = """\
#include "qom.h"
static void toy_ged_unplug_cb(HotplugHandler *h, DeviceState *dev, Error **errp)
{
}
static void toy_ged_class_init(ObjectClass *oc, void *data)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    hc->unplug = toy_ged_unplug_cb;
}
static const TypeInfo toy_ged_info = {
    .name = TYPE_TOY_GED,
    .parent = TYPE_DEVICE,
    .class_init = toy_ged_class_init,
};
void toy_eject(DeviceState *dev)
{
    HotplugHandler *hotplug_ctrl = NULL;

    hotplug_ctrl = qdev_get_hotplug_handler(dev);
    hotplug_handler_unplug(hotplug_ctrl, dev, NULL);
}
"""

BOARD = """\
#include "qom.h"
static void toy_board_unplug(HotplugHandler *h, DeviceState *dev, Error **errp)
{
}
static HotplugHandler *toy_get_hotplug_handler(MachineState *machine, DeviceState *dev)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_CPU)) {
        return HOTPLUG_HANDLER(machine);
    }
    return NULL;
}
static void toy_board_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    mc->get_hotplug_handler = toy_get_hotplug_handler;
    hc->unplug = toy_board_unplug;
}
static const TypeInfo toy_board_info = {
    .name = TYPE_TOY_BOARD,
    .parent = TYPE_MACHINE,
    .class_init = toy_board_class_init,
};
"""

TIMER = """\
#include "qom.h"
static unsigned long toy_timer_read(void *opaque, unsigned long addr, unsigned size)
{
    return 0;
}
static const MemoryRegionOps toy_timer_ops = {
    .read = toy_timer_read,
};
static void toy_timer_init(Object *obj)
{
    memory_region_init_io(NULL, obj, &toy_timer_ops, obj, "toy-timer", 4);
}
static void toy_timer_class_init(ObjectClass *oc, void *data)
{
}
OBJECT_DEFINE_TYPE_WITH_INTERFACES(ToyTimer, toy_timer, TOY_TIMER, DEVICE,
                                   { TYPE_HOTPLUG_HANDLER }, { })
OBJECT_DEFINE_SIMPLE_TYPE(ToyBusDev, toy_bus_dev, TOY_BUS_DEV, DEVICE)
static void toy_bus_dev_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->bus_type = "toy-bus";
}
static void toy_bus_dev_init(Object *obj)
{
}
static const TypeInfo toy_plain_info = {
    .name = "toy-plain",
    .parent = TYPE_DEVICE,
    .instance_init = toy_timer_init,
};
"""

MAKER = """\
#include "qom.h"
void toy_machine_init(MachineState *ms)
{
    DeviceState *dev = qdev_new(TYPE_TOY_TIMER);
}
"""


def _model() -> Model:
    files = {
        "include/qom.h": HEADER,
        "hw/core/core.c": CORE,
        "hw/acpi/toy_ged.c": GED,
        "hw/toy/board.c": BOARD,
        "hw/misc/toy_timer.c": TIMER,
        "hw/toy/machine.c": MAKER,
        "target/toy/cpu.c": "int toy_cpu;\n",
    }
    fe = TreeSitter()
    facts = [fe.dump(path, text.encode()) for path, text in files.items()]
    return build_model("/nonexistent", facts, all_paths=tuple(files))


def test_typeinfo_instance_init() -> None:
    qom = _model().qom
    assert qom.types["toy-plain"].instance_init == "toy_timer_init"
    assert qom.types["toy-ged"].instance_init is None


def test_object_define_macros_declare_types() -> None:
    qom = _model().qom
    timer = qom.types["toy-timer"]
    assert (timer.spelling, timer.parent, timer.class_init, timer.instance_init) == (
        "TYPE_TOY_TIMER",
        "device",
        "toy_timer_class_init",
        "toy_timer_init",
    )
    assert timer.interfaces == ("hotplug-handler",)
    assert timer.macro == "OBJECT_DEFINE_TYPE_WITH_INTERFACES"
    simple = qom.types["toy-bus-dev"]
    assert (simple.parent, simple.interfaces, simple.macro) == (
        "device",
        (),
        "OBJECT_DEFINE_SIMPLE_TYPE",
    )
    assert qom.by_class_init["toy_bus_dev_class_init"] == ["toy-bus-dev"]
    assert sorted(qom.by_instance_init["toy_timer_init"]) == ["toy-plain", "toy-timer"]
    assert qom.is_a("toy-timer", "hotplug-handler")


def test_busless_follows_class_inits_through_the_macro() -> None:
    qom = _model().qom
    assert qom.busless("cpu")
    # its class_init (named by OBJECT_DEFINE_SIMPLE_TYPE) sets DeviceClass::bus_type
    assert not qom.busless("toy-bus-dev")
    # a subtype may sit on a bus: TYPE_DEVICE is not bus-less
    assert not qom.busless("device")
    # an unknown chain is never called bus-less
    assert not qom.busless("unknown-type")


def test_machine_handler_is_the_board() -> None:
    model = _model()
    assert model.reach is not None
    got = model.reach.machine_handlers("toy")
    assert got is not None and got.types == {"toy-board"}
    assert "toy_get_hotplug_handler() (registered at hw/toy/board.c:" in got.why
    # no board of another architecture has a hotplug handler
    other = model.reach.machine_handlers("other")
    assert other is not None and other.types == frozenset()


def _path(model: Model, fn: str, arch: str) -> list[str]:
    ref = next(r for r in model.index.functions if r[1] == fn)
    a = model.attribute(ref, arch)
    return [s.caller[1] for s in a.steps] if a.reached else []


def _eject_edges(model: Model, *constraints: tuple[int, str, bool]) -> list[str]:
    """The notes of the edges from toy_eject() into hotplug_handler_unplug(),
    for a path requiring ``constraints`` of the latter's parameters."""
    assert model.reach is not None
    ref = next(r for r in model.index.functions if r[1] == "hotplug_handler_unplug")
    edges = model.reach._edges((ref, frozenset(constraints)), "toy")
    return [step.note for _, step in edges if step.caller[1] == "toy_eject"]


def test_eject_lookup_is_the_machine_for_a_cpu() -> None:
    model = _model()
    # toy_eject() unplugs through qdev_get_hotplug_handler(): for a CPU on
    # toy, the board's handler (a CPU has no bus), never the GED
    assert _eject_edges(model, (0, "toy-ged", True), (1, "cpu", True)) == []
    (note,) = _eject_edges(model, (0, "toy-board", True), (1, "cpu", True))
    assert "returns the machine, a TYPE_TOY_BOARD" in note
    assert "a TYPE_CPU has no parent bus" in note


def test_eject_lookup_unknown_device_follows_every_registration() -> None:
    # the device's type unknown: it may sit on a bus whose handler is not
    # typed, so the GED's unplug stays, and the note says why
    (note,) = _eject_edges(_model(), (0, "toy-ged", True))
    assert "unknown" in note and "every registration" in note


def test_mmio_table_mapped_in_instance_init_is_entered_by_creation() -> None:
    model = _model()
    assert _path(model, "toy_timer_read", "toy") == [
        "toy_machine_init",
        "toy_timer_init",
    ]
    ref = next(r for r in model.index.functions if r[1] == "toy_timer_read")
    notes = [s.note for s in model.attribute(ref, "toy").steps]
    assert "toy_timer_init() initialises every TYPE_TOY_TIMER (.instance_init" in notes[0]


def test_registrations_of_one_function_come_in_line_order(tmp_path: Path) -> None:
    """One hook function registered by several class_inits of a file, and
    defined in no file analysed, is one implementation per registration:
    listed by line, whatever order the set of them iterates in (it changes
    with the interpreter's string hashing: the model export of QEMU 7.2's
    five crisv* class_inits differed from run to run)."""
    import json
    import subprocess
    import sys

    from tests.conftest import REPO, SAMPLES, materialize

    root = materialize(SAMPLES / "trees" / "demo", tmp_path / "tree")
    cpu = root / "target" / "arm" / "cpu.c"
    extra = "".join(
        f"\nstatic void arm_v{n}_class_init(ObjectClass *oc, void *data)\n"
        f"{{\n    CPUClass *cc = CPU_CLASS(oc);\n\n    cc->dump_state = arm_vx_dump_state;\n}}\n"
        for n in range(6)
    )
    cpu.write_text(cpu.read_text() + extra)
    docs = []
    for seed in ("0", "1"):  # two orders of the set; the line order is the strong check
        cmd = [sys.executable, "-m", "qemu_lint", "model", "--no-cache", "--format", "json"]
        r = subprocess.run(
            [*cmd, str(root)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert r.returncode == 0, r.stderr
        docs.append(r.stdout)
    assert len(set(docs)) == 1
    lines = [
        i["line"]
        for i in json.loads(docs[0])["implementations"]
        if i["function"] == "arm_vx_dump_state"
    ]
    assert len(lines) == 6 and lines == sorted(lines)
