#include "qemu/osdep.h"
#include "hw/acpi/acpi_dev_interface.h"
#include "hw/acpi/cpu.h"
#include "hw/boards.h"
#include "qapi/error.h"
#include "trace.h"

#define ACPI_CPU_HOTPLUG_REG_LEN 12
#define ACPI_CPU_SELECTOR_OFFSET_WR 0
#define ACPI_CPU_FLAGS_OFFSET_RW 4
#define ACPI_CPU_CMD_DATA_OFFSET_RW 8

#define CPU_STS_METHOD "CSTA"
#define CPU_PRESENT "CPEN"

static uint64_t cpu_hotplug_rd(void *opaque, hwaddr addr, unsigned size)
{
    CPUHotplugState *cpu_st = opaque;
    AcpiCpuStatus *cdev;
    uint64_t val = 0;

    if (cpu_st->selector >= cpu_st->dev_count) {
        return val;
    }
    cdev = &cpu_st->devs[cpu_st->selector];

    switch (addr) {
    case ACPI_CPU_FLAGS_OFFSET_RW:
        /* bit 0 is CPEN, which CSTA turns into _STA.Present */
        val |= cdev->cpu ? 1 : 0;
        val |= cdev->is_inserting ? 2 : 0;
        val |= cdev->is_removing ? 4 : 0;
        val |= cdev->fw_remove ? 16 : 0;
        trace_cpuhp_acpi_read_flags(cpu_st->selector, val);
        break;
    case ACPI_CPU_CMD_DATA_OFFSET_RW:
        val = cdev->arch_id & 0xFFFFFFFF;
        break;
    default:
        break;
    }
    return val;
}

static bool should_remain_acpi_present(DeviceState *dev);

static void cpu_hotplug_wr(void *opaque, hwaddr addr, uint64_t data,
                           unsigned int size)
{
    CPUHotplugState *cpu_st = opaque;
    AcpiCpuStatus *cdev;
    DeviceState *dev;

    if (addr == ACPI_CPU_SELECTOR_OFFSET_WR) {
        cpu_st->selector = data;
        return;
    }
    if (addr != ACPI_CPU_FLAGS_OFFSET_RW ||
        cpu_st->selector >= cpu_st->dev_count) {
        return;
    }
    cdev = &cpu_st->devs[cpu_st->selector];

    if (data & 2) {
        cdev->is_inserting = false;  /* ok: not a presence field */
    } else if (data & 4) {
        cdev->is_removing = false;  /* ok: not a presence field */
    } else if (data & 8) {
        if (!cdev->cpu || cdev->cpu == first_cpu) {
            return;
        }
        trace_cpuhp_acpi_ejecting_cpu(cpu_st->selector);
        dev = DEVICE(cdev->cpu);
        hotplug_handler_unplug(qdev_get_hotplug_handler(dev), dev, NULL);
        if (!should_remain_acpi_present(dev)) {
            object_unparent(OBJECT(dev));  /* ok: only when not persistent */
        }
        cdev->fw_remove = false;
    } else if (data & 16) {
        cdev->fw_remove = true;
    }
}

static const MemoryRegionOps cpu_hotplug_ops = {
    .read = cpu_hotplug_rd,
    .write = cpu_hotplug_wr,
};

void cpu_hotplug_hw_init(MemoryRegion *as, Object *owner,
                         CPUHotplugState *state, hwaddr base_addr)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    const CPUArchIdList *ids = MACHINE_GET_CLASS(ms)->possible_cpu_arch_ids(ms);
    int i;

    state->dev_count = ids->len;
    state->devs = g_new0(AcpiCpuStatus, ids->len);
    for (i = 0; i < ids->len; i++) {
        state->devs[i].arch_id = ids->cpus[i].arch_id;
        state->devs[i].cpu = CPU(ids->cpus[i].cpu);  /* ok: initialization, not a release */
    }
    memory_region_init_io(&state->ctrl_reg, owner, &cpu_hotplug_ops, state,
                          "acpi-cpu-hotplug", ACPI_CPU_HOTPLUG_REG_LEN);
    memory_region_add_subregion(as, base_addr, &state->ctrl_reg);
}

static AcpiCpuStatus *get_cpu_status(CPUHotplugState *cpu_st, DeviceState *dev)
{
    CPUState *cs = CPU(dev);
    uint64_t id = cs->cc->get_arch_id(cs);
    uint32_t i;

    for (i = 0; i < cpu_st->dev_count; i++) {
        AcpiCpuStatus *cdev = &cpu_st->devs[i];

        if (cdev->arch_id == id) {
            return cdev;
        }
    }
    return NULL;
}

/* Design 1: ask the CPU class whether the vCPU must stay present. */
static bool should_remain_acpi_present(DeviceState *dev)
{
    CPUClass *k = CPU_GET_CLASS(dev);

    return k->cpu_persistent_status && k->cpu_persistent_status(CPU(dev));
}

void acpi_cpu_plug_cb(HotplugHandler *hotplug_dev, CPUHotplugState *cpu_st,
                      DeviceState *dev, Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (!cdev) {
        return;
    }
    cdev->cpu = CPU(dev);  /* ok: plug, not a release */
    if (dev->hotplugged) {
        cdev->is_inserting = true;
        acpi_send_event(DEVICE(hotplug_dev), ACPI_CPU_HOTPLUG_STATUS);
    }
}

void acpi_cpu_unplug_request_cb(HotplugHandler *hotplug_dev,
                                CPUHotplugState *cpu_st,
                                DeviceState *dev, Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (cdev) {
        cdev->is_removing = true;
        acpi_send_event(DEVICE(hotplug_dev), ACPI_CPU_HOTPLUG_STATUS);
    }
}

void acpi_cpu_unplug_cb(CPUHotplugState *cpu_st, DeviceState *dev,
                        Error **errp)
{
    AcpiCpuStatus *cdev = get_cpu_status(cpu_st, dev);

    if (!cdev) {
        return;
    }
    if (!should_remain_acpi_present(dev)) {
        cdev->cpu = NULL;  /* ok: kept when the vCPU is persistent */
    }
}

void build_cpus_aml(Aml *table, MachineState *machine, CPUHotplugFeatures opts,
                    hwaddr base_addr, const char *res_root,
                    const char *event_handler_method, AmlRegionSpace rs)
{
    const CPUArchIdList *ids =
        MACHINE_GET_CLASS(machine)->possible_cpu_arch_ids(machine);
    Aml *cpus_dev = aml_device("%s.CPUS", res_root);
    Aml *sta = aml_method(CPU_STS_METHOD, 1);
    Aml *present = aml_if(aml_equal(aml_name(CPU_PRESENT), aml_int(1)));
    int i;

    aml_append(cpus_dev, aml_operation_region("PRST", rs, aml_int(base_addr),
                                              ACPI_CPU_HOTPLUG_REG_LEN));
    /* the register block: CPEN is bit 0 of the flags byte */
    Aml *regs = aml_field("PRST", AML_BYTE_ACC, AML_NOLOCK, AML_WRITE_AS_ZEROS);
    aml_append(regs, aml_reserved_field(ACPI_CPU_FLAGS_OFFSET_RW * 8));
    aml_append(regs, aml_named_field(CPU_PRESENT, 1));
    aml_append(cpus_dev, regs);
    /* CSTA: 0xF while CPEN is set for the selected CPU, else 0 */
    aml_append(present, aml_return(aml_int(0xF)));
    aml_append(sta, present);
    aml_append(sta, aml_return(aml_int(0)));
    aml_append(cpus_dev, sta);

    for (i = 0; i < ids->len; i++) {
        Aml *dev = aml_device("C%.03X", i);

        aml_append(dev, aml_name_decl("_UID", aml_int(ids->cpus[i].arch_id)));
        Aml *method = aml_method("_STA", 0, AML_SERIALIZED);
        aml_append(method, aml_return(aml_call1(CPU_STS_METHOD, aml_int(i))));
        aml_append(dev, method);
        aml_append(cpus_dev, dev);
    }
    aml_append(table, cpus_dev);
}
