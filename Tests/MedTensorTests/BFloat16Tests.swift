import CMedKernels
import MedTestSupport
import Testing
@testable import MedTensor

/// The opt-in BF16 matrix products (``Precision/bfloat16``) on CPUs with AVX512-BF16; skipped elsewhere.
@Suite(.enabled(if: GEMM.bfloat16Supported, "this CPU has no AVX512-BF16"))
struct BFloat16Tests {
    @Test func roundingIsToNearestEvenAndKeepsSpecials() {
        #expect(mk_bf16_round_float(1 + 1.0 / 256) == 1)  // a tie: to the even mantissa
        #expect(mk_bf16_round_float(1 + 3.0 / 256) == 1 + 4.0 / 256)  // a tie: to the even mantissa, upwards
        #expect(mk_bf16_round_float(1 + 1.5 / 256) == 1 + 2.0 / 256)
        #expect(mk_bf16_round_float(.infinity) == .infinity && mk_bf16_round_float(-.infinity) == -.infinity)
        #expect(mk_bf16_round_float(Float(bitPattern: 0x7f80_0001)).isNaN)  // a NaN whose payload would round away
        #expect(mk_bf16_round_float(.greatestFiniteMagnitude) == .infinity)  // beyond bfloat16's largest finite
        #expect(mk_bf16_round_float(-1e-39).sign == .minus && mk_bf16_round_float(-1e-39) == 0)  // subnormal: flushed
    }

    /// The product of the bf16-rounded operands summed in Float64, against the BF16 path through the
    /// library's entry point (threads, all four transpositions, k across two 512-step blocks, alpha, beta), with
    /// the threads splitting C's columns (n ≥ m) and its rows over one shared packed B (m > n).
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)], [(45, 77, 1_031), (301, 45, 1_031)])
    func gemmEqualsTheProductOfRoundedOperands(_ transposes: (Bool, Bool), _ shape: (Int, Int, Int)) {
        let (transA, transB) = transposes
        let (m, n, k) = shape
        var generator = RandomGenerator(seed: 5)
        let a = (0..<(m * k)).map { _ in generator.nextFloat() * 2 - 1 }
        let b = (0..<(k * n)).map { _ in generator.nextFloat() * 2 - 1 }
        let start = (0..<(m * n)).map { _ in generator.nextFloat() }
        var c = start
        GEMM.$precision.withValue(.bfloat16) {
            GEMM.multiply(transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transA ? m : k,
                          b: b, ldb: transB ? k : n, beta: 0.25, c: &c, ldc: n)
        }
        var exact = start
        GEMM.multiply(transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transA ? m : k,
                      b: b, ldb: transB ? k : n, beta: 0.25, c: &exact, ldc: n)
        var worstRounded = 0.0, worstExact = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, scale = 0.0
                for p in 0..<k {
                    let x = Double(mk_bf16_round_float(transA ? a[p * m + i] : a[i * k + p]))
                    let y = Double(mk_bf16_round_float(transB ? b[j * k + p] : b[p * n + j]))
                    sum += x * y
                    scale += Swift.abs(x * y)
                }
                let want = 0.5 * sum + 0.25 * Double(start[i * n + j])
                worstRounded = Swift.max(worstRounded, Swift.abs(Double(c[i * n + j]) - want) / scale)
                worstExact = Swift.max(worstExact, Swift.abs(Double(c[i * n + j]) - Double(exact[i * n + j])) / scale)
            }
        }
        // Float32 sums of k products: a few 1e-7 of Σ|a·b|. Against the Float32 path: bf16's rounding, ~1e-3.
        #expect(worstRounded < 2e-6, "against the rounded operands: \(worstRounded)")
        #expect(worstExact > 1e-5 && worstExact < 1e-2, "against Float32: \(worstExact) (the path must really round)")
    }

    /// Many small products (a batched matmul, as attention heads are) run one per thread on Dispatch's
    /// threads, where a task-local setting does not follow by itself: every item must still be the BF16
    /// product, whichever thread ran it.
    @Test func batchedProductsOnEveryThreadUseBFloat16() {
        let (batch, m, n, k) = (16, 9, 11, 64)
        var generator = RandomGenerator(seed: 8)
        let a = Tensor(shape: [batch, m, k], scalars: (0..<(batch * m * k)).map { _ in generator.nextFloat() * 2 - 1 })
        let b = Tensor(shape: [batch, k, n], scalars: (0..<(batch * k * n)).map { _ in generator.nextFloat() * 2 - 1 })
        let reduced = GEMM.$precision.withValue(.bfloat16) { a.matmul(b) }.scalars
        let (x, y) = (a.scalars, b.scalars)
        for item in 0..<batch {
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, scale = 0.0
                    for p in 0..<k {
                        let product = Double(mk_bf16_round_float(x[(item * m + i) * k + p]))
                            * Double(mk_bf16_round_float(y[(item * k + p) * n + j]))
                        sum += product
                        scale += Swift.abs(product)
                    }
                    worst = Swift.max(worst, Swift.abs(Double(reduced[(item * m + i) * n + j]) - sum) / scale)
                }
            }
            #expect(worst < 2e-6, "item \(item): \(worst) from the product of the rounded operands")
        }
    }
}
