#include "qemu/osdep.h"
#include "hw/hotplug.h"
#include "hw/intc/loongarch_extioi.h"

static void loongarch_extioi_cpu_unplug(HotplugHandler *hotplug_dev,
                                        DeviceState *dev, Error **errp)
{
    LoongArchExtIOIState *s = LOONGARCH_EXTIOI(hotplug_dev);
    CPUState *cs = CPU(dev);
    uint32_t i;

    for (i = 0; i < s->num_cpu; i++) {
        if (s->cpu[i].cpu != cs) {
            continue;
        }
        memset(&s->cpu[i], 0, sizeof(ExtIOICore));  /* ok: ExtIOICore */
        s->cpu[i].cpu = NULL;  /* ok: ExtIOICore array element */
    }
}

static void loongarch_extioi_class_init(ObjectClass *klass, void *data)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(klass);

    hc->unplug = loongarch_extioi_cpu_unplug;
}

static const TypeInfo loongarch_extioi_info = {
    .name = TYPE_LOONGARCH_EXTIOI,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(LoongArchExtIOIState),
    .class_init = loongarch_extioi_class_init,
};

static void loongarch_extioi_register_types(void)
{
    type_register_static(&loongarch_extioi_info);
}

type_init(loongarch_extioi_register_types);
