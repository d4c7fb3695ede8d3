#ifndef QEMU_CPU_H
#define QEMU_CPU_H

#include "exec/hwaddr.h"
#include "exec/vaddr.h"
#include "hw/qdev-core.h"

#define TYPE_CPU "cpu"

typedef struct CPUClass CPUClass;
DECLARE_CLASS_CHECKERS(CPUClass, CPU, TYPE_CPU);

#define CPU(obj) ((CPUState *)(obj))

/* Every target names its own CPU struct "ArchCPU" and aliases it. */
#define OBJECT_DECLARE_CPU_TYPE(CpuInstanceType, CpuClassType, CPU_OBJ_NAME) \
    typedef struct ArchCPU CpuInstanceType; \
    OBJECT_DECLARE_TYPE(ArchCPU, CpuClassType, CPU_OBJ_NAME)

struct CPUClass {
    DeviceClass parent_class;

    int64_t (*get_arch_id)(CPUState *cpu);
    const char *(*gdb_arch_name)(CPUState *cpu);
    void (*set_pc)(CPUState *cpu, vaddr value);
    bool (*has_work)(CPUState *cpu);
    void (*dump_state)(CPUState *cpu, FILE *f, int flags);
    /* true: the vCPU stays _STA.Present for the life of the VM */
    bool (*cpu_persistent_status)(CPUState *cpu);

    const struct SysemuCPUOps *sysemu_ops;
    int gdb_num_core_regs;
};

struct CPUState {
    DeviceState parent_obj;
    CPUClass *cc;
    int cpu_index;
    int nr_threads;
    bool halted;
    /* a second design, which the generic code below never reads */
    bool acpi_persistent;
};

extern CPUState *first_cpu;

#endif
