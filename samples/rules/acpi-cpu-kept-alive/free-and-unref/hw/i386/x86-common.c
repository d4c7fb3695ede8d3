#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "hw/i386/x86.h"
#include "qapi/error.h"

static CPUArchId *x86_find_cpu_slot(MachineState *ms, uint64_t id)
{
    int i;

    for (i = 0; i < ms->possible_cpus->len; i++) {
        if (ms->possible_cpus->cpus[i].arch_id == id) {
            return &ms->possible_cpus->cpus[i];
        }
    }
    return NULL;
}

void x86_cpu_unplug_cb(HotplugHandler *hotplug_dev, DeviceState *dev,
                       Error **errp)
{
    X86MachineState *x86ms = X86_MACHINE(hotplug_dev);
    CPUState *cs = CPU(dev);
    Error *local_err = NULL;
    CPUArchId *found_cpu;

    hotplug_handler_unplug(x86ms->acpi_dev, dev, &local_err);
    if (local_err) {
        error_propagate(errp, local_err);
        return;
    }

    found_cpu = x86_find_cpu_slot(MACHINE(x86ms), cs->cc->get_arch_id(cs));
    found_cpu->cpu = NULL;  /* ok: CPUArchId, not AcpiCpuStatus */
    qdev_unrealize(dev);  /* ok: unrealized, not freed */
    g_free(cs);  /* expect: acpi-cpu-kept-alive archs=i386 kind=kept-destroyed */
    x86ms->boot_cpus--;
}
