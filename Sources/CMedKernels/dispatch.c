// Run-time choice of the instruction-set path. See CMedKernels.h.
#include "CMedKernels.h"
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int active_isa = -1;
static int requested_isa = -1;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

int mk_isa_supported(int isa) {
    switch (isa) {
    case MK_ISA_PORTABLE: return 1;
#if MK_X86
    case MK_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case MK_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
#if MK_ARM64
    case MK_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

const char *mk_isa_name(int isa) {
    switch (isa) {
    case MK_ISA_AVX2: return "avx2";
    case MK_ISA_AVX512: return "avx512";
    case MK_ISA_NEON: return "neon";
    default: return "portable";
    }
}

static int isa_from_name(const char *name) {
    if (!name) return -1;
    for (int isa = MK_ISA_PORTABLE; isa <= MK_ISA_NEON; isa++)
        if (strcmp(name, mk_isa_name(isa)) == 0) return isa;
    return -1;
}

// Best path at or below `isa` that this CPU runs (avx512 → avx2 → portable; neon → portable).
static int best_at_most(int isa) {
    if (isa == MK_ISA_NEON) return mk_isa_supported(MK_ISA_NEON) ? MK_ISA_NEON : MK_ISA_PORTABLE;
    for (int candidate = isa; candidate > MK_ISA_PORTABLE; candidate--)
        if (mk_isa_supported(candidate)) return candidate;
    return MK_ISA_PORTABLE;
}

static void isa_init(void) {
#if MK_X86
    __builtin_cpu_init();
    int best = best_at_most(MK_ISA_AVX512);
#elif MK_ARM64
    int best = MK_ISA_NEON;
#else
    int best = MK_ISA_PORTABLE;
#endif
    requested_isa = isa_from_name(getenv("MEDTENSOR_ISA"));
    active_isa = requested_isa >= 0 ? best_at_most(requested_isa) : best;
}

int mk_isa_active(void) {
    pthread_once(&isa_once, isa_init);
    return __atomic_load_n(&active_isa, __ATOMIC_RELAXED);
}

int mk_isa_requested(void) {
    pthread_once(&isa_once, isa_init);
    return requested_isa;
}

int mk_isa_select(int isa) {
    pthread_once(&isa_once, isa_init);
    if (!mk_isa_supported(isa)) return -1;
    __atomic_store_n(&active_isa, isa, __ATOMIC_RELAXED);
    return 0;
}

// MARK: entry points

#if MK_X86
#define MK_DISPATCH(call_portable, call_avx2, call_avx512) \
    switch (mk_isa_active()) {                             \
    case MK_ISA_AVX512: call_avx512; break;                \
    case MK_ISA_AVX2: call_avx2; break;                    \
    default: call_portable; break;                         \
    }
#define MK_DISPATCH_RET(call_portable, call_avx2, call_avx512) \
    switch (mk_isa_active()) {                                 \
    case MK_ISA_AVX512: return call_avx512;                    \
    case MK_ISA_AVX2: return call_avx2;                        \
    default: return call_portable;                             \
    }
#else
#define MK_DISPATCH(call_portable, call_avx2, call_avx512) call_portable;
#define MK_DISPATCH_RET(call_portable, call_avx2, call_avx512) return call_portable;
#endif

void mk_unary(int op, const float *x, float *y, ptrdiff_t n, float a, float b) {
    MK_DISPATCH(mk_unary_portable(op, x, y, n, a, b), mk_unary_avx2(op, x, y, n, a, b),
                mk_unary_avx512(op, x, y, n, a, b))
}

void mk_binary(int op, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb, float *y, ptrdiff_t n) {
    MK_DISPATCH(mk_binary_portable(op, a, sa, b, sb, y, n), mk_binary_avx2(op, a, sa, b, sb, y, n),
                mk_binary_avx512(op, a, sa, b, sb, y, n))
}

void mk_axpy(ptrdiff_t n, float alpha, const float *x, float *y) {
    MK_DISPATCH(mk_axpy_portable(n, alpha, x, y), mk_axpy_avx2(n, alpha, x, y), mk_axpy_avx512(n, alpha, x, y))
}

float mk_sum(const float *x, ptrdiff_t n) {
    MK_DISPATCH_RET(mk_sum_portable(x, n), mk_sum_avx2(x, n), mk_sum_avx512(x, n))
}

float mk_max_index(const float *x, ptrdiff_t n, ptrdiff_t *index) { return mk_extreme_index(x, n, index, 1); }
float mk_min_index(const float *x, ptrdiff_t n, ptrdiff_t *index) { return mk_extreme_index(x, n, index, 0); }

void mk_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
              float beta, float *C, ptrdiff_t ldc) {
    MK_DISPATCH(mk_sgemm_portable(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc),
                mk_sgemm_avx2(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc),
                mk_sgemm_avx512(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))
}
