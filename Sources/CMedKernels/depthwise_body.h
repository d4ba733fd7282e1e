// Template for one instruction-set path of the depthwise convolution kernels (mk_depthwise_* in
// CMedKernels.h). spatial_paths.c defines MK_SUFFIX, MK_TARGET and MK_FMA (a fused multiply-add where
// the path has one, else a separately rounded multiply and add) and includes this file once per path.
//
// Each kernel works on whole planes. The input plane is first copied into a zero-padded scratch plane,
// split by column phase when the stride is s > 1 (phase φ holds padded columns φ, φ + s, φ + 2s, …), so
// that every tap reads consecutive floats and the loops need no bounds tests; then output rows are
// computed MK_DW_BLOCK columns at a time, the block's accumulators summing the taps in order (kh, kw).
// The input gradient does the same on the output gradient spread out to the stride (zeros between) and
// padded, with the taps mirrored. The weight gradient sums dy × input over each plane into MK_DW_BLOCK
// lane sums (lane j takes the columns ≡ j mod MK_DW_BLOCK), added pairwise in a fixed order at the end
// of each image, and over images in Float64. The arithmetic depends on the path's MK_FMA only: not on
// the vector width, so the AVX2 and AVX-512 paths agree bit for bit, nor on the split across threads.
#include "CMedKernels.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)
#ifndef MK_MIN
#define MK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MK_MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#ifndef MK_DW_SHARED
#define MK_DW_SHARED
#define MK_DW_BLOCK 32
#define MK_DW_ROUND(x) (((x) + MK_DW_BLOCK - 1) / MK_DW_BLOCK * MK_DW_BLOCK)
// Bytes of `floats` floats, rounded up to 64 (so that what follows them in a workspace is aligned).
#define MK_DW_BYTES(floats) (((size_t)(floats) * sizeof(float) + 63) / 64 * 64)
// Eight lanes; a block is four of them (clang lowers the type to the path's registers: two SSE registers
// each on the portable path, one AVX register on the AVX2 and AVX-512 paths).
// (Macros, not functions: a function passing this type would need the path's target attribute.)
typedef float mk_dw_vec __attribute__((vector_size(32)));
typedef float mk_dw_unaligned __attribute__((vector_size(32), aligned(4), may_alias));
#define mk_dw_load(p) (*(const mk_dw_unaligned *)(p))
#define mk_dw_store(p, v) (*(mk_dw_unaligned *)(p) = (v))
#define mk_dw_splat(x) ((mk_dw_vec){(x), (x), (x), (x), (x), (x), (x), (x)})

// Geometry of the padded, phase-split copy of an input plane that the forward pass and the weight
// gradient read: `phases` planes of `rows` × `width` floats.
typedef struct {
    ptrdiff_t rows, width, phases;
} mk_dw_padded;

static inline mk_dw_padded mk_dw_padded_geometry(const mk_conv_shape *s) {
    mk_dw_padded p;
    p.phases = s->stride_w;
    p.rows = (s->out_height - 1) * s->stride_h + (s->kernel_h - 1) * s->dilation_h + 1;
    p.width = MK_DW_ROUND(s->out_width) + (s->kernel_w - 1) * s->dilation_w / s->stride_w + 1;
    return p;
}
#endif

// dst (phase φ, row i, column x) = input (i − pad_h, x·stride_w + φ − pad_w), or 0 outside the plane.
static MK_TARGET void MK_FN(mk_dw_pad)(const mk_conv_shape *s, const mk_dw_padded *p, const float *src, float *dst) {
    const ptrdiff_t H = s->height, W = s->width, sw = s->stride_w;
    for (ptrdiff_t phase = 0; phase < sw; phase++) {
        float *plane = dst + phase * p->rows * p->width;
        // Columns x with 0 ≤ x·sw + phase − pad_w < W.
        const ptrdiff_t shift = phase - s->pad_w;
        ptrdiff_t x0 = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
        ptrdiff_t x1 = W - 1 - shift < 0 ? 0 : (W - 1 - shift) / sw + 1;
        x1 = MK_MIN(x1, p->width);
        x0 = MK_MIN(x0, x1);
        for (ptrdiff_t i = 0; i < p->rows; i++) {
            float *row = plane + i * p->width;
            const ptrdiff_t ih = i - s->pad_h;
            if (ih < 0 || ih >= H) {
                memset(row, 0, (size_t)p->width * sizeof(float));
                continue;
            }
            const float *in = src + ih * W + shift;
            for (ptrdiff_t x = 0; x < x0; x++) row[x] = 0.0f;
            if (sw == 1)
                memcpy(row + x0, in + x0, (size_t)(x1 - x0) * sizeof(float));
            else if (sw == 2)
                for (ptrdiff_t x = x0; x < x1; x++) row[x] = in[2 * x];
            else
                for (ptrdiff_t x = x0; x < x1; x++) row[x] = in[x * sw];
            for (ptrdiff_t x = x1; x < p->width; x++) row[x] = 0.0f;
        }
    }
}

// One or two output rows (two when out1 is not NULL): out[ow] = init + Σ over taps t of taps[t]·src[off[t] + ow]
// for ow < width, MK_DW_BLOCK columns at a time, where src = src0 for the first row and src0 + step for the
// second (two rows give eight independent sums, enough to hide the FMA latency). With `add`, the rows are
// added to `out` (out += result) instead. Reads up to MK_DW_ROUND(width) columns of every tap's source.
static MK_TARGET inline __attribute__((always_inline)) void
MK_FN(mk_dw_rows)(float *out0, float *out1, ptrdiff_t width, const float *src0, ptrdiff_t step, const ptrdiff_t *off,
                  const float *taps, ptrdiff_t count, float init, int add) {
    for (ptrdiff_t ow = 0; ow < width; ow += MK_DW_BLOCK) {
        mk_dw_vec a0 = mk_dw_splat(init), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        if (out1) {
            for (ptrdiff_t t = 0; t < count; t++) {
                const mk_dw_vec w = mk_dw_splat(taps[t]);
                const float *s0 = src0 + off[t] + ow, *s1 = s0 + step;
                a0 = MK_VFMA(w, mk_dw_load(s0), a0);
                a1 = MK_VFMA(w, mk_dw_load(s0 + 8), a1);
                a2 = MK_VFMA(w, mk_dw_load(s0 + 16), a2);
                a3 = MK_VFMA(w, mk_dw_load(s0 + 24), a3);
                b0 = MK_VFMA(w, mk_dw_load(s1), b0);
                b1 = MK_VFMA(w, mk_dw_load(s1 + 8), b1);
                b2 = MK_VFMA(w, mk_dw_load(s1 + 16), b2);
                b3 = MK_VFMA(w, mk_dw_load(s1 + 24), b3);
            }
        } else {
            for (ptrdiff_t t = 0; t < count; t++) {
                const mk_dw_vec w = mk_dw_splat(taps[t]);
                const float *s0 = src0 + off[t] + ow;
                a0 = MK_VFMA(w, mk_dw_load(s0), a0);
                a1 = MK_VFMA(w, mk_dw_load(s0 + 8), a1);
                a2 = MK_VFMA(w, mk_dw_load(s0 + 16), a2);
                a3 = MK_VFMA(w, mk_dw_load(s0 + 24), a3);
            }
        }
        const ptrdiff_t n = MK_MIN((ptrdiff_t)MK_DW_BLOCK, width - ow);
        for (int r = 0; r < (out1 ? 2 : 1); r++) {
            float *out = (r ? out1 : out0) + ow;
            const mk_dw_vec v0 = r ? b0 : a0, v1 = r ? b1 : a1, v2 = r ? b2 : a2, v3 = r ? b3 : a3;
            if (n == MK_DW_BLOCK) {
                if (add) {
                    mk_dw_store(out, mk_dw_load(out) + v0);
                    mk_dw_store(out + 8, mk_dw_load(out + 8) + v1);
                    mk_dw_store(out + 16, mk_dw_load(out + 16) + v2);
                    mk_dw_store(out + 24, mk_dw_load(out + 24) + v3);
                } else {
                    mk_dw_store(out, v0);
                    mk_dw_store(out + 8, v1);
                    mk_dw_store(out + 16, v2);
                    mk_dw_store(out + 24, v3);
                }
            } else {
                float acc[MK_DW_BLOCK];
                mk_dw_store(acc, v0);
                mk_dw_store(acc + 8, v1);
                mk_dw_store(acc + 16, v2);
                mk_dw_store(acc + 24, v3);
                if (add)
                    for (ptrdiff_t j = 0; j < n; j++) out[j] += acc[j];
                else
                    for (ptrdiff_t j = 0; j < n; j++) out[j] = acc[j];
            }
        }
    }
}

// MARK: forward

MK_TARGET void MK_FN(mk_depthwise_forward)(const mk_conv_shape *s, const float *x, const float *w, const float *bias,
                                           float *y, ptrdiff_t unit0, ptrdiff_t unit1) {
    const ptrdiff_t C = s->channels, mult = s->out_channels / C, kA = s->kernel_h * s->kernel_w;
    const ptrdiff_t in_plane = s->height * s->width, out_plane = s->out_height * s->out_width;
    const mk_dw_padded p = mk_dw_padded_geometry(s);
    const size_t padded = (size_t)(p.phases * p.rows * p.width);
    char *work = (char *)mk_gemm_workspace(MK_DW_BYTES(padded) + (size_t)kA * (sizeof(ptrdiff_t) + sizeof(float)));
    if (!work) abort();
    float *P = (float *)work;
    ptrdiff_t *offsets = (ptrdiff_t *)(work + MK_DW_BYTES(padded));
    float *taps = (float *)(offsets + kA);
    // Units are (image, input channel) planes; each feeds `mult` output planes.
    for (ptrdiff_t t = 0, kh = 0; kh < s->kernel_h; kh++)
        for (ptrdiff_t kw = 0; kw < s->kernel_w; kw++, t++) {
            const ptrdiff_t col = kw * s->dilation_w;
            offsets[t] = (col % s->stride_w) * p.rows * p.width + kh * s->dilation_h * p.width + col / s->stride_w;
        }
    const ptrdiff_t step = s->stride_h * p.width;
    for (ptrdiff_t unit = unit0; unit < unit1; unit++) {
        const ptrdiff_t n = unit / C, c = unit - n * C;
        MK_FN(mk_dw_pad)(s, &p, x + n * s->in_image_stride + c * in_plane, P);
        for (ptrdiff_t o = c * mult; o < (c + 1) * mult; o++) {
            float *out = y + n * s->out_image_stride + o * out_plane;
            const float b = bias ? bias[o] : 0.0f;
            for (ptrdiff_t t = 0; t < kA; t++) taps[t] = w[o * kA + t];
            ptrdiff_t oh = 0;
            for (; oh + 2 <= s->out_height; oh += 2)
                MK_FN(mk_dw_rows)(out + oh * s->out_width, out + (oh + 1) * s->out_width, s->out_width, P + oh * step, step,
                                  offsets, taps, kA, b, 0);
            if (oh < s->out_height)
                MK_FN(mk_dw_rows)(out + oh * s->out_width, NULL, s->out_width, P + oh * step, step, offsets, taps, kA, b, 0);
        }
    }
}

// MARK: input gradient

MK_TARGET void MK_FN(mk_depthwise_backward_input)(const mk_conv_shape *s, const float *dy, const float *w, float *dx,
                                                  ptrdiff_t unit0, ptrdiff_t unit1) {
    const ptrdiff_t C = s->channels, mult = s->out_channels / C, kA = s->kernel_h * s->kernel_w;
    const ptrdiff_t H = s->height, W = s->width, in_plane = H * W, out_plane = s->out_height * s->out_width;
    const ptrdiff_t sh = s->stride_h, sw = s->stride_w;
    // U (rows × width): the output gradient at (oh·sh + top, ow·sw + left), zeros elsewhere, so that
    // dx(ih, iw) = Σ taps · U(ih + pad_h − kh·dh + top, iw + pad_w − kw·dw + left).
    const ptrdiff_t top = (s->kernel_h - 1) * s->dilation_h, left = (s->kernel_w - 1) * s->dilation_w;
    const ptrdiff_t urows = MK_MAX(H + s->pad_h + top, (s->out_height - 1) * sh + top + 1);
    const ptrdiff_t uwidth = MK_MAX(MK_DW_ROUND(W) + s->pad_w + left, (s->out_width - 1) * sw + left + 1);
    const size_t ufloats = (size_t)(urows * uwidth);
    char *work = (char *)mk_gemm_workspace(MK_DW_BYTES(ufloats) + (size_t)kA * (sizeof(ptrdiff_t) + sizeof(float)));
    if (!work) abort();
    float *U = (float *)work;
    ptrdiff_t *offsets = (ptrdiff_t *)(work + MK_DW_BYTES(ufloats));
    float *taps = (float *)(offsets + kA);
    for (ptrdiff_t kh = 0, t = 0; kh < s->kernel_h; kh++)
        for (ptrdiff_t kw = 0; kw < s->kernel_w; kw++, t++)
            offsets[t] = (s->pad_h - kh * s->dilation_h + top) * uwidth + s->pad_w - kw * s->dilation_w + left;
    for (ptrdiff_t unit = unit0; unit < unit1; unit++) {
        const ptrdiff_t n = unit / C, c = unit - n * C;
        float *target = dx + n * s->in_image_stride + c * in_plane;
        for (ptrdiff_t o = c * mult; o < (c + 1) * mult; o++) {
            const float *grad = dy + n * s->out_image_stride + o * out_plane;
            memset(U, 0, ufloats * sizeof(float));
            for (ptrdiff_t oh = 0; oh < s->out_height; oh++) {
                float *row = U + (oh * sh + top) * uwidth + left;
                const float *g = grad + oh * s->out_width;
                if (sw == 1)
                    memcpy(row, g, (size_t)s->out_width * sizeof(float));
                else
                    for (ptrdiff_t ow = 0; ow < s->out_width; ow++) row[ow * sw] = g[ow];
            }
            for (ptrdiff_t t = 0; t < kA; t++) taps[t] = w[o * kA + t];
            const int add = o != c * mult;
            ptrdiff_t ih = 0;
            for (; ih + 2 <= H; ih += 2)
                MK_FN(mk_dw_rows)(target + ih * W, target + (ih + 1) * W, W, U + ih * uwidth, uwidth, offsets, taps, kA, 0.0f, add);
            if (ih < H) MK_FN(mk_dw_rows)(target + ih * W, NULL, W, U + ih * uwidth, uwidth, offsets, taps, kA, 0.0f, add);
        }
    }
}

// MARK: weight gradient

MK_TARGET void MK_FN(mk_depthwise_backward_weight)(const mk_conv_shape *s, const float *x, const float *dy, float *dw,
                                                   ptrdiff_t o0, ptrdiff_t o1) {
    const ptrdiff_t C = s->channels, mult = s->out_channels / C, kA = s->kernel_h * s->kernel_w;
    const ptrdiff_t in_plane = s->height * s->width, out_plane = s->out_height * s->out_width, OW = s->out_width;
    const ptrdiff_t OH = s->out_height, gw = MK_DW_ROUND(OW);
    const mk_dw_padded p = mk_dw_padded_geometry(s);
    const size_t padded = (size_t)(p.phases * p.rows * p.width), gfloats = (size_t)(OH * gw);
    char *work = (char *)mk_gemm_workspace(MK_DW_BYTES(padded) + MK_DW_BYTES(gfloats) + (size_t)kA * sizeof(double));
    if (!work) abort();
    float *P = (float *)work, *G = (float *)(work + MK_DW_BYTES(padded));
    double *total = (double *)(work + MK_DW_BYTES(padded) + MK_DW_BYTES(gfloats));
    // The last block's lanes past the row: the input there is masked out (dy there is 0 in G), so that
    // an infinite input beyond the window cannot make 0·∞ = NaN.
    typedef int32_t mk_dw_ivec __attribute__((vector_size(32)));
    typedef int32_t mk_dw_iunaligned __attribute__((vector_size(32), aligned(4), may_alias));
    int32_t lanes[MK_DW_BLOCK];
    const int32_t valid_last = (int32_t)(OW - (gw - MK_DW_BLOCK));
    for (int32_t j = 0; j < MK_DW_BLOCK; j++) lanes[j] = j < valid_last ? -1 : 0;
    const mk_dw_ivec m0 = *(const mk_dw_iunaligned *)lanes, m1 = *(const mk_dw_iunaligned *)(lanes + 8);
    const mk_dw_ivec m2 = *(const mk_dw_iunaligned *)(lanes + 16), m3 = *(const mk_dw_iunaligned *)(lanes + 24);
#define MK_DW_MASKED(v, m) ((mk_dw_vec)((mk_dw_ivec)(v) & (m)))
    for (ptrdiff_t o = o0; o < o1; o++) {
        const ptrdiff_t c = o / mult;
        for (ptrdiff_t t = 0; t < kA; t++) total[t] = 0.0;
        for (ptrdiff_t n = 0; n < s->batch; n++) {
            MK_FN(mk_dw_pad)(s, &p, x + n * s->in_image_stride + c * in_plane, P);
            const float *grad = dy + n * s->out_image_stride + o * out_plane;
            for (ptrdiff_t oh = 0; oh < OH; oh++) {
                memcpy(G + oh * gw, grad + oh * OW, (size_t)OW * sizeof(float));
                for (ptrdiff_t j = OW; j < gw; j++) G[oh * gw + j] = 0.0f;
            }
            for (ptrdiff_t kh = 0, t = 0; kh < s->kernel_h; kh++) {
                for (ptrdiff_t kw = 0; kw < s->kernel_w; kw++, t++) {
                    const ptrdiff_t col = kw * s->dilation_w;
                    const float *base = P + (col % s->stride_w) * p.rows * p.width + kh * s->dilation_h * p.width + col / s->stride_w;
                    // Lane j sums the columns ≡ j mod MK_DW_BLOCK; even rows in a, odd rows in b.
                    mk_dw_vec a0 = mk_dw_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
#define MK_DW_DOT_ROW(ROW, X0, X1, X2, X3)                                                               \
    do {                                                                                                 \
        const float *src = base + (ROW) * s->stride_h * p.width, *g = G + (ROW) * gw;                    \
        ptrdiff_t ow = 0;                                                                                \
        for (; ow + MK_DW_BLOCK < gw; ow += MK_DW_BLOCK) {                                               \
            X0 = MK_VFMA(mk_dw_load(g + ow), mk_dw_load(src + ow), X0);                                  \
            X1 = MK_VFMA(mk_dw_load(g + ow + 8), mk_dw_load(src + ow + 8), X1);                          \
            X2 = MK_VFMA(mk_dw_load(g + ow + 16), mk_dw_load(src + ow + 16), X2);                        \
            X3 = MK_VFMA(mk_dw_load(g + ow + 24), mk_dw_load(src + ow + 24), X3);                        \
        }                                                                                                \
        X0 = MK_VFMA(mk_dw_load(g + ow), MK_DW_MASKED(mk_dw_load(src + ow), m0), X0);                    \
        X1 = MK_VFMA(mk_dw_load(g + ow + 8), MK_DW_MASKED(mk_dw_load(src + ow + 8), m1), X1);            \
        X2 = MK_VFMA(mk_dw_load(g + ow + 16), MK_DW_MASKED(mk_dw_load(src + ow + 16), m2), X2);          \
        X3 = MK_VFMA(mk_dw_load(g + ow + 24), MK_DW_MASKED(mk_dw_load(src + ow + 24), m3), X3);          \
    } while (0)
                    ptrdiff_t oh = 0;
                    for (; oh + 2 <= OH; oh += 2) {
                        MK_DW_DOT_ROW(oh, a0, a1, a2, a3);
                        MK_DW_DOT_ROW(oh + 1, b0, b1, b2, b3);
                    }
                    if (oh < OH) MK_DW_DOT_ROW(oh, a0, a1, a2, a3);
#undef MK_DW_DOT_ROW
                    float acc[MK_DW_BLOCK];
                    mk_dw_store(acc, a0 + b0);
                    mk_dw_store(acc + 8, a1 + b1);
                    mk_dw_store(acc + 16, a2 + b2);
                    mk_dw_store(acc + 24, a3 + b3);
                    for (int width = MK_DW_BLOCK / 2; width > 0; width /= 2)
                        for (int j = 0; j < width; j++) acc[j] += acc[j + width];
                    total[t] += (double)acc[0];
                }
            }
        }
        for (ptrdiff_t t = 0; t < kA; t++) dw[o * kA + t] = (float)total[t];
    }
#undef MK_DW_MASKED
}
