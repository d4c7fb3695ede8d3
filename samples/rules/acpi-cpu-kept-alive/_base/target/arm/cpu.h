#ifndef ARM_CPU_H
#define ARM_CPU_H

#include "cpu-qom.h"

typedef struct CPUArchState {
    uint64_t pc;
    uint32_t aarch64;
} CPUARMState;

struct ArchCPU {
    CPUState parent_obj;
    CPUARMState env;
    uint64_t mp_affinity;
};

struct ARMCPUClass {
    CPUClass parent_class;

    DeviceRealize parent_realize;
};

#endif
