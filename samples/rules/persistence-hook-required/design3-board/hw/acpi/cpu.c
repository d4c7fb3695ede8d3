#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void cpu_hotplug_hw_init(Object *owner, CPUHotplugState *state,
                         uint32_t dev_count, bool always_present_cpus)
{
    state->always_present_cpus = always_present_cpus;
    state->dev_count = dev_count;
    state->devs = g_new0(AcpiCpuStatus, dev_count);
}
