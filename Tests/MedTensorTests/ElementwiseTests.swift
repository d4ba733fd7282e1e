import Foundation
import MedTestSupport
import Testing
@testable import MedTensor

@Suite struct ElementwiseTests {
    let x = Tensor([-3, -1.5, -0.25, 0, 0.3, 1, 2.5, 6])

    /// Each unary op against a Float64 reference.
    @Test(arguments: ["exp", "tanh", "sigmoid", "erf", "relu", "gelu", "gelu_tanh", "silu", "abs", "neg", "square",
                      "clamp", "affine", "sin", "cos"])
    func unaryMatchesReference(name: String) {
        let (op, reference): ((Tensor) -> Tensor, (Double) -> Double) = switch name {
        case "exp": ({ $0.exp() }, { Foundation.exp($0) })
        case "tanh": ({ $0.tanh() }, { Foundation.tanh($0) })
        case "sigmoid": ({ $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) })
        case "erf": ({ $0.erf() }, { Foundation.erf($0) })
        case "relu": ({ $0.relu() }, { Swift.max($0, 0) })
        case "gelu": ({ $0.gelu() }, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) })
        case "gelu_tanh": ({ $0.gelu(approximateTanh: true) },
                           { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) })
        case "silu": ({ $0.silu() }, { $0 / (1 + Foundation.exp(-$0)) })
        case "abs": ({ $0.abs() }, { Swift.abs($0) })
        case "neg": ({ -$0 }, { -$0 })
        case "square": ({ $0.square() }, { $0 * $0 })
        case "clamp": ({ $0.clamped(min: -1, max: 2) }, { Swift.min(Swift.max($0, -1), 2) })
        case "affine": ({ $0 * 3 + 1 }, { $0 * 3 + 1 })
        case "sin": ({ $0.sin() }, { Foundation.sin($0) })
        default: ({ $0.cos() }, { Foundation.cos($0) })
        }
        let got = op(x).scalars
        for (value, result) in zip(x.scalars, got) {
            let expected = reference(Double(value))
            #expect(Swift.abs(Double(result) - expected) <= 2e-6 * Swift.max(1, Swift.abs(expected)), "\(name)(\(value)) = \(result), expected \(expected)")
        }
    }

    @Test func positiveDomainOps() {
        let p = Tensor([0.01, 0.5, 1, 4, 100])
        #expect(relativeError(p.log().scalars, p.scalars.map { Foundation.log($0) }) < 1e-6)
        #expect(relativeError(p.sqrt().scalars, p.scalars.map { $0.squareRoot() }) < 1e-6)
        #expect(relativeError(p.rsqrt().scalars, p.scalars.map { 1 / $0.squareRoot() }) < 1e-6)
        #expect(relativeError(p.pow(1.5).scalars, p.scalars.map { Foundation.pow($0, 1.5) }) < 1e-6)
        #expect(relativeError(p.reciprocal().scalars, p.scalars.map { 1 / $0 }) < 1e-6)
    }

    @Test func broadcastingArithmetic() {
        let a = Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [4, 1], scalars: [10, 20, 30, 40])
        let sum = a + b
        #expect(sum.shape == [2, 4, 3])
        #expect(sum[1, 2, 0] == 34)
        #expect((a - b)[0, 3, 2] == -37)
        #expect((a * b)[1, 0, 1] == 50)
        #expect((b / a)[0, 1, 1] == 10)
        // A transposed (strided) operand.
        let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect((m.transposed() + Tensor([100, 200])).scalars == [101, 204, 102, 205, 103, 206])
    }

    @Test func largeBroadcastUsesThreadsAndMatchesScalarLoop() {
        let a = randomTensor([64, 300, 7])
        let b = randomTensor([300, 1], seed: 3)
        let got = (a * b).scalars
        let av = a.scalars, bv = b.scalars
        var expected = [Float](repeating: 0, count: av.count)
        for i in 0..<64 { for j in 0..<300 { for k in 0..<7 { expected[(i * 300 + j) * 7 + k] = av[(i * 300 + j) * 7 + k] * bv[j] } } }
        #expect(got == expected)
    }

    /// Few long runs are cut into pieces for the threads: one contiguous run (200,003 elements), three
    /// strided runs (a transposed operand), `where` and `assign`, each equal to the scalar loop.
    @Test func longRunsSplitAcrossThreadsMatchScalarLoop() {
        let a = randomTensor([200_003]), b = randomTensor([200_003], seed: 4)
        let (av, bv) = (a.scalars, b.scalars)
        #expect((a - b).scalars == zip(av, bv).map { $0 - $1 })
        #expect(Tensor.where(a.gt(0), a, b).scalars == zip(av, bv).map { $0 > 0 ? $0 : $1 })
        let target = Tensor.zeros([200_003])
        target.assign(a)
        #expect(target.scalars == av)
        let m = randomTensor([70_001, 3], seed: 5), mv = m.scalars
        let t = m.transposed() + Tensor([1, 2, 3]).reshaped([3, 1])
        var expected = [Float](repeating: 0, count: mv.count)
        for j in 0..<3 { for i in 0..<70_001 { expected[j * 70_001 + i] = mv[i * 3 + j] + Float(j + 1) } }
        #expect(t.scalars == expected)
    }

    @Test func maximumMinimumPropagateNaN() {
        let a = Tensor([1, .nan, 3]), b = Tensor([2, 0, .nan])
        let maxima = a.maximum(b).scalars, minima = a.minimum(b).scalars
        #expect(maxima[0] == 2 && maxima[1].isNaN && maxima[2].isNaN)
        #expect(minima[0] == 1 && minima[1].isNaN && minima[2].isNaN)
    }

    @Test func comparisonsAndWhere() {
        let a = Tensor([1, 2, 3]), b = Tensor([3, 2, 1])
        #expect(a.lt(b).scalars == [1, 0, 0])
        #expect(a.le(b).scalars == [1, 1, 0])
        #expect(a.eq(b).scalars == [0, 1, 0])
        #expect(a.ne(b).scalars == [1, 0, 1])
        #expect(a.gt(2).scalars == [0, 0, 1])
        #expect(a.ge(2).scalars == [0, 1, 1])
        #expect(Tensor.where(a.gt(1), a, Tensor(-1)).scalars == [-1, 2, 3])
        // where keeps infinities and NaN on the unselected side out of the result.
        #expect(Tensor.where(Tensor([1, 0]), Tensor([5, .infinity]), Tensor([.nan, 7])).scalars == [5, 7])
    }

    @Test func poweredTensors() {
        let base = Tensor([2, 3, 0.5]), exponent = Tensor([3, 0.5, -1])
        #expect(relativeError(base.pow(exponent).scalars, [8, Float(3).squareRoot(), 2]) < 1e-6)
    }
}
