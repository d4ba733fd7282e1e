// Template for one instruction-set path of the batch-norm kernels (mk_batchnorm_* in CMedKernels.h);
// spatial_paths.c includes it once per path. Per channel of an NCHW tensor: sums over images and pixels in
// 32 Float32 lane sums (element i of each plane goes to lane i mod 32), each lane given at most 128 terms
// before the lanes are combined pairwise in a fixed order and the block's total added in Float64; the lane
// sums run on across the planes of consecutive images, so a small plane (down to ResNet's 1×1 at 28 px)
// costs its elements, not a reduction per image. Elementwise passes written for the compiler to vectorise. No fused multiply-adds (spatial_paths.c turns contraction off): every path computes the
// same bits.
#include "CMedKernels.h"
#include "internal.h"
#include <math.h>

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)

#ifndef MK_BN_SHARED
#define MK_BN_SHARED
#define MK_BN_LANES 32
#define MK_BN_BLOCK 4096
#endif

// acc[i mod 32] += x[i] (with y: x[i]·y[i]; with squares: (x[i] − shift)²) for i in [b, e).
static MK_TARGET inline void MK_FN(mk_bn_accumulate)(float *restrict acc, const float *restrict x, const float *restrict y,
                                                     ptrdiff_t b, ptrdiff_t e, int squares, float shift) {
    ptrdiff_t i = b;
    if (y) {
        for (; i + MK_BN_LANES <= e; i += MK_BN_LANES)
            for (int j = 0; j < MK_BN_LANES; j++) acc[j] += x[i + j] * y[i + j];
        for (int j = 0; i < e; i++, j++) acc[j] += x[i] * y[i];
    } else if (squares) {
        for (; i + MK_BN_LANES <= e; i += MK_BN_LANES)
            for (int j = 0; j < MK_BN_LANES; j++) {
                const float d = x[i + j] - shift;
                acc[j] += d * d;
            }
        for (int j = 0; i < e; i++, j++) {
            const float d = x[i] - shift;
            acc[j] += d * d;
        }
    } else {
        for (; i + MK_BN_LANES <= e; i += MK_BN_LANES)
            for (int j = 0; j < MK_BN_LANES; j++) acc[j] += x[i + j];
        for (int j = 0; i < e; i++, j++) acc[j] += x[i];
    }
}

// The lanes' total, combined pairwise in a fixed order; clears the lanes.
static MK_TARGET inline double MK_FN(mk_bn_flush)(float *restrict acc) {
    for (int width = MK_BN_LANES / 2; width > 0; width /= 2)
        for (int j = 0; j < width; j++) acc[j] += acc[j + width];
    const double total = (double)acc[0];
    for (int j = 0; j < MK_BN_LANES; j++) acc[j] = 0.0f;
    return total;
}

// Σ over images n and pixels i of x[n·stride + i] (and, with y, of x·y; with squares, of (x − shift)²), as
// described at the top: planes longer than a block are cut into blocks, shorter ones share a block with the
// next images' planes as long as no lane passes 128 terms.
static MK_TARGET double MK_FN(mk_bn_sum)(const float *x, const float *y, ptrdiff_t batch, ptrdiff_t stride,
                                         ptrdiff_t plane, int squares, float shift) {
    float acc[MK_BN_LANES] = {0};
    double total = 0.0;
    if (plane > MK_BN_BLOCK) {
        for (ptrdiff_t n = 0; n < batch; n++)
            for (ptrdiff_t b = 0; b < plane; b += MK_BN_BLOCK) {
                const ptrdiff_t e = b + MK_BN_BLOCK < plane ? b + MK_BN_BLOCK : plane;
                MK_FN(mk_bn_accumulate)(acc, x + n * stride, y ? y + n * stride : NULL, b, e, squares, shift);
                total += MK_FN(mk_bn_flush)(acc);
            }
        return total;
    }
    const ptrdiff_t terms_per_plane = (plane + MK_BN_LANES - 1) / MK_BN_LANES;
    const ptrdiff_t images_per_block = terms_per_plane > 0 ? (MK_BN_BLOCK / MK_BN_LANES) / terms_per_plane : batch;
    for (ptrdiff_t n0 = 0; n0 < batch; n0 += images_per_block) {
        const ptrdiff_t n1 = n0 + images_per_block < batch ? n0 + images_per_block : batch;
        for (ptrdiff_t n = n0; n < n1; n++)
            MK_FN(mk_bn_accumulate)(acc, x + n * stride, y ? y + n * stride : NULL, 0, plane, squares, shift);
        total += MK_FN(mk_bn_flush)(acc);
    }
    return total;
}

MK_TARGET void MK_FN(mk_batchnorm_forward)(const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                                           float eps, const float *gamma, const float *beta, float *y, float *xhat,
                                           float *mean, float *variance, float *inv_std, ptrdiff_t c0, ptrdiff_t c1) {
    const double count = (double)(batch * plane);
    for (ptrdiff_t c = c0; c < c1; c++) {
        const double mu = MK_FN(mk_bn_sum)(x + c * plane, NULL, batch, channels * plane, plane, 0, 0.0f) / count;
        const float m = (float)mu;
        const double sigma2 = MK_FN(mk_bn_sum)(x + c * plane, NULL, batch, channels * plane, plane, 1, m) / count;
        const float inv = (float)(1.0 / sqrt(sigma2 + (double)eps));
        const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
        for (ptrdiff_t n = 0; n < batch; n++) {
            const ptrdiff_t offset = (n * channels + c) * plane;
            const float *restrict p = x + offset;
            float *restrict out = y + offset;
            if (xhat) {
                float *restrict h = xhat + offset;
                for (ptrdiff_t i = 0; i < plane; i++) {
                    const float v = (p[i] - m) * inv;
                    h[i] = v;
                    out[i] = v * g + b;
                }
            } else {
                for (ptrdiff_t i = 0; i < plane; i++) out[i] = (p[i] - m) * inv * g + b;
            }
        }
        mean[c] = m;
        variance[c] = (float)sigma2;
        inv_std[c] = inv;
    }
}

MK_TARGET void MK_FN(mk_batchnorm_backward)(const float *dy, const float *xhat, ptrdiff_t batch, ptrdiff_t channels,
                                            ptrdiff_t plane, const float *gamma, const float *inv_std, float *dx,
                                            float *dgamma, float *dbeta, ptrdiff_t c0, ptrdiff_t c1) {
    const float count = (float)(batch * plane);
    for (ptrdiff_t c = c0; c < c1; c++) {
        const double sum_dy = MK_FN(mk_bn_sum)(dy + c * plane, NULL, batch, channels * plane, plane, 0, 0.0f);
        const double sum_dy_xhat = MK_FN(mk_bn_sum)(dy + c * plane, xhat + c * plane, batch, channels * plane, plane, 0, 0.0f);
        const float mean_dy = (float)sum_dy / count, mean_dy_xhat = (float)sum_dy_xhat / count;
        const float scale = (gamma ? gamma[c] : 1.0f) * inv_std[c];
        if (dx)
            for (ptrdiff_t n = 0; n < batch; n++) {
                const ptrdiff_t offset = (n * channels + c) * plane;
                const float *restrict g = dy + offset, *restrict h = xhat + offset;
                float *restrict out = dx + offset;
                for (ptrdiff_t i = 0; i < plane; i++) out[i] = scale * (g[i] - mean_dy - h[i] * mean_dy_xhat);
            }
        if (dgamma) dgamma[c] = (float)sum_dy_xhat;
        if (dbeta) dbeta[c] = (float)sum_dy;
    }
}

// Layer norm over the last axis: rows [r0, r1) of a rows × n matrix, each row's statistics summed as one
// plane of mk_bn_sum (the same lane sums as batch norm). mean and inv_std are per row.
MK_TARGET void MK_FN(mk_layernorm_forward)(const float *x, ptrdiff_t n, float eps, const float *gamma, const float *beta,
                                           float *y, float *mean, float *inv_std, ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *restrict p = x + r * n;
        float *restrict out = y + r * n;
        const float m = (float)(MK_FN(mk_bn_sum)(p, NULL, 1, n, n, 0, 0.0f) / (double)n);
        const double sigma2 = MK_FN(mk_bn_sum)(p, NULL, 1, n, n, 1, m) / (double)n;
        const float inv = (float)(1.0 / sqrt(sigma2 + (double)eps));
        if (gamma && beta)
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (p[i] - m) * inv * gamma[i] + beta[i];
        else if (gamma)
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (p[i] - m) * inv * gamma[i];
        else
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (p[i] - m) * inv;
        mean[r] = m;
        inv_std[r] = inv;
    }
}

// Its backward pass for rows [r0, r1): xhat = (x − μ)·inv_std, and with g = dy·gamma (dy when gamma is NULL)
// dx = inv_std·(g − Σg/n − xhat·Σ(g·xhat)/n). xhat is written for the caller's weight gradient.
MK_TARGET void MK_FN(mk_layernorm_backward)(const float *dy, const float *x, ptrdiff_t n, const float *gamma,
                                            const float *mean, const float *inv_std, float *dx, float *xhat,
                                            ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *restrict p = x + r * n, *restrict d = dy + r * n;
        float *restrict h = xhat + r * n, *restrict out = dx + r * n;
        const float m = mean[r], inv = inv_std[r];
        for (ptrdiff_t i = 0; i < n; i++) h[i] = (p[i] - m) * inv;
        if (gamma)
            for (ptrdiff_t i = 0; i < n; i++) out[i] = d[i] * gamma[i];
        else
            for (ptrdiff_t i = 0; i < n; i++) out[i] = d[i];
        const float a = (float)(MK_FN(mk_bn_sum)(out, NULL, 1, n, n, 0, 0.0f) / (double)n);
        const float b = (float)(MK_FN(mk_bn_sum)(out, h, 1, n, n, 0, 0.0f) / (double)n);
        for (ptrdiff_t i = 0; i < n; i++) out[i] = inv * (out[i] - a - h[i] * b);
    }
}
