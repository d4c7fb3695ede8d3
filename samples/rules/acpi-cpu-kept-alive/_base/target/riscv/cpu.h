#ifndef RISCV_CPU_H
#define RISCV_CPU_H

#include "cpu-qom.h"

typedef struct CPUArchState {
    uint64_t pc;
    uint64_t mhartid;
} CPURISCVState;

struct ArchCPU {
    CPUState parent_obj;
    CPURISCVState env;
};

struct RISCVCPUClass {
    CPUClass parent_class;

    DeviceRealize parent_realize;
};

#endif
