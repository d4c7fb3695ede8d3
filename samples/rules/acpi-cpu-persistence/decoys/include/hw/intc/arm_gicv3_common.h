#ifndef HW_ARM_GICV3_COMMON_H
#define HW_ARM_GICV3_COMMON_H

#include "hw/core/cpu.h"

#define TYPE_ARM_GICV3 "arm-gicv3"
OBJECT_DECLARE_SIMPLE_TYPE(GICv3State, ARM_GICV3);

/* Redistributor and CPU interface state of one vCPU. */
typedef struct GICv3CPUState {
    CPUState *cpu;
    uint32_t gicr_ctlr;
    bool is_present;
} GICv3CPUState;

struct GICv3State {
    DeviceState parent_obj;
    uint32_t num_cpu;
    GICv3CPUState *cpu;
};

#endif
