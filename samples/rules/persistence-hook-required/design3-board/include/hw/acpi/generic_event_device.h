#ifndef HW_ACPI_GED_H
#define HW_ACPI_GED_H

#include "hw/acpi/cpu.h"

#define TYPE_ACPI_GED "acpi-ged"
OBJECT_DECLARE_SIMPLE_TYPE(AcpiGedState, ACPI_GED);

struct AcpiGedState {
    DeviceState parent_obj;
    CPUHotplugState cpuhp_state;
    uint32_t possible_cpus;
    bool cpus_always_present;
};

#endif
