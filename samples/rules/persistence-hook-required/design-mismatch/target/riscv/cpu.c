#include "qemu/osdep.h"
#include "cpu.h"
#include "hw/core/sysemu-cpu-ops.h"

static const char *riscv_gdb_arch_name(CPUState *cs)
{
    return "riscv:rv64";
}

static void riscv_cpu_set_pc(CPUState *cs, vaddr value)
{
    RISCV_CPU(cs)->env.pc = value;
}

static bool riscv_cpu_has_work(CPUState *cs)
{
    return !cs->halted;
}

static void riscv_cpu_dump_state(CPUState *cs, FILE *f, int flags)
{
    fprintf(f, "pc %016llx\n", (unsigned long long)RISCV_CPU(cs)->env.pc);
}

static hwaddr riscv_cpu_get_phys_page_debug(CPUState *cs, vaddr addr)
{
    return addr;
}

static int riscv_cpu_write_elf64_note(void *f, CPUState *cs, int cpuid,
                                      void *opaque)
{
    return 0;
}

static const struct SysemuCPUOps riscv_sysemu_ops = {
    .get_phys_page_debug = riscv_cpu_get_phys_page_debug,
    .write_elf64_note = riscv_cpu_write_elf64_note,
};

static void riscv_cpu_init(Object *obj)
{
    CPUState *cs = CPU(obj);

    cs->acpi_persistent = true;
}

static void riscv_cpu_common_class_init(ObjectClass *c, void *data) /* expect: persistence-hook-required */
{
    CPUClass *cc = CPU_CLASS(c);

    cc->gdb_arch_name = riscv_gdb_arch_name;
    cc->set_pc = riscv_cpu_set_pc;
    cc->has_work = riscv_cpu_has_work;
    cc->dump_state = riscv_cpu_dump_state;
    cc->sysemu_ops = &riscv_sysemu_ops;
}

static const TypeInfo riscv_cpu_type_info = {
    .name = TYPE_RISCV_CPU,
    .parent = TYPE_CPU,
    .instance_size = sizeof(RISCVCPU),
    .class_size = sizeof(RISCVCPUClass),
    .abstract = true,
    .instance_init = riscv_cpu_init,
    .class_init = riscv_cpu_common_class_init,
};

static void riscv_cpu_register_types(void)
{
    type_register_static(&riscv_cpu_type_info);
}

type_init(riscv_cpu_register_types);
