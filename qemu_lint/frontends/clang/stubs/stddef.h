/* qemu-lint: stand-in for the compiler's <stddef.h>, searched last (used
 * only when no system compiler's builtin headers were found). */
#ifndef QEMU_LINT_STDDEF_H
#define QEMU_LINT_STDDEF_H
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#ifndef __cplusplus
typedef __WCHAR_TYPE__ wchar_t;
#endif
typedef struct { long long __ll; long double __ld; } max_align_t;
#undef NULL
#define NULL ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif
#undef __need_size_t
#undef __need_ptrdiff_t
#undef __need_wchar_t
#undef __need_NULL
#undef __need_wint_t
#undef __need_max_align_t
#undef __need_offsetof
