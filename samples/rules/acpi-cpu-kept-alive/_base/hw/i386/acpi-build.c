#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/cpu.h"
#include "hw/boards.h"

#define PC_CPU_HOTPLUG_BASE 0x0cd8

void acpi_build_dsdt(Aml *dsdt, MachineState *machine, bool cpu_hotplug);

void acpi_build_dsdt(Aml *dsdt, MachineState *machine, bool cpu_hotplug)
{
    CPUHotplugFeatures opts = {
        .acpi_1_compatible = true,
        .has_legacy_cphp = true,
    };

    if (cpu_hotplug) {
        build_cpus_aml(dsdt, machine, opts, PC_CPU_HOTPLUG_BASE,
                       "\\_SB.PCI0", "\\_GPE._E02", AML_SYSTEM_IO);
    }
}
