#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

/* Freeing the status while the vCPUs stay, and g_clear_pointer() of ::cpu. */
void acpi_cpu_status_free(CPUHotplugState *cpu_st, AcpiCpuStatus *cdev, int i)
{
    g_clear_pointer(&cdev->cpu, object_unref);  /* expect: acpi-cpu-persistence kind=release */
    g_free(cpu_st->devs);  /* expect: acpi-cpu-persistence kind=release */
    g_clear_pointer(&cpu_st->devs, g_free);  /* expect: acpi-cpu-persistence kind=release */
    g_free(&cpu_st->devs[i]);  /* expect: acpi-cpu-persistence kind=release */
    g_free(cdev->cpu);  /* ok: not the status (a bug of its own, not this rule's) */
}
