// Template for one instruction-set path of single-threaded SGEMM (mk_sgemm in CMedKernels.h): the
// GotoBLAS/BLIS structure of cache blocks, packed panels and a register-tiled micro-kernel.
//
// The including file (gemm_paths.c) first includes the path's micro-kernel, then defines
//   MK_SUFFIX, MK_TARGET   the path's name and the function attribute that enables its ISA;
//   MK_UKERNEL             the micro-kernel, computing an MK_MR × MK_NR tile of C from packed panels:
//                          void (ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
//                                float alpha, float beta), c = alpha·Σ a·b + beta·c, beta == 0: c not read;
//   MK_MR, MK_NR           the tile: rows of A per packed A panel, columns of B per packed B panel;
//   MK_MC, MK_NC           BLIS order ("B panels"): a KC×NR panel of B stays in L1 while an MC×KC block
//                          of A (sized for L2) streams past it; B's KC×NC block is sized for L3;
//   MK_MC2, MK_NC2         the mirror image ("A panels"): an MR×KC panel of A stays in L1 while a KC×NC2
//                          block of B (sized for L2) streams past it; A's MC2×KC block is sized for L3;
//   MK_PREFER_A_PANELS     which of the two to use when both operands are large (1: A panels).
//                          Otherwise the choice packs each operand once: B panels when A fits one L2
//                          block (m ≤ MC), A panels when B does (n ≤ NC2). The operand whose panels stay
//                          in L1 is packed panel by panel just before its first use, with the next panel
//                          prefetched meanwhile, so that streaming it from memory overlaps the arithmetic.
//   MK_FMA(a, b, c)        the scalar a·b + c exactly as the micro-kernel's lanes compute it;
// and includes this file, which defines MK_FN(mk_sgemm), e.g. mk_sgemm_avx2.
//
// Numerics, the same on every path and independent of the problem's shape:
//   acc(i,j) = Σ over p in one k-block of op(A)(i,p)·op(B)(p,j), summed in order of p, each step MK_FMA;
//   first k-block: C(i,j) = beta == 0 ? alpha·acc : MK_FMA(beta, C(i,j), alpha·acc);
//   later k-blocks: C(i,j) = MK_FMA(1, C(i,j), alpha·acc) = C(i,j) + alpha·acc.
// The k-blocks (mk_gemm_kc) depend on k alone. So every element of C depends only on its row of op(A),
// its column of op(B), alpha, beta and k: not on m, n, the split of C across threads or calls, the
// choice between the packed and the direct path, edge tiles, alignment, or the micro-tile shape. The
// AVX2 and AVX-512 paths (both FMA) therefore give bitwise identical results; the portable path on x86
// (no FMA in baseline x86-64) rounds the product separately.
#include "CMedKernels.h"
#include "internal.h"
#pragma STDC FP_CONTRACT OFF

#include "gemm_common.h"

// MARK: scaling C alone (k == 0 or alpha == 0: A and B are not read)

static MK_TARGET void MK_FN(mk_gemm_scale)(ptrdiff_t m, ptrdiff_t n, float beta, float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f) {
            for (ptrdiff_t j = 0; j < n; j++) c[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (ptrdiff_t j = 0; j < n; j++) c[j] = beta * c[j];
        }
    }
}

// MARK: direct path (tiny problems, and the fallback when no workspace can be had)

// W consecutive elements of one row of C (W a constant after inlining, so the accumulators live in
// registers): c[j] for j < W from row a of op(A) (step stride csa) and columns b of op(B) (step stride
// rsb, column stride csb). The same arithmetic as the packed path, element by element.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_direct_chunk)(int W, ptrdiff_t kb, const float *a, ptrdiff_t csa, const float *b, ptrdiff_t rsb,
                       ptrdiff_t csb, float *c, float alpha, float coef) {
    float acc[4 * MK_NR];
    for (int j = 0; j < W; j++) acc[j] = 0.0f;
    for (ptrdiff_t p = 0; p < kb; p++) {
        const float ap = a[p * csa];
        const float *bp = b + p * rsb;
        for (int j = 0; j < W; j++) acc[j] = MK_FMA(ap, bp[j * csb], acc[j]);
    }
    for (int j = 0; j < W; j++) {
        const float t = alpha * acc[j];
        c[j] = coef == 0.0f ? t : MK_FMA(coef, c[j], t);
    }
}

// C = alpha·op(A)·op(B) + beta·C without packing, row by row of C in chunks of 4·NR, 2·NR, NR, 8, 4 and
// 1 columns (4·NR: eight accumulator registers, enough independent sums to keep both FMA pipes busy);
// op(A)(i,p) = A[i*rsa + p*csa], op(B)(p,j) = B[p*rsb + j*csb].
static MK_TARGET void MK_FN(mk_gemm_direct)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                            const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                                            const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                                            float beta, float *C, ptrdiff_t ldc) {
    const ptrdiff_t kc = mk_gemm_kc(k);
    for (ptrdiff_t pc = 0; pc < k; pc += kc) {
        const ptrdiff_t kb = MK_MIN(kc, k - pc);
        const float coef = pc == 0 ? beta : 1.0f;
        for (ptrdiff_t i = 0; i < m; i++) {
            const float *a = A + i * rsa + pc * csa;
            float *c = C + i * ldc;
            const float *b = B + pc * rsb;
            ptrdiff_t j = 0;
            if (csb == 1) {
                for (; j + 4 * MK_NR <= n; j += 4 * MK_NR)
                    MK_FN(mk_direct_chunk)(4 * MK_NR, kb, a, csa, b + j, rsb, 1, c + j, alpha, coef);
                for (; j + 2 * MK_NR <= n; j += 2 * MK_NR)
                    MK_FN(mk_direct_chunk)(2 * MK_NR, kb, a, csa, b + j, rsb, 1, c + j, alpha, coef);
                for (; j + MK_NR <= n; j += MK_NR) MK_FN(mk_direct_chunk)(MK_NR, kb, a, csa, b + j, rsb, 1, c + j, alpha, coef);
                for (; j + 8 <= n; j += 8) MK_FN(mk_direct_chunk)(8, kb, a, csa, b + j, rsb, 1, c + j, alpha, coef);
                for (; j + 4 <= n; j += 4) MK_FN(mk_direct_chunk)(4, kb, a, csa, b + j, rsb, 1, c + j, alpha, coef);
            } else {
                for (; j + 8 <= n; j += 8) MK_FN(mk_direct_chunk)(8, kb, a, csa, b + j * csb, rsb, csb, c + j, alpha, coef);
                for (; j + 4 <= n; j += 4) MK_FN(mk_direct_chunk)(4, kb, a, csa, b + j * csb, rsb, csb, c + j, alpha, coef);
            }
            for (; j < n; j++) MK_FN(mk_direct_chunk)(1, kb, a, csa, b + j * csb, rsb, csb, c + j, alpha, coef);
        }
    }
}

// MARK: packing

// A panel of R lines (rows of op(A) for A, columns of op(B) for B) over kc steps of k, interleaved:
// dst[p*R + r] = line r at step p; lines valid..R-1 are zero (edge tiles).
// "lines": each line is contiguous along k: line r at step p is src[r*ld + p].
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_pack_lines)(float *restrict dst, const float *restrict src, ptrdiff_t ld, ptrdiff_t kc, int R,
                     int valid) {
    ptrdiff_t p = 0;
    if (valid == R) {
        // Blocks of 8 steps: R short contiguous reads, written out interleaved.
        for (; p + 8 <= kc; p += 8) {
            for (int r = 0; r < R; r++) {
                const float *s = src + r * ld + p;
                for (int q = 0; q < 8; q++) dst[(p + q) * R + r] = s[q];
            }
        }
    }
    for (; p < kc; p++) {
        for (int r = 0; r < valid; r++) dst[p * R + r] = src[r * ld + p];
        for (int r = valid; r < R; r++) dst[p * R + r] = 0.0f;
    }
}

// "steps": each step of k is contiguous across the lines: line r at step p is src[p*ld + r].
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_pack_steps)(float *restrict dst, const float *restrict src, ptrdiff_t ld, ptrdiff_t kc, int R,
                     int valid) {
    if (valid == R) {
        for (ptrdiff_t p = 0; p < kc; p++)
            for (int r = 0; r < R; r++) dst[p * R + r] = src[p * ld + r];
    } else {
        for (ptrdiff_t p = 0; p < kc; p++) {
            for (int r = 0; r < valid; r++) dst[p * R + r] = src[p * ld + r];
            for (int r = valid; r < R; r++) dst[p * R + r] = 0.0f;
        }
    }
}

// A path may bring its own (vectorised) transposing pack, MK_PACK_LINES, with the same contract.
#undef MK_PACK_LINES_OF_PATH
#ifdef MK_PACK_LINES
#define MK_PACK_LINES_OF_PATH MK_PACK_LINES
#else
#define MK_PACK_LINES_OF_PATH MK_FN(mk_pack_lines)
#endif

// One panel of R lines over kc steps from a strided source: line r at step p is src[r*ls + p*ss], one of
// the two strides being 1 (the layout of op(A) or op(B) in memory).
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_pack_panel)(float *restrict dst, const float *src, ptrdiff_t ls, ptrdiff_t ss, ptrdiff_t kc, int R,
                     int valid) {
    if (ss == 1)
        MK_PACK_LINES_OF_PATH(dst, src, ls, kc, R, valid);
    else
        MK_FN(mk_pack_steps)(dst, src, ss, kc, R, valid);
}

// Part `part` of `parts` of the source of such a panel, prefetched into cache: the next panel to be packed
// is fetched piecewise while the micro-kernel works on the current one, so that the packing of an
// operand read only once (B when m is small) does not wait on memory.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_prefetch_panel)(const float *src, ptrdiff_t ls, ptrdiff_t ss, ptrdiff_t kc, int valid, ptrdiff_t part,
                         ptrdiff_t parts) {
    if (ss == 1) {  // lines contiguous along k: a slice of the lines, 16 floats (one cache line) at a time
        for (ptrdiff_t r = valid * part / parts; r < valid * (part + 1) / parts; r++) {
            const float *line = src + r * ls;
            for (ptrdiff_t p = 0; p < kc; p += 16) __builtin_prefetch(line + p);
            __builtin_prefetch(line + kc - 1);
        }
    } else {  // steps contiguous across the lines: a slice of the steps
        for (ptrdiff_t p = kc * part / parts; p < kc * (part + 1) / parts; p++) {
            __builtin_prefetch(src + p * ss);
            __builtin_prefetch(src + p * ss + valid - 1);
        }
    }
}

// Part `part` of `parts` of the floats src[0 ..< count], prefetched.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_prefetch_range)(const float *src, ptrdiff_t count, ptrdiff_t part, ptrdiff_t parts) {
    const ptrdiff_t lines = (count + 15) / 16;
    for (ptrdiff_t l = lines * part / parts; l < lines * (part + 1) / parts; l++) __builtin_prefetch(src + 16 * l);
}

// Rows i0..i0+mc-1 of op(A) at A (element (i, p) at A[i*rsa + p*csa]) as ceil(mc/MR) panels of MR×kc.
static MK_TARGET void MK_FN(mk_pack_a)(float *restrict dst, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                                       ptrdiff_t mc, ptrdiff_t kc) {
    if (csa != 1) {
        // Row by row of Aᵀ across all panels, so that memory is read in order.
        const ptrdiff_t full = mc / MK_MR, panel = (ptrdiff_t)MK_MR * kc;
        for (ptrdiff_t p = 0; p < kc; p++) {
            const float *s = A + p * csa;
            float *d = dst + p * MK_MR;
            for (ptrdiff_t q = 0; q < full; q++)
                for (int r = 0; r < MK_MR; r++) d[q * panel + r] = s[q * MK_MR + r];
        }
        if (mc > full * MK_MR)
            MK_FN(mk_pack_steps)(dst + full * panel, A + full * MK_MR, csa, kc, MK_MR, (int)(mc - full * MK_MR));
        return;
    }
    for (ptrdiff_t i = 0; i < mc; i += MK_MR) {
        MK_PACK_LINES_OF_PATH(dst, A + i * rsa, rsa, kc, MK_MR, (int)MK_MIN((ptrdiff_t)MK_MR, mc - i));
        dst += MK_MR * kc;
    }
}

// Columns j0..j0+nc-1 of op(B) at B (element (p, j) at B[p*rsb + j*csb]) as ceil(nc/NR) panels of kc×NR.
static MK_TARGET void MK_FN(mk_pack_b)(float *restrict dst, const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                                       ptrdiff_t nc, ptrdiff_t kc) {
    if (csb == 1) {
        // Row by row of B across all panels, so that memory is read in order.
        const ptrdiff_t full = nc / MK_NR, panel = (ptrdiff_t)MK_NR * kc;
        for (ptrdiff_t p = 0; p < kc; p++) {
            const float *s = B + p * rsb;
            float *d = dst + p * MK_NR;
            for (ptrdiff_t q = 0; q < full; q++)
                for (int r = 0; r < MK_NR; r++) d[q * panel + r] = s[q * MK_NR + r];
        }
        if (nc > full * MK_NR)
            MK_FN(mk_pack_steps)(dst + full * panel, B + full * MK_NR, rsb, kc, MK_NR, (int)(nc - full * MK_NR));
        return;
    }
    for (ptrdiff_t j = 0; j < nc; j += MK_NR) {
        MK_PACK_LINES_OF_PATH(dst, B + j * csb, csb, kc, MK_NR, (int)MK_MIN((ptrdiff_t)MK_NR, nc - j));
        dst += MK_NR * kc;
    }
}

// MARK: macro-kernel

// One tile of C at c (element (i,j) at c[i*rsc + j*csc]), mr×nr of it inside the matrix. Full tiles of
// row-major C go straight to the micro-kernel; edge tiles and transposed C go through a local tile.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_gemm_tile)(ptrdiff_t kb, const float *ap, const float *bp, float *c, ptrdiff_t rsc, ptrdiff_t csc,
                    ptrdiff_t mr, ptrdiff_t nr, float alpha, float coef) {
    if (mr == MK_MR && nr == MK_NR && csc == 1) {
        MK_UKERNEL(kb, ap, bp, c, rsc, alpha, coef);
        return;
    }
    _Alignas(64) float tile[MK_MR * MK_NR];
    MK_UKERNEL(kb, ap, bp, tile, MK_NR, alpha, 0.0f);
    if (csc == 1) {
        for (ptrdiff_t i = 0; i < mr; i++) {
            float *d = c + i * rsc;
            const float *t = tile + i * MK_NR;
            if (coef == 0.0f)
                for (ptrdiff_t j = 0; j < nr; j++) d[j] = t[j];
            else
                for (ptrdiff_t j = 0; j < nr; j++) d[j] = MK_FMA(coef, d[j], t[j]);
        }
    } else {  // transposed C (rsc == 1): tile column j is a row of C
        for (ptrdiff_t j = 0; j < nr; j++) {
            float *d = c + j * csc;
            const float *t = tile + j;
            if (coef == 0.0f)
                for (ptrdiff_t i = 0; i < mr; i++) d[i * rsc] = t[i * MK_NR];
            else
                for (ptrdiff_t i = 0; i < mr; i++) d[i * rsc] = MK_FMA(coef, d[i * rsc], t[i * MK_NR]);
        }
    }
}

// C[mc×nc] = packed A block (mc×kb) · packed B block (kb×nc), A panel by A panel. With Asrc (the A block
// in memory, line stride als, step stride ass), each A panel is packed here, just before its first use,
// while the next one is prefetched; with oneSlot (the panel is not needed again: one B block covers all
// of n) every panel goes to the start of Ap, where it stays in L1.
static MK_TARGET void MK_FN(mk_gemm_macro_a)(ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kb, float alpha, float *Ap,
                                           const float *Bp, float coef, float *C, ptrdiff_t rsc, ptrdiff_t csc,
                                           const float *Asrc, ptrdiff_t als, ptrdiff_t ass, int oneSlot) {
    const ptrdiff_t parts = (nc + MK_NR - 1) / MK_NR;
    for (ptrdiff_t ir = 0; ir < mc; ir += MK_MR) {
        float *ap = oneSlot ? Ap : Ap + ir * kb;
        const ptrdiff_t mr = MK_MIN((ptrdiff_t)MK_MR, mc - ir), next = MK_MIN((ptrdiff_t)MK_MR, mc - ir - MK_MR);
        if (Asrc) MK_FN(mk_pack_panel)(ap, Asrc + ir * als, als, ass, kb, MK_MR, (int)mr);
        for (ptrdiff_t jr = 0, part = 0; jr < nc; jr += MK_NR, part++) {
            if (next > 0) {
                if (Asrc)
                    MK_FN(mk_prefetch_panel)(Asrc + (ir + MK_MR) * als, als, ass, kb, (int)next, part, parts);
                else  // the next packed panel, from L3
                    MK_FN(mk_prefetch_range)(ap + MK_MR * kb, MK_MR * kb, part, parts);
            }
            MK_FN(mk_gemm_tile)(kb, ap, Bp + jr * kb, C + ir * rsc + jr * csc, rsc, csc, mr,
                                MK_MIN((ptrdiff_t)MK_NR, nc - jr), alpha, coef);
        }
    }
}

// C[mc×nc] = packed A block (mc×kb) · packed B block (kb×nc), B panel by B panel. With Bsrc (the B block
// in memory, line stride bls, step stride bss), each B panel is packed here, just before its first use,
// while the next one is prefetched; with oneSlot (the panel is not needed again: one A block covers all
// of m) every panel goes to the start of Bp, where it stays in L1.
static MK_TARGET void MK_FN(mk_gemm_macro_b)(ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kb, float alpha, const float *Ap,
                                           float *Bp, float coef, float *C, ptrdiff_t rsc, ptrdiff_t csc,
                                           const float *Bsrc, ptrdiff_t bls, ptrdiff_t bss, int oneSlot) {
    const ptrdiff_t parts = (mc + MK_MR - 1) / MK_MR;
    for (ptrdiff_t jr = 0; jr < nc; jr += MK_NR) {
        float *bp = oneSlot ? Bp : Bp + jr * kb;
        const ptrdiff_t nr = MK_MIN((ptrdiff_t)MK_NR, nc - jr), next = MK_MIN((ptrdiff_t)MK_NR, nc - jr - MK_NR);
        if (Bsrc) MK_FN(mk_pack_panel)(bp, Bsrc + jr * bls, bls, bss, kb, MK_NR, (int)nr);
        for (ptrdiff_t ir = 0, part = 0; ir < mc; ir += MK_MR, part++) {
            if (next > 0) {
                if (Bsrc)
                    MK_FN(mk_prefetch_panel)(Bsrc + (jr + MK_NR) * bls, bls, bss, kb, (int)next, part, parts);
                else  // the next packed panel, from L3
                    MK_FN(mk_prefetch_range)(bp + MK_NR * kb, MK_NR * kb, part, parts);
            }
            MK_FN(mk_gemm_tile)(kb, Ap + ir * kb, bp, C + ir * rsc + jr * csc, rsc, csc,
                                MK_MIN((ptrdiff_t)MK_MR, mc - ir), nr, alpha, coef);
        }
    }
}

// MARK: packed paths: the five loops around the micro-kernel

// B panels (BLIS order): B blocks of KC×NC, A blocks of MC×KC, B panel by B panel.
static MK_TARGET void MK_FN(mk_gemm_packed_b)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                              const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                                              const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                                              float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc,
                                              float *Ap, float *Bp) {
    const ptrdiff_t kc = mk_gemm_kc(k);
    for (ptrdiff_t jc = 0; jc < n; jc += MK_NC) {
        const ptrdiff_t nc = MK_MIN((ptrdiff_t)MK_NC, n - jc);
        for (ptrdiff_t pc = 0; pc < k; pc += kc) {
            const ptrdiff_t kb = MK_MIN(kc, k - pc);
            const float coef = pc == 0 ? beta : 1.0f;
            const float *Bblock = B + pc * rsb + jc * csb;
            for (ptrdiff_t ic = 0; ic < m; ic += MK_MC) {
                const ptrdiff_t mc = MK_MIN((ptrdiff_t)MK_MC, m - ic);
                MK_FN(mk_pack_a)(Ap, A + ic * rsa + pc * csa, rsa, csa, mc, kb);
                MK_FN(mk_gemm_macro_b)(mc, nc, kb, alpha, Ap, Bp, coef, C + ic * rsc + jc * csc, rsc, csc,
                                       ic == 0 ? Bblock : NULL, csb, rsb, m <= MK_MC);
            }
        }
    }
}

// A panels (the mirror image): A blocks of MC2×KC, B blocks of KC×NC2, A panel by A panel.
static MK_TARGET void MK_FN(mk_gemm_packed_a)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                              const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                                              const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                                              float beta, float *C, ptrdiff_t rsc, ptrdiff_t csc,
                                              float *Ap, float *Bp) {
    const ptrdiff_t kc = mk_gemm_kc(k);
    for (ptrdiff_t ic = 0; ic < m; ic += MK_MC2) {
        const ptrdiff_t mc = MK_MIN((ptrdiff_t)MK_MC2, m - ic);
        for (ptrdiff_t pc = 0; pc < k; pc += kc) {
            const ptrdiff_t kb = MK_MIN(kc, k - pc);
            const float coef = pc == 0 ? beta : 1.0f;
            const float *Ablock = A + ic * rsa + pc * csa;
            for (ptrdiff_t jc = 0; jc < n; jc += MK_NC2) {
                const ptrdiff_t nc = MK_MIN((ptrdiff_t)MK_NC2, n - jc);
                MK_FN(mk_pack_b)(Bp, B + pc * rsb + jc * csb, rsb, csb, nc, kb);
                MK_FN(mk_gemm_macro_a)(mc, nc, kb, alpha, Ap, Bp, coef, C + ic * rsc + jc * csc, rsc, csc,
                                       jc == 0 ? Ablock : NULL, rsa, csa, n <= MK_NC2);
            }
        }
    }
}

// MARK: entry point

MK_TARGET void MK_FN(mk_sgemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                               const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                               float *C, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        MK_FN(mk_gemm_scale)(m, n, beta, C, ldc);
        return;
    }
    // op(A)(i,p) = A[i*rsa + p*csa], op(B)(p,j) = B[p*rsb + j*csb].
    const ptrdiff_t rsa = transA ? 1 : lda, csa = transA ? lda : 1;
    const ptrdiff_t rsb = transB ? 1 : ldb, csb = transB ? ldb : 1;
    // Direct: tiny problems; and one to four rows of C against rows of B (csb == 1) that stay in cache
    // (one row: B is read once either way), where packing would cost as much as the multiply-adds.
    if ((double)m * (double)n * (double)k <= (double)MK_GEMM_SMALL ||
        (csb == 1 && (m == 1 || (m <= 4 && (double)n * (double)MK_MIN(k, (ptrdiff_t)MK_GEMM_KC) <= 65536.0)))) {
        MK_FN(mk_gemm_direct)(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc);
        return;
    }
    // Cᵀ = op(B)ᵀ·op(A)ᵀ computes the same elements with the same arithmetic; it wastes fewer lanes
    // when n is small or far from a multiple of NR (n = 49: 49 of 64 lanes vs 49 of 54 rows).
    const double padded = (double)MK_ROUND_UP(m, MK_MR) * (double)MK_ROUND_UP(n, MK_NR);
    const double paddedT = (double)MK_ROUND_UP(n, MK_MR) * (double)MK_ROUND_UP(m, MK_NR);
    const int flip = paddedT < 0.9 * padded;
    const ptrdiff_t mm = flip ? n : m, nn = flip ? m : n;
    const ptrdiff_t kc = mk_gemm_kc(k);
    // Packing buffers: an A block and a B block, except that the operand packed panel by panel needs a
    // single panel when one block of the other covers the whole problem (oneSlot in the macro-kernels).
    const int aPanels = mm > MK_MC && (nn <= MK_NC2 || MK_PREFER_A_PANELS);
    size_t aFloats, bFloats;
    if (aPanels) {
        aFloats = (size_t)(nn <= MK_NC2 ? MK_MR : MK_MIN((ptrdiff_t)MK_MC2, MK_ROUND_UP(mm, MK_MR))) * (size_t)kc;
        bFloats = (size_t)MK_MIN((ptrdiff_t)MK_NC2, MK_ROUND_UP(nn, MK_NR)) * (size_t)kc;
    } else {
        aFloats = (size_t)MK_MIN((ptrdiff_t)MK_MC, MK_ROUND_UP(mm, MK_MR)) * (size_t)kc;
        bFloats = (size_t)(mm <= MK_MC ? MK_NR : MK_MIN((ptrdiff_t)MK_NC, MK_ROUND_UP(nn, MK_NR))) * (size_t)kc;
    }
    const size_t aBytes = MK_ROUND_UP(aFloats * sizeof(float), 64);
    char *work = (char *)mk_gemm_workspace(aBytes + bFloats * sizeof(float));
    if (!work) {
        MK_FN(mk_gemm_direct)(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc);
        return;
    }
    float *Ap = (float *)work, *Bp = (float *)(work + aBytes);
    void (*packed)(ptrdiff_t, ptrdiff_t, ptrdiff_t, float, const float *, ptrdiff_t, ptrdiff_t, const float *,
                   ptrdiff_t, ptrdiff_t, float, float *, ptrdiff_t, ptrdiff_t, float *, float *) =
        aPanels ? MK_FN(mk_gemm_packed_a) : MK_FN(mk_gemm_packed_b);
    if (flip)
        packed(n, m, k, alpha, B, csb, rsb, A, csa, rsa, beta, C, 1, ldc, Ap, Bp);
    else
        packed(m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc, 1, Ap, Bp);
}
