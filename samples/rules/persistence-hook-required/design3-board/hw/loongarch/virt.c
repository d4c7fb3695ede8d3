#include "qemu/osdep.h"
#include "hw/acpi/generic_event_device.h"

static DeviceState *virt_create_ged(uint32_t possible_cpus)
{
    DeviceState *dev = qdev_new(TYPE_ACPI_GED);
    AcpiGedState *ged = ACPI_GED(dev);

    ged->possible_cpus = possible_cpus;
    /* every possible vCPU stays _STA.Present on this board */
    ged->cpus_always_present = true;
    return dev;
}

static void virt_init(MachineState *machine)
{
    virt_create_ged(256);
}
