#ifndef HW_I386_X86_H
#define HW_I386_X86_H

#include "hw/boards.h"
#include "hw/hotplug.h"

#define TYPE_X86_MACHINE "x86-machine"
OBJECT_DECLARE_TYPE(X86MachineState, X86MachineClass, X86_MACHINE);

struct X86MachineClass {
    MachineClass parent;
    bool fwcfg_dma_enabled;
};

struct X86MachineState {
    MachineState parent;
    HotplugHandler *acpi_dev;
    unsigned boot_cpus;
};

void x86_cpu_unplug_cb(HotplugHandler *hotplug_dev, DeviceState *dev,
                       Error **errp);

#endif
