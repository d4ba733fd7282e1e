// SGEMM micro-kernel for the AVX-512 path: an 8×32 tile of C in 16 zmm accumulators. Per step of k:
// two aligned loads of the packed B row (32 floats), eight broadcasts of the packed A column, sixteen
// FMAs. Sixteen independent chains
// cover the FMA latency × throughput of Zen 4 (double-pumped 512-bit) and Zen 5 (two 512-bit pipes),
// and MR = 8 divides the row counts convolutions produce (channels 64…512), so edge tiles are rare.
// Each lane of C accumulates sequentially over k with one fused multiply-add per step, exactly as in
// the AVX2 kernel and in gemm_driver_body.h's scalar paths (MK_FMA).
//
// Included by gemm_paths.c before gemm_driver_body.h, with MK_TARGET enabling AVX-512F and FMA.
// Only these intrinsics are used, so that a test harness can emulate them on a machine without
// AVX-512: _mm512_setzero_ps, _mm512_set1_ps, _mm512_load_ps, _mm512_loadu_ps, _mm512_storeu_ps,
// _mm512_fmadd_ps, _mm512_mul_ps (and _mm_prefetch).
#include <immintrin.h>
#pragma STDC FP_CONTRACT OFF

#define MK_AVX512_MR 8
#define MK_AVX512_NR 32
// Cache blocking (see gemm_driver_body.h). A panels (the default here, the arrangement of BLIS's zen4
// configuration — a 32×12 column-major kernel with a 512×480 L2 block — seen from row-major C): an 8×KC
// panel of A (8 KB at KC = 256) in L1, KC×NC2 blocks of B (512 KB) in the 1 MB L2 of Zen 4/5, MC2×KC
// blocks of A (2 MB) in L3; a KC×32 panel of B would be 32 KB, all of Zen 4's L1. B panels, for short
// problems whose A fits one L2 block: the KC×32 B panel in L1/L2, MC×KC blocks of A (256 KB) in L2,
// KC×NC blocks of B (4 MB) in L3.
#ifndef MK_AVX512_MC
#define MK_AVX512_MC 256
#endif
#ifndef MK_AVX512_NC
#define MK_AVX512_NC 4096
#endif
#ifndef MK_AVX512_MC2
#define MK_AVX512_MC2 2048
#endif
#ifndef MK_AVX512_NC2
#define MK_AVX512_NC2 512
#endif
#define MK_AVX512_PREFER_A_PANELS 1

// c[i*ldc + j] (i < 8, j < 32) = alpha·acc + beta·c, acc = Σ_p a[p*8 + i] · b[p*32 + j], fused as in
// mk_ukernel_avx2. beta == 0 stores alpha·acc without reading c. `b` must be 64-byte aligned.
static MK_TARGET void mk_ukernel_avx512(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                                        float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    for (int i = 0; i < 8; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
    __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();

#define MK_AVX512_STEP(P)                                                                       \
    do {                                                                                        \
        const __m512 b0 = _mm512_load_ps(b + 32 * (P)), b1 = _mm512_load_ps(b + 32 * (P) + 16); \
        __m512 ai = _mm512_set1_ps(a[8 * (P) + 0]);                                             \
        c00 = _mm512_fmadd_ps(ai, b0, c00); c01 = _mm512_fmadd_ps(ai, b1, c01);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 1]);                                                    \
        c10 = _mm512_fmadd_ps(ai, b0, c10); c11 = _mm512_fmadd_ps(ai, b1, c11);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 2]);                                                    \
        c20 = _mm512_fmadd_ps(ai, b0, c20); c21 = _mm512_fmadd_ps(ai, b1, c21);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 3]);                                                    \
        c30 = _mm512_fmadd_ps(ai, b0, c30); c31 = _mm512_fmadd_ps(ai, b1, c31);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 4]);                                                    \
        c40 = _mm512_fmadd_ps(ai, b0, c40); c41 = _mm512_fmadd_ps(ai, b1, c41);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 5]);                                                    \
        c50 = _mm512_fmadd_ps(ai, b0, c50); c51 = _mm512_fmadd_ps(ai, b1, c51);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 6]);                                                    \
        c60 = _mm512_fmadd_ps(ai, b0, c60); c61 = _mm512_fmadd_ps(ai, b1, c61);                  \
        ai = _mm512_set1_ps(a[8 * (P) + 7]);                                                    \
        c70 = _mm512_fmadd_ps(ai, b0, c70); c71 = _mm512_fmadd_ps(ai, b1, c71);                  \
    } while (0)

    ptrdiff_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        MK_AVX512_STEP(0);
        MK_AVX512_STEP(1);
        MK_AVX512_STEP(2);
        MK_AVX512_STEP(3);
        a += 32;
        b += 128;
    }
    for (; p < kc; p++) {
        MK_AVX512_STEP(0);
        a += 8;
        b += 32;
    }
#undef MK_AVX512_STEP

    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
#define MK_AVX512_STORE(I, X0, X1)                                        \
        _mm512_storeu_ps(c + (I) * ldc, _mm512_mul_ps(va, X0));           \
        _mm512_storeu_ps(c + (I) * ldc + 16, _mm512_mul_ps(va, X1));
        MK_AVX512_STORE(0, c00, c01) MK_AVX512_STORE(1, c10, c11) MK_AVX512_STORE(2, c20, c21)
        MK_AVX512_STORE(3, c30, c31) MK_AVX512_STORE(4, c40, c41) MK_AVX512_STORE(5, c50, c51)
        MK_AVX512_STORE(6, c60, c61) MK_AVX512_STORE(7, c70, c71)
#undef MK_AVX512_STORE
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
#define MK_AVX512_UPDATE(I, X0, X1)                                                                     \
        _mm512_storeu_ps(c + (I) * ldc,                                                                 \
                         _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (I) * ldc), _mm512_mul_ps(va, X0)));      \
        _mm512_storeu_ps(c + (I) * ldc + 16,                                                            \
                         _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (I) * ldc + 16), _mm512_mul_ps(va, X1)));
        MK_AVX512_UPDATE(0, c00, c01) MK_AVX512_UPDATE(1, c10, c11) MK_AVX512_UPDATE(2, c20, c21)
        MK_AVX512_UPDATE(3, c30, c31) MK_AVX512_UPDATE(4, c40, c41) MK_AVX512_UPDATE(5, c50, c51)
        MK_AVX512_UPDATE(6, c60, c61) MK_AVX512_UPDATE(7, c70, c71)
#undef MK_AVX512_UPDATE
    }
}
