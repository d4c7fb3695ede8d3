#include "qemu/osdep.h"
#include "cpu.h"
#include "hw/core/sysemu-cpu-ops.h"

static int64_t arm_cpu_get_arch_id(CPUState *cs)
{
    return ARM_CPU(cs)->mp_affinity;
}

static const char *arm_gdb_arch_name(CPUState *cs)
{
    return ARM_CPU(cs)->env.aarch64 ? "aarch64" : "arm";
}

static void arm_cpu_set_pc(CPUState *cs, vaddr value)
{
    ARM_CPU(cs)->env.pc = value;
}

static bool arm_cpu_has_work(CPUState *cs)
{
    return !cs->halted;
}

static void arm_cpu_dump_state(CPUState *cs, FILE *f, int flags)
{
    fprintf(f, "PC=%016llx\n", (unsigned long long)ARM_CPU(cs)->env.pc);
}

static hwaddr arm_cpu_get_phys_page_debug(CPUState *cs, vaddr addr)
{
    return addr;
}

static bool arm_cpu_virtio_is_big_endian(CPUState *cs)
{
    return false;
}

static bool arm_cpu_persistent_status(CPUState *cs)
{
    /* GIC redistributors cannot be added or removed after boot */
    return true;
}

static const struct SysemuCPUOps arm_sysemu_ops = {
    .get_phys_page_debug = arm_cpu_get_phys_page_debug,
    .virtio_is_big_endian = arm_cpu_virtio_is_big_endian,
};

static void arm_cpu_class_init(ObjectClass *oc, void *data)
{
    CPUClass *cc = CPU_CLASS(oc);

    cc->get_arch_id = arm_cpu_get_arch_id;
    cc->gdb_arch_name = arm_gdb_arch_name;
    cc->set_pc = arm_cpu_set_pc;
    cc->has_work = arm_cpu_has_work;
    cc->dump_state = arm_cpu_dump_state;
    cc->cpu_persistent_status = arm_cpu_persistent_status;
    cc->sysemu_ops = &arm_sysemu_ops;
}

static const TypeInfo arm_cpu_type_info = {
    .name = TYPE_ARM_CPU,
    .parent = TYPE_CPU,
    .instance_size = sizeof(ARMCPU),
    .class_size = sizeof(ARMCPUClass),
    .abstract = true,
    .class_init = arm_cpu_class_init,
};

static void arm_cpu_register_types(void)
{
    type_register_static(&arm_cpu_type_info);
}

type_init(arm_cpu_register_types);
