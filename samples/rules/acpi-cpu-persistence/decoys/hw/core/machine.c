#include "qemu/osdep.h"
#include "hw/boards.h"

void machine_forget_cpu(MachineState *ms, CPUState *cpu);

void machine_forget_cpu(MachineState *ms, CPUState *cpu)
{
    int i;

    for (i = 0; i < ms->possible_cpus->len; i++) {
        CPUArchId *slot = &ms->possible_cpus->cpus[i];
        CPUState **cpup = &slot->cpu;

        if (slot->cpu != cpu) {
            continue;
        }
        *cpup = NULL;  /* ok: alias of CPUArchId::cpu */
        ms->possible_cpus->cpus[i].cpu = NULL;  /* ok: CPUArchId array element */
        memset(slot, 0, sizeof(*slot));  /* ok: CPUArchId */
    }
}
