// CMedKernels: the instruction-set-specific kernels of MedTensor.
//
// Every entry point here dispatches at run time to an AVX-512, AVX2+FMA or portable body on x86-64
// (NEON or portable on arm64). The path is chosen once, from the CPU's features, unless the environment
// variable MEDTENSOR_ISA (avx512 | avx2 | neon | portable) forces one; a forced path that the CPU lacks
// falls back to the best supported path below it, and mk_isa_requested() reports what was asked.
// All pointers are Float32, all lengths element counts. No function keeps a pointer to its arguments;
// only mk_sgemm allocates: a per-thread packing buffer (at most about 4.5 MB), reused by later calls on
// the same thread and freed when the thread exits.
#ifndef CMEDKERNELS_H
#define CMEDKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: instruction-set selection

typedef enum {
    MK_ISA_PORTABLE = 0,
    MK_ISA_AVX2 = 1,    // AVX2 + FMA
    MK_ISA_AVX512 = 2,  // AVX-512 F/BW/VL/DQ
    MK_ISA_NEON = 3,
} mk_isa;

/// 1 when this CPU can run the path (and this build contains it), else 0.
int mk_isa_supported(int isa);
/// The path every kernel call uses.
int mk_isa_active(void);
/// The path MEDTENSOR_ISA asked for, or -1 when the variable is unset or unknown.
int mk_isa_requested(void);
/// Selects a path for the rest of the process. Returns 0, or -1 (and changes nothing) when unsupported.
int mk_isa_select(int isa);
/// "avx512", "avx2", "neon" or "portable".
const char *mk_isa_name(int isa);

// MARK: elementwise

typedef enum {
    MK_U_NEG = 0, MK_U_ABS, MK_U_EXP, MK_U_LOG, MK_U_SQRT, MK_U_RSQRT, MK_U_TANH, MK_U_SIGMOID,
    MK_U_ERF, MK_U_RELU, MK_U_GELU_ERF, MK_U_GELU_TANH, MK_U_SILU, MK_U_SQUARE, MK_U_RECIPROCAL,
    MK_U_CLAMP,       // min(max(x, a), b)
    MK_U_AFFINE,      // x * a + b
    MK_U_POW_SCALAR,  // x ^ a
    MK_U_SIN, MK_U_COS,
    // Derivatives, for backward rules: d/dx of the named function, evaluated at x.
    MK_U_ERF_DERIV, MK_U_GELU_ERF_DERIV, MK_U_GELU_TANH_DERIV, MK_U_SILU_DERIV,
} mk_unary_op;

/// y[i] = op(x[i]) for i < n; contiguous, y may alias x. `a`, `b` are the op's scalar arguments.
void mk_unary(int op, const float *x, float *y, ptrdiff_t n, float a, float b);

typedef enum {
    MK_B_ADD = 0, MK_B_SUB, MK_B_MUL, MK_B_DIV, MK_B_MAX, MK_B_MIN, MK_B_POW,
    MK_B_EQ, MK_B_NE, MK_B_LT, MK_B_LE, MK_B_GT, MK_B_GE,  // 1 where true, else 0
} mk_binary_op;

/// y[i] = a[i*sa] op b[i*sb] for i < n (strides in elements; 0 broadcasts a scalar). y may alias a or b
/// when that operand has stride 1.
void mk_binary(int op, const float *a, ptrdiff_t sa, const float *b, ptrdiff_t sb, float *y, ptrdiff_t n);

/// y[i] += alpha * x[i]: the accumulate kernel of gradient sums and optimizers.
void mk_axpy(ptrdiff_t n, float alpha, const float *x, float *y);

/// Sum of x[0..<n] in a fixed order (so repeated calls agree bit for bit on one path).
float mk_sum(const float *x, ptrdiff_t n);
/// Max of x[0..<n] and the first index where it occurs (NaN wins, as in PyTorch).
float mk_max_index(const float *x, ptrdiff_t n, ptrdiff_t *index);
/// Min of x[0..<n] and the first index where it occurs (NaN wins).
float mk_min_index(const float *x, ptrdiff_t n, ptrdiff_t *index);

// MARK: matrix multiply

/// C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or Xᵀ (trans != 0).
/// op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are row strides in elements.
/// Single-threaded: the caller splits work across threads (by blocks of C's rows or columns); calls
/// from several threads at once on disjoint blocks of C are safe.
/// When beta == 0, C is not read (NaN in C does not propagate), as in BLAS; when alpha == 0 or k == 0,
/// A and B are not read.
/// Deterministic: each element of C is computed by the same operations in the same order whatever m, n,
/// the split of C across calls or threads, and the alignment of the pointers (sums over k in order, in
/// blocks of at most 256). The AVX2 and AVX-512 paths give bitwise identical results; the portable path
/// on x86-64 rounds each product separately (baseline x86-64 has no FMA) and so differs in the last bits.
void mk_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
              const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
              float beta, float *C, ptrdiff_t ldc);

#ifdef __cplusplus
}
#endif
#endif
