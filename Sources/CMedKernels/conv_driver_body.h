// Template for one instruction-set path of the convolution kernels (mk_conv_* in CMedKernels.h): an
// implicit GEMM on the path's SGEMM micro-kernel. gemm_paths.c includes it right after
// gemm_driver_body.h, with the same MK_SUFFIX, MK_TARGET, MK_UKERNEL, MK_MR, MK_NR, MK_MC, MK_FMA, and it
// uses that file's packing helpers and tile routine; MK_CONV_AVX2_GATHER (1 on the x86 SIMD paths) lets
// the gathers below use AVX2's masked loads and gathers.
//
// The column matrix (rows: channel, kh, kw; columns: output pixels q of all images) is never built.
// Each B panel of the GEMM — NR output pixels over a block of rows — is packed straight from the image:
// for each kernel tap, a "tap" record gives the input element each of the NR lanes reads (or none, in
// the padding), so that packing a row is one NR-float copy when the lanes read consecutive inputs (the
// common case at stride 1), a strided copy, or a (masked) gather at edges and row ends. The same records
// drive the scatter of col2im in the input gradient and the transposed packing of the weight gradient.
// Panels may span output rows and images, so small planes fill whole panels.
//
//   forward   y = W·cols: A = the weight, packed once per op by the caller (mk_conv_pack, all panels of
//             MR rows over all of k); the k-blocks are mk_gemm_kc(k), as in mk_sgemm. When one A block
//             covers all output channels (m ≤ MC), each B panel is packed just before its use into one
//             slot that stays in L1 while the next panel's input is prefetched (BLIS's order with a single
//             A block); else a chunk of panels × a k-block (sized for L2) is packed and shared by the A
//             blocks while the next chunk's input rows are prefetched.
//   dx        col2im(Wᵀ·dy): per panel of NR output pixels, B = dy (out_channels × NR); Wᵀ's panels give
//             the panel's tile of the column matrix a few channels at a time, and each is added into dx
//             while it is in L1: at stride 1 within one output row the kW taps of a kernel row are summed
//             at their shifts first, so each dx run is read and written once per kernel row. dx rows are
//             zeroed just before the first panel that touches them (1×1 stride-1 and patchify
//             convolutions, where every input has exactly one term, store instead).
//   dw        dy·colsᵀ: the reduction runs over pixels, in blocks of MK_CONV_DW_BLOCK; A = dy's block
//             (transposed packing), B = the block of cols for NR rows, packed through a small line buffer.
//
// Determinism: every output element's arithmetic depends only on the shape, never on how the work is
// split across calls (threads): the forward pass and dw are plain GEMM sums; dx's terms are added in the
// order of a fixed global grid of panels.
#include "CMedKernels.h"
#include "internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if MK_CONV_AVX2_GATHER
#include <immintrin.h>
#endif

#ifndef MK_CONV_SHARED
#define MK_CONV_SHARED

// Floats of packed B (a chunk of pixel panels × one k-block) per forward chunk: 192 KB, which leaves room
// in a 512 KB L2 for an MC×KC block of A and the chunk of the output.
#define MK_CONV_B_BUDGET 49152
// Pixels per k-block of the weight gradient (a multiple of every NR).
#define MK_CONV_DW_BLOCK 256
enum { MK_TAP_ZERO = 0, MK_TAP_CONTIG = 1, MK_TAP_STRIDED = 2, MK_TAP_GATHER = 3 };
// Eight floats as one value (lowered to the path's registers), for unaligned loads and stores. Macros,
// not functions: a function taking this type would need the path's target attribute.
typedef float mk_conv_vec __attribute__((vector_size(32)));
typedef float mk_conv_unaligned __attribute__((vector_size(32), aligned(4), may_alias));
#define mk_conv_load(p) (*(const mk_conv_unaligned *)(p))
#define mk_conv_store(p, v) (*(mk_conv_unaligned *)(p) = (v))
#endif

// Where the NR lanes of a panel read for one kernel tap, relative to channel 0 of the group in image 0:
// ZERO: every lane is in the padding (or not a pixel); CONTIG: lane j reads base + j; STRIDED: lane j
// reads base + j·stride; GATHER: lane j reads base + off[j] when valid[j] (off[j] = 0 otherwise, so that
// the load is in bounds), else 0. off and valid are filled in for GATHER only.
// For GATHER, also per group of 8 lanes (x86 paths): group_kind 0 = no valid lane, 1 = the valid lanes
// read base + group_base + j (a masked load), 2 = a true gather.
typedef struct {
    ptrdiff_t base;
    int32_t kind, stride;
    int32_t off[MK_NR];
    int32_t valid[MK_NR];
    int32_t group_kind[(MK_NR + 7) / 8], group_base[(MK_NR + 7) / 8];
} MK_FN(mk_conv_tap);
#define MK_TAP MK_FN(mk_conv_tap)

// The lanes of one panel: output pixels q = q0 + j (j < NR) for q in [lo, hi); where each one's window
// starts in the input, and where it goes in the output.
typedef struct {
    ptrdiff_t in_image[MK_NR];   // image · in_image_stride
    ptrdiff_t out[MK_NR];        // image · out_image_stride + pixel, the lane's output offset (channel 0)
    int32_t ih[MK_NR], iw[MK_NR];  // top-left corner of the window (may be negative)
    int32_t ok[MK_NR];
    ptrdiff_t first_image, last_image;  // of the valid lanes
    int32_t last_oh;             // output row of the last valid lane
    int all;                     // every lane valid and all in one image: output columns are contiguous
    int row;                     // all, and in one output row: lane j's window starts at (ih[0], iw[0] + j·stride_w)
} MK_FN(mk_conv_lanes);
#define MK_LANES MK_FN(mk_conv_lanes)

static MK_TARGET void MK_FN(mk_conv_make_lanes)(const mk_conv_shape *s, ptrdiff_t q0, ptrdiff_t lo, ptrdiff_t hi,
                                                MK_LANES *L) {
    const ptrdiff_t plane = s->out_height * s->out_width;
    int count = 0;
    L->first_image = -1;
    L->last_image = -1;
    L->last_oh = 0;
    for (int j = 0; j < MK_NR; j++) {
        const ptrdiff_t q = q0 + j;
        if (q < lo || q >= hi) {
            L->ok[j] = 0;
            L->in_image[j] = 0;
            L->out[j] = 0;
            L->ih[j] = 0;
            L->iw[j] = 0;
            continue;
        }
        const ptrdiff_t n = q / plane, pixel = q - n * plane;
        const ptrdiff_t oh = pixel / s->out_width, ow = pixel - oh * s->out_width;
        L->ok[j] = 1;
        L->in_image[j] = n * s->in_image_stride;
        L->out[j] = n * s->out_image_stride + pixel;
        L->ih[j] = (int32_t)(oh * s->stride_h - s->pad_h);
        L->iw[j] = (int32_t)(ow * s->stride_w - s->pad_w);
        if (L->first_image < 0) L->first_image = n;
        L->last_image = n;
        L->last_oh = (int32_t)oh;
        count++;
    }
    L->all = count == MK_NR && L->first_image == L->last_image;
    L->row = L->all && L->ih[0] == L->ih[MK_NR - 1];
}

// The tap records of all kernel taps (kh, kw), in row order kh·kernel_w + kw.
static MK_TARGET void MK_FN(mk_conv_make_taps)(const mk_conv_shape *s, const MK_LANES *L, MK_TAP *taps) {
    const int32_t H = (int32_t)s->height, W = (int32_t)s->width;
    for (ptrdiff_t kh = 0; kh < s->kernel_h; kh++) {
        for (ptrdiff_t kw = 0; kw < s->kernel_w; kw++) {
            MK_TAP *t = taps + kh * s->kernel_w + kw;
            const int32_t dh = (int32_t)(kh * s->dilation_h), dw = (int32_t)(kw * s->dilation_w);
            if (L->row) {  // one output row: decided by the first and last lanes
                const int32_t ih = L->ih[0] + dh, first = L->iw[0] + dw;
                const int32_t last = first + (int32_t)((MK_NR - 1) * s->stride_w);
                if (ih < 0 || ih >= H || last < 0 || first >= W) {
                    t->kind = MK_TAP_ZERO;
                    t->base = 0;
                    continue;
                }
                if (first >= 0 && last < W) {
                    t->kind = s->stride_w == 1 ? MK_TAP_CONTIG : MK_TAP_STRIDED;
                    t->stride = (int32_t)s->stride_w;
                    t->base = L->in_image[0] + (ptrdiff_t)ih * W + first;
                    continue;
                }
                // Partly outside the row: the valid lanes are jlo … jhi−1, lane j reading first + j·stride.
                const int32_t sw = (int32_t)s->stride_w;
                const int32_t jlo = first >= 0 ? 0 : (-first + sw - 1) / sw;
                const int32_t jhi = MK_MIN((int32_t)MK_NR, (W - 1 - first) / sw + 1);
                t->kind = MK_TAP_GATHER;
                t->base = L->in_image[0] + (ptrdiff_t)ih * W + first + (ptrdiff_t)jlo * sw;
                for (int32_t j = 0; j < MK_NR; j++) {
                    const int v = j >= jlo && j < jhi;
                    t->valid[j] = v ? -1 : 0;
                    t->off[j] = v ? (j - jlo) * sw : 0;
                }
                for (int32_t g = 0; g * 8 < MK_NR; g++) {
                    const int32_t a = MK_MAX(jlo, g * 8), b = MK_MIN(jhi, g * 8 + 8);
                    t->group_kind[g] = a >= b ? 0 : (sw == 1 || b - a == 1) ? 1 : 2;
                    t->group_base[g] = a < b ? (a - jlo) * sw - a : 0;
                }
                continue;
            }
            ptrdiff_t offset[MK_NR];
            int valid = 0, first = -1;
            for (int j = 0; j < MK_NR; j++) {
                const int32_t ih = L->ih[j] + dh, iw = L->iw[j] + dw;
                const int v = L->ok[j] && ih >= 0 && ih < H && iw >= 0 && iw < W;
                t->valid[j] = v ? -1 : 0;
                offset[j] = L->in_image[j] + (ptrdiff_t)ih * W + iw;
                if (v) {
                    valid++;
                    if (first < 0) first = j;
                }
            }
            if (valid == 0) {
                t->kind = MK_TAP_ZERO;
                t->base = 0;
                continue;
            }
            const ptrdiff_t base = offset[first];
            int contiguous = valid == MK_NR;
            for (int j = 0; j < MK_NR && contiguous; j++) contiguous = offset[j] == offset[0] + j;
            t->kind = contiguous ? MK_TAP_CONTIG : MK_TAP_GATHER;
            t->base = base;
            for (int j = 0; j < MK_NR; j++) t->off[j] = t->valid[j] ? (int32_t)(offset[j] - base) : 0;
            for (int g = 0; g * 8 < MK_NR; g++) {
                int kind = 0, consecutive = 1;
                int32_t shift = 0;
                for (int j = g * 8; j < g * 8 + 8 && j < MK_NR; j++) {
                    if (!t->valid[j]) continue;
                    if (kind == 0) {
                        kind = 1;
                        shift = t->off[j] - j;
                    } else if (t->off[j] - j != shift) {
                        consecutive = 0;
                    }
                }
                t->group_kind[g] = kind == 0 ? 0 : consecutive ? 1 : 2;
                t->group_base[g] = shift;
            }
        }
    }
}

// dst[j] = lane j of one row of the column matrix: channel plane `s`, tap `t`.
static MK_TARGET inline __attribute__((always_inline)) void MK_FN(mk_conv_gather_row)(float *restrict dst,
                                                                                  const float *s, const MK_TAP *t) {
    if (t->kind == MK_TAP_CONTIG) {
        const float *p = s + t->base;
        for (int j = 0; j < MK_NR; j++) dst[j] = p[j];
    } else if (t->kind == MK_TAP_ZERO) {
        for (int j = 0; j < MK_NR; j++) dst[j] = 0.0f;
    } else if (t->kind == MK_TAP_STRIDED) {
        const float *p = s + t->base;
        if (t->stride == 2)
            for (int j = 0; j < MK_NR; j++) dst[j] = p[2 * j];
        else
            for (int j = 0; j < MK_NR; j++) dst[j] = p[j * t->stride];
    } else {
        const float *p = s + t->base;
#if MK_CONV_AVX2_GATHER
        for (int g = 0; g < MK_NR; g += 8) {
            const int kind = t->group_kind[g / 8];
            if (kind == 0) {
                _mm256_storeu_ps(dst + g, _mm256_setzero_ps());
                continue;
            }
            const __m256i mask = _mm256_loadu_si256((const __m256i *)(const void *)(t->valid + g));
            if (kind == 1) {  // consecutive: a masked load (the masked-off lanes are not read)
                _mm256_storeu_ps(dst + g, _mm256_maskload_ps(p + t->group_base[g / 8] + g, mask));
            } else {
                const __m256i index = _mm256_loadu_si256((const __m256i *)(const void *)(t->off + g));
                _mm256_storeu_ps(dst + g, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, index,
                                                                   _mm256_castsi256_ps(mask), 4));
            }
        }
#else
        for (int j = 0; j < MK_NR; j++) {
            const float v = p[t->off[j]];
            dst[j] = t->valid[j] ? v : 0.0f;
        }
#endif
    }
}

// Rows [r0, r0 + kb) of the column matrix for `np` consecutive panels, as packed B panels: panel p's row
// r0 + i at dst[(p·kb + i)·NR]. Row by row across the panels, so that the image is read in order.
static MK_TARGET void MK_FN(mk_conv_pack_rows)(float *restrict dst, const mk_conv_shape *s, const float *x,
                                               const MK_TAP *taps, ptrdiff_t np, ptrdiff_t r0, ptrdiff_t kb) {
    const ptrdiff_t taps_per_channel = s->kernel_h * s->kernel_w, plane = s->height * s->width;
    if (taps_per_channel == 1 && np == 1 && taps->kind == MK_TAP_CONTIG) {  // 1×1: a row per channel
        const float *src = x + r0 * plane + taps->base;
        for (ptrdiff_t i = 0; i < kb; i++)
            for (int j = 0; j < MK_NR; j++) dst[i * MK_NR + j] = src[i * plane + j];
        return;
    }
    ptrdiff_t c = r0 / taps_per_channel, t = r0 - c * taps_per_channel;
    for (ptrdiff_t i = 0; i < kb; i++) {
        for (ptrdiff_t p = 0; p < np; p++)
            MK_FN(mk_conv_gather_row)(dst + (p * kb + i) * MK_NR, x + c * plane, taps + p * taps_per_channel + t);
        if (++t == taps_per_channel) {
            t = 0;
            c++;
        }
    }
}

// MARK: prefetching what the next packing reads

// The input planes [c0, c1) over the rows that output pixels [qa, qb) read, as up to two segments of
// consecutive floats per channel (the first image's part and the last's; the images in between, which
// only occur with tiny planes, are left to the hardware). Rows up to *done were planned before.
typedef struct {
    const float *start[2];
    ptrdiff_t lines[2], plane, channels;
} MK_FN(mk_conv_prefetch);
#define MK_PREFETCH MK_FN(mk_conv_prefetch)

static MK_TARGET void MK_FN(mk_conv_plan_prefetch)(const mk_conv_shape *s, const float *x, ptrdiff_t qa, ptrdiff_t qb,
                                                   ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t *done, MK_PREFETCH *f) {
    const ptrdiff_t out_plane = s->out_height * s->out_width, plane = s->height * s->width;
    f->lines[0] = f->lines[1] = 0;
    f->plane = plane;
    f->channels = c1 - c0;
    if (qb <= qa || c1 <= c0) return;
    const ptrdiff_t na = qa / out_plane, oa = (qa - na * out_plane) / s->out_width;
    const ptrdiff_t nb = (qb - 1) / out_plane, ob = (qb - 1 - nb * out_plane) / s->out_width;
    const ptrdiff_t lo = MK_MAX((ptrdiff_t)0, oa * s->stride_h - s->pad_h);
    const ptrdiff_t hi = MK_MIN(s->height, ob * s->stride_h - s->pad_h + (s->kernel_h - 1) * s->dilation_h + 1);
    ptrdiff_t from = na * plane + lo * s->width, to = nb * plane + MK_MAX(hi, (ptrdiff_t)0) * s->width;
    if (done) {
        from = MK_MAX(from, *done);
        *done = MK_MAX(*done, to);
    }
    if (to <= from) return;
    const ptrdiff_t n0 = from / plane, n1 = (to - 1) / plane;
    const ptrdiff_t end0 = n0 == n1 ? to - n0 * plane : plane;
    f->start[0] = x + n0 * s->in_image_stride + c0 * plane + (from - n0 * plane);
    f->lines[0] = (end0 - (from - n0 * plane) + 15) / 16;
    if (n1 > n0) {
        f->start[1] = x + n1 * s->in_image_stride + c0 * plane;
        f->lines[1] = (to - n1 * plane + 15) / 16;
    }
}

// Part `part` of `parts` of the planned lines, into L2.
static MK_TARGET inline __attribute__((always_inline)) void MK_FN(mk_conv_prefetch_part)(const MK_PREFETCH *f,
                                                                                     ptrdiff_t part, ptrdiff_t parts) {
    const ptrdiff_t per = f->lines[0] + f->lines[1], total = per * f->channels;
    if (total == 0) return;
    const ptrdiff_t a = total * part / parts, b = total * (part + 1) / parts;
    if (a >= b) return;
    ptrdiff_t c = a / per, l = a - c * per;
    for (ptrdiff_t i = a; i < b; i++) {
        const float *p = l < f->lines[0] ? f->start[0] + 16 * l : f->start[1] + 16 * (l - f->lines[0]);
        __builtin_prefetch(p + c * f->plane, 0, 2);
        if (++l == per) {
            l = 0;
            c++;
        }
    }
}

// Part `part` of `parts` of what packing rows [r0, r0 + kb) of one panel reads, into L1.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_conv_prefetch_rows)(const mk_conv_shape *s, const float *x, const MK_TAP *taps, ptrdiff_t r0, ptrdiff_t kb,
                             ptrdiff_t part, ptrdiff_t parts) {
    const ptrdiff_t kW = s->kernel_w, taps_per_channel = s->kernel_h * kW, plane = s->height * s->width;
    const ptrdiff_t a = r0 + kb * part / parts, b = r0 + kb * (part + 1) / parts;
    if (a >= b) return;
    // Once per kernel row (its taps read neighbouring floats): where its first tap starts and where its
    // last one ends. Rows r with r ≡ 0 mod kW start a kernel row.
    ptrdiff_t r = (a + kW - 1) / kW * kW;
    ptrdiff_t c = r / taps_per_channel, t = r - c * taps_per_channel;
    for (; r < b; r += kW) {
        const MK_TAP *tap = taps + t, *end = tap + kW - 1;
        const float *p = x + c * plane;
        if (tap->kind != MK_TAP_ZERO) __builtin_prefetch(p + tap->base);
        if (end->kind != MK_TAP_ZERO) {
            const ptrdiff_t last = end->kind == MK_TAP_CONTIG   ? MK_NR - 1
                                   : end->kind == MK_TAP_STRIDED ? (MK_NR - 1) * end->stride
                                                                 : end->off[MK_NR - 1];
            __builtin_prefetch(p + end->base + last);
        }
        t += kW;
        if (t == taps_per_channel) {
            t = 0;
            c++;
        }
    }
}

// MARK: packing the weight

MK_TARGET void MK_FN(mk_conv_pack)(int trans, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t ldw, ptrdiff_t panel0,
                                   ptrdiff_t panel1, float *packed) {
    for (ptrdiff_t i = panel0; i < panel1; i++) {
        const ptrdiff_t row = i * MK_MR, rows = MK_MIN((ptrdiff_t)MK_MR, m - row);
        float *dst = packed + row * k;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += MK_GEMM_KC) {
            const ptrdiff_t kb = MK_MIN((ptrdiff_t)MK_GEMM_KC, k - p0);
            if (trans)  // op(W)(r, p) = W[p·ldw + r]
                MK_FN(mk_pack_panel)(dst + p0 * MK_MR, w + p0 * ldw + row, 1, ldw, kb, MK_MR, (int)rows);
            else
                MK_FN(mk_pack_panel)(dst + p0 * MK_MR, w + row * ldw + p0, ldw, 1, kb, MK_MR, (int)rows);
        }
    }
}

// MARK: forward

// One MR×NR tile of y for panel L, rows ir… (mr of them) of the packed weight, k-block [pc, pc + kb).
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_conv_forward_tile)(const MK_LANES *L, const float *ap, const float *bp, ptrdiff_t kb, ptrdiff_t pc,
                            ptrdiff_t ir, ptrdiff_t mr, const float *bias, float *y, ptrdiff_t out_plane, float *tile) {
    if (L->all && mr == MK_MR && !(pc == 0 && bias)) {
        MK_UKERNEL(kb, ap, bp, y + L->out[0] + ir * out_plane, out_plane, 1.0f, pc == 0 ? 0.0f : 1.0f);
    } else if (L->all && mr == MK_MR) {
        // First k-block with a bias: y = bias + Σ, through the tile (storing the bias first would make
        // the micro-kernel read y back).
        float *c = y + L->out[0] + ir * out_plane;
        for (int i = 0; i < MK_MR; i++)  // fetched while the micro-kernel runs
            for (int j = 0; j < MK_NR; j += 16) __builtin_prefetch(c + i * out_plane + j, 1, 3);
        MK_UKERNEL(kb, ap, bp, tile, MK_NR, 1.0f, 0.0f);
        for (int i = 0; i < MK_MR; i++) {
            const float b = bias[ir + i];
            for (int j = 0; j < MK_NR; j++) c[i * out_plane + j] = MK_FMA(1.0f, b, tile[i * MK_NR + j]);
        }
    } else if (L->all) {
        // The last, partial A panel (m not a multiple of MR): whole rows of the tile, vectorised.
        MK_UKERNEL(kb, ap, bp, tile, MK_NR, 1.0f, 0.0f);
        for (ptrdiff_t i = 0; i < mr; i++) {
            const float *restrict t = tile + i * MK_NR;
            float *restrict c = y + L->out[0] + (ir + i) * out_plane;
            if (pc != 0)
                for (int j = 0; j < MK_NR; j++) c[j] = MK_FMA(1.0f, c[j], t[j]);
            else if (bias)
                for (int j = 0; j < MK_NR; j++) c[j] = MK_FMA(1.0f, bias[ir + i], t[j]);
            else
                for (int j = 0; j < MK_NR; j++) c[j] = t[j];
        }
    } else {
        // Lanes spanning images or ending early (small planes: most panels): the valid lanes fall into runs
        // whose outputs are consecutive (one per image), each added or stored as a vectorised row segment.
        MK_UKERNEL(kb, ap, bp, tile, MK_NR, 1.0f, 0.0f);
        int run_start[MK_NR], run_length[MK_NR], runs = 0;
        for (int j = 0; j < MK_NR; j++) {
            if (!L->ok[j]) continue;
            if (runs > 0 && run_start[runs - 1] + run_length[runs - 1] == j && L->out[j] == L->out[j - 1] + 1) {
                run_length[runs - 1]++;
            } else {
                run_start[runs] = j;
                run_length[runs++] = 1;
            }
        }
        for (ptrdiff_t i = 0; i < mr; i++) {
            const float b = bias && pc == 0 ? bias[ir + i] : 0.0f;
            for (int r = 0; r < runs; r++) {
                const int j0 = run_start[r], length = run_length[r];
                const float *restrict t = tile + i * MK_NR + j0;
                float *restrict c = y + (ir + i) * out_plane + L->out[j0];
                if (pc != 0)
                    for (int j = 0; j < length; j++) c[j] = MK_FMA(1.0f, c[j], t[j]);
                else if (bias)
                    for (int j = 0; j < length; j++) c[j] = MK_FMA(1.0f, b, t[j]);
                else
                    for (int j = 0; j < length; j++) c[j] = t[j];
            }
        }
    }
}

MK_TARGET void MK_FN(mk_conv_forward)(const mk_conv_shape *s, const float *packed, const float *bias,
                                      const float *x, float *y, ptrdiff_t q0, ptrdiff_t q1) {
    const ptrdiff_t taps_per_channel = s->kernel_h * s->kernel_w, k = s->channels * taps_per_channel;
    const ptrdiff_t m = s->out_channels, out_plane = s->out_height * s->out_width;
    if (q1 <= q0 || m <= 0) return;
    const ptrdiff_t kc = mk_gemm_kc(k);
    const ptrdiff_t panels = (q1 - q0 + MK_NR - 1) / MK_NR;
    const ptrdiff_t chunk = MK_MAX(1, MK_MIN(panels, MK_CONV_B_BUDGET / (kc * MK_NR)));
    const ptrdiff_t a_panels = (m + MK_MR - 1) / MK_MR;
    // One A block covers all of m ("one slot"): each B panel is packed just before its use into a single
    // slot that stays in L1, while the next panel's input is prefetched. Else each k-block of a chunk of
    // panels is packed first, for the A blocks to share, while the next chunk's input is prefetched.
    const int one_slot = m <= MK_MC;
    // Workspace: packed B, two chunks' lanes and taps (the next chunk's are made ahead, for prefetching),
    // one tile.
    const size_t b_bytes = MK_ROUND_UP((size_t)(one_slot ? 1 : chunk) * kc * MK_NR * sizeof(float), 64);
    const size_t lanes_bytes = MK_ROUND_UP((size_t)chunk * sizeof(MK_LANES), 64);
    const size_t taps_bytes = MK_ROUND_UP((size_t)chunk * taps_per_channel * sizeof(MK_TAP), 64);
    const size_t tile_bytes = MK_MR * MK_NR * sizeof(float);
    char *work = (char *)mk_gemm_workspace(b_bytes + 2 * (lanes_bytes + taps_bytes) + tile_bytes);
    if (!work) abort();
    float *Bp = (float *)work;
    MK_LANES *lanes[2] = {(MK_LANES *)(work + b_bytes), (MK_LANES *)(work + b_bytes + lanes_bytes + taps_bytes)};
    MK_TAP *taps[2] = {(MK_TAP *)(work + b_bytes + lanes_bytes),
                       (MK_TAP *)(work + b_bytes + 2 * lanes_bytes + taps_bytes)};
    float *tile = (float *)(work + b_bytes + 2 * (lanes_bytes + taps_bytes));

    // Rows of the input already prefetched, per k-block (the blocks read different channels).
    enum { MAX_BLOCKS = 64 };
    ptrdiff_t done[MAX_BLOCKS];
    for (int i = 0; i < MAX_BLOCKS; i++) done[i] = 0;
    int cur = 0;
    for (ptrdiff_t p = 0; p < MK_MIN(chunk, panels); p++) {
        MK_FN(mk_conv_make_lanes)(s, q0 + p * MK_NR, q0, q1, lanes[0] + p);
        MK_FN(mk_conv_make_taps)(s, lanes[0] + p, taps[0] + p * taps_per_channel);
    }
    for (ptrdiff_t cq = q0; cq < q1; cq += chunk * MK_NR, cur ^= 1) {
        const ptrdiff_t np = MK_MIN(chunk, (q1 - cq + MK_NR - 1) / MK_NR);
        const ptrdiff_t nq = cq + chunk * MK_NR, nnp = nq < q1 ? MK_MIN(chunk, (q1 - nq + MK_NR - 1) / MK_NR) : 0;
        const MK_LANES *L = lanes[cur];
        const MK_TAP *T = taps[cur];
        for (ptrdiff_t pc = 0, block = 0; pc < k; pc += kc, block++) {
            const ptrdiff_t kb = MK_MIN(kc, k - pc);
            if (one_slot) {
                const int last_block = pc + kb >= k;
                // The next chunk's lanes and taps, made before the last panel so that it can prefetch.
                if (last_block)
                    for (ptrdiff_t p = 0; p < nnp; p++) {
                        MK_FN(mk_conv_make_lanes)(s, nq + p * MK_NR, q0, q1, lanes[cur ^ 1] + p);
                        MK_FN(mk_conv_make_taps)(s, lanes[cur ^ 1] + p, taps[cur ^ 1] + p * taps_per_channel);
                    }
                for (ptrdiff_t p = 0; p < np; p++) {
                    MK_FN(mk_conv_pack_rows)(Bp, s, x, T + p * taps_per_channel, 1, pc, kb);
                    // What the next panel's packing reads: the next panel's rows of this k-block, or of the
                    // next k-block for the chunk's last panel, or of the next chunk's first.
                    const MK_TAP *next = NULL;
                    ptrdiff_t npc = pc;
                    if (p + 1 < np) next = T + (p + 1) * taps_per_channel;
                    else if (!last_block) { next = T; npc = pc + kb; }
                    else if (nnp > 0) { next = taps[cur ^ 1]; npc = 0; }
                    const ptrdiff_t nkb = MK_MIN(kc, k - npc);
                    // And, before the first k-block writes them, the next panel's output lines (with intent
                    // to write: the first touch of y would otherwise wait on memory inside the micro-kernel).
                    const MK_LANES *out_next = NULL;
                    if (pc == 0 && p + 1 < np) out_next = L + p + 1;
                    else if (last_block && p + 1 == np && nnp > 0) out_next = lanes[cur ^ 1];
                    if (out_next && !out_next->all) out_next = NULL;
                    for (ptrdiff_t ir = 0, part = 0; ir < m; ir += MK_MR, part++) {
                        if (next) MK_FN(mk_conv_prefetch_rows)(s, x, next, npc, nkb, part, a_panels);
                        if (out_next)
                            for (ptrdiff_t o = ir; o < MK_MIN(m, ir + MK_MR); o++)
                                for (int j = 0; j < MK_NR; j += 16) __builtin_prefetch(y + out_next->out[0] + o * out_plane + j, 1, 3);
                        MK_FN(mk_conv_forward_tile)(L + p, packed + ir * k + pc * MK_MR, Bp, kb, pc, ir,
                                                    MK_MIN((ptrdiff_t)MK_MR, m - ir), bias, y, out_plane, tile);
                    }
                }
                continue;
            }
            MK_FN(mk_conv_pack_rows)(Bp, s, x, T, np, pc, kb);
            // While this block computes, prefetch what the next packing reads: the next k-block's channels
            // over this chunk, or the first k-block's over the next chunk.
            MK_PREFETCH pf;
            {
                ptrdiff_t npc = pc + kb, nqa = cq, nqb = MK_MIN(q1, cq + np * MK_NR), nblock = block + 1;
                if (npc >= k) {
                    npc = 0;
                    nblock = 0;
                    nqa = nqb;
                    nqb = MK_MIN(q1, nqa + chunk * MK_NR);
                }
                const ptrdiff_t nkb = MK_MIN(kc, k - npc);
                MK_FN(mk_conv_plan_prefetch)(s, x, nqa, nqb, npc / taps_per_channel,
                                             (npc + nkb - 1) / taps_per_channel + 1,
                                             nblock < MAX_BLOCKS ? done + nblock : NULL, &pf);
            }
            const ptrdiff_t parts = np * a_panels;
            ptrdiff_t part = 0;
            for (ptrdiff_t ic = 0; ic < m; ic += MK_MC) {
                const ptrdiff_t mc = MK_MIN((ptrdiff_t)MK_MC, m - ic);
                for (ptrdiff_t p = 0; p < np; p++) {
                    for (ptrdiff_t ir = ic; ir < ic + mc; ir += MK_MR) {
                        MK_FN(mk_conv_prefetch_part)(&pf, part++, parts);
                        MK_FN(mk_conv_forward_tile)(L + p, packed + ir * k + pc * MK_MR, Bp + p * kb * MK_NR, kb, pc,
                                                    ir, MK_MIN((ptrdiff_t)MK_MR, m - ir), bias, y, out_plane, tile);
                    }
                }
            }
        }
        if (!one_slot && nnp > 0)
            for (ptrdiff_t p = 0; p < nnp; p++) {
                MK_FN(mk_conv_make_lanes)(s, nq + p * MK_NR, q0, q1, lanes[cur ^ 1] + p);
                MK_FN(mk_conv_make_taps)(s, lanes[cur ^ 1] + p, taps[cur ^ 1] + p * taps_per_channel);
            }
    }
}

// MARK: input gradient

// One row of the column-matrix tile added into (or, when each input element has exactly one term,
// stored into) channel plane `s` of dx.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_conv_scatter_row)(float *s, const MK_TAP *t, const float *restrict v, int assign) {
    if (t->kind == MK_TAP_CONTIG) {
        float *p = s + t->base;
        if (assign)
            for (int j = 0; j < MK_NR; j++) p[j] = v[j];
        else
            for (int j = 0; j < MK_NR; j++) p[j] += v[j];
    } else if (t->kind == MK_TAP_STRIDED) {
        float *p = s + t->base;
        const ptrdiff_t st = t->stride;
        if (assign)
            for (int j = 0; j < MK_NR; j++) p[j * st] = v[j];
        else
            for (int j = 0; j < MK_NR; j++) p[j * st] += v[j];
    } else if (t->kind == MK_TAP_GATHER) {
        float *p = s + t->base;
#if MK_CONV_AVX2_GATHER
        for (int g = 0; g < MK_NR; g += 8) {
            const int kind = t->group_kind[g / 8];
            if (kind != 1) continue;  // groups with scattered lanes are done below
            const __m256i mask = _mm256_loadu_si256((const __m256i *)(const void *)(t->valid + g));
            float *q = p + t->group_base[g / 8] + g;
            const __m256 value = _mm256_loadu_ps(v + g);
            _mm256_maskstore_ps(q, mask, assign ? value : _mm256_add_ps(_mm256_maskload_ps(q, mask), value));
        }
        for (int j = 0; j < MK_NR; j++) {
            if (t->group_kind[j / 8] != 2) continue;
#else
        for (int j = 0; j < MK_NR; j++) {
#endif
            if (!t->valid[j]) continue;
            if (assign)
                p[t->off[j]] = v[j];
            else
                p[t->off[j]] += v[j];
        }
    }
}

MK_TARGET void MK_FN(mk_conv_backward_input)(const mk_conv_shape *s, const float *packed, const float *dy, float *dx,
                                             ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t c0, ptrdiff_t c1) {
    const ptrdiff_t kH = s->kernel_h, kW = s->kernel_w, taps_per_channel = kH * kW;
    const ptrdiff_t og = s->out_channels, out_plane = s->out_height * s->out_width;
    const ptrdiff_t H = s->height, W = s->width, in_plane = H * W, dw = s->dilation_w;
    if (n1 <= n0 || c1 <= c0) return;
    // Every input element is the image of exactly one (pixel, tap): store, no zeroing.
    const int assign = s->kernel_h == s->stride_h && s->kernel_w == s->stride_w && s->pad_h == 0 && s->pad_w == 0 &&
                       (s->kernel_h == 1 || s->dilation_h == 1) && (s->kernel_w == 1 || s->dilation_w == 1) &&
                       s->out_height * s->stride_h == H && s->out_width * s->stride_w == W;
    const ptrdiff_t r0 = c0 * taps_per_channel, r1 = c1 * taps_per_channel;
    const ptrdiff_t ia = r0 / MK_MR, ib = (r1 + MK_MR - 1) / MK_MR;
    const ptrdiff_t lo = n0 * out_plane, hi = n1 * out_plane;
    // Pixel q reads input pixel q, and nothing else reads it.
    const int pointwise = taps_per_channel == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h == 0 && s->pad_w == 0;
    // The panel's tile of the column matrix, rows ia·MR … ib·MR, each NR floats between zero pads of PAD
    // (so that the kernel row's taps can be summed at their column shifts with whole-vector loads).
    const ptrdiff_t PAD = ((kW - 1) * dw + 7) / 8 * 8, CS = MK_NR + 2 * PAD, span = MK_NR + (kW - 1) * dw;
    const size_t b_bytes = MK_ROUND_UP((size_t)og * MK_NR * sizeof(float), 64);
    const size_t col_bytes = MK_ROUND_UP((size_t)(ib - ia) * MK_MR * CS * sizeof(float), 64);
    const size_t taps_bytes = MK_ROUND_UP((size_t)taps_per_channel * sizeof(MK_TAP), 64);
    const size_t lanes_bytes = MK_ROUND_UP(2 * sizeof(MK_LANES), 64);
    const size_t row_bytes = MK_ROUND_UP((size_t)span * sizeof(float), 64);
    char *work = (char *)mk_gemm_workspace(b_bytes + col_bytes + taps_bytes + lanes_bytes + row_bytes);
    if (!work) abort();
    float *Bp = (float *)work;
    float *cols = (float *)(work + b_bytes);
    MK_TAP *taps = (MK_TAP *)(work + b_bytes + col_bytes);
    MK_LANES *lanes = (MK_LANES *)(work + b_bytes + col_bytes + taps_bytes);
    float *sum = (float *)(work + b_bytes + col_bytes + taps_bytes + lanes_bytes);
    if (PAD > 0) memset(cols, 0, (size_t)(ib - ia) * MK_MR * CS * sizeof(float));
    // Channels per col2im step: about 8 KB of the tile.
    const ptrdiff_t group = MK_MAX((ptrdiff_t)1, 2048 / (taps_per_channel * CS));

    // dx rows (image zn, row zh) and later are not zeroed yet.
    ptrdiff_t zn = n0, zh = 0;
#define MK_CONV_ZERO_UNTIL(N, IH)                                                             \
    while (!assign && (zn < (N) || (zn == (N) && zh < (IH)))) {                               \
        float *row = dx + zn * s->in_image_stride + zh * W;                                   \
        for (ptrdiff_t c = c0; c < c1; c++) memset(row + c * in_plane, 0, (size_t)W * sizeof(float)); \
        if (++zh == H) {                                                                      \
            zh = 0;                                                                           \
            zn++;                                                                             \
        }                                                                                     \
    }

    // Panels on the global grid of NR pixels, so that each element's terms come in the same order
    // whatever the split: by panel, then by kernel row, then by kernel column.
    const ptrdiff_t first = lo / MK_NR * MK_NR;
    int cur = 0;
    MK_FN(mk_conv_make_lanes)(s, first, lo, hi, lanes);
    for (ptrdiff_t q = first; q < hi; q += MK_NR, cur ^= 1) {
        const MK_LANES *L = lanes + cur, *next = lanes + (cur ^ 1);
        const int has_next = q + MK_NR < hi;
        if (has_next) MK_FN(mk_conv_make_lanes)(s, q + MK_NR, lo, hi, lanes + (cur ^ 1));
        MK_FN(mk_conv_make_taps)(s, L, taps);
        // B = dy's columns for the panel's pixels: Bp[o·NR + j].
        if (L->all) {
            const float *src = dy + L->out[0];
            for (ptrdiff_t o = 0; o < og; o++)
                for (int j = 0; j < MK_NR; j++) Bp[o * MK_NR + j] = src[o * out_plane + j];
        } else {
            for (ptrdiff_t o = 0; o < og; o++)
                for (int j = 0; j < MK_NR; j++) Bp[o * MK_NR + j] = L->ok[j] ? dy[L->out[j] + o * out_plane] : 0.0f;
        }
        // Zero dx up to the last input row this panel touches.
        ptrdiff_t last = L->last_oh * s->stride_h - s->pad_h + (kH - 1) * s->dilation_h + 1;
        last = MK_MIN(MK_MAX(last, (ptrdiff_t)0), H);
        MK_CONV_ZERO_UNTIL(L->last_image, last)
        // The tile of the column matrix (while the next panel's dy is prefetched) and its col2im, a few
        // channels at a time, so that each channel's rows are added to dx while they are in L1.
        if (pointwise && L->all) {
            // 1×1 at stride 1: the column matrix is dx itself; the micro-kernel stores straight into it.
            float *target = dx + taps[0].base;
            for (ptrdiff_t i = ia; i < ib; i++) {
                if (has_next) {
                    const ptrdiff_t a = og * (i - ia) / (ib - ia), b = og * (i - ia + 1) / (ib - ia);
                    for (ptrdiff_t o = a; o < b; o++) {
                        __builtin_prefetch(dy + next->out[0] + o * out_plane);
                        __builtin_prefetch(dy + next->out[MK_NR - 1] + o * out_plane);
                    }
                }
                const ptrdiff_t first = MK_MAX(r0, i * MK_MR), end = MK_MIN(r1, (i + 1) * MK_MR);
                if (first == i * MK_MR && end == (i + 1) * MK_MR) {
                    MK_UKERNEL(og, packed + i * MK_MR * og, Bp, target + i * MK_MR * in_plane, in_plane, 1.0f, 0.0f);
                } else {
                    MK_UKERNEL(og, packed + i * MK_MR * og, Bp, cols, CS, 1.0f, 0.0f);
                    for (ptrdiff_t r = first; r < end; r++)
                        for (int j = 0; j < MK_NR; j++) target[r * in_plane + j] = cols[(r - i * MK_MR) * CS + j];
                }
            }
            continue;
        }
        const int by_rows = L->row && s->stride_w == 1 && !assign;
        const ptrdiff_t iw0 = L->iw[0], jlo = MK_MAX((ptrdiff_t)0, -iw0), jhi = MK_MIN(span, W - iw0);
        const ptrdiff_t tiles = ib - ia;
        ptrdiff_t i = ia;
        for (ptrdiff_t cb = c0; cb < c1; cb += group) {
            const ptrdiff_t ce = MK_MIN(c1, cb + group);
            for (; i * MK_MR < ce * taps_per_channel; i++) {
                if (has_next) {
                    const ptrdiff_t a = og * (i - ia) / tiles, b = og * (i - ia + 1) / tiles;
                    for (ptrdiff_t o = a; o < b; o++) {
                        __builtin_prefetch(dy + next->out[0] + o * out_plane);
                        __builtin_prefetch(dy + next->out[MK_NR - 1] + o * out_plane);
                    }
                }
                MK_UKERNEL(og, packed + i * MK_MR * og, Bp, cols + (i - ia) * MK_MR * CS + PAD, CS, 1.0f, 0.0f);
            }
            const float *base = cols + (r0 - ia * MK_MR) * CS + PAD;
            if (by_rows) {
                // One output row at stride 1: the kW taps of a kernel row land on one run of span inputs;
                // sum them at their shifts first, then add the run to dx once.
                for (ptrdiff_t c = cb; c < ce; c++) {
                    for (ptrdiff_t kh = 0; kh < kH; kh++) {
                        const ptrdiff_t ih = L->ih[0] + kh * s->dilation_h;
                        if (ih < 0 || ih >= H || jlo >= jhi) continue;
                        const float *row = base + ((c - c0) * taps_per_channel + kh * kW) * CS;
                        float *target = dx + L->in_image[0] + c * in_plane + ih * W + iw0;
                        // Eight columns at a time; the pads supply zeros past the tile's NR columns.
                        for (ptrdiff_t j = 0; j < span; j += 8) {
                            mk_conv_vec acc = mk_conv_load(row + j);
                            for (ptrdiff_t kw = 1; kw < kW; kw++) acc += mk_conv_load(row + kw * CS - kw * dw + j);
                            if (j >= jlo && j + 8 <= jhi) {
                                mk_conv_store(target + j, mk_conv_load(target + j) + acc);
                            } else {
                                mk_conv_store(sum, acc);
                                for (ptrdiff_t e = MK_MAX(j, jlo); e < MK_MIN(j + 8, jhi); e++) target[e] += sum[e - j];
                            }
                        }
                    }
                }
            } else {
                for (ptrdiff_t c = cb; c < ce; c++)
                    for (ptrdiff_t t = 0; t < taps_per_channel; t++)
                        MK_FN(mk_conv_scatter_row)(dx + c * in_plane, taps + t,
                                                   base + ((c - c0) * taps_per_channel + t) * CS, assign);
            }
        }
    }
    MK_CONV_ZERO_UNTIL(n1, 0)
#undef MK_CONV_ZERO_UNTIL
}

// MARK: weight gradient

MK_TARGET void MK_FN(mk_conv_backward_weight)(const mk_conv_shape *s, const float *x, const float *dy, float *dw,
                                              ptrdiff_t ldw, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t q0, ptrdiff_t q1) {
    enum { QB = MK_CONV_DW_BLOCK, SUB = MK_CONV_DW_BLOCK / MK_NR };
    const ptrdiff_t taps_per_channel = s->kernel_h * s->kernel_w;
    const ptrdiff_t m = s->out_channels, out_plane = s->out_height * s->out_width;
    const ptrdiff_t in_plane = s->height * s->width;
    const int pointwise = taps_per_channel == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h == 0 && s->pad_w == 0;
    if (k1 <= k0 || m <= 0) return;
    q0 = MK_MAX(q0, (ptrdiff_t)0);
    q1 = MK_MIN(q1, s->batch * out_plane);
    if (q1 <= q0) {
        for (ptrdiff_t o = 0; o < m; o++) memset(dw + o * ldw + k0, 0, (size_t)(k1 - k0) * sizeof(float));
        return;
    }
    const ptrdiff_t a_panels = (m + MK_MR - 1) / MK_MR;
    const size_t a_bytes = MK_ROUND_UP((size_t)a_panels * MK_MR * QB * sizeof(float), 64);
    const size_t b_bytes = (size_t)QB * MK_NR * sizeof(float);
    const size_t line_bytes = (size_t)MK_NR * QB * sizeof(float);
    const size_t lanes_bytes = MK_ROUND_UP(sizeof(MK_LANES), 64);
    const size_t taps_bytes = MK_ROUND_UP((size_t)SUB * taps_per_channel * sizeof(MK_TAP), 64);
    char *work = (char *)mk_gemm_workspace(a_bytes + b_bytes + line_bytes + lanes_bytes + taps_bytes);
    if (!work) abort();
    float *Ap = (float *)work, *Bp = (float *)(work + a_bytes), *lines = (float *)(work + a_bytes + b_bytes);
    MK_LANES *L = (MK_LANES *)(work + a_bytes + b_bytes + line_bytes);
    MK_TAP *taps = (MK_TAP *)(work + a_bytes + b_bytes + line_bytes + lanes_bytes);

    for (ptrdiff_t qb = q0; qb < q1; qb += QB) {
        const ptrdiff_t kb = MK_MIN((ptrdiff_t)QB, q1 - qb);
        const float coef = qb == q0 ? 0.0f : 1.0f;
        // A = dy's block, transposed: panel i holds output channels i·MR…, step p = pixel qb + p; the
        // pixels of one image are contiguous in dy, so the block is packed image by image.
        for (ptrdiff_t q = qb; q < qb + kb;) {
            const ptrdiff_t n = q / out_plane, pixel = q - n * out_plane;
            const ptrdiff_t len = MK_MIN(qb + kb - q, out_plane - pixel);
            const float *src = dy + n * s->out_image_stride + pixel;
            for (ptrdiff_t i = 0; i < a_panels; i++) {
                const ptrdiff_t rows = MK_MIN((ptrdiff_t)MK_MR, m - i * MK_MR);
                MK_FN(mk_pack_panel)(Ap + i * MK_MR * kb + (q - qb) * MK_MR, src + i * MK_MR * out_plane, out_plane, 1,
                                     len, MK_MR, (int)rows);
            }
            q += len;
        }
        const ptrdiff_t block_image = qb / out_plane, block_pixel = qb - block_image * out_plane;
        const int pointwise_block = pointwise && block_pixel + kb <= out_plane;
        const ptrdiff_t subs = pointwise_block ? 0 : (kb + MK_NR - 1) / MK_NR;
        for (ptrdiff_t sp = 0; sp < subs; sp++) {
            MK_FN(mk_conv_make_lanes)(s, qb + sp * MK_NR, qb, qb + kb, L);
            MK_FN(mk_conv_make_taps)(s, L, taps + sp * taps_per_channel);
        }
        for (ptrdiff_t r0 = k0; r0 < k1; r0 += MK_NR) {
            const ptrdiff_t nr = MK_MIN((ptrdiff_t)MK_NR, k1 - r0);
            if (pointwise_block) {  // 1×1 at stride 1 within one image: the lines are the input's channel rows
                MK_FN(mk_pack_panel)(Bp, x + block_image * s->in_image_stride + r0 * in_plane + block_pixel, in_plane, 1,
                                     kb, MK_NR, (int)nr);
            } else {
            // Rows r0 … r0+nr-1 of the column block, each a line of kb pixels, then packed transposed.
            ptrdiff_t c = r0 / taps_per_channel, t = r0 - c * taps_per_channel;
            for (ptrdiff_t j = 0; j < nr; j++) {
                const float *plane = x + c * in_plane;
                for (ptrdiff_t sp = 0; sp < subs; sp++)
                    MK_FN(mk_conv_gather_row)(lines + j * QB + sp * MK_NR, plane, taps + sp * taps_per_channel + t);
                if (++t == taps_per_channel) {
                    t = 0;
                    c++;
                }
            }
            MK_FN(mk_pack_panel)(Bp, lines, QB, 1, kb, MK_NR, (int)nr);
            }
            for (ptrdiff_t i = 0; i < a_panels; i++) {
                const ptrdiff_t mr = MK_MIN((ptrdiff_t)MK_MR, m - i * MK_MR);
                MK_FN(mk_gemm_tile)(kb, Ap + i * MK_MR * kb, Bp, dw + i * MK_MR * ldw + r0, ldw, 1, mr, nr, 1.0f, coef);
            }
        }
    }
}

#undef MK_TAP
#undef MK_LANES
#undef MK_PREFETCH
