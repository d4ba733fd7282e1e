// avx512_emulation.h: the AVX-512 path's code of CMedKernels compiled for AVX2 hardware, for the developer
// harnesses in this folder (gemm_harness.c, conv_harness.c). The few AVX-512 intrinsics the micro-kernel
// uses are emulated with pairs of AVX2 registers, and the SGEMM driver, the implicit-GEMM convolution and the
// Winograd convolution are instantiated on it with the AVX-512 path's tile sizes (8×32) under the suffix
// `avx512emu` — so their packing, blocking and edge handling run, and can be checked, on a CPU without
// AVX-512. Defines MK_HAVE_EMU (0 off x86-64).
#ifndef MK_AVX512_EMULATION_H
#define MK_AVX512_EMULATION_H
#include "internal.h"
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
typedef struct { __m256 lo, hi; } mk_emu512;
#define MK_EMU static inline __attribute__((target("avx2,fma"), always_inline))
MK_EMU mk_emu512 mk_emu_setzero(void) { return (mk_emu512){_mm256_setzero_ps(), _mm256_setzero_ps()}; }
MK_EMU mk_emu512 mk_emu_set1(float x) { return (mk_emu512){_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
MK_EMU mk_emu512 mk_emu_load(const float *p) {
    if ((uintptr_t)p % 64) abort();  // the real _mm512_load_ps faults on a misaligned address
    return (mk_emu512){_mm256_load_ps(p), _mm256_load_ps(p + 8)};
}
MK_EMU mk_emu512 mk_emu_loadu(const float *p) { return (mk_emu512){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
MK_EMU void mk_emu_storeu(float *p, mk_emu512 x) { _mm256_storeu_ps(p, x.lo); _mm256_storeu_ps(p + 8, x.hi); }
MK_EMU mk_emu512 mk_emu_fmadd(mk_emu512 a, mk_emu512 b, mk_emu512 c) {
    return (mk_emu512){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
MK_EMU mk_emu512 mk_emu_mul(mk_emu512 a, mk_emu512 b) {
    return (mk_emu512){_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)};
}
#define __m512 mk_emu512
#define _mm512_setzero_ps mk_emu_setzero
#define _mm512_set1_ps mk_emu_set1
#define _mm512_load_ps mk_emu_load
#define _mm512_loadu_ps mk_emu_loadu
#define _mm512_storeu_ps mk_emu_storeu
#define _mm512_fmadd_ps mk_emu_fmadd
#define _mm512_mul_ps mk_emu_mul

#define MK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_kernel_avx512.h"
#include "gemm_pack_x86.h"
#define MK_PACK_LINES mk_pack_lines_x86
#define MK_SUFFIX avx512emu
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
#define MK_CONV_AVX2_GATHER 1
#include "conv_driver_body.h"
#include "winograd_body.h"
#define MK_HAVE_EMU 1
#else
#define MK_HAVE_EMU 0
#endif

#endif
