#include "qemu/osdep.h"
#include "hw/acpi/cpu_hotplug.h"

void legacy_acpi_cpu_unplug_cb(AcpiCpuHotplug *g, DeviceState *dev)
{
    CPUState *cpu = NULL;  /* ok: local variable */
    int i;

    for (i = 0; i < 256; i++) {
        LegacyCpuStatus *cdev = &g->slots[i];

        if (cdev->cpu != CPU(dev)) {
            continue;
        }
        cpu = cdev->cpu;
        g->sts[i / 8] &= ~(1 << (i % 8));
        cdev->cpu = NULL;  /* ok: LegacyCpuStatus, not AcpiCpuStatus */
        cdev->is_present = false;  /* ok: LegacyCpuStatus, not AcpiCpuStatus */
    }
    if (cpu) {
        cpu = NULL;  /* ok: local variable */
    }
}

/* Reads AcpiCpuStatus::cpu but never writes it. */
int acpi_cpu_count_present(CPUHotplugState *cpu_st)
{
    int count = 0;
    uint32_t i;

    for (i = 0; i < cpu_st->dev_count; i++) {
        AcpiCpuStatus *cdev = &cpu_st->devs[i];
        CPUState **slot = &cdev->cpu;
        CPUState *copy = cdev->cpu;

        if (cpu_st->devs[i].cpu == NULL || *slot == NULL) {
            continue;
        }
        count += copy != NULL;
        copy = NULL;  /* ok: local copy of the value, not the field */
        slot = NULL;  /* ok: clears the alias pointer, not the field */
    }
    return count;
}
