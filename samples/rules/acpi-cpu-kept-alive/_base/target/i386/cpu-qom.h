#ifndef QEMU_I386_CPU_QOM_H
#define QEMU_I386_CPU_QOM_H

#include "hw/core/cpu.h"

#define TYPE_X86_CPU "x86-cpu"
OBJECT_DECLARE_CPU_TYPE(X86CPU, X86CPUClass, X86_CPU);

#endif
