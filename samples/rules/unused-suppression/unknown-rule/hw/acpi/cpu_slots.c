/*
 * Suppressions naming rules that do not exist, and a malformed one.
 */
#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void cpu_slot_forget(AcpiCpuStatus *cdev)
{
    cdev->cpu = NULL;  /* qemu-lint: allow acpi-cpu-persistance -- typo */  /* expect: unused-suppression, acpi-cpu-persistence */
}

void cpu_slot_forget_two(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence, no-such-rule -- reused slot */  /* expect: unused-suppression */
    cdev->cpu = NULL;
}

void cpu_slot_forget_misspelt(AcpiCpuStatus *cdev)
{
    /* qemu-lint: alow acpi-cpu-persistence -- reused slot */  /* expect: unused-suppression */
    cdev->cpu = NULL;  /* expect: acpi-cpu-persistence */
}
