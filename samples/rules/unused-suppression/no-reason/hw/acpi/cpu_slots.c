/*
 * Suppressions without a reason: they silence nothing.
 */
#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void cpu_slot_forget(AcpiCpuStatus *cdev)
{
    cdev->cpu = NULL;  /* qemu-lint: allow acpi-cpu-persistence */  /* expect: unused-suppression, acpi-cpu-persistence */
}

void cpu_slot_forget_above(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence -- */  /* expect: unused-suppression */
    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */
}
