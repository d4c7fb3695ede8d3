#include "qemu/osdep.h"
#include "hw/hotplug.h"
#include "hw/southbridge/ich9.h"

static void ich9_lpc_realize(DeviceState *d, Error **errp)
{
    ICH9LPCState *lpc = ICH9_LPC_DEVICE(d);

    /* the modern CPU hotplug register block of q35 */
    cpu_hotplug_hw_init(get_system_io(), OBJECT(lpc), &lpc->pm.cpuhp_state, 0x0cd8);
}

static void ich9_lpc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(klass);

    dc->desc = "ICH9 LPC bridge";
    dc->realize = ich9_lpc_realize;
    hc->unplug = ich9_pm_device_unplug_cb;
}

static const TypeInfo ich9_lpc_info = {
    .name = TYPE_ICH9_LPC_DEVICE,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(ICH9LPCState),
    .class_init = ich9_lpc_class_init,
};

static void ich9_lpc_register(void)
{
    type_register_static(&ich9_lpc_info);
}

type_init(ich9_lpc_register);
