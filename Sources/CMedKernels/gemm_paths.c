// Instantiates single-threaded SGEMM once per instruction-set path.
#include "internal.h"

#define MK_SUFFIX portable
#define MK_TARGET
#include "gemm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET

#if MK_X86
#define MK_SUFFIX avx2
#define MK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET

#define MK_SUFFIX avx512
#define MK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#include "gemm_body.h"
#undef MK_SUFFIX
#undef MK_TARGET
#endif
