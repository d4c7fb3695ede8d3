#ifndef HW_ACPI_CPU_HOTPLUG_H
#define HW_ACPI_CPU_HOTPLUG_H

#include "hw/acpi/cpu.h"

/* Legacy (pre-2.7) CPU hotplug interface: a bitmap, not AcpiCpuStatus. */
typedef struct LegacyCpuStatus {
    CPUState *cpu;
    bool is_present;
} LegacyCpuStatus;

typedef struct AcpiCpuHotplug {
    Object *device;
    MemoryRegion io;
    uint8_t sts[32];
    LegacyCpuStatus slots[256];
} AcpiCpuHotplug;

void legacy_acpi_cpu_unplug_cb(AcpiCpuHotplug *g, DeviceState *dev);
int acpi_cpu_count_present(CPUHotplugState *cpu_st);

#endif
