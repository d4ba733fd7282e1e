// Definitions shared by the SGEMM files (gemm_driver_body.h, gemm_pack_x86.h): the k-blocking, which
// decides rounding and so is the same on every path, and small helpers.
#ifndef MK_GEMM_COMMON_H
#define MK_GEMM_COMMON_H
#include <stddef.h>
#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)
#define MK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MK_ROUND_UP(x, r) (((x) + (r) - 1) / (r) * (r))

// Longest k-block. The one cache-blocking size shared by all paths, because it decides rounding.
#ifndef MK_GEMM_KC
#define MK_GEMM_KC 256
#endif
// At most this many multiply-adds (m·n·k): compute directly, without packing.
#ifndef MK_GEMM_SMALL
#define MK_GEMM_SMALL 2048
#endif

// The k-blocks: ceil(k / MK_GEMM_KC) blocks of (nearly) equal length, so the last is not a sliver.
static inline ptrdiff_t mk_gemm_kc(ptrdiff_t k) {
    ptrdiff_t blocks = (k + MK_GEMM_KC - 1) / MK_GEMM_KC;
    return (k + blocks - 1) / blocks;
}
#endif
