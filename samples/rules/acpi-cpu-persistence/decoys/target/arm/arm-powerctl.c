#include "qemu/osdep.h"
#include "cpu.h"

/* Work item for a pending PSCI CPU_ON. */
struct CpuOnInfo {
    CPUState *cpu;
    uint64_t entry;
    uint64_t context_id;
    bool is_present;
};

void arm_cancel_cpu_on(struct CpuOnInfo *info);

void arm_cancel_cpu_on(struct CpuOnInfo *info)
{
    info->cpu = NULL;  /* ok: CpuOnInfo, not AcpiCpuStatus */
    info->is_present = false;  /* ok: CpuOnInfo, not AcpiCpuStatus */
    memset(info, 0, sizeof(*info));  /* ok: CpuOnInfo */
}
