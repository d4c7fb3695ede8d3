#ifndef HOTPLUG_H
#define HOTPLUG_H

#include "qom/object.h"

#define TYPE_HOTPLUG_HANDLER "hotplug-handler"

typedef struct HotplugHandlerClass HotplugHandlerClass;
DECLARE_CLASS_CHECKERS(HotplugHandlerClass, HOTPLUG_HANDLER,
                       TYPE_HOTPLUG_HANDLER);
#define HOTPLUG_HANDLER(obj) \
    INTERFACE_CHECK(HotplugHandler, (obj), TYPE_HOTPLUG_HANDLER)

struct HotplugHandlerClass {
    InterfaceClass parent;

    void (*plug)(HotplugHandler *hotplug_dev, DeviceState *plugged_dev,
                 Error **errp);
    void (*unplug_request)(HotplugHandler *hotplug_dev,
                           DeviceState *plugged_dev, Error **errp);
    void (*unplug)(HotplugHandler *hotplug_dev, DeviceState *plugged_dev,
                   Error **errp);
};

void hotplug_handler_plug(HotplugHandler *plug_handler,
                          DeviceState *plugged_dev, Error **errp);
void hotplug_handler_unplug_request(HotplugHandler *plug_handler,
                                    DeviceState *plugged_dev, Error **errp);
void hotplug_handler_unplug(HotplugHandler *plug_handler,
                            DeviceState *plugged_dev, Error **errp);

#endif
