#ifndef HW_SOUTHBRIDGE_ICH9_H
#define HW_SOUTHBRIDGE_ICH9_H

#include "hw/acpi/ich9.h"

#define TYPE_ICH9_LPC_DEVICE "ICH9-LPC"
OBJECT_DECLARE_SIMPLE_TYPE(ICH9LPCState, ICH9_LPC_DEVICE);

struct ICH9LPCState {
    DeviceState parent_obj;
    ICH9LPCPMRegs pm;
};

#endif
