#ifndef HW_ACPI_AML_BUILD_H
#define HW_ACPI_AML_BUILD_H

#include "exec/hwaddr.h"

typedef struct Aml Aml;

typedef enum {
    AML_SYSTEM_MEMORY = 0,
    AML_SYSTEM_IO = 1,
} AmlRegionSpace;

Aml *aml_device(const char *name_format, ...);
Aml *aml_method(const char *name, int arg_count);
Aml *aml_name(const char *name_format, ...);
Aml *aml_name_decl(const char *name, Aml *val);
Aml *aml_int(uint64_t val);
Aml *aml_if(Aml *predicate);
Aml *aml_equal(Aml *arg1, Aml *arg2);
Aml *aml_return(Aml *val);
Aml *aml_operation_region(const char *name, AmlRegionSpace rs,
                          Aml *offset, uint32_t len);
void aml_append(Aml *parent_ctx, Aml *child);

#endif
