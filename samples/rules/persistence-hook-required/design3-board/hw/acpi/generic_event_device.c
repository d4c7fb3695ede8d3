#include "qemu/osdep.h"
#include "hw/acpi/generic_event_device.h"

static void acpi_ged_realize(DeviceState *dev, Error **errp)
{
    AcpiGedState *s = ACPI_GED(dev);

    cpu_hotplug_hw_init(OBJECT(dev), &s->cpuhp_state, s->possible_cpus,
                        s->cpus_always_present);
}

static void acpi_ged_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(class);

    dc->realize = acpi_ged_realize;
}

static const TypeInfo acpi_ged_info = {
    .name = TYPE_ACPI_GED,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(AcpiGedState),
    .class_init = acpi_ged_class_init,
};

static void acpi_ged_register_types(void)
{
    type_register_static(&acpi_ged_info);
}

type_init(acpi_ged_register_types);
