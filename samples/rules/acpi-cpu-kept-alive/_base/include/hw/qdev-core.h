#ifndef QDEV_CORE_H
#define QDEV_CORE_H

#include "qom/object.h"

#define TYPE_DEVICE "device"

typedef struct DeviceClass DeviceClass;
typedef void (*DeviceRealize)(DeviceState *dev, Error **errp);
typedef void (*DeviceUnrealize)(DeviceState *dev);

struct DeviceClass {
    ObjectClass parent_class;
    const char *desc;
    bool hotpluggable;
    DeviceRealize realize;
    DeviceUnrealize unrealize;
};

struct DeviceState {
    Object parent_obj;
    const char *id;
    bool realized;
    bool hotplugged;
};

#define DEVICE(obj) ((DeviceState *)(obj))
#define DEVICE_CLASS(klass) ((DeviceClass *)(klass))

Object *qdev_get_machine(void);
HotplugHandler *qdev_get_hotplug_handler(DeviceState *dev);
DeviceState *qdev_new(const char *name);
void qdev_unrealize(DeviceState *dev);

#endif
