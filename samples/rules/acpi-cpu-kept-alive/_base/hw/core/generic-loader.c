#include "qemu/osdep.h"
#include "hw/core/generic-loader.h"
#include "qapi/error.h"

static void generic_loader_reset(void *opaque)
{
    GenericLoaderState *s = GENERIC_LOADER(opaque);

    if (s->set_pc) {
        CPUClass *cc = CPU_GET_CLASS(s->cpu);

        cc->set_pc(s->cpu, s->addr);
    }
}

static void generic_loader_realize(DeviceState *dev, Error **errp)
{
    GenericLoaderState *s = GENERIC_LOADER(dev);

    if (s->data) {
        /* a data write: the PC stays where it is */
        s->set_pc = false;  /* ok: GenericLoaderState field, not a CPUClass hook */
    } else {
        s->set_pc = true;
    }
    if (!s->cpu) {
        s->cpu = first_cpu;
    }
    generic_loader_reset(s);
}

static void generic_loader_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = generic_loader_realize;
    dc->desc = "Generic Loader";
}

static const TypeInfo generic_loader_info = {
    .name = TYPE_GENERIC_LOADER,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(GenericLoaderState),
    .class_init = generic_loader_class_init,
};

static void generic_loader_register_type(void)
{
    type_register_static(&generic_loader_info);
}

type_init(generic_loader_register_type);
