#ifndef GENERIC_LOADER_H
#define GENERIC_LOADER_H

#include "hw/core/cpu.h"

#define TYPE_GENERIC_LOADER "loader"
OBJECT_DECLARE_SIMPLE_TYPE(GenericLoaderState, GENERIC_LOADER);

struct GenericLoaderState {
    DeviceState parent_obj;
    CPUState *cpu;
    uint64_t addr;
    uint64_t data;
    bool set_pc;
    bool force_raw;
};

#endif
