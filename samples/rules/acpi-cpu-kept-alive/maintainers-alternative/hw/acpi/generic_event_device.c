#include "qemu/osdep.h"
#include "hw/acpi/generic_event_device.h"
#include "hw/mem/pc-dimm.h"
#include "qapi/error.h"

static void acpi_ged_unplug_cb(HotplugHandler *hotplug_dev,
                               DeviceState *dev, Error **errp)
{
    AcpiGedState *s = ACPI_GED(hotplug_dev);
    Object *obj = OBJECT(dev);

    if (object_dynamic_cast(obj, TYPE_PC_DIMM)) {
        acpi_memory_unplug_cb(&s->memhp_state, dev, errp);
    } else if (object_dynamic_cast(obj, TYPE_CPU)) {
        acpi_cpu_unplug_cb(&s->cpuhp_state, dev, errp);
    } else {
        error_setg(errp, "acpi-ged: cannot unplug a %s",
                   object_get_typename(obj));
    }
}

static void acpi_ged_realize(DeviceState *dev, Error **errp)
{
    AcpiGedState *s = ACPI_GED(dev);

    if (s->ged_event_bitmap & ACPI_GED_CPU_HOTPLUG_EVT) {
        cpu_hotplug_hw_init(&s->container_cpuhp, OBJECT(dev),
                            &s->cpuhp_state, 0, s->cpus_always_present);
    }
}

static void acpi_ged_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(class);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(class);

    dc->desc = "ACPI Generic Event Device";
    dc->realize = acpi_ged_realize;
    hc->unplug = acpi_ged_unplug_cb;
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
