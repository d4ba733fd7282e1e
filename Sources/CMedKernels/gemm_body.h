// Template for one instruction-set path of single-threaded SGEMM (see mk_sgemm in CMedKernels.h).
// Blocked over k and n with op(B) packed into a contiguous panel, the inner loop an axpy over a row of
// C that clang vectorises for the path's ISA.
#include "CMedKernels.h"
#include "internal.h"
#include <stdlib.h>

#define MK_CAT2(a, b) a##_##b
#define MK_CAT(a, b) MK_CAT2(a, b)
#define MK_FN(name) MK_CAT(name, MK_SUFFIX)

MK_TARGET void MK_FN(mk_sgemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                               const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                               float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        float *row = C + i * ldc;
        if (beta == 0.0f) {
            for (ptrdiff_t j = 0; j < n; j++) row[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (ptrdiff_t j = 0; j < n; j++) row[j] *= beta;
        }
    }
    if (k == 0 || alpha == 0.0f || m == 0 || n == 0) return;
    enum { KC = 256, NC = 512 };
    float panel[KC * 4];
    float *packed = (float *)malloc(sizeof(float) * KC * NC);
    if (!packed) abort();
    for (ptrdiff_t jc = 0; jc < n; jc += NC) {
        ptrdiff_t nb = n - jc < NC ? n - jc : NC;
        for (ptrdiff_t pc = 0; pc < k; pc += KC) {
            ptrdiff_t kb = k - pc < KC ? k - pc : KC;
            for (ptrdiff_t p = 0; p < kb; p++) {
                float *dst = packed + p * nb;
                if (transB) {
                    for (ptrdiff_t j = 0; j < nb; j++) dst[j] = B[(jc + j) * ldb + pc + p];
                } else {
                    const float *src = B + (pc + p) * ldb + jc;
                    for (ptrdiff_t j = 0; j < nb; j++) dst[j] = src[j];
                }
            }
            // Four rows of C at a time share each packed row of op(B).
            ptrdiff_t i = 0;
            for (; i + 4 <= m; i += 4) {
                for (ptrdiff_t p = 0; p < kb; p++)
                    for (int r = 0; r < 4; r++)
                        panel[p * 4 + r] = alpha * (transA ? A[(pc + p) * lda + i + r] : A[(i + r) * lda + pc + p]);
                float *c0 = C + i * ldc + jc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
                for (ptrdiff_t p = 0; p < kb; p++) {
                    const float *b = packed + p * nb;
                    float a0 = panel[p * 4], a1 = panel[p * 4 + 1], a2 = panel[p * 4 + 2], a3 = panel[p * 4 + 3];
                    for (ptrdiff_t j = 0; j < nb; j++) {
                        float bj = b[j];
                        c0[j] += a0 * bj;
                        c1[j] += a1 * bj;
                        c2[j] += a2 * bj;
                        c3[j] += a3 * bj;
                    }
                }
            }
            for (; i < m; i++) {
                float *c = C + i * ldc + jc;
                for (ptrdiff_t p = 0; p < kb; p++) {
                    float a = alpha * (transA ? A[(pc + p) * lda + i] : A[i * lda + pc + p]);
                    const float *b = packed + p * nb;
                    for (ptrdiff_t j = 0; j < nb; j++) c[j] += a * b[j];
                }
            }
        }
    }
    free(packed);
}
