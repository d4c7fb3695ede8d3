#include "qemu/osdep.h"
#include "cpu.h"
#include "hw/core/sysemu-cpu-ops.h"

static int64_t loongarch_cpu_get_arch_id(CPUState *cs)
{
    return LOONGARCH_CPU(cs)->phy_id;
}

static const char *loongarch_gdb_arch_name(CPUState *cs)
{
    return "loongarch64";
}

static void loongarch_cpu_set_pc(CPUState *cs, vaddr value)
{
    LOONGARCH_CPU(cs)->env.pc = value;
}

static bool loongarch_cpu_has_work(CPUState *cs)
{
    return !cs->halted;
}

static void loongarch_cpu_dump_state(CPUState *cs, FILE *f, int flags)
{
    fprintf(f, "pc=%016llx\n", (unsigned long long)LOONGARCH_CPU(cs)->env.pc);
}

static hwaddr loongarch_cpu_get_phys_page_debug(CPUState *cs, vaddr addr)
{
    return addr;
}

static const struct SysemuCPUOps loongarch_sysemu_ops = {
    .get_phys_page_debug = loongarch_cpu_get_phys_page_debug,
};

static void loongarch_cpu_class_init(ObjectClass *c, void *data)
{
    CPUClass *cc = CPU_CLASS(c);

    cc->get_arch_id = loongarch_cpu_get_arch_id;
    cc->gdb_arch_name = loongarch_gdb_arch_name;
    cc->set_pc = loongarch_cpu_set_pc;
    cc->has_work = loongarch_cpu_has_work;
    cc->dump_state = loongarch_cpu_dump_state;
    cc->sysemu_ops = &loongarch_sysemu_ops;
}

static const TypeInfo loongarch_cpu_type_info = {
    .name = TYPE_LOONGARCH_CPU,
    .parent = TYPE_CPU,
    .instance_size = sizeof(LoongArchCPU),
    .class_size = sizeof(LoongArchCPUClass),
    .abstract = true,
    .class_init = loongarch_cpu_class_init,
};

static void loongarch_cpu_register_types(void)
{
    type_register_static(&loongarch_cpu_type_info);
}

type_init(loongarch_cpu_register_types);
