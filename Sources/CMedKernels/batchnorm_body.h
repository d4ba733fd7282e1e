// Template for one instruction-set path of the batch-norm kernels (mk_batchnorm_* in CMedKernels.h);
// spatial_paths.c includes it once per path. Per channel of an NCHW tensor: sums over images and pixels in
// 32 Float32 lane sums over blocks of at most MK_BN_BLOCK elements per plane, the blocks' totals added in
// Float64 (the lane sums combined pairwise in a fixed order); elementwise passes written for the compiler
// to vectorise. No fused multiply-adds (spatial_paths.c turns contraction off): every path computes the
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

// Σ x[i] (and, with y, Σ x[i]·y[i]; with shift, Σ (x[i] − shift)²) over n floats, as described above.
static MK_TARGET double MK_FN(mk_bn_sum)(const float *restrict x, const float *restrict y, ptrdiff_t n, int squares,
                                         float shift) {
    double total = 0.0;
    for (ptrdiff_t b = 0; b < n; b += MK_BN_BLOCK) {
        const ptrdiff_t e = b + MK_BN_BLOCK < n ? b + MK_BN_BLOCK : n;
        float acc[MK_BN_LANES] = {0};
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
        for (int width = MK_BN_LANES / 2; width > 0; width /= 2)
            for (int j = 0; j < width; j++) acc[j] += acc[j + width];
        total += (double)acc[0];
    }
    return total;
}

MK_TARGET void MK_FN(mk_batchnorm_forward)(const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                                           float eps, const float *gamma, const float *beta, float *y, float *xhat,
                                           float *mean, float *variance, float *inv_std, ptrdiff_t c0, ptrdiff_t c1) {
    const double count = (double)(batch * plane);
    for (ptrdiff_t c = c0; c < c1; c++) {
        double sum = 0.0;
        for (ptrdiff_t n = 0; n < batch; n++) sum += MK_FN(mk_bn_sum)(x + (n * channels + c) * plane, NULL, plane, 0, 0.0f);
        const double mu = sum / count;
        const float m = (float)mu;
        double squares = 0.0;
        for (ptrdiff_t n = 0; n < batch; n++) squares += MK_FN(mk_bn_sum)(x + (n * channels + c) * plane, NULL, plane, 1, m);
        const double sigma2 = squares / count;
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
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (ptrdiff_t n = 0; n < batch; n++) {
            const ptrdiff_t offset = (n * channels + c) * plane;
            sum_dy += MK_FN(mk_bn_sum)(dy + offset, NULL, plane, 0, 0.0f);
            sum_dy_xhat += MK_FN(mk_bn_sum)(dy + offset, xhat + offset, plane, 0, 0.0f);
        }
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
