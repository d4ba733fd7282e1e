// Template for one instruction-set path of the pooling kernels (mk_maxpool_*, mk_avgpool_* in
// CMedKernels.h); spatial_paths.c includes it once per path with MK_SUFFIX and MK_TARGET defined.
//
// Windows are rectangles (a set of rows × a set of columns), so every kernel is separable: a pass
// along each input row over the windows' columns (scalar: windows are short and may be irregular),
// then a pass down the rows, which is a loop over whole output rows that the compiler vectorises.
//   max: row pass first, then column pass, each keeping the first maximum (strictly greater wins) and
//        letting NaN win: the result and its index are exactly those of a row-major scan of the window
//        (the first maximum; the last NaN), as PyTorch's kernel finds them.
//   avg: row sums, then the sum of those down the window, divided by the output's divisor. The order
//        of the additions is fixed, so results do not depend on the path or the split across threads.
#include "CMedKernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)
#ifndef MK_ROUND_UP_64
#define MK_ROUND_UP_64(x) (((x) + 63) / 64 * 64)
#endif

// Regular column windows (col_kernel > 0): a row of the input padded with `fill` on both sides and split by
// column phase, so that tap t of output j is phase[(t·step) mod stride][j + (t·step) / stride]. Returns
// the phase length; dst holds stride × that many floats.
static MK_TARGET ptrdiff_t MK_FN(mk_pool_padded_row)(const mk_pool_windows *p, const float *row, float fill, float *dst) {
    const ptrdiff_t s = p->col_stride, span = (p->out_width - 1) * s + (p->col_kernel - 1) * p->col_step + 1;
    const ptrdiff_t length = (span + s - 1) / s;
    for (ptrdiff_t phase = 0; phase < s; phase++) {
        float *restrict d = dst + phase * length;
        // Columns x with 0 ≤ x·s + phase − pad < width read the row; the others are padding.
        const ptrdiff_t shift = phase - p->col_pad;
        ptrdiff_t x0 = shift >= 0 ? 0 : (-shift + s - 1) / s;
        ptrdiff_t x1 = p->width - 1 - shift < 0 ? 0 : (p->width - 1 - shift) / s + 1;
        x1 = x1 < length ? x1 : length;
        x0 = x0 < x1 ? x0 : x1;
        for (ptrdiff_t x = 0; x < x0; x++) d[x] = fill;
        const float *restrict src = row + shift;
        if (s == 1)
            for (ptrdiff_t x = x0; x < x1; x++) d[x] = src[x];
        else if (s == 2)
            for (ptrdiff_t x = x0; x < x1; x++) d[x] = src[2 * x];
        else
            for (ptrdiff_t x = x0; x < x1; x++) d[x] = src[x * s];
        for (ptrdiff_t x = x1; x < length; x++) d[x] = fill;
    }
    return length;
}

// The input rows some window reads: [first, last).
static MK_TARGET void MK_FN(mk_pool_rows)(const mk_pool_windows *p, ptrdiff_t *first, ptrdiff_t *last) {
    ptrdiff_t lo = p->height, hi = 0;
    for (ptrdiff_t i = 0; i < p->out_height; i++) {
        if (p->row_start[i] >= p->row_end[i]) continue;
        if (p->row_start[i] < lo) lo = p->row_start[i];
        if (p->row_end[i] > hi) hi = p->row_end[i];
    }
    *first = lo < hi ? lo : 0;
    *last = lo < hi ? hi : 0;
}

// The body of mk_maxpool_forward, specialised by the constant `with_indices` (0: values only, for inference:
// no index is tracked, which was about half of the work on small planes).
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_maxpool_body)(const mk_pool_windows *p, const float *x, float *y, int64_t *indices, ptrdiff_t plane0,
                       ptrdiff_t plane1, const int with_indices) {
    const ptrdiff_t H = p->height, W = p->width, OH = p->out_height, OW = p->out_width;
    ptrdiff_t h0, h1;
    MK_FN(mk_pool_rows)(p, &h0, &h1);
    const size_t rows = (size_t)(h1 - h0);
    // Row maxima and their flat indices (32-bit: one plane's), and the current output row's indices.
    const size_t padded_floats = p->col_kernel > 0 ? (size_t)(p->col_stride * ((p->out_width - 1) * p->col_stride + (p->col_kernel - 1) * p->col_step + p->col_stride)) : 0;
    char *work = (char *)mk_gemm_workspace(rows * (size_t)OW * (sizeof(float) + sizeof(int32_t)) + (size_t)OW * sizeof(int32_t) +
                                           padded_floats * sizeof(float) + 192);
    if (!work) abort();
    float *rmax = (float *)work;
    int32_t *rarg = (int32_t *)(work + MK_ROUND_UP_64(rows * (size_t)OW * sizeof(float)));
    int32_t *best_at = rarg + rows * (size_t)OW;
    float *padded = (float *)((char *)best_at + MK_ROUND_UP_64((size_t)OW * sizeof(int32_t)));
    for (ptrdiff_t plane = plane0; plane < plane1; plane++) {
        const float *in = x + plane * H * W;
        float *out = y + plane * OH * OW;
        int64_t *found = with_indices ? indices + plane * OH * OW : NULL;
        // Along each row: the first maximum of each window's columns (NaN wins).
        for (ptrdiff_t h = h0; h < h1; h++) {
            const float *row = in + h * W;
            float *restrict m = rmax + (h - h0) * OW;
            int32_t *restrict a = rarg + (h - h0) * OW;
            if (p->col_kernel > 0) {  // regular windows: tap by tap along the whole row, −∞ in the padding
                const ptrdiff_t length = MK_FN(mk_pool_padded_row)(p, row, -INFINITY, padded);
                const int32_t stride = (int32_t)p->col_stride, corner = (int32_t)(h * W - p->col_pad);
                for (ptrdiff_t j = 0; j < OW; j++) {
                    m[j] = -INFINITY;
                    if (with_indices) a[j] = (int32_t)(h * W + p->col_start[j]);
                }
                for (ptrdiff_t t = 0; t < p->col_kernel; t++) {
                    const ptrdiff_t shift = t * p->col_step;
                    const float *restrict v = padded + (shift % p->col_stride) * length + shift / p->col_stride;
                    const int32_t at0 = corner + (int32_t)shift;
                    for (ptrdiff_t j = 0; j < OW; j++) {
                        const float value = v[j], current = m[j];
                        const int take = value > current || value != value;
                        m[j] = take ? value : current;
                        if (with_indices) a[j] = take ? at0 + (int32_t)j * stride : a[j];
                    }
                }
                continue;
            }
            for (ptrdiff_t j = 0; j < OW; j++) {
                float best = -INFINITY;
                ptrdiff_t at = p->col_start[j];
                for (ptrdiff_t w = p->col_start[j]; w < p->col_end[j]; w += p->col_step) {
                    const float v = row[w];
                    const int take = v > best || v != v;  // selects, not a branch: data-dependent
                    best = take ? v : best;
                    at = take ? w : at;
                }
                m[j] = best;
                if (with_indices) a[j] = (int32_t)(h * W + at);
            }
        }
        // Down the window's rows, whole output rows at a time.
        for (ptrdiff_t i = 0; i < OH; i++) {
            float *restrict o = out + i * OW;
            int32_t *restrict f = best_at;
            const int32_t corner = (int32_t)(p->row_start[i] * W);
            for (ptrdiff_t j = 0; j < OW; j++) {
                o[j] = -INFINITY;
                if (with_indices) f[j] = corner + (int32_t)p->col_start[j];
            }
            for (ptrdiff_t h = p->row_start[i]; h < p->row_end[i]; h += p->row_step) {
                const float *restrict m = rmax + (h - h0) * OW;
                const int32_t *restrict a = rarg + (h - h0) * OW;
                for (ptrdiff_t j = 0; j < OW; j++) {
                    const float v = m[j], cur = o[j];
                    const int take = v > cur || v != v;
                    o[j] = take ? v : cur;
                    if (with_indices) f[j] = take ? a[j] : f[j];
                }
            }
            if (with_indices) {
                int64_t *g = found + i * OW;
                for (ptrdiff_t j = 0; j < OW; j++) g[j] = f[j];
            }
        }
    }
}

MK_TARGET void MK_FN(mk_maxpool_forward)(const mk_pool_windows *p, const float *x, float *y, int64_t *indices,
                                         ptrdiff_t plane0, ptrdiff_t plane1) {
    if (indices)
        MK_FN(mk_maxpool_body)(p, x, y, indices, plane0, plane1, 1);
    else
        MK_FN(mk_maxpool_body)(p, x, y, NULL, plane0, plane1, 0);
}

MK_TARGET void MK_FN(mk_maxpool_backward)(const mk_pool_windows *p, const float *dy, const int64_t *indices, float *dx,
                                          ptrdiff_t plane0, ptrdiff_t plane1) {
    const ptrdiff_t in_plane = p->height * p->width, out_plane = p->out_height * p->out_width;
    for (ptrdiff_t plane = plane0; plane < plane1; plane++) {
        float *target = dx + plane * in_plane;
        const float *g = dy + plane * out_plane;
        const int64_t *at = indices + plane * out_plane;
        memset(target, 0, (size_t)in_plane * sizeof(float));
        for (ptrdiff_t q = 0; q < out_plane; q++) target[at[q]] += g[q];
    }
}

MK_TARGET void MK_FN(mk_avgpool_forward)(const mk_pool_windows *p, const float *divisors, const float *x, float *y,
                                         ptrdiff_t plane0, ptrdiff_t plane1) {
    const ptrdiff_t H = p->height, W = p->width, OH = p->out_height, OW = p->out_width;
    ptrdiff_t h0, h1;
    MK_FN(mk_pool_rows)(p, &h0, &h1);
    const size_t padded_floats = p->col_kernel > 0 ? (size_t)(p->col_stride * ((p->out_width - 1) * p->col_stride + (p->col_kernel - 1) * p->col_step + p->col_stride)) : 0;
    float *rsum = (float *)mk_gemm_workspace(((size_t)(h1 - h0) * (size_t)OW + padded_floats) * sizeof(float) + 128);
    if (!rsum) abort();
    float *padded = rsum + MK_ROUND_UP_64((size_t)(h1 - h0) * (size_t)OW * sizeof(float)) / sizeof(float);
    for (ptrdiff_t plane = plane0; plane < plane1; plane++) {
        const float *in = x + plane * H * W;
        float *out = y + plane * OH * OW;
        for (ptrdiff_t h = h0; h < h1; h++) {
            const float *row = in + h * W;
            float *restrict r = rsum + (h - h0) * OW;
            if (p->col_kernel > 0) {  // regular windows: tap by tap along the whole row, zeros in the padding
                const ptrdiff_t length = MK_FN(mk_pool_padded_row)(p, row, 0.0f, padded);
                for (ptrdiff_t j = 0; j < OW; j++) r[j] = 0.0f;
                for (ptrdiff_t t = 0; t < p->col_kernel; t++) {
                    const ptrdiff_t shift = t * p->col_step;
                    const float *restrict v = padded + (shift % p->col_stride) * length + shift / p->col_stride;
                    for (ptrdiff_t j = 0; j < OW; j++) r[j] += v[j];
                }
                continue;
            }
            for (ptrdiff_t j = 0; j < OW; j++) {
                float sum = 0.0f;
                for (ptrdiff_t w = p->col_start[j]; w < p->col_end[j]; w += p->col_step) sum += row[w];
                r[j] = sum;
            }
        }
        for (ptrdiff_t i = 0; i < OH; i++) {
            float *restrict o = out + i * OW;
            const float *restrict d = divisors + i * OW;
            for (ptrdiff_t j = 0; j < OW; j++) o[j] = 0.0f;
            for (ptrdiff_t h = p->row_start[i]; h < p->row_end[i]; h += p->row_step) {
                const float *restrict r = rsum + (h - h0) * OW;
                for (ptrdiff_t j = 0; j < OW; j++) o[j] += r[j];
            }
            for (ptrdiff_t j = 0; j < OW; j++) o[j] = o[j] / d[j];
        }
    }
}

MK_TARGET void MK_FN(mk_avgpool_backward)(const mk_pool_windows *p, const float *divisors, const float *dy, float *dx,
                                          ptrdiff_t plane0, ptrdiff_t plane1) {
    const ptrdiff_t H = p->height, W = p->width, OH = p->out_height, OW = p->out_width;
    // share[i][j] = dy / divisor, spread down the windows' rows into column sums t[h][j], then along
    // each input row into the windows' columns.
    float *t = (float *)mk_gemm_workspace((size_t)(H * OW + OW) * sizeof(float) + 64);
    if (!t) abort();
    float *restrict share = t + H * OW;
    for (ptrdiff_t plane = plane0; plane < plane1; plane++) {
        const float *g = dy + plane * OH * OW;
        float *target = dx + plane * H * W;
        memset(t, 0, (size_t)(H * OW) * sizeof(float));
        for (ptrdiff_t i = 0; i < OH; i++) {
            for (ptrdiff_t j = 0; j < OW; j++) share[j] = g[i * OW + j] / divisors[i * OW + j];
            for (ptrdiff_t h = p->row_start[i]; h < p->row_end[i]; h += p->row_step) {
                float *restrict r = t + h * OW;
                for (ptrdiff_t j = 0; j < OW; j++) r[j] += share[j];
            }
        }
        for (ptrdiff_t h = 0; h < H; h++) {
            float *row = target + h * W;
            const float *r = t + h * OW;
            memset(row, 0, (size_t)W * sizeof(float));
            for (ptrdiff_t j = 0; j < OW; j++) {
                const float v = r[j];
                for (ptrdiff_t w = p->col_start[j]; w < p->col_end[j]; w += p->col_step) row[w] += v;
            }
        }
    }
}
