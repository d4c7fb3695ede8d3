#ifndef HW_LOONGARCH_IPI_H
#define HW_LOONGARCH_IPI_H

#include "hw/core/cpu.h"

#define TYPE_LOONGARCH_IPI "loongarch_ipi"
OBJECT_DECLARE_SIMPLE_TYPE(LoongarchIPIState, LOONGARCH_IPI);

/* Per-vCPU mailbox state of the IPI controller. */
typedef struct IPICore {
    CPUState *cpu;
    uint32_t status;
    uint32_t en;
    uint64_t buf[4];
} IPICore;

struct LoongarchIPIState {
    DeviceState parent_obj;
    uint32_t num_cpu;
    IPICore *cpu;
};

#endif
