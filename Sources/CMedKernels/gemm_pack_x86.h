// Packing helper shared by the x86 SIMD paths (AVX2 and AVX-512 both run it; it needs only AVX): the
// transposing case of gemm_driver_body.h's packing, where each of a panel's R lines (rows of op(A), or
// columns of op(B)) is contiguous along k in memory and the panel wants them interleaved step by step.
// 8 lines × 4 steps at a time: eight 128-bit loads paired into 256-bit registers, then unpack/shuffle —
// a 4×4 transpose in each 128-bit half — leaves one step of all 8 lines per register.
#ifndef MK_GEMM_PACK_X86_H
#define MK_GEMM_PACK_X86_H
#include "gemm_common.h"
#include <immintrin.h>

// dst[p*R + r] = line r at step p (p < kc), line r = src + r*ld for r < valid, zeros for valid ≤ r < R.
// R is 6 or a multiple of 8; kc ≤ MK_GEMM_KC (the zero line is that long).
static __attribute__((target("avx2,fma"), always_inline)) inline void
mk_pack_lines_x86(float *restrict dst, const float *restrict src, ptrdiff_t ld, ptrdiff_t kc, int R, int valid) {
    _Alignas(64) static const float zeros[MK_GEMM_KC + 8] = {0};
    for (int g = 0; g < R; g += 8) {
        // Lines g … g+7 of the panel; the missing ones (edge panels, and 6 and 7 when R = 6) read zeros.
        const float *l[8];
        for (int r = 0; r < 8; r++) l[r] = g + r < valid ? src + (g + r) * ld : zeros;
        float *d = dst + g;
        ptrdiff_t p = 0;
        for (; p + 4 <= kc; p += 4) {
            const __m256 a0 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(l[0] + p)), _mm_loadu_ps(l[4] + p), 1);
            const __m256 a1 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(l[1] + p)), _mm_loadu_ps(l[5] + p), 1);
            const __m256 a2 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(l[2] + p)), _mm_loadu_ps(l[6] + p), 1);
            const __m256 a3 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(l[3] + p)), _mm_loadu_ps(l[7] + p), 1);
            const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
            const __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
            const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            if (R == 6) {
                // Six lines per step: store 4 + 2 floats; lanes 6 and 7 are the padding lines.
                _mm_storeu_ps(d + (p + 0) * 6, _mm256_castps256_ps128(s0));
                _mm_storel_pi((__m64 *)(d + (p + 0) * 6 + 4), _mm256_extractf128_ps(s0, 1));
                _mm_storeu_ps(d + (p + 1) * 6, _mm256_castps256_ps128(s1));
                _mm_storel_pi((__m64 *)(d + (p + 1) * 6 + 4), _mm256_extractf128_ps(s1, 1));
                _mm_storeu_ps(d + (p + 2) * 6, _mm256_castps256_ps128(s2));
                _mm_storel_pi((__m64 *)(d + (p + 2) * 6 + 4), _mm256_extractf128_ps(s2, 1));
                _mm_storeu_ps(d + (p + 3) * 6, _mm256_castps256_ps128(s3));
                _mm_storel_pi((__m64 *)(d + (p + 3) * 6 + 4), _mm256_extractf128_ps(s3, 1));
            } else {
                _mm256_storeu_ps(d + (p + 0) * R, s0);
                _mm256_storeu_ps(d + (p + 1) * R, s1);
                _mm256_storeu_ps(d + (p + 2) * R, s2);
                _mm256_storeu_ps(d + (p + 3) * R, s3);
            }
        }
        for (; p < kc; p++)
            for (int r = 0; r < 8 && g + r < R; r++) d[p * R + r] = l[r][p];
    }
}
#endif
