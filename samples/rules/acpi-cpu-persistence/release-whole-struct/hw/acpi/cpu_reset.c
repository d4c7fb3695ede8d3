#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

/* Whole-struct assignments: a value without .cpu (or with .cpu = NULL) releases the vCPU. */
void acpi_cpu_status_reset(CPUHotplugState *cpu_st, AcpiCpuStatus *cdev, int i)
{
    AcpiCpuStatus empty = { 0 };
    AcpiCpuStatus keep = { .cpu = cdev->cpu, .arch_id = 1 };

    *cdev = (AcpiCpuStatus) { .arch_id = cdev->arch_id };  /* expect: acpi-cpu-persistence kind=release */
    *cdev = empty;  /* expect: acpi-cpu-persistence kind=release */
    cpu_st->devs[i] = (AcpiCpuStatus) { .cpu = NULL, .arch_id = 2 };  /* expect: acpi-cpu-persistence kind=release */
    *cdev = keep;  /* ok: keeps its vCPU */
    *cdev = (AcpiCpuStatus) { .cpu = cdev->cpu };  /* ok: keeps its vCPU */
}
