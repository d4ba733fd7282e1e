import MedTestSupport
import Testing
@testable import MedTensor

@Suite struct MatmulTests {
    /// Naive Float64 product of row-major matrices.
    func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * m + i] : a[i * k + p]
                    let y = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(x) * Double(y)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    /// The GEMM entry point (whichever kernel path is active) against Float64 over random shapes,
    /// odd and tiny ones included, all four transposition cases, alpha/beta, padded leading dimensions.
    @Test func gemmMatchesFloat64Reference() {
        var generator = RandomGenerator(seed: 99)
        var shapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 5, 7), (1, 17, 3), (17, 1, 9), (6, 16, 1), (33, 47, 65), (64, 64, 64), (128, 96, 200)]
        for _ in 0..<40 { shapes.append((1 + generator.nextInt(below: 70), 1 + generator.nextInt(below: 70), 1 + generator.nextInt(below: 90))) }
        shapes.append((300, 260, 130)) // large enough to run on several threads
        for (index, (m, n, k)) in shapes.enumerated() {
            let transA = index % 2 == 1, transB = (index / 2) % 2 == 1
            let alpha: Float = index % 3 == 0 ? 1 : 0.5
            let beta: Float = index % 4 == 0 ? 0 : (index % 4 == 1 ? 1 : -0.75)
            let a = (0..<(m * k)).map { _ in generator.nextFloat() * 2 - 1 }
            let b = (0..<(k * n)).map { _ in generator.nextFloat() * 2 - 1 }
            let ldc = n + 3
            var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : generator.nextFloat() }
            let initial = c
            let expected = reference(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                GEMM.multiply(transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
                              a: pa.baseAddress!, lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n,
                              beta: beta, c: pc.baseAddress!, ldc: ldc)
            } } }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let want = Double(alpha) * expected[i * n + j] + (beta == 0 ? 0 : Double(beta) * Double(initial[i * ldc + j]))
                    worst = max(worst, abs(Double(c[i * ldc + j]) - want) / Double(k).squareRoot())
                }
                for j in n..<ldc { #expect(c[i * ldc + j].bitPattern == initial[i * ldc + j].bitPattern, "GEMM wrote outside C") }
            }
            #expect(worst < 1e-5, "m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB): error \(worst)")
        }
    }

    @Test func matmulShapesAndValues() {
        let a = Tensor([[1, 2], [3, 4], [5, 6]])
        let b = Tensor([[1, 0, 2], [0, 1, 3]])
        #expect(a.matmul(b).scalars == [1, 2, 8, 3, 4, 18, 5, 6, 28])
        #expect(a.matmul(Tensor([1, 1])).scalars == [3, 7, 11])
        #expect(Tensor([1, 1, 1]).matmul(a).scalars == [9, 12])
        #expect(Tensor([1, 2]).matmul(Tensor([3, 4])).item == 11)
        let batched = Tensor.stack([a, a * 2]).matmul(b)
        #expect(batched.shape == [2, 3, 3] && batched[1, 2, 2] == 56)
        // A transposed view and an expanded (stride-0) batch operand need no copy, and agree with a copy.
        let t = randomTensor([4, 6]).transposed()
        #expect(t.matmul(randomTensor([4, 5], seed: 2)).scalars == t.contiguous().matmul(randomTensor([4, 5], seed: 2)).scalars)
        let shared = randomTensor([3, 4], seed: 5)
        let many = randomTensor([7, 2, 3], seed: 6)
        let viaBroadcast = many.matmul(shared).scalars
        let viaCopy = many.matmul(shared.expanded(to: [7, 3, 4]).contiguous()).scalars
        #expect(viaBroadcast == viaCopy)
        // Rows broadcast with stride 0 (a matrix of identical rows) must not be read as overlapping rows.
        let rowsBroadcast = randomTensor([1, 4], seed: 8).expanded(to: [5, 4])
        #expect(rowsBroadcast.matmul(shared.transposed()).scalars == rowsBroadcast.contiguous().matmul(shared.transposed()).scalars)
    }
}
