#ifndef QEMU_ARM_VIRT_H
#define QEMU_ARM_VIRT_H

#include "hw/boards.h"

#define TYPE_VIRT_MACHINE "virt-machine-arm"
OBJECT_DECLARE_SIMPLE_TYPE(VirtMachineState, VIRT_MACHINE);

struct VirtMachineState {
    MachineState parent;
    DeviceState *acpi_dev;
    bool acpi;
};

#endif
