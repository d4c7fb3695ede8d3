/* qemu-lint: stand-in for the compiler's <stdnoreturn.h>, searched last. */
#ifndef QEMU_LINT_STDNORETURN_H
#define QEMU_LINT_STDNORETURN_H
#define noreturn _Noreturn
#endif
