// CMedKernels: the instruction-set-specific kernels of MedTensor.
//
// Every entry point here dispatches at run time to an AVX-512, AVX2+FMA or portable body on x86-64
// (NEON or portable on arm64). The path is chosen once, from the CPU's features, unless the environment
// variable MEDTENSOR_ISA (avx512 | avx2 | neon | portable) forces one; a forced path that the CPU lacks
// falls back to the best supported path below it, and mk_isa_requested() reports what was asked.
// All pointers are Float32, all lengths element counts. No function keeps a pointer to its arguments;
// only mk_sgemm and the convolution, pooling and depthwise kernels allocate: one per-thread scratch
// buffer (packing panels, padded planes, Winograd tiles; 8 MB at most), reused by later calls on the same
// thread and freed when the thread exits.
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

/// 1 when this CPU has AVX512-BF16 (Zen 4 and 5, Cooper Lake, Sapphire Rapids), which mk_sgemm_bf16 needs.
int mk_bf16_supported(void);

/// `x` rounded to bfloat16 (to nearest, ties to even; NaN stays NaN) and widened back: what mk_sgemm_bf16
/// multiplies.
float mk_bf16_round_float(float x);

/// mk_sgemm's contract with A and B rounded to bfloat16 (mk_bf16_round_float) and the products summed in
/// Float32 (pairs of consecutive k per step, in blocks of 512): the opt-in reduced-precision inference
/// path. Single-threaded, like mk_sgemm. Returns 0, or -1 when the CPU lacks AVX512-BF16 or scratch memory
/// cannot be had (C is then unchanged).
int mk_sgemm_bf16(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                  const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                  float beta, float *C, ptrdiff_t ldc);

/// 32-bit words of op(B) (k×n) packed for mk_sgemm_bf16_packed.
size_t mk_bf16_packed_b_words(ptrdiff_t n, ptrdiff_t k);

/// Packs the panels [first_panel, end_panel) of 32 columns of op(B) into `packed` (mk_bf16_packed_b_words
/// words, 64-byte aligned), so that threads can pack one B apart and share it; a no-op without AVX512-BF16.
void mk_bf16_pack_b(int transB, ptrdiff_t n, ptrdiff_t k, const float *B, ptrdiff_t ldb, uint32_t *packed,
                    ptrdiff_t first_panel, ptrdiff_t end_panel);

/// mk_sgemm_bf16 over a B packed by mk_bf16_pack_b (all of its panels): what each thread runs on its rows
/// of C when the threads split A. Same results as mk_sgemm_bf16, bit for bit.
int mk_sgemm_bf16_packed(int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                         ptrdiff_t lda, const uint32_t *packed_b, float beta, float *C, ptrdiff_t ldc);


// MARK: convolution (implicit GEMM)

/// One group of a 2-D convolution over NCHW tensors, as the kernels see it. `channels` and `out_channels`
/// are this group's; the planes of consecutive channels are contiguous (height·width floats apart, and
/// out_height·out_width in the output), consecutive images `in_image_stride` / `out_image_stride` floats
/// apart. The weight is [out_channels, channels·kernel_h·kernel_w] row-major (OIHW), the column matrix's
/// rows are (channel, kh, kw) in that order, and its columns are the output pixels of all images,
/// counted q = image·out_height·out_width + oh·out_width + ow.
typedef struct {
    ptrdiff_t batch, channels, height, width;
    ptrdiff_t out_channels, out_height, out_width;
    ptrdiff_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    ptrdiff_t in_image_stride, out_image_stride;
} mk_conv_shape;

/// Every conv entry point takes the kernel path `isa` explicitly (read mk_isa_active() once per op), so
/// that operands packed for one path are never used by another; a path this CPU lacks falls back as usual.
/// Rows of a packed panel for that path (the micro-kernel's MR).
ptrdiff_t mk_conv_panel_rows(int isa);
/// Floats of a packed m×k operand for the path: ceil(m / MR)·MR·k.
size_t mk_conv_packed_floats(int isa, ptrdiff_t m, ptrdiff_t k);
/// Packs panels [panel0, panel1) of op(W) (m×k; op(W) = W, or Wᵀ when trans, W row-major with row
/// stride ldw) for mk_conv_forward (W = the weight) or mk_conv_backward_input (Wᵀ). Disjoint panel
/// ranges may be packed by different threads.
void mk_conv_pack(int isa, int trans, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t ldw, ptrdiff_t panel0,
                  ptrdiff_t panel1, float *packed);
/// y = W ⋆ x (+ bias) for output pixels q0 ≤ q < q1 (see mk_conv_shape) and all the group's output
/// channels. `packed` is the weight packed by mk_conv_pack(isa, 0, out_channels, channels·kh·kw, …);
/// bias may be NULL. Each output element's value does not depend on q0, q1 (any split across threads
/// gives the same bits). Sums over k in blocks as mk_sgemm does.
void mk_conv_forward(int isa, const mk_conv_shape *shape, const float *packed, const float *bias, const float *x,
                     float *y, ptrdiff_t q0, ptrdiff_t q1);
/// dx = col2im(Wᵀ·dy) for images [n0, n1) and input channels [c0, c1) of the group: overwrites that part
/// of dx. `packed` is Wᵀ packed by mk_conv_pack(isa, 1, channels·kh·kw, out_channels, …). Each element
/// gathers its terms in the same order whatever the split of images and channels across calls.
void mk_conv_backward_input(int isa, const mk_conv_shape *shape, const float *packed, const float *dy, float *dx,
                            ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t c0, ptrdiff_t c1);
/// dw[:, k0..<k1] = dy · colsᵀ over output pixels [q0, q1) (columns k0 ≤ j < k1 of the group's
/// [out_channels, channels·kh·kw] weight gradient, row stride ldw; overwritten): the sum over the pixels
/// runs in blocks of 256 from q0. The result does not depend on k0, k1; callers that split the pixels
/// (at multiples of 256 from 0) add the partial sums in a fixed order.
void mk_conv_backward_weight(int isa, const mk_conv_shape *shape, const float *x, const float *dy, float *dw,
                             ptrdiff_t ldw, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t q0, ptrdiff_t q1);

// MARK: Winograd convolution (3×3, stride 1)

// The Winograd F(2×2, 3×3) algorithm for one group of a 3×3 convolution at stride 1 and dilation 1 (any
// padding; `shape` as for mk_conv_*): each 2×2 output tile is Aᵀ [Σ over channels of U ⊙ V] A, with
// U = G g Gᵀ per (output, input) channel pair and V = Bᵀ d B per input channel and 4×4 input patch, so
// that the bulk of the work is 16 GEMMs on the path's SGEMM micro-kernel with 2.25× fewer multiply-adds
// than the direct sum. It rounds differently from mk_conv_forward (errors of a few 1e-7 of the output's
// scale, about twice as large), but its result depends only on the shape and the path: not on how tiles
// are split across calls, and the AVX2 and AVX-512 paths agree bit for bit. Entry points take the path as
// the mk_conv_* ones do. Scratch: the per-thread workspace holds one block of transformed tiles (about 512 KB;
// up to 8 MB with hundreds of channels) and a few padded input rows.

/// 1 when the path serving `isa` has the Winograd kernels (every x86-64 path; not arm64's portable one).
int mk_winograd_supported(int isa);
/// Floats of a transformed weight for m output and k input channels on the path: 16·(ceil(m / MR)·MR·k
/// + 16) (consecutive ξ are 16 floats further apart than they need to be, so as not to share cache sets).
size_t mk_winograd_weight_floats(int isa, ptrdiff_t m, ptrdiff_t k);
/// Transforms the 3×3 kernels g(o, c) of output channels in panels [panel0, panel1) (MR channels each,
/// see mk_conv_panel_rows; rows past m are zeroed) into u, laid out for mk_winograd_forward (U[ξ], ξ < 16,
/// each the panels of a packed m×k operand). flipped = 0: w is the [m, k, 3, 3] weight and g(o, c) =
/// w[o, c]; flipped = 1: w is a [k, m, 3, 3] weight and g(o, c) = w[c, o] rotated by 180°, which makes the
/// input gradient of that weight's convolution (stride 1, padding p ≤ 2) a forward pass over dy with
/// padding 2 − p. Disjoint panel ranges may be transformed by different threads.
void mk_winograd_weight(int isa, int flipped, ptrdiff_t m, ptrdiff_t k, const float *w, ptrdiff_t panel0,
                        ptrdiff_t panel1, float *u);
/// 2×2 output tiles of the convolution: batch·ceil(out_height / 2)·ceil(out_width / 2), numbered image by
/// image, row by row.
ptrdiff_t mk_winograd_tiles(const mk_conv_shape *shape);
/// y = W ⋆ x (+ bias) over output tiles [t0, t1) and all the group's output channels (overwritten), with
/// u from mk_winograd_weight(isa, …, out_channels, channels, …) over all panels; bias may be NULL.
/// Requires kernel 3×3, stride 1, dilation 1.
void mk_winograd_forward(int isa, const mk_conv_shape *shape, const float *u, const float *bias, const float *x,
                         float *y, ptrdiff_t t0, ptrdiff_t t1);

// MARK: depthwise convolution

/// Depthwise convolution: groups == channels, out_channels = channels·multiplier, output channel o reading
/// input channel o / multiplier; `shape` as for mk_conv_* but with all channels (not one group's), the
/// weight [out_channels, 1, kernel_h, kernel_w]. Any kernel size, stride, padding and dilation. Work is in
/// units of (image, input channel) planes, u = image·channels + c; each output element is computed by one
/// unit, the same whatever the split. Runs the active path.
/// y for units [unit0, unit1): the `multiplier` output planes of each unit; bias may be NULL.
void mk_depthwise_forward(const mk_conv_shape *shape, const float *x, const float *w, const float *bias, float *y,
                          ptrdiff_t unit0, ptrdiff_t unit1);
/// dx for units [unit0, unit1) (overwritten).
void mk_depthwise_backward_input(const mk_conv_shape *shape, const float *dy, const float *w, float *dx,
                                 ptrdiff_t unit0, ptrdiff_t unit1);
/// dw[o] for output channels o0 ≤ o < o1 (overwritten), summed over all images: lane sums within an image
/// in Float32, images in Float64.
void mk_depthwise_backward_weight(const mk_conv_shape *shape, const float *x, const float *dy, float *dw,
                                  ptrdiff_t o0, ptrdiff_t o1);

// MARK: pooling

/// The windows of a 2-D pooling op over planes of height × width: output (i, j) reads input rows
/// row_start[i], row_start[i] + row_step, … below row_end[i], and likewise columns (bounds already clipped
/// to the plane; an empty range is an empty window). Planes are contiguous, out_height × out_width floats
/// per output plane.
/// When the column windows slide regularly — output j starting at column j·col_stride − col_pad, with
/// col_kernel taps col_step apart — col_kernel > 0 says so and the kernels vectorise along the rows;
/// col_kernel = 0 (adaptive windows) means only the bounds above describe the windows.
typedef struct {
    ptrdiff_t height, width, out_height, out_width;
    const ptrdiff_t *row_start, *row_end, *col_start, *col_end;
    ptrdiff_t row_step, col_step;
    ptrdiff_t col_kernel, col_stride, col_pad;
} mk_pool_windows;

/// Max pooling of planes [plane0, plane1): the maximum of each window and its flat index h·width + w in
/// the plane, the first in row-major order (a NaN wins, the last NaN as in PyTorch; an empty window
/// gives -∞ at its first position). `indices` may be NULL: the values alone, a faster pass.
void mk_maxpool_forward(const mk_pool_windows *windows, const float *x, float *y, int64_t *indices, ptrdiff_t plane0,
                        ptrdiff_t plane1);
/// dx (overwritten, planes [plane0, plane1)) = dy scattered to `indices`.
void mk_maxpool_backward(const mk_pool_windows *windows, const float *dy, const int64_t *indices, float *dx,
                         ptrdiff_t plane0, ptrdiff_t plane1);
/// Average pooling: each window's sum (row sums, then down the rows) divided by divisors[i·out_width + j].
void mk_avgpool_forward(const mk_pool_windows *windows, const float *divisors, const float *x, float *y,
                        ptrdiff_t plane0, ptrdiff_t plane1);
/// dx (overwritten) = Σ over the windows covering each element of dy / divisor.
void mk_avgpool_backward(const mk_pool_windows *windows, const float *divisors, const float *dy, float *dx,
                         ptrdiff_t plane0, ptrdiff_t plane1);

// MARK: batch normalisation

/// Training-mode batch norm of channels [c0, c1) of an NCHW tensor (batch × channels planes of `plane`
/// floats): per channel the mean μ and biased variance σ² over images and pixels (two passes; Float32 lane
/// sums over blocks of 4096, added in Float64), inv_std = 1/√(σ² + eps), xhat = (x − μ)·inv_std (skipped
/// when NULL) and y = xhat·gamma + beta (gamma, beta may be NULL: 1 and 0). mean, variance, inv_std are
/// per channel. Every path computes the same bits.
void mk_batchnorm_forward(const float *x, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane, float eps,
                          const float *gamma, const float *beta, float *y, float *xhat, float *mean, float *variance,
                          float *inv_std, ptrdiff_t c0, ptrdiff_t c1);
/// Its backward pass for channels [c0, c1): dgamma = Σ dy·xhat, dbeta = Σ dy, and
/// dx = gamma·inv_std·(dy − Σdy/N − xhat·Σ(dy·xhat)/N). dx, dgamma, dbeta may be NULL.
void mk_batchnorm_backward(const float *dy, const float *xhat, ptrdiff_t batch, ptrdiff_t channels, ptrdiff_t plane,
                           const float *gamma, const float *inv_std, float *dx, float *dgamma, float *dbeta, ptrdiff_t c0,
                           ptrdiff_t c1);

/// Layer norm over the last axis of a rows × n row-major matrix, rows [r0, r1): per row μ and the biased
/// variance σ² (two passes, summed as mk_batchnorm_forward sums a plane), inv_std = 1/√(σ² + eps), and
/// y = (x − μ)·inv_std·gamma + beta (gamma, beta may be NULL: 1 and 0; beta is used only with gamma).
/// mean and inv_std are per row. Every path computes the same bits.
void mk_layernorm_forward(const float *x, ptrdiff_t n, float eps, const float *gamma, const float *beta, float *y,
                          float *mean, float *inv_std, ptrdiff_t r0, ptrdiff_t r1);
/// Its backward pass for rows [r0, r1): xhat = (x − μ)·inv_std, g = dy·gamma, and
/// dx = inv_std·(g − Σg/n − xhat·Σ(g·xhat)/n). The caller sums dgamma = Σ dy·xhat and dbeta = Σ dy over rows.
void mk_layernorm_backward(const float *dy, const float *x, ptrdiff_t n, const float *gamma, const float *mean,
                           const float *inv_std, float *dx, float *xhat, ptrdiff_t r0, ptrdiff_t r1);

#ifdef __cplusplus
}
#endif
#endif
