#ifndef QEMU_PC_DIMM_H
#define QEMU_PC_DIMM_H

#define TYPE_PC_DIMM "pc-dimm"

#endif
