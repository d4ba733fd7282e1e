import MedTestSupport
import CMedKernels
import Foundation
import Testing
@testable import MedTensor

/// The C kernels behind convolution, depthwise convolution, pooling and the vectorised elementwise math,
/// on whichever kernel path is active (CI runs the suite with MEDTENSOR_ISA = portable, avx2 and avx512),
/// against Float64 references.
@Suite struct KernelTests {
    // MARK: vectorised math

    /// Distance in units in the last place of the Float nearest `expected`.
    static func ulps(_ value: Float, _ expected: Double) -> Double {
        let rounded = Float(expected)
        if rounded.isInfinite { return value == rounded ? 0 : .infinity }
        let ulp = Double(rounded == 0 ? Float.leastNonzeroMagnitude : rounded.magnitude.ulp)
        return Swift.abs(Double(value) - expected) / ulp
    }

    /// Floats spread over the whole range: every 4099th bit pattern of the positive and negative halves.
    static let grid: [Float] = stride(from: UInt32(0), to: 0x7F80_0000, by: 4099).flatMap {
        [Float(bitPattern: $0), -Float(bitPattern: $0)]
    } + [0, -0.0, 1, -1, 0.5, 88.72, -88.72, 88.73, -103.9, -104, 3.92, 4, -4, 0.625, -0.625, 1e-30, -1e-30]

    @Test(arguments: ["exp", "tanh", "erf", "sigmoid"])
    func vectorMathIsAccurate(_ name: String) {
        let (op, reference, tolerance): ((Tensor) -> Tensor, (Double) -> Double, Double) = switch name {
        case "exp": ({ $0.exp() }, { Foundation.exp($0) }, 1.5)
        case "tanh": ({ $0.tanh() }, { Foundation.tanh($0) }, 2)
        case "erf": ({ $0.erf() }, { Foundation.erf($0) }, 2)
        default: ({ $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }, 2.5)
        }
        let x = Tensor(shape: [Self.grid.count], scalars: Self.grid)
        let y = withoutGrad { op(x) }.scalars
        var worst = 0.0, at: Float = 0
        for (value, result) in zip(Self.grid, y) {
            let error = Self.ulps(result, reference(Double(value)))
            if error > worst { (worst, at) = (error, value) }
        }
        #expect(worst <= tolerance, "\(name) on \(KernelPath.active): \(worst) ulp at x = \(at)")
    }

    @Test func vectorMathSpecialValues() {
        let x = Tensor([.infinity, -.infinity, .nan, 0, -0.0, 1000, -1000])
        let e = x.exp().scalars, t = x.tanh().scalars, r = x.erf().scalars, s = x.sigmoid().scalars
        #expect(e[0] == .infinity && e[1] == 0 && e[2].isNaN && e[3] == 1 && e[5] == .infinity && e[6] == 0)
        #expect(t[0] == 1 && t[1] == -1 && t[2].isNaN && t[4].sign == .minus && t[5] == 1 && t[6] == -1)
        #expect(r[0] == 1 && r[1] == -1 && r[2].isNaN && r[4].sign == .minus && r[5] == 1 && r[6] == -1)
        #expect(s[0] == 1 && s[1] == 0 && s[2].isNaN && s[3] == 0.5 && s[5] == 1 && s[6] == 0)
        // Subnormal results are kept, not flushed.
        #expect(Tensor([-100]).exp().item > 0 && Tensor([-100]).sigmoid().item > 0)
    }

    @Test func activationsMatchFloat64() {
        let values = stride(from: -12.0, through: 12.0, by: 0.0137).map { Float($0) }
        let x = Tensor(shape: [values.count], scalars: values)
        func check(_ got: Tensor, _ reference: (Double) -> Double, _ name: String) {
            var worst = 0.0
            for (v, g) in zip(values, got.scalars) {
                let want = reference(Double(v))
                worst = Swift.max(worst, Swift.abs(Double(g) - want) / Swift.max(1, Swift.abs(want)))
            }
            #expect(worst < 2e-6, "\(name): \(worst)")
        }
        let sqrt2 = 2.0.squareRoot()
        check(x.silu(), { $0 / (1 + Foundation.exp(-$0)) }, "silu")
        check(x.gelu(), { 0.5 * $0 * (1 + Foundation.erf($0 / sqrt2)) }, "gelu")
        check(x.gelu(approximateTanh: true), { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }, "gelu_tanh")
        check(x.mapped(MK_U_SILU_DERIV), { let s = 1 / (1 + Foundation.exp(-$0)); return s * (1 + $0 * (1 - s)) }, "silu'")
        check(x.mapped(MK_U_ERF_DERIV), { 2 / Double.pi.squareRoot() * Foundation.exp(-$0 * $0) }, "erf'")
        check(x.mapped(MK_U_GELU_ERF_DERIV),
              { 0.5 * (1 + Foundation.erf($0 / sqrt2)) + $0 * Foundation.exp(-0.5 * $0 * $0) / (2 * Double.pi).squareRoot() }, "gelu'")
        let rows = randomTensor([7, 300], low: -30, high: 30, seed: 4)
        let softmax = rows.softmax(axis: 1).scalars, input = rows.scalars
        var worst = 0.0
        for r in 0..<7 {
            let row = input[(r * 300)..<((r + 1) * 300)].map(Double.init)
            let peak = row.max()!, total = row.reduce(0) { $0 + Foundation.exp($1 - peak) }
            for (i, v) in row.enumerated() { worst = Swift.max(worst, Swift.abs(Double(softmax[r * 300 + i]) - Foundation.exp(v - peak) / total)) }
        }
        #expect(worst < 1e-6)
    }

    // MARK: convolution

    /// Shapes that reach every case of the implicit GEMM: panels within one output row, across rows and
    /// across images, edges, strides (gathered and strided packing), dilation, several k-blocks, more
    /// output channels than one A block, batch smaller than the thread count, groups, 1×1 at stride 1
    /// (one term per input: the stored col2im) and patchify.
    static let convCases: [ConvCase] = [
        ConvCase(n: 2, c: 8, h: 37, w: 41, o: 10, kernel: 3, padding: 1),
        ConvCase(n: 3, c: 5, h: 7, w: 7, o: 6, kernel: 3, padding: 1),
        ConvCase(n: 1, c: 6, h: 40, w: 47, o: 9, kernel: 3, stride: 2, padding: 1),
        ConvCase(n: 2, c: 3, h: 45, w: 45, o: 8, kernel: 7, stride: 2, padding: 3),
        ConvCase(n: 2, c: 4, h: 23, w: 29, o: 5, kernel: 3, padding: 2, dilation: 2),
        ConvCase(n: 1, c: 40, h: 9, w: 11, o: 7, kernel: 3, padding: 1),
        ConvCase(n: 2, c: 16, h: 6, w: 6, o: 300, kernel: 3, padding: 1, bias: false),
        ConvCase(n: 3, c: 70, h: 9, w: 10, o: 12, kernel: 1),
        ConvCase(n: 2, c: 3, h: 32, w: 48, o: 7, kernel: 8, stride: 8),
        ConvCase(n: 2, c: 12, h: 17, w: 19, o: 12, kernel: [3, 5], stride: [1, 3], padding: [1, 2], groups: 3),
        ConvCase(n: 1, c: 4, h: 5, w: 70, o: 5, kernel: [1, 5], padding: [0, 2]),
    ]

    @Test(arguments: convCases)
    func convolutionMatchesDirectLoops(_ config: ConvCase) {
        Self.expectMatchesDirectLoops(config, seed: 71)
    }

    /// Forward, dX, dW (and dB) of `config` against `ReferenceConv`'s direct loops.
    static func expectMatchesDirectLoops(_ config: ConvCase, seed: UInt64) {
        let (x, weight, bias) = ConvolutionTests.operands(config, seed: seed)
        let reference = ReferenceConv(config: config, x: x.scalars, weight: weight.scalars, bias: bias?.scalars)
        let (xg, wg) = (x.requiringGrad(), weight.requiringGrad())
        let bg = bias?.requiringGrad()
        let y = config.run(xg, wg, bg)
        #expect(referenceError(y.scalars, reference.forward()) < 1e-5)
        let gy = randomTensor(y.shape, seed: seed + 1)
        y.backward(gy)
        let expected = reference.backward(gy.scalars)
        #expect(referenceError(xg.grad!.scalars, expected.dx) < 1e-5)
        #expect(referenceError(wg.grad!.scalars, expected.dw) < 1e-5)
        if let bg { #expect(referenceError(bg.grad!.scalars, expected.db) < 1e-5) }
    }

    /// The C conv kernels give the same bits however the work is split (which is what makes results
    /// independent of the thread count): forward by pixels, dX by images and channels, dW by columns.
    @Test(arguments: [convCases[0], convCases[2], convCases[3], convCases[6], convCases[7]])
    func convolutionSplitsDoNotChangeBits(_ config: ConvCase) {
        let (x, weight, bias) = ConvolutionTests.operands(config, seed: 5)
        let g = Conv2dGeometry(batch: config.n, inChannels: config.c, inputSize: Size2(config.h, config.w),
                               outChannels: config.o, kernel: config.kernel, stride: config.stride,
                               padding: config.padding, dilation: config.dilation, groups: config.groups)
        precondition(g.groups == 1)
        var s = ConvolutionKernels.shape(g)
        let isa = mk_isa_active()
        let (k, m) = (g.columnRows, g.outChannels)
        let rows = mk_conv_panel_rows(isa)
        var packed = [Float](repeating: 0, count: mk_conv_packed_floats(isa, m, k))
        var packedT = [Float](repeating: 0, count: mk_conv_packed_floats(isa, k, m))
        let w = weight.scalars, xs = x.scalars, b = bias?.scalars ?? [Float](repeating: 0, count: m)
        let dy = randomTensor(g.outputShape, seed: 6).scalars
        mk_conv_pack(isa, 0, m, k, w, k, 0, (m + rows - 1) / rows, &packed)
        mk_conv_pack(isa, 1, k, m, w, k, 0, (k + rows - 1) / rows, &packedT)
        let pixels = g.batch * g.outputPlane
        func forward(_ cuts: [Int]) -> [Float] {
            var y = [Float](repeating: .nan, count: g.outputShape.reduce(1, *))
            for (q0, q1) in zip([0] + cuts, cuts + [pixels]) { mk_conv_forward(isa, &s, packed, b, xs, &y, q0, q1) }
            return y
        }
        func input(images: Int, channels: Int) -> [Float] {
            var dx = [Float](repeating: .nan, count: g.inputShape.reduce(1, *))
            for (n0, n1) in [(0, images), (images, g.batch)] {
                for (c0, c1) in [(0, channels), (channels, g.inChannels)] { mk_conv_backward_input(isa, &s, packedT, dy, &dx, n0, n1, c0, c1) }
            }
            return dx
        }
        func weights(_ cut: Int) -> [Float] {
            var dw = [Float](repeating: .nan, count: m * k)
            mk_conv_backward_weight(isa, &s, xs, dy, &dw, k, 0, cut, 0, pixels)
            mk_conv_backward_weight(isa, &s, xs, dy, &dw, k, cut, k, 0, pixels)
            return dw
        }
        // Pixels summed in two runs (split at a multiple of 256) and added: the same sum up to rounding.
        if pixels > 256 {
            var first = [Float](repeating: .nan, count: m * k), second = first
            mk_conv_backward_weight(isa, &s, xs, dy, &first, k, 0, k, 0, 256)
            mk_conv_backward_weight(isa, &s, xs, dy, &second, k, 0, k, 256, pixels)
            let whole = weights(0)
            let scale = whole.map { Swift.abs(Double($0)) }.max() ?? 1
            let error = zip(zip(first, second), whole).map { Swift.abs(Double($0.0 + $0.1) - Double($1)) }.max() ?? 0
            #expect(error <= 1e-5 * scale)
        }
        let y = forward([]).map(\.bitPattern)
        #expect(forward([1, pixels / 3, pixels / 3 + 17]).map(\.bitPattern) == y)
        #expect(forward([pixels / 2]).map(\.bitPattern) == y)
        let dx = input(images: 0, channels: 0).map(\.bitPattern)
        #expect(input(images: g.batch / 2, channels: 1).map(\.bitPattern) == dx)
        #expect(input(images: 1, channels: g.inChannels / 2).map(\.bitPattern) == dx)
        let dw = weights(0).map(\.bitPattern)
        #expect(weights(k / 2).map(\.bitPattern) == dw)
        #expect(weights(5).map(\.bitPattern) == dw)
        #expect(!y.contains(Float.nan.bitPattern) && !dx.contains(Float.nan.bitPattern) && !dw.contains(Float.nan.bitPattern))
    }

    // MARK: depthwise

    static let depthwiseCases: [ConvCase] = [
        ConvCase(n: 2, c: 6, h: 37, w: 70, o: 6, kernel: 3, padding: 1, groups: 6),
        ConvCase(n: 2, c: 4, h: 29, w: 33, o: 4, kernel: 3, stride: 2, padding: 1, groups: 4),
        ConvCase(n: 1, c: 3, h: 20, w: 45, o: 9, kernel: 5, stride: 2, padding: 2, groups: 3),
        ConvCase(n: 2, c: 5, h: 16, w: 17, o: 5, kernel: 5, padding: 4, dilation: 2, groups: 5),
        ConvCase(n: 1, c: 2, h: 14, w: 40, o: 4, kernel: [3, 7], stride: [1, 3], padding: [1, 3], groups: 2, bias: false),
        ConvCase(n: 3, c: 8, h: 7, w: 7, o: 8, kernel: 7, padding: 3, groups: 8),
        ConvCase(n: 2, c: 3, h: 9, w: 9, o: 3, kernel: 3, groups: 3),
    ]

    @Test(arguments: depthwiseCases)
    func depthwiseMatchesDirectLoops(_ config: ConvCase) {
        Self.expectMatchesDirectLoops(config, seed: 81)
    }

    /// An infinite input that no window reads must not turn the weight gradient into NaN (0·∞).
    @Test func depthwiseIgnoresUnreadInput() {
        var values = randomTensor([1, 2, 9, 9], seed: 3).scalars
        for row in 0..<9 { values[row * 9 + 8] = .infinity }  // column 8 of channel 0: never read at stride 2, kernel 2
        let x = Tensor(shape: [1, 2, 9, 9], scalars: values)
        let w = randomTensor([2, 1, 2, 2], seed: 4).requiringGrad()
        let y = x.conv2d(weight: w, stride: 2, groups: 2)
        y.backward(Tensor.ones(y.shape))
        #expect(y.scalars.allSatisfy(\.isFinite) && w.grad!.scalars.allSatisfy(\.isFinite))
    }

    // MARK: pooling

    /// Many ties and some NaNs: the separable kernels must pick exactly what a row-major scan of each
    /// window picks (the first maximum; the last NaN).
    @Test func maxPoolTiesAndNaNMatchRowMajorScan() {
        var generator = RandomGenerator(seed: 12)
        let shape = [2, 3, 13, 17]
        let values: [Float] = (0..<shape.reduce(1, *)).map { _ in
            let r = generator.nextInt(below: 40)
            return r == 0 ? .nan : Float(r % 4)
        }
        let x = Tensor(shape: shape, scalars: values)
        for config in [PoolCase(n: 2, c: 3, h: 13, w: 17, kernel: 3, stride: 2, padding: 1),
                       PoolCase(n: 2, c: 3, h: 13, w: 17, kernel: [4, 3], stride: [1, 2], padding: [2, 1], dilation: [1, 2]),
                       PoolCase(n: 2, c: 3, h: 13, w: 17, kernel: 5, stride: 3, ceilMode: true)] {
            let expected = ReferencePool.maxPool(values, config)
            let (got, indices) = config.maxPool(x)
            #expect(indices.values == expected.indices, "\(config)")
            #expect(zip(got.scalars, expected.values).allSatisfy { $0.isNaN ? $1.isNaN : Double($0) == $1 }, "\(config)")
        }
        let (_, adaptiveIndices) = x.adaptiveMaxPool2d(outputSize: [5, 6])
        #expect(adaptiveIndices.values == ReferencePool.adaptive(values, shape, [5, 6], max: true).indices)
    }

    @Test func largePoolsMatchReference() {
        let x = randomTensor([2, 5, 56, 57], seed: 8)
        for config in [PoolCase(n: 2, c: 5, h: 56, w: 57, kernel: 3, stride: 2, padding: 1),
                       PoolCase(n: 2, c: 5, h: 56, w: 57, kernel: 2, stride: 2, ceilMode: true)] {
            let expected = ReferencePool.avgPool(x.scalars, config)
            #expect(referenceError(config.avgPool(x).scalars, expected.values) < 1e-6)
            let maximum = ReferencePool.maxPool(x.scalars, config)
            #expect(config.maxPool(x).indices.values == maximum.indices)
        }
    }

    // MARK: batch normalisation

    /// The kernels behind BatchNorm2d against Float64: planes longer than one summation block, ragged lane
    /// tails, and small planes whose lane sums run across images (1×1 with 300 images fills three blocks; 7×7
    /// takes two terms per lane per image, so 64 images to a block).
    @Test(arguments: [(3, 5, 70 * 90), (2, 3, 4_100), (300, 7, 1), (130, 3, 49), (33, 6, 4)])
    func batchNormKernelsMatchFloat64(_ shape: (Int, Int, Int)) {
        let (n, c, plane) = shape
        let x = randomTensor([n, c, plane], low: -2, high: 3, seed: 21).scalars
        let dy = randomTensor([n, c, plane], seed: 22).scalars
        let gamma = randomTensor([c], seed: 23).scalars, beta = randomTensor([c], seed: 24).scalars
        var y = [Float](repeating: 0, count: x.count), xhat = y, dx = y
        var mean = [Float](repeating: 0, count: c), variance = mean, inv = mean, dgamma = mean, dbeta = mean
        NormalizationKernels.batchNormForward(x, batch: n, channels: c, plane: plane, eps: 1e-5, gamma: gamma, beta: beta,
                                              output: &y, normalized: &xhat, mean: &mean, variance: &variance, inverseStd: &inv)
        NormalizationKernels.batchNormBackward(dy, normalized: xhat, batch: n, channels: c, plane: plane, gamma: gamma,
                                               inverseStd: inv, gradInput: &dx, gradWeight: &dgamma, gradBias: &dbeta)
        let count = Double(n * plane)
        for ch in 0..<c {
            var indices: [Int] = []
            for image in 0..<n {
                let first: Int = (image * c + ch) * plane
                indices += Array(first..<(first + plane))
            }
            let xs: [Double] = indices.map { Double(x[$0]) }, gs: [Double] = indices.map { Double(dy[$0]) }
            let mu: Double = xs.reduce(0, +) / count
            let sigma2: Double = xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / count
            let invStd: Double = 1 / (sigma2 + 1e-5).squareRoot()
            let (g, b) = (Double(gamma[ch]), Double(beta[ch]))
            #expect(Swift.abs(Double(mean[ch]) - mu) < 1e-6 && Swift.abs(Double(variance[ch]) / sigma2 - 1) < 1e-6)
            let h: [Double] = xs.map { ($0 - mu) * invStd }
            var worstY = 0.0
            for k in indices.indices { worstY = Swift.max(worstY, Swift.abs(Double(y[indices[k]]) - (h[k] * g + b))) }
            #expect(worstY < 1e-5)
            let sumDy: Double = gs.reduce(0, +)
            var sumDyH = 0.0
            for k in gs.indices { sumDyH += gs[k] * h[k] }
            #expect(Swift.abs(Double(dbeta[ch]) - sumDy) < 1e-3 && Swift.abs(Double(dgamma[ch]) - sumDyH) < 1e-3)
            var worstDx = 0.0
            for k in indices.indices {
                let want: Double = g * invStd * (gs[k] - sumDy / count - h[k] * sumDyH / count)
                worstDx = Swift.max(worstDx, Swift.abs(Double(dx[indices[k]]) - want))
            }
            #expect(worstDx < 1e-5)
        }
    }
}
