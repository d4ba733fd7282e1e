// Declarations shared by the kernel files: one body per path, generated from the *_body.h templates.
#ifndef CMEDKERNELS_INTERNAL_H
#define CMEDKERNELS_INTERNAL_H
#include <stddef.h>
#include "CMedKernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define MK_X86 1
#else
#define MK_X86 0
#endif
#if defined(__aarch64__)
#define MK_ARM64 1
#else
#define MK_ARM64 0
#endif

#define MK_DECLARE_PATH(suffix)                                                                          \
    void mk_unary_##suffix(int op, const float *x, float *y, ptrdiff_t n, float a, float b);             \
    void mk_binary_##suffix(int op, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb, float *y, \
                            ptrdiff_t n);                                                                \
    void mk_axpy_##suffix(ptrdiff_t n, float alpha, const float *x, float *y);                           \
    float mk_sum_##suffix(const float *x, ptrdiff_t n);                                                  \
    void mk_sgemm_##suffix(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,   \
                           const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,     \
                           float *C, ptrdiff_t ldc);                                              \
    void mk_conv_pack_##suffix(int trans, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t ldw,       \
                               ptrdiff_t panel0, ptrdiff_t panel1, float *packed);                       \
    void mk_conv_forward_##suffix(const mk_conv_shape *s, const float *packed, const float *bias,        \
                                  const float *x, float *y, ptrdiff_t q0, ptrdiff_t q1);                 \
    void mk_conv_backward_input_##suffix(const mk_conv_shape *s, const float *packed, const float *dy,   \
                                         float *dx, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t c0, ptrdiff_t c1); \
    void mk_conv_backward_weight_##suffix(const mk_conv_shape *s, const float *x, const float *dy,       \
                                          float *dw, ptrdiff_t ldw, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t q0, \
                                          ptrdiff_t q1);                                                 \
    void mk_winograd_weight_##suffix(int flipped, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t panel0, \
                                     ptrdiff_t panel1, float *u);                                        \
    void mk_winograd_forward_##suffix(const mk_conv_shape *s, const float *u, const float *bias,        \
                                      const float *x, float *y, ptrdiff_t t0, ptrdiff_t t1);

MK_DECLARE_PATH(portable)
#if MK_X86
MK_DECLARE_PATH(avx2)
MK_DECLARE_PATH(avx512)
#endif

// The path that serves a conv entry point's `isa`: itself when this CPU runs it, else the best one below.
int mk_conv_path(int isa);

// Runs call(suffix) for the path serving `isa` (conv and Winograd entry points).
#if MK_X86
#define MK_CONV_DISPATCH(isa, call)                                  \
    switch (mk_conv_path(isa)) {                                     \
    case MK_ISA_AVX512: call(avx512); break;                         \
    case MK_ISA_AVX2: call(avx2); break;                             \
    default: call(portable); break;                                  \
    }
#else
#define MK_CONV_DISPATCH(isa, call) call(portable);
#endif

float mk_extreme_index(const float *x, ptrdiff_t n, ptrdiff_t *index, int wantMax);

// This thread's SGEMM packing buffer: at least `bytes`, 64-byte aligned, reused by the next call on
// the same thread and freed when the thread exits. NULL when memory is short (callers fall back).
void *mk_gemm_workspace(size_t bytes);

#endif
