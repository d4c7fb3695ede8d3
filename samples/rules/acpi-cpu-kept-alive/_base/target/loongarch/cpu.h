#ifndef LOONGARCH_CPU_H
#define LOONGARCH_CPU_H

#include "cpu-qom.h"

typedef struct CPUArchState {
    uint64_t pc;
} CPULoongArchState;

struct ArchCPU {
    CPUState parent_obj;
    CPULoongArchState env;
    uint32_t phy_id;
};

struct LoongArchCPUClass {
    CPUClass parent_class;

    DeviceRealize parent_realize;
};

#endif
