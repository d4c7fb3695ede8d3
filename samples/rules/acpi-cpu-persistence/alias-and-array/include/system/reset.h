#ifndef QEMU_SYSTEM_RESET_H
#define QEMU_SYSTEM_RESET_H

typedef void QEMUResetHandler(void *opaque);

void qemu_register_reset(QEMUResetHandler *func, void *opaque);

#endif
