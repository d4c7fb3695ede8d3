/*
 * Suppressions left behind after the code under them changed.
 */
#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void cpu_slot_reset(AcpiCpuStatus *cdev)
{
    cdev->is_inserting = false;  /* qemu-lint: allow acpi-cpu-persistence -- stale */  /* expect: unused-suppression */
}

void cpu_slot_reset_above(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence -- stale */  /* expect: unused-suppression */
    cdev->is_removing = false;
}

void cpu_slot_forget_too_far(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence -- two lines above the release */  /* expect: unused-suppression */
    cdev->is_removing = false;
    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */
}
