#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "hw/hotplug.h"
#include "hw/qdev-core.h"

#define TYPE_MACHINE "machine"

/* One possible vCPU slot of the machine (not ACPI state). */
typedef struct CPUArchId {
    uint64_t arch_id;
    int64_t vcpus_count;
    CPUState *cpu;
    const char *type;
} CPUArchId;

typedef struct CPUArchIdList {
    int len;
    CPUArchId cpus[];
} CPUArchIdList;

struct MachineClass {
    ObjectClass parent_class;
    const char *desc;
    int max_cpus;
    void (*init)(MachineState *state);
    const CPUArchIdList *(*possible_cpu_arch_ids)(MachineState *machine);
    HotplugHandler *(*get_hotplug_handler)(MachineState *machine,
                                           DeviceState *dev);
};

struct MachineState {
    Object parent_obj;
    const char *cpu_type;
    CPUArchIdList *possible_cpus;
};

#define MACHINE(obj) ((MachineState *)(obj))
#define MACHINE_CLASS(klass) ((MachineClass *)(klass))
#define MACHINE_GET_CLASS(obj) \
    ((MachineClass *)object_get_class(OBJECT(obj)))

#endif
