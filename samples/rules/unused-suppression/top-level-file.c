/*
 * A single-file case: this file lands at the top of the base tree (as
 * top-level-file.c), where qemu-lint also looks for C files.  Its suppression
 * sits over a statement that is not a release: one unused-suppression finding.
 */
#include "qemu/osdep.h"
#include "hw/acpi/cpu.h"

void top_level_slot_reset(AcpiCpuStatus *cdev)
{
    /* qemu-lint: allow acpi-cpu-persistence -- stale */  /* expect: unused-suppression */
    cdev->is_inserting = false;
}
