/*
 * Slot helpers of a board that keeps vCPUs present for the life of the VM
 * by other means: every release below is suppressed with a reason.
 */
#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void cpu_slot_forget(AcpiCpuStatus *cdev)
{
    cdev->cpu = NULL;  /* qemu-lint: allow acpi-cpu-persistence -- slot reused at once */
}

void cpu_slot_forget_above(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence -- slot reused at once */
    cdev->cpu = NULL;
}

void cpu_slot_forget_line_comment(AcpiCpuStatus *cdev)
{
    // qemu-lint: allow acpi-cpu-persistence -- slot reused at once
    cdev->cpu = NULL;
}

void cpu_slot_forget_block(CPUHotplugState *cpu_st, uint32_t i)
{
    /*
     * qemu-lint: allow acpi-cpu-persistence -- the firmware re-reads _STA
     * before the slot is used again
     */
    cpu_st->devs[i].cpu = NULL;
}

void cpu_slot_reset(AcpiCpuStatus *cdev)
{
    /* Not a release: nothing to suppress, and this one says it may be unused. */
    cdev->is_inserting = false;  /* qemu-lint: allow acpi-cpu-persistence, unused-suppression -- kept for the out-of-tree board */
}
