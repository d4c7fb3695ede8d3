#ifndef HW_ACPI_PIIX4_H
#define HW_ACPI_PIIX4_H

#include "hw/acpi/cpu.h"

#define TYPE_PIIX4_PM "PIIX4_PM"
OBJECT_DECLARE_SIMPLE_TYPE(PIIX4PMState, PIIX4_PM);

struct PIIX4PMState {
    DeviceState parent_obj;
    bool cpu_hotplug_legacy;
    CPUHotplugState cpuhp_state;
};

#endif
