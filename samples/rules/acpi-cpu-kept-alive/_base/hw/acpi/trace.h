/* Stand-in for the generated trace header of hw/acpi. */
#ifndef HW_ACPI_TRACE_H
#define HW_ACPI_TRACE_H

void trace_cpuhp_acpi_read_flags(uint32_t idx, uint64_t flags);
void trace_cpuhp_acpi_ejecting_cpu(uint32_t idx);
void trace_cpuhp_acpi_keep_present(uint32_t idx);

#endif
