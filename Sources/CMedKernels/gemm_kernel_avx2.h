// SGEMM micro-kernel for the AVX2 + FMA path: a 6×16 tile of C in 12 ymm accumulators (the BLIS
// Haswell/Zen shape). Per step of k: two aligned loads of the packed B row (16 floats), six broadcasts
// of the packed A column, twelve FMAs. Each lane of C accumulates sequentially over k with one fused
// multiply-add per step, which is what gemm_driver_body.h's scalar paths reproduce (MK_FMA).
//
// Included by gemm_paths.c before gemm_driver_body.h, with MK_TARGET enabling AVX2 and FMA.
#include <immintrin.h>
#pragma STDC FP_CONTRACT OFF

#define MK_AVX2_MR 6
#define MK_AVX2_NR 16
// Cache blocking (see gemm_driver_body.h). B panels (BLIS order, the default): a KC×16 panel of B (16 KB at
// KC = 256) in L1, MC×KC blocks of A (144 KB) in a 512 KB (Zen 2/3) to 1 MB (Zen 4/5) L2, KC×NC blocks of
// B (4 MB) in L3. A panels, for tall problems whose B fits one L2 block: a 6×KC panel of A (6 KB) in L1,
// KC×NC2 blocks of B (256 KB) in L2, MC2×KC blocks of A (2 MB) in L3.
#ifndef MK_AVX2_MC
#define MK_AVX2_MC 144
#endif
#ifndef MK_AVX2_NC
#define MK_AVX2_NC 4080
#endif
#ifndef MK_AVX2_MC2
#define MK_AVX2_MC2 2046
#endif
#ifndef MK_AVX2_NC2
#define MK_AVX2_NC2 256
#endif
#define MK_AVX2_PREFER_A_PANELS 0

// c[i*ldc + j] (i < 6, j < 16) = alpha·acc + beta·c, with acc = Σ_p a[p*6 + i] · b[p*16 + j]; the
// products are fused into the sum and the final step is fma(beta, c, alpha·acc). beta == 0 stores
// alpha·acc without reading c. `b` must be 32-byte aligned (the packed panels are).
static MK_TARGET void mk_ukernel_avx2(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                                      float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    for (int i = 0; i < 6; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

#define MK_AVX2_STEP(P)                                                                    \
    do {                                                                                   \
        const __m256 b0 = _mm256_load_ps(b + 16 * (P)), b1 = _mm256_load_ps(b + 16 * (P) + 8); \
        __m256 ai = _mm256_broadcast_ss(a + 6 * (P) + 0);                                  \
        c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);             \
        ai = _mm256_broadcast_ss(a + 6 * (P) + 1);                                         \
        c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);             \
        ai = _mm256_broadcast_ss(a + 6 * (P) + 2);                                         \
        c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);             \
        ai = _mm256_broadcast_ss(a + 6 * (P) + 3);                                         \
        c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);             \
        ai = _mm256_broadcast_ss(a + 6 * (P) + 4);                                         \
        c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);             \
        ai = _mm256_broadcast_ss(a + 6 * (P) + 5);                                         \
        c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);             \
    } while (0)

    ptrdiff_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        MK_AVX2_STEP(0);
        MK_AVX2_STEP(1);
        MK_AVX2_STEP(2);
        MK_AVX2_STEP(3);
        a += 24;
        b += 64;
    }
    for (; p < kc; p++) {
        MK_AVX2_STEP(0);
        a += 6;
        b += 16;
    }
#undef MK_AVX2_STEP

    const __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0.0f) {
#define MK_AVX2_STORE(I, X0, X1)                                        \
        _mm256_storeu_ps(c + (I) * ldc, _mm256_mul_ps(va, X0));         \
        _mm256_storeu_ps(c + (I) * ldc + 8, _mm256_mul_ps(va, X1));
        MK_AVX2_STORE(0, c00, c01) MK_AVX2_STORE(1, c10, c11) MK_AVX2_STORE(2, c20, c21)
        MK_AVX2_STORE(3, c30, c31) MK_AVX2_STORE(4, c40, c41) MK_AVX2_STORE(5, c50, c51)
#undef MK_AVX2_STORE
    } else {
        const __m256 vb = _mm256_set1_ps(beta);
#define MK_AVX2_UPDATE(I, X0, X1)                                                                       \
        _mm256_storeu_ps(c + (I) * ldc,                                                                 \
                         _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (I) * ldc), _mm256_mul_ps(va, X0)));      \
        _mm256_storeu_ps(c + (I) * ldc + 8,                                                             \
                         _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (I) * ldc + 8), _mm256_mul_ps(va, X1)));
        MK_AVX2_UPDATE(0, c00, c01) MK_AVX2_UPDATE(1, c10, c11) MK_AVX2_UPDATE(2, c20, c21)
        MK_AVX2_UPDATE(3, c30, c31) MK_AVX2_UPDATE(4, c40, c41) MK_AVX2_UPDATE(5, c50, c51)
#undef MK_AVX2_UPDATE
    }
}
