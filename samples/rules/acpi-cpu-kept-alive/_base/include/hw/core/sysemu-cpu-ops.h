#ifndef SYSEMU_CPU_OPS_H
#define SYSEMU_CPU_OPS_H

#include "hw/core/cpu.h"

typedef struct SysemuCPUOps {
    hwaddr (*get_phys_page_debug)(CPUState *cpu, vaddr addr);
    int (*write_elf64_note)(void *f, CPUState *cpu, int cpuid, void *opaque);
    bool (*virtio_is_big_endian)(CPUState *cpu);
} SysemuCPUOps;

#endif
