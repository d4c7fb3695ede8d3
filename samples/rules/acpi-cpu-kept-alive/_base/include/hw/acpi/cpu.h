#ifndef ACPI_CPU_H
#define ACPI_CPU_H

#include "exec/memory.h"
#include "hw/acpi/aml-build.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "hw/hotplug.h"

/* ACPI view of one possible vCPU; cpu != NULL makes it _STA.Present. */
typedef struct AcpiCpuStatus {
    CPUState *cpu;
    uint64_t arch_id;
    bool is_inserting;
    bool is_removing;
    bool fw_remove;
} AcpiCpuStatus;

typedef struct CPUHotplugState {
    MemoryRegion ctrl_reg;
    uint32_t selector;
    uint8_t command;
    uint32_t dev_count;
    AcpiCpuStatus *devs;
} CPUHotplugState;

typedef struct CPUHotplugFeatures {
    bool acpi_1_compatible;
    bool has_legacy_cphp;
} CPUHotplugFeatures;

void acpi_cpu_plug_cb(HotplugHandler *hotplug_dev, CPUHotplugState *cpu_st,
                      DeviceState *dev, Error **errp);
void acpi_cpu_unplug_request_cb(HotplugHandler *hotplug_dev,
                                CPUHotplugState *cpu_st,
                                DeviceState *dev, Error **errp);
void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev,
                        Error **errp);

void cpu_hotplug_hw_init(MemoryRegion *as, Object *owner,
                         CPUHotplugState *state, hwaddr base_addr);

void build_cpus_aml(Aml *table, MachineState *machine, CPUHotplugFeatures opts,
                    hwaddr base_addr, const char *res_root,
                    const char *event_handler_method, AmlRegionSpace rs);

#endif
