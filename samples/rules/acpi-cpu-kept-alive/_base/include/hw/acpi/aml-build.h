#ifndef HW_ACPI_AML_BUILD_H
#define HW_ACPI_AML_BUILD_H

#include "exec/hwaddr.h"

typedef struct Aml Aml;

typedef enum {
    AML_SYSTEM_MEMORY = 0,
    AML_SYSTEM_IO = 1,
} AmlRegionSpace;

Aml *aml_device(const char *name_format, ...);
Aml *aml_method(const char *name, int arg_count, ...);
Aml *aml_name(const char *name_format, ...);
Aml *aml_name_decl(const char *name, Aml *val);
Aml *aml_int(uint64_t val);
Aml *aml_if(Aml *predicate);
Aml *aml_equal(Aml *arg1, Aml *arg2);
Aml *aml_return(Aml *val);
Aml *aml_operation_region(const char *name, AmlRegionSpace rs,
                          Aml *offset, uint32_t len);
void aml_append(Aml *parent_ctx, Aml *child);

typedef enum {
    AML_ANY_ACC = 0,
    AML_BYTE_ACC = 1,
} AmlAccessType;

typedef enum {
    AML_NOLOCK = 0,
    AML_LOCK = 1,
} AmlLockRule;

typedef enum {
    AML_PRESERVE = 0,
    AML_WRITE_AS_ONES = 1,
    AML_WRITE_AS_ZEROS = 2,
} AmlUpdateRule;

Aml *aml_field(const char *name, AmlAccessType type, AmlLockRule lock,
               AmlUpdateRule rule);
Aml *aml_named_field(const char *name, unsigned int length);
Aml *aml_reserved_field(unsigned int length);
Aml *aml_else(void);
Aml *aml_store(Aml *val, Aml *target);
Aml *aml_local(int num);
Aml *aml_arg(int pos);

typedef enum {
    AML_NOTSERIALIZED = 0,
    AML_SERIALIZED = 1,
} AmlSerializeFlag;

Aml *aml_call1(const char *method, Aml *arg1);

#endif
