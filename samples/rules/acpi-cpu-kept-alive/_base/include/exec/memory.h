#ifndef MEMORY_H
#define MEMORY_H

#include "exec/hwaddr.h"
#include "qom/object.h"

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
    void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
} MemoryRegionOps;

struct MemoryRegion {
    Object parent_obj;
    const MemoryRegionOps *ops;
    void *opaque;
    uint64_t size;
};

void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size);
void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion);

#endif
