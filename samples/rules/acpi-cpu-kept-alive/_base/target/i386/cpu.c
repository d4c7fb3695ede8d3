#include "qemu/osdep.h"
#include "cpu.h"
#include "hw/core/sysemu-cpu-ops.h"

static int64_t x86_cpu_get_arch_id(CPUState *cs)
{
    return X86_CPU(cs)->apic_id;
}

static const char *x86_gdb_arch_name(CPUState *cs)
{
    return "i386:x86-64";
}

static void x86_cpu_set_pc(CPUState *cs, vaddr value)
{
    X86_CPU(cs)->env.eip = value;
}

static bool x86_cpu_has_work(CPUState *cs)
{
    return !cs->halted;
}

static void x86_cpu_dump_state(CPUState *cs, FILE *f, int flags)
{
    X86CPU *cpu = X86_CPU(cs);

    fprintf(f, "RIP=%016llx\n", (unsigned long long)cpu->env.eip);
}

static hwaddr x86_cpu_get_phys_page_debug(CPUState *cs, vaddr addr)
{
    return addr & ~(hwaddr)0xfff;
}

static const struct SysemuCPUOps i386_sysemu_ops = {
    .get_phys_page_debug = x86_cpu_get_phys_page_debug,
};

static void x86_cpu_common_class_init(ObjectClass *oc, void *data)
{
    X86CPUClass *xcc = X86_CPU_CLASS(oc);
    CPUClass *cc = CPU_CLASS(oc);

    xcc->ordering = 5;
    cc->get_arch_id = x86_cpu_get_arch_id;
    cc->gdb_arch_name = x86_gdb_arch_name;
    cc->set_pc = x86_cpu_set_pc;
    cc->has_work = x86_cpu_has_work;
    cc->dump_state = x86_cpu_dump_state;
    cc->sysemu_ops = &i386_sysemu_ops;
}

/* Name decoy: "cc" here is an X86CPUClass, and these are not CPUClass hooks. */
static void x86_cpu_model_class_init(ObjectClass *oc, void *data)
{
    X86CPUClass *cc = X86_CPU_CLASS(oc);

    cc->model_description = data;  /* ok: X86CPUClass field */
    cc->host_cpuid_required = false;  /* ok: X86CPUClass field */
    cc->ordering = 9;
}

static const TypeInfo x86_cpu_type_info = {
    .name = TYPE_X86_CPU,
    .parent = TYPE_CPU,
    .instance_size = sizeof(X86CPU),
    .class_size = sizeof(X86CPUClass),
    .abstract = true,
    .class_init = x86_cpu_common_class_init,
};

static const TypeInfo x86_cpu_model_type_info = {
    .name = "qemu64-x86-cpu",
    .parent = TYPE_X86_CPU,
    .class_init = x86_cpu_model_class_init,
};

static void x86_cpu_register_types(void)
{
    type_register_static(&x86_cpu_type_info);
    type_register_static(&x86_cpu_model_type_info);
}

type_init(x86_cpu_register_types);
