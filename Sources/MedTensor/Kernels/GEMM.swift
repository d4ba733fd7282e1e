import CMedKernels
#if OpenBLAS
import COpenBLAS
#endif

/// The library's one matrix-multiply entry point: every matmul, linear layer and convolution goes
/// through ``GEMM/multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
public enum GEMM {
    /// Which implementation runs: the library's own kernels (default) or OpenBLAS (the `OpenBLAS` trait).
    public enum Backend: String, Sendable { case native, openBLAS }

    #if OpenBLAS
    public nonisolated(unsafe) static var backend: Backend = .openBLAS
    #else
    public static var backend: Backend { .native }
    #endif

    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices; op(X) = Xᵀ when its flag is set.
    /// op(A) is m×k, op(B) is k×n; lda, ldb, ldc are row strides. With beta = 0, C is not read.
    /// Multithreaded over ``Parallel/threadCount`` unless `parallel` is false (each element of C is computed
    /// by one thread, so the result does not depend on the split).
    public static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
        guard m > 0, n > 0 else { return }
        let reduced = precision == .bfloat16 && bfloat16Supported
        #if OpenBLAS
        // OpenBLAS has no BF16 products: a task that asked for them gets the library's own kernels.
        if backend == .openBLAS && !reduced {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        #endif
        let flops = 2 * m * n * max(k, 1)
        let threads = !parallel || flops < 2_000_000 ? 1 : Parallel.threadCount
        let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
        // One single-threaded call on a block of C, through the kernels `precision` asks for.
        func multiplyBlock(_ ta: Int32, _ tb: Int32, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>,
                      _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>,
                      _ ldc: Int) {
            if reduced, CMedKernels.mk_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0 { return }
            CMedKernels.mk_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
        if threads == 1 {
            multiplyBlock(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if n >= m {
            // Split the columns of C in multiples of 16 (one AVX-512 vector, two AVX2 vectors).
            let blocks = (n + 15) / 16
            Parallel.forEachRange(blocks, chunks: chunks(blocks, threads)) { range in
                let j0 = range.lowerBound * 16, j1 = min(n, range.upperBound * 16)
                let bStart = transposeB ? pb.pointer + j0 * ldb : pb.pointer + j0
                multiplyBlock(transposeA ? 1 : 0, transposeB ? 1 : 0, m, j1 - j0, k, alpha, pa.pointer, lda,
                         bStart, ldb, beta, pc.pointer + j0, ldc)
            }
        } else {
            // Rows of C apart. In BF16 one B is packed once (the threads share its panels), not once per thread.
            var packed: SendablePointer<UInt32>? = nil
            if reduced {
                let words = mk_bf16_packed_b_words(n, k), panels = (n + 31) / 32
                // 64-byte aligned: the BF16 micro-kernel's loads of B are aligned ones.
                let buffer = SendablePointer(UnsafeMutableRawPointer.allocate(byteCount: words * 4, alignment: 64)
                    .bindMemory(to: UInt32.self, capacity: words))
                Parallel.forEachRange(panels, chunks: Swift.min(panels, threads)) { range in
                    mk_bf16_pack_b(transposeB ? 1 : 0, n, k, pb.pointer, ldb, buffer.pointer, range.lowerBound, range.upperBound)
                }
                packed = buffer
            }
            defer { packed?.pointer.deallocate() }
            let blocks = (m + 7) / 8
            Parallel.forEachRange(blocks, chunks: chunks(blocks, threads)) { [packed] range in
                let i0 = range.lowerBound * 8, i1 = min(m, range.upperBound * 8)
                let aStart = transposeA ? pa.pointer + i0 : pa.pointer + i0 * lda
                if let packed, mk_sgemm_bf16_packed(transposeA ? 1 : 0, i1 - i0, n, k, alpha, aStart, lda, packed.pointer,
                                                    beta, pc.pointer + i0 * ldc, ldc) == 0 { return }
                multiplyBlock(transposeA ? 1 : 0, transposeB ? 1 : 0, i1 - i0, n, k, alpha, aStart, lda,
                         pb.pointer, ldb, beta, pc.pointer + i0 * ldc, ldc)
            }
        }
    }

    /// The arithmetic of ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)`` in this
    /// task: `.float32` (the default, exact and deterministic), or `.bfloat16`, the opt-in inference mode
    /// (``Precision``). Set it for a scope with `GEMM.$precision.withValue(.bfloat16) { … }`.
    @TaskLocal public static var precision: Precision = .float32

    /// Whether this CPU runs the BF16 kernels (AVX512-BF16). Elsewhere `.bfloat16` computes in Float32.
    public static let bfloat16Supported = mk_bf16_supported() != 0

    /// Slabs for `threads` threads: four per thread (at least 4 blocks each), claimed as threads free up, so a
    /// thread slowed by another process on its core does not hold the others back (a static split into one slab
    /// per thread ran at the speed of the slowest). Each element's arithmetic does not depend on the slab.
    private static func chunks(_ blocks: Int, _ threads: Int) -> Int {
        Swift.max(threads, Swift.min(4 * threads, blocks / 4))
    }
}

/// How matrix products round their inputs.
///
/// `.bfloat16` rounds both operands of every matrix product (linear layers, matmul, the fused attention's
/// q·kᵀ and p·v) to bfloat16 — 8 bits of mantissa — and sums the products in Float32, which doubles the
/// multiply-adds per instruction on CPUs with AVX512-BF16. It is meant for inference (predict, features, kNN,
/// evaluation): outputs move by about 1e-2 relative, so it is never the default and never used for training.
/// Convolutions, softmax, normalisation and everything elementwise stay Float32 in both modes. The setting
/// follows work onto ``Parallel``'s threads.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case float32
    case bfloat16
}
