#include "qemu/osdep.h"
#include "hw/hotplug.h"
#include "hw/southbridge/ich9.h"

static void ich9_lpc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(klass);

    dc->desc = "ICH9 LPC bridge";
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
