#ifndef I386_CPU_H
#define I386_CPU_H

#include "cpu-qom.h"

typedef struct CPUX86State {
    uint64_t eip;
    uint64_t eflags;
} CPUX86State;

struct ArchCPU {
    CPUState parent_obj;
    CPUX86State env;
    uint32_t apic_id;
};

struct X86CPUClass {
    CPUClass parent_class;

    const char *model_description;
    bool host_cpuid_required;
    int ordering;
    DeviceRealize parent_realize;
};

#endif
