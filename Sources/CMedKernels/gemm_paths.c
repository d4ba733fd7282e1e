// Instantiates single-threaded SGEMM once per instruction-set path (gemm_driver_body.h), each with its
// micro-kernel (gemm_kernel_*.h) and cache blocking, and owns the per-thread packing workspace.
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>

// Multiply-adds are fused only where the code says so (MK_FMA, intrinsics): the compiler must not fuse
// a*b + c on its own, or the scalar edge code could round differently from the micro-kernels.
#pragma STDC FP_CONTRACT OFF

// MARK: workspace

// One growable, 64-byte-aligned buffer per thread (callers run mk_sgemm concurrently from several
// threads), freed when the thread exits. Its first 64 bytes hold the capacity.
static pthread_key_t mk_workspace_key;
static int mk_workspace_ready;
static pthread_once_t mk_workspace_once = PTHREAD_ONCE_INIT;

static void mk_workspace_init(void) { mk_workspace_ready = pthread_key_create(&mk_workspace_key, free) == 0; }

void *mk_gemm_workspace(size_t bytes) {
    pthread_once(&mk_workspace_once, mk_workspace_init);
    if (!mk_workspace_ready) return NULL;
    char *block = (char *)pthread_getspecific(mk_workspace_key);
#ifdef MK_GEMM_WORKSPACE_EXACT  // testing: exactly the bytes asked for, so that AddressSanitizer sees overruns
    if (block && *(size_t *)block == bytes) return block + 64;
    size_t capacity = bytes;
#else
    if (block && *(size_t *)block >= bytes) return block + 64;
    size_t capacity = (bytes + 65535) / 65536 * 65536;
#endif
    void *fresh_ = NULL;
    if (posix_memalign(&fresh_, 64, 64 + capacity) != 0) return NULL;
    char *fresh = (char *)fresh_;
    *(size_t *)fresh = capacity;
    if (pthread_setspecific(mk_workspace_key, fresh) != 0) {
        free(fresh);
        return NULL;
    }
    free(block);
    return fresh + 64;
}

// MARK: paths

#define MK_TARGET
#include "gemm_kernel_portable.h"
#define MK_SUFFIX portable
#define MK_UKERNEL mk_ukernel_portable
#define MK_MR MK_PORTABLE_MR
#define MK_NR MK_PORTABLE_NR
#define MK_MC MK_PORTABLE_MC
#define MK_NC MK_PORTABLE_NC
#define MK_MC2 MK_PORTABLE_MC2
#define MK_NC2 MK_PORTABLE_NC2
#define MK_PREFER_A_PANELS MK_PORTABLE_PREFER_A_PANELS
#define MK_FMA MK_PORTABLE_FMA
#include "gemm_driver_body.h"
#define MK_CONV_AVX2_GATHER 0
#include "conv_driver_body.h"
#undef MK_CONV_AVX2_GATHER
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR
#undef MK_MC
#undef MK_NC
#undef MK_MC2
#undef MK_NC2
#undef MK_PREFER_A_PANELS
#undef MK_FMA

#if MK_X86
// The conv kernels' gathers use AVX2's (both x86 SIMD paths have it).
#define MK_CONV_AVX2_GATHER 1
#include "gemm_pack_x86.h"
#define MK_PACK_LINES mk_pack_lines_x86

// AVX2 + FMA: Haswell … Zen 3, and Zen 4/5 when forced.
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_kernel_avx2.h"
#define MK_SUFFIX avx2
#define MK_UKERNEL mk_ukernel_avx2
#define MK_MR MK_AVX2_MR
#define MK_NR MK_AVX2_NR
#define MK_MC MK_AVX2_MC
#define MK_NC MK_AVX2_NC
#define MK_MC2 MK_AVX2_MC2
#define MK_NC2 MK_AVX2_NC2
#define MK_PREFER_A_PANELS MK_AVX2_PREFER_A_PANELS
#define MK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#include "gemm_driver_body.h"
#include "conv_driver_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR
#undef MK_MC
#undef MK_NC
#undef MK_MC2
#undef MK_NC2
#undef MK_PREFER_A_PANELS
#undef MK_FMA

// AVX-512 F/BW/VL/DQ: Zen 4/5, Skylake-X and later.
#define MK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#include "gemm_kernel_avx512.h"
#define MK_SUFFIX avx512
#define MK_UKERNEL mk_ukernel_avx512
#define MK_MR MK_AVX512_MR
#define MK_NR MK_AVX512_NR
#define MK_MC MK_AVX512_MC
#define MK_NC MK_AVX512_NC
#define MK_MC2 MK_AVX512_MC2
#define MK_NC2 MK_AVX512_NC2
#define MK_PREFER_A_PANELS MK_AVX512_PREFER_A_PANELS
#define MK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#include "gemm_driver_body.h"
#include "conv_driver_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_UKERNEL
#undef MK_MR
#undef MK_NR
#undef MK_MC
#undef MK_NC
#undef MK_MC2
#undef MK_NC2
#undef MK_PREFER_A_PANELS
#undef MK_FMA
#undef MK_PACK_LINES
#undef MK_CONV_AVX2_GATHER
#endif

// MARK: convolution entry points (conv_driver_body.h), on the path the caller names

int mk_conv_path(int isa) {
#if MK_X86
    if (isa == MK_ISA_AVX512 && mk_isa_supported(MK_ISA_AVX512)) return MK_ISA_AVX512;
    if ((isa == MK_ISA_AVX512 || isa == MK_ISA_AVX2) && mk_isa_supported(MK_ISA_AVX2)) return MK_ISA_AVX2;
#else
    (void)isa;
#endif
    return MK_ISA_PORTABLE;
}

ptrdiff_t mk_conv_panel_rows(int isa) {
    switch (mk_conv_path(isa)) {
#if MK_X86
    case MK_ISA_AVX512: return MK_AVX512_MR;
    case MK_ISA_AVX2: return MK_AVX2_MR;
#endif
    default: return MK_PORTABLE_MR;
    }
}

size_t mk_conv_packed_floats(int isa, ptrdiff_t m, ptrdiff_t k) {
    const ptrdiff_t mr = mk_conv_panel_rows(isa);
    return (size_t)((m + mr - 1) / mr * mr) * (size_t)(k > 0 ? k : 0);
}

void mk_conv_pack(int isa, int trans, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t ldw, ptrdiff_t panel0,
                  ptrdiff_t panel1, float *packed) {
#define MK_CALL(sfx) mk_conv_pack_##sfx(trans, m, k, w, ldw, panel0, panel1, packed)
    MK_CONV_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}

void mk_conv_forward(int isa, const mk_conv_shape *shape, const float *packed, const float *bias, const float *x,
                     float *y, ptrdiff_t q0, ptrdiff_t q1) {
#define MK_CALL(sfx) mk_conv_forward_##sfx(shape, packed, bias, x, y, q0, q1)
    MK_CONV_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}

void mk_conv_backward_input(int isa, const mk_conv_shape *shape, const float *packed, const float *dy, float *dx,
                            ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t c0, ptrdiff_t c1) {
#define MK_CALL(sfx) mk_conv_backward_input_##sfx(shape, packed, dy, dx, n0, n1, c0, c1)
    MK_CONV_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}

void mk_conv_backward_weight(int isa, const mk_conv_shape *shape, const float *x, const float *dy, float *dw,
                             ptrdiff_t ldw, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t q0, ptrdiff_t q1) {
#define MK_CALL(sfx) mk_conv_backward_weight_##sfx(shape, x, dy, dw, ldw, k0, k1, q0, q1)
    MK_CONV_DISPATCH(isa, MK_CALL)
#undef MK_CALL
}
