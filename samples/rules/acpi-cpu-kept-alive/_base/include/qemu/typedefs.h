#ifndef QEMU_TYPEDEFS_H
#define QEMU_TYPEDEFS_H

typedef struct BusState BusState;
typedef struct CPUState CPUState;
typedef struct DeviceState DeviceState;
typedef struct Error Error;
typedef struct HotplugHandler HotplugHandler;
typedef struct MachineClass MachineClass;
typedef struct MachineState MachineState;
typedef struct MemoryRegion MemoryRegion;
typedef struct Object Object;
typedef struct ObjectClass ObjectClass;

#endif
