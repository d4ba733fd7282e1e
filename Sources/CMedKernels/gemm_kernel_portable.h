// SGEMM micro-kernel for the portable path: plain C, no intrinsics. The tile is a small 2-D array of
// accumulators that clang keeps in vector registers once it has unrolled the fixed-size loops
// (baseline x86-64: 6×8 in twelve 4-lane SSE registers; arm64: 8×12 in 24 of the 32 NEON registers).
//
// The multiply-add of one step is MK_PORTABLE_FMA: a true fused multiply-add where the baseline ISA
// has one (arm64), a separately rounded multiply and add elsewhere (gemm_paths.c turns off FP
// contraction, so the compiler never fuses on its own). gemm_driver_body.h's scalar paths use the
// same macro, so every element of C gets the same bits whichever code computes it.
#pragma STDC FP_CONTRACT OFF

// Cache blocking as for AVX2 (see gemm_driver_body.h): not tuned, the portable path is the fallback.
#ifndef MK_PORTABLE_MC
#define MK_PORTABLE_MC 120
#endif
#ifndef MK_PORTABLE_NC
#define MK_PORTABLE_NC 2048
#endif
#ifndef MK_PORTABLE_MC2
#define MK_PORTABLE_MC2 1200
#endif
#ifndef MK_PORTABLE_NC2
#define MK_PORTABLE_NC2 256
#endif
#define MK_PORTABLE_PREFER_A_PANELS 0

#if defined(__aarch64__)
#define MK_PORTABLE_MR 8
#define MK_PORTABLE_NR 12
#define MK_PORTABLE_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#elif defined(__x86_64__) || defined(_M_X64)
#define MK_PORTABLE_MR 6
#define MK_PORTABLE_NR 8
#define MK_PORTABLE_FMA(a, b, c) ((a) * (b) + (c))
#else
#define MK_PORTABLE_MR 4
#define MK_PORTABLE_NR 8
#define MK_PORTABLE_FMA(a, b, c) ((a) * (b) + (c))
#endif

// c[i*ldc + j] (i < MR, j < NR) = alpha·acc + beta·c, acc = Σ_p a[p*MR + i] · b[p*NR + j];
// beta == 0 stores alpha·acc without reading c.
static MK_TARGET void mk_ukernel_portable(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                                          float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    enum { MR = MK_PORTABLE_MR, NR = MK_PORTABLE_NR };
    float acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    for (ptrdiff_t p = 0; p < kc; p++) {
        for (int i = 0; i < MR; i++) {
            const float ai = a[i];
            for (int j = 0; j < NR; j++) acc[i][j] = MK_PORTABLE_FMA(ai, b[j], acc[i][j]);
        }
        a += MR;
        b += NR;
    }
    if (beta == 0.0f) {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j];
    } else {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i * ldc + j] = MK_PORTABLE_FMA(beta, c[i * ldc + j], alpha * acc[i][j]);
    }
}
