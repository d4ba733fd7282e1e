// conv_harness.c: developer check of the convolution kernels' AVX-512 path (Sources/CMedKernels:
// conv_driver_body.h, winograd_body.h) on machines without AVX-512. Not part of the package build.
//
// The AVX-512 path's code, compiled against an AVX2 emulation of its micro-kernel's intrinsics
// (avx512_emulation.h: 8×32 tiles, the same packing, blocking and edge handling), runs the implicit-GEMM
// forward pass, input gradient and weight gradient, and the Winograd forward pass (plain and with the
// flipped weight of the input gradient), on random shapes against a double-precision direct convolution;
// and the public entry points on the AVX2 path beside it. Relative error = max |ours − reference| /
// max |reference|; every case must stay below 1e-5.
//
// Build from the package root and run:
//   /opt/swift/usr/bin/clang -O2 -g -I Sources/CMedKernels/include -I Sources/CMedKernels -I Benchmarks/peer \
//       Benchmarks/peer/conv_harness.c Sources/CMedKernels/*.c -o /tmp/conv_harness -lpthread -lm
//   /tmp/conv_harness [cases]
#pragma STDC FP_CONTRACT OFF
#include "CMedKernels.h"
#include "avx512_emulation.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness_random.h"

// 64-byte aligned (the emulated aligned loads check it, as the real ones fault).
static float *floats(size_t count, int random) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, (count ? count : 1) * sizeof(float)) != 0) abort();
    for (size_t i = 0; i < count; i++) p[i] = random ? rndf() : NAN;
    return p;
}

static double relative_error(const float *ours, const double *reference, size_t count) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < count; i++) {
        worst = fmax(worst, isnan(ours[i]) ? INFINITY : fabs(ours[i] - reference[i]));
        scale = fmax(scale, fabs(reference[i]));
    }
    return scale > 0 ? worst / scale : worst;
}

// Direct convolution in double: y (forward), dx and dw (for the output gradient dy).
static void reference(const mk_conv_shape *s, const float *x, const float *w, const float *b, const float *dy,
                      double *y, double *dx, double *dw) {
    const ptrdiff_t C = s->channels, O = s->out_channels, KH = s->kernel_h, KW = s->kernel_w;
    memset(dx, 0, sizeof(double) * (size_t)(s->batch * C * s->height * s->width));
    memset(dw, 0, sizeof(double) * (size_t)(O * C * KH * KW));
    for (ptrdiff_t n = 0; n < s->batch; n++)
        for (ptrdiff_t o = 0; o < O; o++)
            for (ptrdiff_t oh = 0; oh < s->out_height; oh++)
                for (ptrdiff_t ow = 0; ow < s->out_width; ow++) {
                    const ptrdiff_t q = ((n * O + o) * s->out_height + oh) * s->out_width + ow;
                    double sum = b ? b[o] : 0;
                    for (ptrdiff_t c = 0; c < C; c++)
                        for (ptrdiff_t kh = 0; kh < KH; kh++)
                            for (ptrdiff_t kw = 0; kw < KW; kw++) {
                                const ptrdiff_t ih = oh * s->stride_h - s->pad_h + kh * s->dilation_h;
                                const ptrdiff_t iw = ow * s->stride_w - s->pad_w + kw * s->dilation_w;
                                if (ih < 0 || ih >= s->height || iw < 0 || iw >= s->width) continue;
                                const ptrdiff_t i = ((n * C + c) * s->height + ih) * s->width + iw;
                                const ptrdiff_t j = ((o * C + c) * KH + kh) * KW + kw;
                                sum += (double)x[i] * w[j];
                                dx[i] += (double)dy[q] * w[j];
                                dw[j] += (double)dy[q] * x[i];
                            }
                    y[q] = sum;
                }
}

static int failures = 0;
static void check(const char *what, int index, const mk_conv_shape *s, double error) {
    if (error <= 1e-5) return;
    failures++;
    fprintf(stderr, "FAIL %s, case %d: n %td c %td %tdx%td → o %td %tdx%td, kernel %tdx%td stride %td,%td pad %td,%td "
            "dilation %td,%td: relative error %.3g\n", what, index, s->batch, s->channels, s->height, s->width,
            s->out_channels, s->out_height, s->out_width, s->kernel_h, s->kernel_w, s->stride_h, s->stride_w,
            s->pad_h, s->pad_w, s->dilation_h, s->dilation_w, error);
}

static mk_conv_shape random_shape(int index) {
    mk_conv_shape s;
    memset(&s, 0, sizeof s);
    const int winograd = index % 3 == 0;  // every third case a 3×3 stride-1 convolution
    for (;;) {
        s.batch = rnd(1, 3);
        s.channels = rnd(1, index % 7 == 0 ? 90 : 24);
        s.out_channels = rnd(1, index % 5 == 0 ? 70 : 20);
        s.height = rnd(1, 19);
        s.width = rnd(1, 40);
        const ptrdiff_t kernels[] = {1, 3, 3, 5, 7};
        s.kernel_h = winograd ? 3 : kernels[rnd(0, 4)];
        s.kernel_w = winograd ? 3 : (rnd(0, 3) ? s.kernel_h : kernels[rnd(0, 4)]);
        s.stride_h = winograd ? 1 : rnd(1, 3);
        s.stride_w = winograd ? 1 : rnd(1, 3);
        s.dilation_h = winograd ? 1 : rnd(1, 2);
        s.dilation_w = winograd ? 1 : rnd(1, 2);
        s.pad_h = rnd(0, 3);
        s.pad_w = rnd(0, 3);
        const ptrdiff_t eh = (s.kernel_h - 1) * s.dilation_h + 1, ew = (s.kernel_w - 1) * s.dilation_w + 1;
        if (s.height + 2 * s.pad_h < eh || s.width + 2 * s.pad_w < ew) continue;
        s.out_height = (s.height + 2 * s.pad_h - eh) / s.stride_h + 1;
        s.out_width = (s.width + 2 * s.pad_w - ew) / s.stride_w + 1;
        s.in_image_stride = s.channels * s.height * s.width;
        s.out_image_stride = s.out_channels * s.out_height * s.out_width;
        return s;
    }
}

int main(int argc, char **argv) {
#if !MK_HAVE_EMU
    fprintf(stderr, "the AVX-512 emulation needs x86-64\n");
    return 2;
#else
    rng_state = 0x2545F4914F6CDD1Dull;
    const int cases = argc > 1 ? atoi(argv[1]) : 300;
    int winograd_cases = 0;
    for (int index = 0; index < cases; index++) {
        mk_conv_shape s = random_shape(index);
        const ptrdiff_t C = s.channels, O = s.out_channels, K = C * s.kernel_h * s.kernel_w;
        const size_t xs = (size_t)(s.batch * s.in_image_stride), ys = (size_t)(s.batch * s.out_image_stride);
        const size_t ws = (size_t)(O * K);
        float *x = floats(xs, 1), *w = floats(ws, 1), *b = index % 2 ? floats((size_t)O, 1) : NULL;
        float *dy = floats(ys, 1), *y = floats(ys, 0), *dx = floats(xs, 0), *dw = floats(ws, 0);
        double *ry = malloc(sizeof(double) * ys), *rdx = malloc(sizeof(double) * xs), *rdw = malloc(sizeof(double) * ws);
        reference(&s, x, w, b, dy, ry, rdx, rdw);
        const ptrdiff_t MR = MK_AVX512_MR, pixels = s.batch * s.out_height * s.out_width;

        // Implicit GEMM, emulated AVX-512 path: forward (in two pixel ranges, as threads split it), dX, dW.
        float *packed = floats((size_t)((O + MR - 1) / MR * MR * K), 0);
        mk_conv_pack_avx512emu(0, O, K, w, K, 0, (O + MR - 1) / MR, packed);
        const ptrdiff_t cut = pixels / 3;
        mk_conv_forward_avx512emu(&s, packed, b, x, y, 0, cut);
        mk_conv_forward_avx512emu(&s, packed, b, x, y, cut, pixels);
        check("avx512emu forward", index, &s, relative_error(y, ry, ys));
        float *packed_t = floats((size_t)((K + MR - 1) / MR * MR * O), 0);
        mk_conv_pack_avx512emu(1, K, O, w, K, 0, (K + MR - 1) / MR, packed_t);
        mk_conv_backward_input_avx512emu(&s, packed_t, dy, dx, 0, s.batch, 0, C);
        check("avx512emu input gradient", index, &s, relative_error(dx, rdx, xs));
        mk_conv_backward_weight_avx512emu(&s, x, dy, dw, K, 0, K, 0, pixels);
        check("avx512emu weight gradient", index, &s, relative_error(dw, rdw, ws));

        // The same on the AVX2 path through the public entry points.
        if (mk_isa_supported(MK_ISA_AVX2)) {
            float *p2 = floats(mk_conv_packed_floats(MK_ISA_AVX2, O, K), 0);
            mk_conv_pack(MK_ISA_AVX2, 0, O, K, w, K, 0, (O + mk_conv_panel_rows(MK_ISA_AVX2) - 1) / mk_conv_panel_rows(MK_ISA_AVX2), p2);
            mk_conv_forward(MK_ISA_AVX2, &s, p2, b, x, y, 0, pixels);
            check("avx2 forward", index, &s, relative_error(y, ry, ys));
            free(p2);
        }

        // Winograd (3×3, stride 1): forward, and the input gradient as the forward pass of dY with the
        // flipped, transposed weight and padding 2 − p.
        if (s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 &&
            s.dilation_w == 1 && s.out_height >= 2 && s.out_width >= 2) {
            winograd_cases++;
            float *u = floats(16 * (size_t)mk_wino_weight_stride((O + MR - 1) / MR * MR, C), 0);
            mk_winograd_weight_avx512emu(0, O, C, w, 0, (O + MR - 1) / MR, u);
            mk_conv_shape tiles_shape = s;
            const ptrdiff_t tiles = mk_winograd_tiles(&tiles_shape);
            mk_winograd_forward_avx512emu(&s, u, b, x, y, 0, tiles / 2);
            mk_winograd_forward_avx512emu(&s, u, b, x, y, tiles / 2, tiles);
            check("avx512emu winograd forward", index, &s, relative_error(y, ry, ys));
            free(u);
            if (s.pad_h <= 2 && s.pad_w <= 2 && s.height >= 2 && s.width >= 2) {
                mk_conv_shape t = s;
                t.channels = O, t.out_channels = C, t.height = s.out_height, t.width = s.out_width;
                t.out_height = s.height, t.out_width = s.width, t.pad_h = 2 - s.pad_h, t.pad_w = 2 - s.pad_w;
                t.in_image_stride = s.out_image_stride, t.out_image_stride = s.in_image_stride;
                float *uf = floats(16 * (size_t)mk_wino_weight_stride((C + MR - 1) / MR * MR, O), 0);
                mk_winograd_weight_avx512emu(1, C, O, w, 0, (C + MR - 1) / MR, uf);
                mk_winograd_forward_avx512emu(&t, uf, NULL, dy, dx, 0, mk_winograd_tiles(&t));
                check("avx512emu winograd input gradient", index, &s, relative_error(dx, rdx, xs));
                free(uf);
            }
        }
        free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(ry), free(rdx), free(rdw);
        free(packed), free(packed_t);
    }
    printf("%d convolutions (%d Winograd) on the emulated AVX-512 path and on AVX2: %s\n", cases, winograd_cases,
           failures ? "FAILED" : "all within 1e-5 of the double-precision reference");
    return failures ? 1 : 0;
#endif
}
