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
        #if OpenBLAS
        if backend == .openBLAS {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        #endif
        let flops = 2 * m * n * max(k, 1)
        let threads = !parallel || flops < 2_000_000 ? 1 : Parallel.threadCount
        let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
        if threads == 1 {
            mk_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if n >= m {
            // Split the columns of C in multiples of 16 (one AVX-512 vector, two AVX2 vectors).
            let blocks = (n + 15) / 16
            Parallel.forEachRange(blocks, chunks: chunks(blocks, threads)) { range in
                let j0 = range.lowerBound * 16, j1 = min(n, range.upperBound * 16)
                let bStart = transposeB ? pb.pointer + j0 * ldb : pb.pointer + j0
                mk_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, j1 - j0, k, alpha, pa.pointer, lda,
                         bStart, ldb, beta, pc.pointer + j0, ldc)
            }
        } else {
            let blocks = (m + 7) / 8
            Parallel.forEachRange(blocks, chunks: chunks(blocks, threads)) { range in
                let i0 = range.lowerBound * 8, i1 = min(m, range.upperBound * 8)
                let aStart = transposeA ? pa.pointer + i0 : pa.pointer + i0 * lda
                mk_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, i1 - i0, n, k, alpha, aStart, lda,
                         pb.pointer, ldb, beta, pc.pointer + i0 * ldc, ldc)
            }
        }
    }

    /// Slabs for `threads` threads: four per thread (at least 4 blocks each), claimed as threads free up, so a
    /// thread slowed by another process on its core does not hold the others back (a static split into one slab
    /// per thread ran at the speed of the slowest). Each element's arithmetic does not depend on the slab.
    private static func chunks(_ blocks: Int, _ threads: Int) -> Int {
        Swift.max(threads, Swift.min(4 * threads, blocks / 4))
    }
}
