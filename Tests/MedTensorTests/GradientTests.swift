import MedTestSupport
import Testing
@testable import MedTensor

/// Finite-difference checks of every differentiable op in MedTensor (conv and pooling have their own
/// files). Tolerance: `GradientCheck`'s default, 5e-3 of max(1, largest gradient), unless stated.
@Suite struct GradientTests {
    let check = GradientCheck()
    let a = randomTensor([3, 4], seed: 1)
    let b = randomTensor([3, 4], seed: 2)
    let row = randomTensor([1, 4], seed: 3)
    let positive = randomTensor([3, 4], low: 0.5, high: 2, seed: 4)
    /// Values at least 0.1 away from 0, for ops with a kink there.
    let awayFromZero = Tensor(shape: [3, 4], scalars: [-1.2, -0.7, -0.3, -0.15, 0.12, 0.4, 0.9, 1.3, -2, 2, 0.6, -0.5])

    @Test func arithmeticWithBroadcasting() {
        check.run([a, row]) { $0[0] + $0[1] }
        check.run([a, row]) { $0[0] - $0[1] }
        check.run([a, row]) { $0[0] * $0[1] }
        check.run([a, positive]) { $0[0] / $0[1] }
        check.run([row, a]) { $0[0] / ($0[1].square() + 1) }
        check.run([a]) { -$0[0] * 2.5 + 1 }
        check.run([a]) { 3 - $0[0] / 4 }
        check.run([positive]) { 2 / $0[0] }
        check.run([positive]) { $0[0].reciprocal() }
        check.run([a]) { $0[0].square() }
    }

    @Test func powers() {
        check.run([positive, a]) { $0[0].pow($0[1]) }
        check.run([positive]) { $0[0].pow(2.5) }
        check.run([a]) { $0[0].pow(2) }
        check.run([positive]) { $0[0].pow(Tensor(1.7)) }
    }

    @Test func unaryFunctions() {
        check.run([a]) { $0[0].exp() }
        check.run([positive]) { $0[0].log() }
        check.run([positive]) { $0[0].sqrt() }
        check.run([positive]) { $0[0].rsqrt() }
        check.run([a]) { $0[0].tanh() }
        check.run([a]) { $0[0].sigmoid() }
        check.run([a]) { $0[0].erf() }
        check.run([a]) { $0[0].gelu() }
        check.run([a]) { $0[0].gelu(approximateTanh: true) }
        check.run([a]) { $0[0].silu() }
        check.run([a]) { $0[0].sin() }
        check.run([a]) { $0[0].cos() }
    }

    @Test func piecewiseFunctionsAwayFromKinks() {
        check.run([awayFromZero]) { $0[0].relu() }
        check.run([awayFromZero]) { $0[0].abs() }
        check.run([awayFromZero]) { $0[0].clamped(min: -0.6, max: 0.5) }
        check.run([awayFromZero, a * 0.01]) { $0[0].maximum($0[1]) }
        check.run([awayFromZero, a * 0.01]) { $0[0].minimum($0[1]) }
        check.run([a, b]) { Tensor.where(awayFromZero.gt(0), $0[0], $0[1]) }
    }

    @Test func tiesSplitTheGradientOfMaximum() {
        let x = Tensor([1, 2]).requiringGrad(), y = Tensor([1, 3]).requiringGrad()
        x.maximum(y).sum().backward()
        #expect(x.grad?.scalars == [0.5, 0])
        #expect(y.grad?.scalars == [0.5, 1])
    }

    @Test func reductions() {
        let t = randomTensor([2, 3, 4], seed: 9)
        check.run([t]) { $0[0].sum() }
        check.run([t]) { $0[0].sum(axes: [0, 2]) }
        check.run([t]) { $0[0].sum(axis: 1, keepDims: true) }
        check.run([t]) { $0[0].mean(axes: [1]) }
        check.run([t]) { $0[0].mean() }
        check.run([t]) { $0[0].variance(axes: [0, 2]) }
        check.run([t]) { $0[0].variance(axis: -1, correction: 0, keepDims: true) }
        check.run([t]) { $0[0].max(axis: 1).values }
        check.run([t]) { $0[0].min(axis: 2, keepDims: true).values }
        check.run([t]) { $0[0].max() }
        check.run([t]) { $0[0].logsumexp(axes: [1, 2]) }
        check.run([t]) { $0[0].logsumexp(axis: 0, keepDims: true) }
        check.run([t]) { $0[0].softmax(axis: -1) }
        check.run([t]) { $0[0].softmax(axis: 1) }
        check.run([t]) { $0[0].logSoftmax(axis: -1) }
        check.run([t]) { $0[0].logSoftmax(axis: 0) }
    }

    @Test func matrixProducts() {
        let m = randomTensor([3, 5], seed: 11), n = randomTensor([5, 2], seed: 12)
        check.run([m, n]) { $0[0].matmul($0[1]) }
        // Transposed views become GEMM flags.
        check.run([m, n]) { $0[1].transposed().matmul($0[0].transposed()) }
        // Batched with broadcasting batch axes.
        let batched = randomTensor([2, 1, 3, 5], seed: 13), other = randomTensor([4, 5, 2], seed: 14)
        check.run([batched, other]) { $0[0].matmul($0[1]) }
        // Vector operands.
        let v = randomTensor([5], seed: 15)
        check.run([m, v]) { $0[0].matmul($0[1]) }
        check.run([v, n]) { $0[0].matmul($0[1]) }
        check.run([v, v]) { $0[0].matmul($0[1] * 2) }
    }

    /// The fused linear op (bias added in the GEMM's store): tokens × features input, a transposed (strided)
    /// input, a vector input, and its forward pass against matmul + bias.
    @Test func linearWithFusedBias() {
        let x = randomTensor([2, 3, 5], seed: 16), w = randomTensor([4, 5], seed: 17), bias = randomTensor([4], seed: 18)
        check.run([x, w, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        check.run([randomTensor([5, 3], seed: 19), w, bias]) { $0[0].transposed().linear(weight: $0[1], bias: $0[2]) }
        check.run([randomTensor([5], seed: 20), w, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        #expect(x.linear(weight: w, bias: bias).scalars == (x.matmul(w.transposed()) + bias).scalars)
        let wide = randomTensor([7, 300], seed: 21), wideW = randomTensor([6, 300], seed: 22)
        // Past 256 features the GEMM sums in blocks, the bias joining the first: rounding only.
        #expect(relativeError(wide.linear(weight: wideW, bias: Tensor.ones([6])), wide.matmul(wideW.transposed()) + 1) < 1e-6)
    }

    @Test func viewsAndShapeOps() {
        let t = randomTensor([2, 3, 4], seed: 21)
        check.run([t]) { $0[0].reshaped([4, 6]) * Tensor.arange(0, 6) }
        check.run([t]) { $0[0].permuted(2, 0, 1).contiguous().reshaped([-1]) * Tensor.arange(0, 24) }
        check.run([t]) { $0[0].transposed(0, 2).reshaped([4, 6]) }
        check.run([t]) { $0[0].sliced(axis: 2, start: 1, end: 4, step: 2) }
        check.run([t]) { $0[0].narrowed(axis: 1, start: 1, length: 2).selected(axis: 0, index: 1) }
        check.run([randomTensor([3, 1], seed: 22)]) { $0[0].expanded(to: [2, 3, 4]) * t }
        check.run([t]) { $0[0].unsqueezed(axis: 1).squeezed(axis: 1).flattened(from: 1) }
        check.run([t, randomTensor([2, 2, 4], seed: 23)]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        check.run([t, randomTensor([2, 3, 4], seed: 24)]) { Tensor.stack([$0[0], $0[1]], axis: -1) }
        check.run([t]) { x in let parts = x[0].split(sizes: [1, 3], axis: 2); return parts[0] * parts[1] }
        check.run([t]) { x in let parts = x[0].chunked(2, axis: 1); return parts[0].sum() * parts[1].sum() }
        check.run([t]) { $0[0].indexSelect(axis: 1, indices: [2, 0, 2]) }
        check.run([t]) { $0[0].gather(axis: 2, index: IndexTensor(shape: [2, 3, 2], values: [0, 3, 1, 1, 2, 0, 3, 3, 0, 1, 2, 2])) }
        check.run([t]) { $0[0].padded([(0, 0), (1, 2), (3, 0)], value: 0.5) }
    }

    @Test func composedExpressionWithSharedInputs() {
        // Diamond: x feeds two branches that meet again.
        check.run([a, b]) { x in
            let h = (x[0].matmul(x[1].transposed())).tanh()
            return (h * h.sigmoid() + h.softmax(axis: 0)).logsumexp(axis: 1)
        }
    }
}
