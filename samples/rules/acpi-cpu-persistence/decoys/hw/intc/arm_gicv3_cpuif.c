#include "qemu/osdep.h"
#include "hw/intc/arm_gicv3_common.h"

static void gicv3_set_cpu(GICv3CPUState *cs, CPUState *cpu)
{
    cs->cpu = cpu;  /* ok: GICv3CPUState, not AcpiCpuStatus */
}

void gicv3_cpuif_detach(GICv3State *s, int i);

void gicv3_cpuif_detach(GICv3State *s, int i)
{
    GICv3CPUState *cs = &s->cpu[i];
    CPUState **cpup = &cs->cpu;

    cs->gicr_ctlr = 0;
    cs->is_present = false;  /* ok: GICv3CPUState, not AcpiCpuStatus */
    cs->cpu = NULL;  /* ok: GICv3CPUState, not AcpiCpuStatus */
    *cpup = NULL;  /* ok: alias of GICv3CPUState::cpu */
    gicv3_set_cpu(cs, NULL);  /* ok: wrapper over GICv3CPUState */
    s->cpu[i].cpu = NULL;  /* ok: GICv3CPUState array element */
}
