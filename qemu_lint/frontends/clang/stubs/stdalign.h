/* qemu-lint: stand-in for the compiler's <stdalign.h>, searched last. */
#ifndef QEMU_LINT_STDALIGN_H
#define QEMU_LINT_STDALIGN_H
#define alignas _Alignas
#define alignof _Alignof
#endif
