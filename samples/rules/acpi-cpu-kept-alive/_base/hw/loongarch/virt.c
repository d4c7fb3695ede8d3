#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "hw/acpi/generic_event_device.h"
#include "hw/hotplug.h"
#include "hw/intc/loongarch_ipi.h"
#include "hw/loongarch/virt.h"
#include "qapi/error.h"

static CPUArchId *virt_find_cpu_slot(MachineState *ms, uint64_t arch_id)
{
    int i;

    for (i = 0; i < ms->possible_cpus->len; i++) {
        if (ms->possible_cpus->cpus[i].arch_id == arch_id) {
            return &ms->possible_cpus->cpus[i];
        }
    }
    return NULL;
}

static void virt_cpu_unplug(HotplugHandler *hotplug_dev,
                            DeviceState *dev, Error **errp)
{
    LoongArchVirtMachineState *lvms = LOONGARCH_VIRT_MACHINE(hotplug_dev);
    CPUState *cs = CPU(dev);
    CPUArchId *cpu_slot;

    /* tell the IPI controller and then the GED that the vCPU went away */
    hotplug_handler_unplug(HOTPLUG_HANDLER(lvms->ipi), dev, &error_abort);
    hotplug_handler_unplug(HOTPLUG_HANDLER(lvms->acpi_ged), dev, &error_abort);

    cpu_slot = virt_find_cpu_slot(MACHINE(lvms), cs->cc->get_arch_id(cs));
    cpu_slot->cpu = NULL;  /* ok: CPUArchId, not AcpiCpuStatus */
}

static void virt_device_unplug(HotplugHandler *hotplug_dev,
                               DeviceState *dev, Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_CPU)) {
        virt_cpu_unplug(hotplug_dev, dev, errp);
    }
}

static void virt_create_ged(LoongArchVirtMachineState *lvms)
{
    DeviceState *dev = qdev_new(TYPE_ACPI_GED);
    AcpiGedState *ged = ACPI_GED(dev);

    ged->ged_event_bitmap = ACPI_GED_MEM_HOTPLUG_EVT | ACPI_GED_CPU_HOTPLUG_EVT;
    lvms->acpi_ged = dev;
}

static void virt_init(MachineState *machine)
{
    LoongArchVirtMachineState *lvms = LOONGARCH_VIRT_MACHINE(machine);

    lvms->ipi = qdev_new(TYPE_LOONGARCH_IPI);
    virt_create_ged(lvms);
}

static void virt_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    mc->desc = "QEMU LoongArch Virtual Machine";
    mc->max_cpus = 256;
    mc->init = virt_init;
    hc->unplug = virt_device_unplug;
}

static const TypeInfo virt_machine_info = {
    .name = TYPE_LOONGARCH_VIRT_MACHINE,
    .parent = TYPE_MACHINE,
    .instance_size = sizeof(LoongArchVirtMachineState),
    .class_init = virt_class_init,
};

static void virt_machine_register_types(void)
{
    type_register_static(&virt_machine_info);
}

type_init(virt_machine_register_types);
