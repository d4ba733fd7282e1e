// Instantiates the Winograd F(2×2, 3×3) convolution (winograd_body.h) once per instruction-set path, each
// on that path's SGEMM micro-kernel (gemm_kernel_*.h), and its entry points, which run the path the
// caller names (as the mk_conv_* entry points do, so that a weight transformed for one path is never
// multiplied by another's micro-kernel).
#include "internal.h"
#include <stdlib.h>

// Multiply-adds are fused only where the micro-kernels say so.
#pragma STDC FP_CONTRACT OFF

// The transforms vectorise over eight tiles, so a path's panels must hold whole groups of eight (every
// x86-64 path; arm64's 12-wide portable panels do not).
#define MK_WINO_FITS(nr) ((nr) % 8 == 0)

#define MK_TARGET
#include "gemm_kernel_portable.h"
#define MK_SUFFIX portable
#define MK_UKERNEL mk_ukernel_portable
#define MK_MR MK_PORTABLE_MR
#define MK_NR MK_PORTABLE_NR
#if MK_WINO_FITS(MK_PORTABLE_NR)
#include "winograd_body.h"
#endif
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR

#if MK_X86
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_kernel_avx2.h"
#define MK_SUFFIX avx2
#define MK_UKERNEL mk_ukernel_avx2
#define MK_MR MK_AVX2_MR
#define MK_NR MK_AVX2_NR
#include "winograd_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR

#define MK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#include "gemm_kernel_avx512.h"
#define MK_SUFFIX avx512
#define MK_UKERNEL mk_ukernel_avx512
#define MK_MR MK_AVX512_MR
#define MK_NR MK_AVX512_NR
#include "winograd_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR
#endif

int mk_winograd_supported(int isa) {
    return mk_conv_path(isa) != MK_ISA_PORTABLE || MK_WINO_FITS(MK_PORTABLE_NR);
}

size_t mk_winograd_weight_floats(int isa, ptrdiff_t m, ptrdiff_t k) {
    const ptrdiff_t mr = mk_conv_panel_rows(isa);
    return 16 * (size_t)mk_wino_weight_stride((m + mr - 1) / mr * mr, k > 0 ? k : 0);
}

ptrdiff_t mk_winograd_tiles(const mk_conv_shape *shape) {
    return shape->batch * ((shape->out_height + 1) / 2) * ((shape->out_width + 1) / 2);
}

#if MK_WINO_FITS(MK_PORTABLE_NR)
#define MK_WINO_DISPATCH MK_CONV_DISPATCH
#else  // only the portable path, without the kernels: callers check mk_winograd_supported first
#define MK_WINO_DISPATCH(isa, call) abort();
#endif

void mk_winograd_weight(int isa, int flipped, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t panel0,
                        ptrdiff_t panel1, float *u) {
#define MK_CALL(sfx) mk_winograd_weight_##sfx(flipped, m, k, w, panel0, panel1, u)
    MK_WINO_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}

void mk_winograd_forward(int isa, const mk_conv_shape *shape, const float *u, const float *bias, const float *x,
                         float *y, ptrdiff_t t0, ptrdiff_t t1) {
#define MK_CALL(sfx) mk_winograd_forward_##sfx(shape, u, bias, x, y, t0, t1)
    MK_WINO_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}
