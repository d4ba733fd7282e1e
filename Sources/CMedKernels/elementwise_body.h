// Template for one instruction-set path of the elementwise kernels. The including file defines
// MK_SUFFIX (portable, avx2, avx512) and MK_TARGET (the function attribute that enables the ISA);
// the loops are written so that clang vectorises them for that ISA. Keep the arithmetic free of
// reassociation: results must not depend on how a loop is split.
#include "CMedKernels.h"
#include "internal.h"
#include <math.h>
#include "math_body.h"

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)

#define MK_MAP(expr)                                          \
    for (ptrdiff_t i = 0; i < n; i++) { float v = x[i]; y[i] = (expr); } \
    break;

#ifndef MK_ELEMENTWISE_CONSTANTS
#define MK_ELEMENTWISE_CONSTANTS
static const float mk_sqrt1_2 = 0.70710678118654752440f;
static const float mk_2_sqrtpi = 1.12837916709551257390f;
static const float mk_sqrt2_pi = 0.79788456080286535588f;   // sqrt(2/pi)
static const float mk_inv_sqrt2pi = 0.39894228040143267794f; // 1/sqrt(2*pi)
#endif

MK_TARGET void MK_FN(mk_unary)(int op, const float *x, float *y, ptrdiff_t n, float a, float b) {
    switch (op) {
    case MK_U_NEG: MK_MAP(-v)
    case MK_U_ABS: MK_MAP(fabsf(v))
    case MK_U_EXP: MK_MAP(MK_FN(mk_expf)(v))
    case MK_U_LOG: MK_MAP(logf(v))
    case MK_U_SQRT: MK_MAP(__builtin_elementwise_sqrt(v))
    case MK_U_RSQRT: MK_MAP(1.0f / __builtin_elementwise_sqrt(v))
    case MK_U_TANH: MK_MAP(MK_FN(mk_tanhf)(v))
    case MK_U_SIGMOID: MK_MAP(MK_FN(mk_sigmoidf)(v))
    case MK_U_ERF: MK_MAP(MK_FN(mk_erff)(v))
    case MK_U_RELU: MK_MAP(v < 0.0f ? 0.0f : v)
    case MK_U_GELU_ERF: MK_MAP(0.5f * v * (1.0f + MK_FN(mk_erff)(v * mk_sqrt1_2)))
    case MK_U_GELU_TANH: MK_MAP(0.5f * v * (1.0f + MK_FN(mk_tanhf)(mk_sqrt2_pi * (v + 0.044715f * v * v * v))))
    case MK_U_SILU: MK_MAP(v * MK_FN(mk_sigmoidf)(v))
    case MK_U_SQUARE: MK_MAP(v * v)
    case MK_U_RECIPROCAL: MK_MAP(1.0f / v)
    case MK_U_CLAMP: MK_MAP(v < a ? a : (v > b ? b : v))
    case MK_U_AFFINE: MK_MAP(v * a + b)
    case MK_U_POW_SCALAR:
        if (a == 2.0f) { MK_MAP(v * v) }
        MK_MAP(powf(v, a))
    case MK_U_SIN: MK_MAP(sinf(v))
    case MK_U_COS: MK_MAP(cosf(v))
    case MK_U_ERF_DERIV: MK_MAP(mk_2_sqrtpi * MK_FN(mk_expf)(-v * v))
    case MK_U_GELU_ERF_DERIV:
        MK_MAP(0.5f * (1.0f + MK_FN(mk_erff)(v * mk_sqrt1_2)) + v * mk_inv_sqrt2pi * MK_FN(mk_expf)(-0.5f * v * v))
    case MK_U_GELU_TANH_DERIV: {
        for (ptrdiff_t i = 0; i < n; i++) {
            float v = x[i];
            float t = MK_FN(mk_tanhf)(mk_sqrt2_pi * (v + 0.044715f * v * v * v));
            y[i] = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * mk_sqrt2_pi * (1.0f + 3.0f * 0.044715f * v * v);
        }
        break;
    }
    case MK_U_SILU_DERIV: {
        for (ptrdiff_t i = 0; i < n; i++) {
            float v = x[i];
            float s = MK_FN(mk_sigmoidf)(v);
            y[i] = s * (1.0f + v * (1.0f - s));
        }
        break;
    }
    default: break;
    }
}

// One loop per stride pattern so that the contiguous cases vectorise.
#define MK_ZIP(expr)                                                                              \
    if (sa == 1 && sb == 1) {                                                                     \
        for (ptrdiff_t i = 0; i < n; i++) { float u = a[i], v = b[i]; y[i] = (expr); }            \
    } else if (sa == 1 && sb == 0) {                                                              \
        float v = b[0];                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) { float u = a[i]; y[i] = (expr); }                      \
    } else if (sa == 0 && sb == 1) {                                                              \
        float u = a[0];                                                                           \
        for (ptrdiff_t i = 0; i < n; i++) { float v = b[i]; y[i] = (expr); }                      \
    } else {                                                                                      \
        for (ptrdiff_t i = 0; i < n; i++) { float u = a[i * sa], v = b[i * sb]; y[i] = (expr); }  \
    }                                                                                             \
    break;

MK_TARGET void MK_FN(mk_binary)(int op, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb, float *y,
                                ptrdiff_t n) {
    switch (op) {
    case MK_B_ADD: MK_ZIP(u + v)
    case MK_B_SUB: MK_ZIP(u - v)
    case MK_B_MUL: MK_ZIP(u * v)
    case MK_B_DIV: MK_ZIP(u / v)
    // NaN propagates from either side, as torch.maximum/minimum do.
    case MK_B_MAX: MK_ZIP(u != u ? u : (u > v ? u : v))
    case MK_B_MIN: MK_ZIP(u != u ? u : (u < v ? u : v))
    case MK_B_POW: MK_ZIP(powf(u, v))
    case MK_B_EQ: MK_ZIP(u == v ? 1.0f : 0.0f)
    case MK_B_NE: MK_ZIP(u != v ? 1.0f : 0.0f)
    case MK_B_LT: MK_ZIP(u < v ? 1.0f : 0.0f)
    case MK_B_LE: MK_ZIP(u <= v ? 1.0f : 0.0f)
    case MK_B_GT: MK_ZIP(u > v ? 1.0f : 0.0f)
    case MK_B_GE: MK_ZIP(u >= v ? 1.0f : 0.0f)
    default: break;
    }
}

MK_TARGET void MK_FN(mk_axpy)(ptrdiff_t n, float alpha, const float *x, float *y) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

// 32 running sums, each over every 32nd element, then a fixed pairwise combine: the same order on
// every path, so the portable and vector paths agree bit for bit (no fused multiply-add is involved).
MK_TARGET float MK_FN(mk_sum)(const float *x, ptrdiff_t n) {
    enum { W = 32 };
    float acc[W] = {0};
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W)
        for (int j = 0; j < W; j++) acc[j] += x[i + j];
    for (int j = 0; i < n; i++, j++) acc[j] += x[i];
    for (int width = W / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++) acc[j] += acc[j + width];
    return acc[0];
}

#undef MK_MAP
#undef MK_ZIP
