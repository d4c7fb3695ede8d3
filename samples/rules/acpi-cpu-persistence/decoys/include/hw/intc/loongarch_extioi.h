#ifndef LOONGARCH_EXTIOI_H
#define LOONGARCH_EXTIOI_H

#include "hw/core/cpu.h"

#define TYPE_LOONGARCH_EXTIOI "loongarch.extioi"
OBJECT_DECLARE_SIMPLE_TYPE(LoongArchExtIOIState, LOONGARCH_EXTIOI);

typedef struct ExtIOICore {
    uint32_t coreisr[8];
    CPUState *cpu;
} ExtIOICore;

struct LoongArchExtIOIState {
    DeviceState parent_obj;
    uint32_t num_cpu;
    ExtIOICore *cpu;
};

#endif
