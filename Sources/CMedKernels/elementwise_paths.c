// Instantiates the elementwise kernels once per instruction-set path.
#include "internal.h"
#include <math.h>

#define MK_SUFFIX portable
#define MK_TARGET
#if defined(__aarch64__)
#define MK_MATH_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define MK_MATH_FMA(a, b, c) ((a) * (b) + (c))
#endif
#include "elementwise_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_MATH_FMA

#if MK_X86
#define MK_MATH_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#define MK_SUFFIX avx2
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "elementwise_body.h"
#undef MK_SUFFIX
#undef MK_TARGET

#define MK_SUFFIX avx512
#define MK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#include "elementwise_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#undef MK_MATH_FMA
#endif

// Max/min with first index: scalar on every path (a compare-and-branch loop; not hot).
float mk_extreme_index(const float *x, ptrdiff_t n, ptrdiff_t *index, int wantMax) {
    ptrdiff_t best = 0;
    float value = n > 0 ? x[0] : (wantMax ? -INFINITY : INFINITY);
    for (ptrdiff_t i = 1; i < n && value == value; i++) {
        float v = x[i];
        if (v != v || (wantMax ? v > value : v < value)) { value = v; best = i; }
    }
    if (index) *index = best;
    return value;
}
