#ifndef ACPI_DEV_INTERFACE_H
#define ACPI_DEV_INTERFACE_H

typedef enum {
    ACPI_CPU_HOTPLUG_STATUS = 4,
    ACPI_MEMORY_HOTPLUG_STATUS = 8,
} AcpiEventStatusBits;

void acpi_send_event(DeviceState *dev, AcpiEventStatusBits event);

#endif
