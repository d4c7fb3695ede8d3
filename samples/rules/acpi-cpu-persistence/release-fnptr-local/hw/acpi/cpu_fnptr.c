#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

static void acpi_cpu_status_store(AcpiCpuStatus *cdev, CPUState *cpu)
{
    cdev->cpu = cpu;
}

/* A setter called through a function pointer held in a local. */
void acpi_cpu_status_drop(AcpiCpuStatus *cdev, CPUState *cpu)
{
    void (*store)(AcpiCpuStatus *, CPUState *) = acpi_cpu_status_store;

    store(cdev, cpu);  /* ok: a real vCPU */
    store(cdev, NULL);  /* expect: acpi-cpu-persistence kind=release */
}
