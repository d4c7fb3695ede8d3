#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev)
{
    CPUState *cs = CPU(dev);
    CPUClass *cc = cs->cc;
    AcpiCpuStatus *cdev = &cpu_st->devs[cpu_st->selector];

    if (cc->cpu_persistent_status && cc->cpu_persistent_status(cs)) {
        return;
    }
    cdev->cpu = NULL; /* ok: guarded by CPUClass::cpu_persistent_status */
}
