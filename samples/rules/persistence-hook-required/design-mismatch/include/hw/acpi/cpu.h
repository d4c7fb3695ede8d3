#ifndef ACPI_CPU_H
#define ACPI_CPU_H

#include "hw/core/cpu.h"

typedef struct AcpiCpuStatus {
    CPUState *cpu;
    uint64_t arch_id;
    bool is_inserting;
    bool is_removing;
} AcpiCpuStatus;

typedef struct CPUHotplugState {
    uint32_t selector;
    uint32_t dev_count;
    AcpiCpuStatus *devs;
    /* true: every possible vCPU stays _STA.Present for the life of the VM */
    bool always_present_cpus;
} CPUHotplugState;

void cpu_hotplug_hw_init(Object *owner, CPUHotplugState *state,
                         uint32_t dev_count, bool always_present_cpus);

#endif
