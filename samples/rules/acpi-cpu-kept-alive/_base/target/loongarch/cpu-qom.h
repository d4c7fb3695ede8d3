#ifndef LOONGARCH_CPU_QOM_H
#define LOONGARCH_CPU_QOM_H

#include "hw/core/cpu.h"

#define TYPE_LOONGARCH_CPU "loongarch-cpu"
OBJECT_DECLARE_CPU_TYPE(LoongArchCPU, LoongArchCPUClass, LOONGARCH_CPU);

#endif
