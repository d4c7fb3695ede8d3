#include "qemu/osdep.h"
#include "hw/arm/virt.h"
#include "hw/hotplug.h"
#include "hw/mem/pc-dimm.h"
#include "qapi/error.h"

/* arm virt hot-unplugs memory through the GED; it builds no CPU AML */
static void virt_dimm_unplug(HotplugHandler *hotplug_dev,
                             DeviceState *dev, Error **errp)
{
    VirtMachineState *vms = VIRT_MACHINE(hotplug_dev);
    Error *local_err = NULL;

    hotplug_handler_unplug(HOTPLUG_HANDLER(vms->acpi_dev), dev, &local_err);
    if (local_err) {
        error_propagate(errp, local_err);
        return;
    }
    qdev_unrealize(dev);
}

static void virt_machine_device_unplug_cb(HotplugHandler *hotplug_dev,
                                          DeviceState *dev, Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_PC_DIMM)) {
        virt_dimm_unplug(hotplug_dev, dev, errp);
    } else {
        error_setg(errp, "virt: cannot unplug a %s",
                   object_get_typename(OBJECT(dev)));
    }
}

static void virt_machine_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    mc->desc = "QEMU Arm Virtual Machine";
    mc->max_cpus = 512;
    hc->unplug = virt_machine_device_unplug_cb;
}

static const TypeInfo virt_machine_info = {
    .name = TYPE_VIRT_MACHINE,
    .parent = TYPE_MACHINE,
    .instance_size = sizeof(VirtMachineState),
    .class_init = virt_machine_class_init,
};

static void machvirt_machine_init(void)
{
    type_register_static(&virt_machine_info);
}

type_init(machvirt_machine_init);
