#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/cpu.h"
#include "hw/loongarch/virt.h"

void virt_build_dsdt(Aml *dsdt, MachineState *machine);

void virt_build_dsdt(Aml *dsdt, MachineState *machine)
{
    CPUHotplugFeatures opts = {
        .acpi_1_compatible = false,
        .has_legacy_cphp = false,
    };

    build_cpus_aml(dsdt, machine, opts, VIRT_GED_CPUHP_ADDR, "\\_SB",
                   "\\_GPE._E01", AML_SYSTEM_MEMORY);
}
