// Instantiates the depthwise convolution and pooling kernels (depthwise_body.h, pool_body.h) once per
// instruction-set path, and their entry points, which run the path mk_isa_active() names.
#include "internal.h"
#include <math.h>

// Multiply-adds are fused only where the code says so (MK_FMA).
#pragma STDC FP_CONTRACT OFF

#define MK_SUFFIX portable
#define MK_TARGET
#if defined(__aarch64__)
#define MK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#define MK_VFMA(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#else
#define MK_FMA(a, b, c) ((a) * (b) + (c))
#define MK_VFMA(a, b, c) ((a) * (b) + (c))
#endif
#include "depthwise_body.h"
#include "pool_body.h"
#include "batchnorm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_FMA
#undef MK_VFMA

#if MK_X86
#define MK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#define MK_VFMA(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#define MK_SUFFIX avx2
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "depthwise_body.h"
#include "pool_body.h"
#include "batchnorm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET

#define MK_SUFFIX avx512
#define MK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#include "depthwise_body.h"
#include "pool_body.h"
#include "batchnorm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_FMA
#undef MK_VFMA
#endif

#if MK_X86
#define MK_SPATIAL_DISPATCH(call)                  \
    switch (mk_isa_active()) {                     \
    case MK_ISA_AVX512: call(avx512); break;       \
    case MK_ISA_AVX2: call(avx2); break;           \
    default: call(portable); break;                \
    }
#else
#define MK_SPATIAL_DISPATCH(call) call(portable);
#endif

void mk_depthwise_forward(const mk_conv_shape *shape, const float *x, const float *w, const float *bias, float *y,
                          ptrdiff_t unit0, ptrdiff_t unit1) {
#define MK_CALL(sfx) mk_depthwise_forward_##sfx(shape, x, w, bias, y, unit0, unit1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_depthwise_backward_input(const mk_conv_shape *shape, const float *dy, const float *w, float *dx,
                                 ptrdiff_t unit0, ptrdiff_t unit1) {
#define MK_CALL(sfx) mk_depthwise_backward_input_##sfx(shape, dy, w, dx, unit0, unit1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_depthwise_backward_weight(const mk_conv_shape *shape, const float *x, const float *dy, float *dw,
                                  ptrdiff_t o0, ptrdiff_t o1) {
#define MK_CALL(sfx) mk_depthwise_backward_weight_##sfx(shape, x, dy, dw, o0, o1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_maxpool_forward(const mk_pool_windows *windows, const float *x, float *y, int64_t *indices, ptrdiff_t plane0,
                        ptrdiff_t plane1) {
#define MK_CALL(sfx) mk_maxpool_forward_##sfx(windows, x, y, indices, plane0, plane1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_maxpool_backward(const mk_pool_windows *windows, const float *dy, const int64_t *indices, float *dx,
                         ptrdiff_t plane0, ptrdiff_t plane1) {
#define MK_CALL(sfx) mk_maxpool_backward_##sfx(windows, dy, indices, dx, plane0, plane1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_avgpool_forward(const mk_pool_windows *windows, const float *divisors, const float *x, float *y,
                        ptrdiff_t plane0, ptrdiff_t plane1) {
#define MK_CALL(sfx) mk_avgpool_forward_##sfx(windows, divisors, x, y, plane0, plane1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_avgpool_backward(const mk_pool_windows *windows, const float *divisors, const float *dy, float *dx,
                         ptrdiff_t plane0, ptrdiff_t plane1) {
#define MK_CALL(sfx) mk_avgpool_backward_##sfx(windows, divisors, dy, dx, plane0, plane1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_batchnorm_forward(const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane, float eps,
                          const float *gamma, const float *beta, float *y, float *xhat, float *mean, float *variance,
                          float *inv_std, ptrdiff_t c0, ptrdiff_t c1) {
#define MK_CALL(sfx) \
    mk_batchnorm_forward_##sfx(x, batch, channels, plane, eps, gamma, beta, y, xhat, mean, variance, inv_std, c0, c1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}

void mk_layernorm_forward(const float *x, ptrdiff_t n, float eps, const float *gamma, const float *beta, float *y,
                          float *mean, float *inv_std, ptrdiff_t r0, ptrdiff_t r1) {
#define MK_CALL(sfx) mk_layernorm_forward_##sfx(x, n, eps, gamma, beta, y, mean, inv_std, r0, r1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}
void mk_layernorm_backward(const float *dy, const float *x, ptrdiff_t n, const float *gamma, const float *mean,
                           const float *inv_std, float *dx, float *xhat, ptrdiff_t r0, ptrdiff_t r1) {
#define MK_CALL(sfx) mk_layernorm_backward_##sfx(dy, x, n, gamma, mean, inv_std, dx, xhat, r0, r1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}
void mk_batchnorm_backward(const float *dy, const float *xhat, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                           const float *gamma, const float *inv_std, float *dx, float *dgamma, float *dbeta, ptrdiff_t c0,
                           ptrdiff_t c1) {
#define MK_CALL(sfx) \
    mk_batchnorm_backward_##sfx(dy, xhat, batch, channels, plane, gamma, inv_std, dx, dgamma, dbeta, c0, c1)
    MK_SPATIAL_DISPATCH(MK_CALL)
#undef MK_CALL
}
