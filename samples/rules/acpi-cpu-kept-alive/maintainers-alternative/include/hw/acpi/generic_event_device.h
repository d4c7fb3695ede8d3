#ifndef HW_ACPI_GED_H
#define HW_ACPI_GED_H

#include "hw/acpi/cpu.h"
#include "hw/acpi/memory_hotplug.h"

#define TYPE_ACPI_GED "acpi-ged"
OBJECT_DECLARE_SIMPLE_TYPE(AcpiGedState, ACPI_GED);

#define ACPI_GED_MEM_HOTPLUG_EVT 0x2
#define ACPI_GED_CPU_HOTPLUG_EVT 0x8

struct AcpiGedState {
    DeviceState parent_obj;
    MemHotplugState memhp_state;
    MemoryRegion container_cpuhp;
    CPUHotplugState cpuhp_state;
    uint32_t ged_event_bitmap;
    bool cpus_always_present;
};

#endif
