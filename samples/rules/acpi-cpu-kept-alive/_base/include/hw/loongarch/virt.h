#ifndef HW_LOONGARCH_H
#define HW_LOONGARCH_H

#include "hw/boards.h"

#define TYPE_LOONGARCH_VIRT_MACHINE "virt-machine"
OBJECT_DECLARE_SIMPLE_TYPE(LoongArchVirtMachineState, LOONGARCH_VIRT_MACHINE);

#define VIRT_GED_CPUHP_ADDR 0x100e001c

struct LoongArchVirtMachineState {
    MachineState parent_obj;
    DeviceState *acpi_ged;
    DeviceState *ipi;
};

#endif
