#include "qemu/osdep.h"
#include "cpu.h"

typedef struct DisasContext {
    CPUState *cpu;
    uint64_t pc_next;
    bool is_jmp;
} DisasContext;

void riscv_translate_done(DisasContext *ctx);

void riscv_translate_done(DisasContext *ctx)
{
    ctx->is_jmp = false;
    ctx->cpu = NULL;  /* ok: DisasContext, not AcpiCpuStatus */
}
