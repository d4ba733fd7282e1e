// Vectorisable Float32 exp, tanh and erf for the elementwise kernels: branch-free (every lane computes
// every case and a select picks), no library calls and no tables, so that clang vectorises the loops
// that call them for each path's vector width. The including file defines MK_SUFFIX and MK_MATH_FMA(a, b, c)
// (a fused multiply-add on the FMA paths, a separately rounded multiply and add on baseline x86-64).
//
// Accuracy (ElementwiseTests checks it against Float64 over dense grids on every path): exp within 1 ulp
// (Cody-Waite reduction by ln 2 and a degree-6 polynomial, the Cephes expf scheme, scaled by 2ⁿ in two
// exact steps so that subnormal results round once), tanh and erf within 2 ulp. Special values: exp(+∞) =
// +∞, exp(-∞) = 0, NaN → NaN; tanh(±∞) = ±1; erf(±∞) = ±1; tanh and erf keep the sign of zero.
#include <stdint.h>
#include <string.h>

#define MK_MATH_CAT2(a, b) a##_##b
#define MK_MATH_CAT(a, b) MK_MATH_CAT2(a, b)
#define MK_MATH_FN(name) MK_MATH_CAT(name, MK_SUFFIX)

#ifndef MK_MATH_SHARED
#define MK_MATH_SHARED
static inline __attribute__((always_inline)) float mk_math_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline __attribute__((always_inline)) uint32_t mk_math_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
#endif

// e^x.
static inline __attribute__((always_inline)) float MK_MATH_FN(mk_expf)(float x) {
    const float hi = 88.72283935546875f;    // above: +∞ (e^hi is just below FLT_MAX)
    const float lo = -103.97208404541015625f; // below: 0 (e^lo is below half the smallest subnormal)
    float c = x > hi ? hi : x;
    c = c < lo ? lo : c;  // NaN stays NaN
    // n = round(x / ln 2) by the 1.5·2²³ trick (exact for |x / ln 2| < 2²²); its low bits are n.
    const float shifted = MK_MATH_FMA(c, 1.44269504088896341f, 12582912.0f);
    const float n = shifted - 12582912.0f;
    const int32_t ni = (int32_t)(mk_math_bits(shifted) - 0x4B400000u);
    // r = x − n·ln 2 in two parts (n·C1 is exact: C1 has 9 significant bits).
    float r = MK_MATH_FMA(n, -0.693359375f, c);
    r = MK_MATH_FMA(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = MK_MATH_FMA(p, r, 1.3981999507e-3f);
    p = MK_MATH_FMA(p, r, 8.3334519073e-3f);
    p = MK_MATH_FMA(p, r, 4.1665795894e-2f);
    p = MK_MATH_FMA(p, r, 1.6666665459e-1f);
    p = MK_MATH_FMA(p, r, 5.0000001201e-1f);
    const float r2 = r * r;
    const float y = MK_MATH_FMA(p, r2, r) + 1.0f;
    // y · 2ⁿ as y · 2^(n>>1) · 2^(n − (n>>1)): both factors normal for n in [-150, 128], the first product
    // exact, the second rounding once (also into the subnormals).
    const int32_t h = ni >> 1;
    const float s1 = mk_math_from_bits((uint32_t)(h + 127) << 23);
    const float s2 = mk_math_from_bits((uint32_t)(ni - h + 127) << 23);
    float result = (y * s1) * s2;
    result = x > hi ? mk_math_from_bits(0x7F800000u) : result;
    result = x < lo ? 0.0f : result;
    return result;
}

// The logistic function 1 / (1 + e^{−x}), as e^x / (1 + e^x) for x < 0 so that it keeps its accuracy
// (and its subnormal values) for large negative x.
static inline __attribute__((always_inline)) float MK_MATH_FN(mk_sigmoidf)(float x) {
    const float e = MK_MATH_FN(mk_expf)(x < 0.0f ? x : -x);  // e^{−|x|}
    const float d = 1.0f + e;
    return x < 0.0f ? e / d : 1.0f / d;
}

// tanh x: an odd polynomial for |x| < 0.625 (Cephes tanhf), else 1 − 2 / (e^{2|x|} + 1) with the sign of x.
static inline __attribute__((always_inline)) float MK_MATH_FN(mk_tanhf)(float x) {
    const float a = x < 0.0f ? -x : x;
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = MK_MATH_FMA(p, z, 2.06390887954e-2f);
    p = MK_MATH_FMA(p, z, -5.37397155531e-2f);
    p = MK_MATH_FMA(p, z, 1.33314422036e-1f);
    p = MK_MATH_FMA(p, z, -3.33332819422e-1f);
    const float small = MK_MATH_FMA(p * z, x, x);
    const float e = MK_MATH_FN(mk_expf)(2.0f * (a > 44.0f ? 44.0f : a));
    float large = 1.0f - 2.0f / (e + 1.0f);
    large = x < 0.0f ? -large : large;
    const float result = a < 0.625f ? small : large;
    return x != x || x == 0.0f ? x : result;  // NaN, and zero with its sign
}

// erf x: x·P(x²) for |x| < 1; 1 − e^{−x²}·R(1/|x|) with the sign of x for 1 ≤ |x| < 4 (R ≈ erfc(x)·e^{x²},
// a degree-9 polynomial in 1/|x| − 0.625); ±1 beyond. Minimax fits (relative error 1.2e-9 and 1.5e-8).
static inline __attribute__((always_inline)) float MK_MATH_FN(mk_erff)(float x) {
    const float a = x < 0.0f ? -x : x;
    const float z = x * x;
    float p = 7.853850338566166e-05f;
    p = MK_MATH_FMA(p, z, -8.010190290085431e-04f);
    p = MK_MATH_FMA(p, z, 5.188327306221925e-03f);
    p = MK_MATH_FMA(p, z, -2.6853811735643978e-02f);
    p = MK_MATH_FMA(p, z, 1.1283585143845137e-01f);
    p = MK_MATH_FMA(p, z, -3.7612625823813495e-01f);
    p = MK_MATH_FMA(p, z, 0.12837916572665f);  // the leading coefficient 1.128379… less 1, which is added exactly
    const float small = MK_MATH_FMA(x, p, x);
    const float b = a < 1.0f ? 1.0f : (a > 4.0f ? 4.0f : a);
    const float u = 1.0f / b - 0.625f;
    float q = 0.030711763527076892f;
    q = MK_MATH_FMA(q, u, -0.006946863556150218f);
    q = MK_MATH_FMA(q, u, -0.028407830798613573f);
    q = MK_MATH_FMA(q, u, 0.044619997227103754f);
    q = MK_MATH_FMA(q, u, -0.04678609177396787f);
    q = MK_MATH_FMA(q, u, 0.023261974901351862f);
    q = MK_MATH_FMA(q, u, 0.04376080518282217f);
    q = MK_MATH_FMA(q, u, -0.17239360408368012f);
    q = MK_MATH_FMA(q, u, 0.38228383644468134f);
    q = MK_MATH_FMA(q, u, 0.30595298923210507f);
    float large = 1.0f - MK_MATH_FN(mk_expf)(-(b * b)) * q;
    large = a >= 4.0f ? 1.0f : large;
    large = x < 0.0f ? -large : large;
    const float result = a < 1.0f ? small : large;
    return x != x ? x : result;
}
