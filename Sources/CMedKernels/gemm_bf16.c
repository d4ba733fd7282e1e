// BF16 GEMM for the opt-in reduced-precision inference mode (mk_sgemm_bf16 in CMedKernels.h): A and B are
// rounded to bfloat16 (round to nearest even, NaN kept NaN) while they are packed, products are summed in
// Float32 by AVX512-BF16's VDPBF16PS (each instruction: per lane of 16, acc += a₀b₀ + a₁b₁ over a pair of
// consecutive k), so one instruction does twice the multiply-adds of an FP32 FMA. Same interface as
// mk_sgemm; single-threaded (the Swift side splits C across threads as it does for mk_sgemm).
//
// Packing: k is taken in pairs. A panel of MR = 8 rows of op(A) over kc steps holds, for pair q, eight
// 32-bit words (row r's bf16 at steps 2q and 2q+1); a panel of NR = 32 columns of op(B) holds 32 such words
// per pair, so the micro-kernel loads two vectors of B and broadcasts one word of A per row. An odd kc is
// padded with a zero step. Tiles at the edges of C are computed whole into a scratch tile and copied.
#include "CMedKernels.h"
#include "internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if MK_X86
#include <immintrin.h>

int mk_bf16_supported(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
}

#define BF_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
#define BF_MR 8
#define BF_NR 32
#define BF_KC 512  // steps per block (256 pairs): an 8×512 A panel is 8 KB, a 512×32 B panel 32 KB
#define BF_MC 128
#define BF_NC 2048

// Round to nearest even; a NaN stays a (quiet) NaN instead of rounding into infinity, and a subnormal
// becomes a zero of its sign, as VCVTNEPS2BF16 does (and VDPBF16PS would treat a subnormal input as zero).
static inline uint16_t bf16_round(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    if ((bits & 0x7f800000u) == 0) return (uint16_t)((bits >> 16) & 0x8000u);
    return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

float mk_bf16_round_float(float x) {
    const uint32_t bits = (uint32_t)bf16_round(x) << 16;
    float y;
    memcpy(&y, &bits, 4);
    return y;
}

// element (line r, step p) of a panel's source: src[r*ls + p*ss]
static inline uint32_t bf16_pair(const float *src, ptrdiff_t ls, ptrdiff_t ss, ptrdiff_t r, ptrdiff_t p, ptrdiff_t kc) {
    const uint32_t lo = bf16_round(src[r * ls + p * ss]);
    const uint32_t hi = p + 1 < kc ? bf16_round(src[r * ls + (p + 1) * ss]) : 0u;
    return lo | (hi << 16);
}

// 16 floats rounded to bfloat16 (VCVTNEPS2BF16: to nearest even, NaN kept), zero-extended to 32-bit lanes.
static BF_TARGET inline __m512i bf16_lanes(__m512 x) { return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x)); }

// 8 lines (line i at src + i·ls) over 32 steps as 16 groups of 8 pair words, group w at dst + w·R: each
// line's 32 floats become 16 words in one register, and the 8×16 block of words is transposed in registers
// (32-bit, then 64-bit interleaves, then 128-bit lane shuffles), so that each store writes 8 words at once.
static BF_TARGET inline void bf16_pack_8x32(uint32_t *restrict dst, ptrdiff_t R, const float *src, ptrdiff_t ls) {
    __m512i w[8];
    for (int i = 0; i < 8; i++) {
        const float *line = src + i * ls;
        w[i] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(line + 16), _mm512_loadu_ps(line));
    }
    // t: pairs of lines interleaved word by word; u, v: four lines interleaved, for lines 0–3 and 4–7.
    // In 128-bit lane l, u[i] holds word 4l + i of lines 0–3 (v: of lines 4–7).
    __m512i t[8], u[4], v[4];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(w[2 * i], w[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(w[2 * i], w[2 * i + 1]);
    }
    u[0] = _mm512_unpacklo_epi64(t[0], t[2]), u[1] = _mm512_unpackhi_epi64(t[0], t[2]);
    u[2] = _mm512_unpacklo_epi64(t[1], t[3]), u[3] = _mm512_unpackhi_epi64(t[1], t[3]);
    v[0] = _mm512_unpacklo_epi64(t[4], t[6]), v[1] = _mm512_unpackhi_epi64(t[4], t[6]);
    v[2] = _mm512_unpacklo_epi64(t[5], t[7]), v[3] = _mm512_unpackhi_epi64(t[5], t[7]);
    for (int i = 0; i < 4; i++) {
        const __m512i a = _mm512_shuffle_i32x4(u[i], v[i], 0x44), b = _mm512_shuffle_i32x4(u[i], v[i], 0xEE);
        const __m512i lo = _mm512_shuffle_i32x4(a, a, 0xD8), hi = _mm512_shuffle_i32x4(b, b, 0xD8);
        _mm256_storeu_si256((__m256i *)(void *)(dst + i * R), _mm512_castsi512_si256(lo));
        _mm256_storeu_si256((__m256i *)(void *)(dst + (4 + i) * R), _mm512_extracti64x4_epi64(lo, 1));
        _mm256_storeu_si256((__m256i *)(void *)(dst + (8 + i) * R), _mm512_castsi512_si256(hi));
        _mm256_storeu_si256((__m256i *)(void *)(dst + (12 + i) * R), _mm512_extracti64x4_epi64(hi, 1));
    }
}

// `valid` lines (of R) over kc steps as (kc+1)/2 groups of R pair words; missing lines are zero. Full runs
// are converted 16 or 32 floats at a time; ragged ends go through bf16_pair (the same rounding).
static BF_TARGET void bf16_pack(uint32_t *restrict dst, const float *src, ptrdiff_t ls, ptrdiff_t ss, ptrdiff_t kc,
                                int R, int valid) {
    const ptrdiff_t pairs = (kc + 1) / 2;
    if (ss == 1) {  // lines contiguous along k: 32 steps of a line are 16 pair words, in order
        int r = 0;
        for (; r + 8 <= valid; r += 8) {  // 8 lines at a time, their words transposed in registers
            ptrdiff_t q = 0;
            for (; 2 * q + 32 <= kc; q += 16) bf16_pack_8x32(dst + q * R + r, R, src + r * ls + 2 * q, ls);
            for (int i = 0; i < 8; i++)
                for (ptrdiff_t t = q; t < pairs; t++) dst[t * R + r + i] = bf16_pair(src, ls, 1, r + i, 2 * t, kc);
        }
        for (; r < valid; r++) {
            const float *line = src + r * ls;
            ptrdiff_t q = 0;
            for (; 2 * q + 32 <= kc; q += 16) {
                uint32_t words[16];
                const __m512bh both = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(line + 2 * q + 16), _mm512_loadu_ps(line + 2 * q));
                _mm512_storeu_si512((void *)words, (__m512i)both);
                for (int w = 0; w < 16; w++) dst[(q + w) * R + r] = words[w];
            }
            for (; q < pairs; q++) dst[q * R + r] = bf16_pair(src, ls, 1, r, 2 * q, kc);
        }
    } else {  // steps contiguous across the lines: two steps of 16 lines interleave into 16 pair words
        for (ptrdiff_t q = 0; q < pairs; q++) {
            const float *even = src + 2 * q * ss, *odd = even + ss;
            int r = 0;
            if (2 * q + 1 < kc)
                for (; r + 16 <= valid; r += 16) {
                    const __m512i lo = bf16_lanes(_mm512_loadu_ps(even + r)), hi = bf16_lanes(_mm512_loadu_ps(odd + r));
                    _mm512_storeu_si512((void *)(dst + q * R + r), _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
                }
            for (; r < valid; r++) dst[q * R + r] = bf16_pair(src, ls, ss, r, 2 * q, kc);
        }
    }
    if (valid < R)
        for (ptrdiff_t q = 0; q < pairs; q++)
            for (int r = valid; r < R; r++) dst[q * R + r] = 0u;
}

// c (8×32, row stride ldc) = alpha·acc + beta·c over `pairs` pairs of packed A (8 words each) and B (32 words
// each, 64-byte aligned); beta == 0: c is not read.
static BF_TARGET void bf16_ukernel(ptrdiff_t pairs, const uint32_t *restrict a, const uint32_t *restrict b,
                                   float *restrict c, ptrdiff_t ldc, float alpha, float beta) {
    __m512 acc[BF_MR][2];
    for (int i = 0; i < BF_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (ptrdiff_t q = 0; q < pairs; q++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)(b + 32 * q));
        const __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(b + 32 * q + 16));
        for (int i = 0; i < BF_MR; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[BF_MR * q + i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < BF_MR; i++)
        for (int h = 0; h < 2; h++) {
            float *row = c + i * ldc + 16 * h;
            const __m512 scaled = _mm512_mul_ps(va, acc[i][h]);
            _mm512_storeu_ps(row, beta == 0.0f ? scaled : _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), scaled));
        }
}

static void *bf16_aligned(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes > 0 ? bytes : 64) == 0 ? p : NULL;
}

// Packed op(B) of a whole product: k-block pc (BF_KC steps; only the last may be shorter) holds every panel
// of NR columns in order, so that threads can pack panels apart and share the result.
static ptrdiff_t bf16_b_panels(ptrdiff_t n) { return (n + BF_NR - 1) / BF_NR; }
static ptrdiff_t bf16_b_offset(ptrdiff_t n, ptrdiff_t k, ptrdiff_t pc, ptrdiff_t panel) {
    const ptrdiff_t kc = k - pc < BF_KC ? k - pc : BF_KC;
    return pc / 2 * bf16_b_panels(n) * BF_NR + panel * BF_NR * ((kc + 1) / 2);  // a full block: BF_KC / 2 pairs
}

size_t mk_bf16_packed_b_words(ptrdiff_t n, ptrdiff_t k) {
    if (n <= 0 || k <= 0) return 1;
    const ptrdiff_t last = (k - 1) / BF_KC * BF_KC;
    return (size_t)bf16_b_offset(n, k, last, bf16_b_panels(n));
}

void mk_bf16_pack_b(int transB, ptrdiff_t n, ptrdiff_t k, const float *B, ptrdiff_t ldb, uint32_t *packed,
                    ptrdiff_t first_panel, ptrdiff_t end_panel) {
    if (!mk_bf16_supported()) return;
    const ptrdiff_t brs = transB ? 1 : ldb, bcs = transB ? ldb : 1;  // op(B)(p, j) = B[p*brs + j*bcs]
    for (ptrdiff_t pc = 0; pc < k; pc += BF_KC) {
        const ptrdiff_t kc = k - pc < BF_KC ? k - pc : BF_KC;
        for (ptrdiff_t panel = first_panel; panel < end_panel; panel++) {  // columns of op(B) are the lines
            const ptrdiff_t jp = panel * BF_NR;
            const int valid = (int)(n - jp < BF_NR ? n - jp : BF_NR);
            bf16_pack(packed + bf16_b_offset(n, k, pc, panel), B + pc * brs + jp * bcs, bcs, brs, kc, BF_NR, valid);
        }
    }
}

int mk_sgemm_bf16_packed(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                         ptrdiff_t lda, const uint32_t *packed_b, float beta, float *C, ptrdiff_t ldc) {
    if (!mk_bf16_supported()) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0 || alpha == 0.0f) {
        for (ptrdiff_t i = 0; i < m; i++)
            for (ptrdiff_t j = 0; j < n; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return 0;
    }
    const ptrdiff_t ars = transA ? 1 : lda, acs = transA ? lda : 1;  // op(A)(i, p) = A[i*ars + p*acs]
    const ptrdiff_t pairs_max = ((k < BF_KC ? k : BF_KC) + 1) / 2, mc_max = m < BF_MC ? m : BF_MC;
    uint32_t *packed_a = bf16_aligned((size_t)((mc_max + BF_MR - 1) / BF_MR) * BF_MR * pairs_max * 4);
    float *tile = bf16_aligned(BF_MR * BF_NR * 4);
    if (!packed_a || !tile) {
        free(packed_a), free(tile);
        return -1;
    }
    for (ptrdiff_t jc = 0; jc < n; jc += BF_NC) {
        const ptrdiff_t nc = n - jc < BF_NC ? n - jc : BF_NC;
        for (ptrdiff_t pc = 0; pc < k; pc += BF_KC) {
            const ptrdiff_t kc = k - pc < BF_KC ? k - pc : BF_KC, pairs = (kc + 1) / 2;
            const float coef = pc == 0 ? beta : 1.0f;
            for (ptrdiff_t ic = 0; ic < m; ic += BF_MC) {
                const ptrdiff_t mc = m - ic < BF_MC ? m - ic : BF_MC;
                for (ptrdiff_t ip = 0; ip < mc; ip += BF_MR) {  // rows of op(A) are the lines
                    const int valid = (int)(mc - ip < BF_MR ? mc - ip : BF_MR);
                    bf16_pack(packed_a + (ip / BF_MR) * BF_MR * pairs, A + (ic + ip) * ars + pc * acs, ars, acs, kc, BF_MR, valid);
                }
                for (ptrdiff_t jp = 0; jp < nc; jp += BF_NR) {
                    const ptrdiff_t cols = nc - jp < BF_NR ? nc - jp : BF_NR;
                    const uint32_t *pb = packed_b + bf16_b_offset(n, k, pc, (jc + jp) / BF_NR);
                    for (ptrdiff_t ip = 0; ip < mc; ip += BF_MR) {
                        const ptrdiff_t rows = mc - ip < BF_MR ? mc - ip : BF_MR;
                        float *c = C + (ic + ip) * ldc + jc + jp;
                        const uint32_t *pa = packed_a + (ip / BF_MR) * BF_MR * pairs;
                        if (rows == BF_MR && cols == BF_NR) {
                            bf16_ukernel(pairs, pa, pb, c, ldc, alpha, coef);
                        } else {
                            bf16_ukernel(pairs, pa, pb, tile, BF_NR, alpha, 0.0f);
                            for (ptrdiff_t i = 0; i < rows; i++)
                                for (ptrdiff_t j = 0; j < cols; j++) {
                                    const float t = tile[i * BF_NR + j];
                                    c[i * ldc + j] = coef == 0.0f ? t : __builtin_fmaf(coef, c[i * ldc + j], t);
                                }
                        }
                    }
                }
            }
        }
    }
    free(packed_a), free(tile);
    return 0;
}

int mk_sgemm_bf16(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                  ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    if (!mk_bf16_supported()) return -1;
    if (m <= 0 || n <= 0) return 0;
    uint32_t *packed_b = bf16_aligned(mk_bf16_packed_b_words(n, k) * 4);
    if (!packed_b) return -1;
    mk_bf16_pack_b(transB, n, k, B, ldb, packed_b, 0, bf16_b_panels(n));
    const int status = mk_sgemm_bf16_packed(transA, m, n, k, alpha, A, lda, packed_b, beta, C, ldc);
    free(packed_b);
    return status;
}

#else

int mk_bf16_supported(void) { return 0; }

float mk_bf16_round_float(float x) { return x; }

size_t mk_bf16_packed_b_words(ptrdiff_t n, ptrdiff_t k) { return (void)n, (void)k, 1; }

void mk_bf16_pack_b(int transB, ptrdiff_t n, ptrdiff_t k, const float *B, ptrdiff_t ldb, uint32_t *packed,
                    ptrdiff_t first_panel, ptrdiff_t end_panel) {
    (void)transB, (void)n, (void)k, (void)B, (void)ldb, (void)packed, (void)first_panel, (void)end_panel;
}

int mk_sgemm_bf16_packed(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                         ptrdiff_t lda, const uint32_t *packed_b, float beta, float *C, ptrdiff_t ldc) {
    (void)transA, (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)lda, (void)packed_b, (void)beta, (void)C,
        (void)ldc;
    return -1;
}

int mk_sgemm_bf16(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                  ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    (void)transA, (void)transB, (void)m, (void)n, (void)k, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb,
        (void)beta, (void)C, (void)ldc;
    return -1;
}

#endif
