#ifndef HW_ACPI_ICH9_H
#define HW_ACPI_ICH9_H

#include "hw/acpi/cpu.h"

typedef struct ICH9LPCPMRegs {
    MemoryRegion io;
    bool cpu_hotplug_legacy;
    CPUHotplugState cpuhp_state;
} ICH9LPCPMRegs;

void ich9_pm_device_unplug_cb(HotplugHandler *hotplug_dev, DeviceState *dev,
                              Error **errp);

#endif
