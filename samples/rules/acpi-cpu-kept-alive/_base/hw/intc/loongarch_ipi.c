#include "qemu/osdep.h"
#include "hw/hotplug.h"
#include "hw/intc/loongarch_ipi.h"
#include "qapi/error.h"

static IPICore *loongarch_ipi_get_core(LoongarchIPIState *s, DeviceState *dev)
{
    CPUState *cs = CPU(dev);
    uint32_t i;

    for (i = 0; i < s->num_cpu; i++) {
        if (s->cpu[i].cpu == cs) {
            return &s->cpu[i];
        }
    }
    return NULL;
}

static void loongarch_ipi_cpu_unplug(HotplugHandler *hotplug_dev,
                                     DeviceState *dev, Error **errp)
{
    LoongarchIPIState *s = LOONGARCH_IPI(hotplug_dev);
    IPICore *core = loongarch_ipi_get_core(s, dev);

    if (!core) {
        return;
    }
    core->status = 0;
    core->cpu = NULL;  /* ok: IPICore, not AcpiCpuStatus */
}

static void loongarch_ipi_class_init(ObjectClass *klass, void *data)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(klass);

    hc->unplug = loongarch_ipi_cpu_unplug;
}

static const TypeInfo loongarch_ipi_info = {
    .name = TYPE_LOONGARCH_IPI,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(LoongarchIPIState),
    .class_init = loongarch_ipi_class_init,
};

static void loongarch_ipi_register_types(void)
{
    type_register_static(&loongarch_ipi_info);
}

type_init(loongarch_ipi_register_types);
