#include "qemu/osdep.h"
#include "hw/acpi/ich9.h"
#include "hw/southbridge/ich9.h"
#include "qapi/error.h"

void ich9_pm_device_unplug_cb(HotplugHandler *hotplug_dev, DeviceState *dev,
                              Error **errp)
{
    ICH9LPCState *lpc = ICH9_LPC_DEVICE(hotplug_dev);
    ICH9LPCPMRegs *pm = &lpc->pm;

    if (object_dynamic_cast(OBJECT(dev), TYPE_CPU) &&
        !pm->cpu_hotplug_legacy) {
        acpi_cpu_unplug_cb(&pm->cpuhp_state, dev, errp);
    } else {
        error_setg(errp, "ich9: cannot unplug a %s",
                   object_get_typename(OBJECT(dev)));
    }
}
