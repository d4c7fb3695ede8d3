#ifndef QEMU_HW_ACPI_MEMORY_HOTPLUG_H
#define QEMU_HW_ACPI_MEMORY_HOTPLUG_H

typedef struct MemHotplugState {
    uint32_t selector;
    uint32_t dev_count;
} MemHotplugState;

void acpi_memory_unplug_cb(MemHotplugState *mem_st, DeviceState *dev,
                           Error **errp);

#endif
