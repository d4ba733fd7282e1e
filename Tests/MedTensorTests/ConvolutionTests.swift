import Foundation
import MedIO
import MedTestSupport
import Testing
@testable import MedTensor

/// One conv2d configuration: input [n, c, h, w], weight [o, c/groups, kernel].
struct ConvCase: CustomTestStringConvertible, Sendable {
    var n: Int, c: Int, h: Int, w: Int, o: Int
    var kernel: Size2, stride: Size2 = 1, padding: Size2 = 0, dilation: Size2 = 1, groups = 1, bias = true
    var testDescription: String {
        "x[\(n),\(c),\(h),\(w)] o\(o) k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups)\(bias ? "" : " no bias")"
    }
    var inputShape: [Int] { [n, c, h, w] }
    var weightShape: [Int] { [o, c / groups, kernel.height, kernel.width] }

    func run(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Direct-loop convolution and its gradients in Double, straight from the definition.
struct ReferenceConv {
    let config: ConvCase
    let x: [Float], weight: [Float], bias: [Float]?
    var oh: Int { (config.h + 2 * config.padding.height - config.dilation.height * (config.kernel.height - 1) - 1) / config.stride.height + 1 }
    var ow: Int { (config.w + 2 * config.padding.width - config.dilation.width * (config.kernel.width - 1) - 1) / config.stride.width + 1 }

    /// Calls body(outputIndex, inputIndex, weightIndex) for every product of the convolution.
    func forEachTap(_ body: (Int, Int, Int) -> Void) {
        let c = config, cg = c.c / c.groups, og = c.o / c.groups
        for n in 0..<c.n { for o in 0..<c.o { for y in 0..<oh { for x in 0..<ow {
            let out = ((n * c.o + o) * oh + y) * ow + x
            for ci in 0..<cg { for kh in 0..<c.kernel.height { for kw in 0..<c.kernel.width {
                let ih = y * c.stride.height - c.padding.height + kh * c.dilation.height
                let iw = x * c.stride.width - c.padding.width + kw * c.dilation.width
                guard ih >= 0, ih < c.h, iw >= 0, iw < c.w else { continue }
                let channel = o / og * cg + ci
                body(out, ((n * c.c + channel) * c.h + ih) * c.w + iw, ((o * cg + ci) * c.kernel.height + kh) * c.kernel.width + kw)
            } } }
        } } } }
    }

    func forward() -> [Double] {
        var y = [Double](repeating: 0, count: config.n * config.o * oh * ow)
        forEachTap { out, input, w in y[out] += Double(x[input]) * Double(weight[w]) }
        if let bias { for i in y.indices { y[i] += Double(bias[i / (oh * ow) % config.o]) } }
        return y
    }

    func backward(_ gy: [Float]) -> (dx: [Double], dw: [Double], db: [Double]) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: config.o)
        forEachTap { out, input, w in
            dx[input] += Double(gy[out]) * Double(weight[w])
            dw[w] += Double(gy[out]) * Double(x[input])
        }
        for i in gy.indices { db[i / (oh * ow) % config.o] += Double(gy[i]) }
        return (dx, dw, db)
    }
}

/// max |a − b| / max |b| against a Double reference.
func referenceError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "referenceError: \(a.count) vs \(b.count) elements")
    let scale = b.map { Swift.abs($0) }.max() ?? 0
    let diff = zip(a, b).map { Swift.abs(Double($0) - $1) }.max() ?? 0
    return scale == 0 ? diff : diff / scale
}

/// A fixture array written by Tests/Fixtures/make_conv_fixtures.py.
func convFixture(_ name: String) throws -> TypedArray {
    try Npy.read(contentsOf: Fixtures.url("conv/\(name).npy"))
}

func convFixtureTensor(_ name: String) throws -> Tensor {
    let array = try convFixture(name)
    return Tensor(shape: array.shape, scalars: array.floats())
}

@Suite struct ConvolutionTests {
    static let cases: [ConvCase] = [
        ConvCase(n: 2, c: 3, h: 9, w: 8, o: 4, kernel: 3, padding: 1),
        ConvCase(n: 1, c: 2, h: 10, w: 7, o: 3, kernel: 3, stride: 2),
        ConvCase(n: 2, c: 3, h: 8, w: 11, o: 5, kernel: [3, 5], stride: [1, 2], padding: [1, 2]),
        ConvCase(n: 1, c: 3, h: 11, w: 9, o: 2, kernel: 3, padding: 2, dilation: 2),
        ConvCase(n: 3, c: 2, h: 9, w: 13, o: 4, kernel: [2, 3], stride: [2, 1], padding: [1, 0], dilation: [2, 3]),
        ConvCase(n: 2, c: 4, h: 7, w: 7, o: 6, kernel: 3, padding: 1, groups: 2),
        ConvCase(n: 1, c: 6, h: 10, w: 9, o: 3, kernel: [3, 2], stride: [2, 1], padding: [2, 1], dilation: 2, groups: 3),
        ConvCase(n: 2, c: 4, h: 6, w: 6, o: 8, kernel: 3, padding: 1, groups: 4, bias: false),
        // Depthwise, multiplier 1, 2 and 3, and 1×1.
        ConvCase(n: 2, c: 4, h: 8, w: 8, o: 4, kernel: 3, padding: 1, groups: 4),
        ConvCase(n: 1, c: 3, h: 9, w: 7, o: 6, kernel: 3, stride: 2, padding: 1, groups: 3),
        ConvCase(n: 2, c: 2, h: 11, w: 10, o: 6, kernel: [5, 3], stride: [2, 3], padding: [2, 1], dilation: [1, 2], groups: 2),
        ConvCase(n: 2, c: 3, h: 5, w: 5, o: 3, kernel: 1, groups: 3),
        // 1×1: the direct GEMM path, grouped, and the strided / padded ones that need im2col.
        ConvCase(n: 2, c: 5, h: 6, w: 5, o: 3, kernel: 1),
        ConvCase(n: 1, c: 6, h: 4, w: 7, o: 4, kernel: 1, groups: 2),
        ConvCase(n: 2, c: 3, h: 7, w: 7, o: 4, kernel: 1, stride: 2),
        ConvCase(n: 1, c: 2, h: 4, w: 5, o: 3, kernel: 1, padding: 1),
        // Kernel larger than the unpadded input; kernel equal to the input (1×1 output); stride = kernel.
        ConvCase(n: 1, c: 2, h: 3, w: 3, o: 2, kernel: 5, padding: 2),
        ConvCase(n: 3, c: 2, h: 5, w: 3, o: 3, kernel: [5, 3]),
        ConvCase(n: 1, c: 1, h: 6, w: 6, o: 1, kernel: 3, stride: 3),
        ConvCase(n: 1, c: 3, h: 15, w: 15, o: 4, kernel: 7, stride: 2, padding: 3, bias: false),
    ]

    /// Bigger than one column tile: tiles end mid-row, batch 1 (threads inside GEMM) and batch 3.
    static let tiledCases: [ConvCase] = [
        ConvCase(n: 1, c: 16, h: 30, w: 30, o: 8, kernel: 3, padding: 1),
        ConvCase(n: 3, c: 16, h: 29, w: 31, o: 12, kernel: 3, padding: 1, groups: 2),
        ConvCase(n: 1, c: 64, h: 40, w: 40, o: 32, kernel: 1),
        ConvCase(n: 2, c: 24, h: 33, w: 35, o: 48, kernel: 3, stride: 2, padding: 1, groups: 24),
        // Stems (the explicit column path): many chunks of images and all 8 partial sums of the weight
        // gradient; and a dilated, asymmetric one over two chunks.
        ConvCase(n: 41, c: 3, h: 30, w: 26, o: 5, kernel: 7, stride: 2, padding: 3),
        ConvCase(n: 9, c: 2, h: 40, w: 37, o: 3, kernel: 5, stride: [2, 3], padding: [4, 1], dilation: 2),
    ]

    static func operands(_ config: ConvCase, seed: UInt64 = 11) -> (Tensor, Tensor, Tensor?) {
        (randomTensor(config.inputShape, seed: seed), randomTensor(config.weightShape, seed: seed + 1),
         config.bias ? randomTensor([config.o], seed: seed + 2) : nil)
    }

    @Test(arguments: cases + tiledCases)
    func forwardAndBackwardMatchDirectLoops(_ config: ConvCase) {
        let (x, weight, bias) = Self.operands(config)
        let reference = ReferenceConv(config: config, x: x.scalars, weight: weight.scalars, bias: bias?.scalars)
        let (xg, wg) = (x.requiringGrad(), weight.requiringGrad())
        let bg = bias?.requiringGrad()
        let y = config.run(xg, wg, bg)
        #expect(y.shape == [config.n, config.o, reference.oh, reference.ow])
        #expect(referenceError(y.scalars, reference.forward()) < 1e-5)

        let gy = randomTensor(y.shape, seed: 99)
        y.backward(gy)
        let expected = reference.backward(gy.scalars)
        #expect(referenceError(xg.grad!.scalars, expected.dx) < 1e-5)
        #expect(referenceError(wg.grad!.scalars, expected.dw) < 1e-5)
        if let bg { #expect(referenceError(bg.grad!.scalars, expected.db) < 1e-5) }
    }

    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ config: ConvCase) {
        let (x, weight, bias) = Self.operands(config, seed: 23)
        if let bias {
            GradientCheck(tolerance: 1e-3).run([x, weight, bias]) { config.run($0[0], $0[1], $0[2]) }
        } else {
            GradientCheck(tolerance: 1e-3).run([x, weight]) { config.run($0[0], $0[1], nil) }
        }
    }

    @Test func tiledGradientsMatchFiniteDifferences() {
        for config in Self.tiledCases {
            let (x, weight, bias) = Self.operands(config, seed: 31)
            GradientCheck(tolerance: 1e-3, maxElementsPerInput: 24).run([x, weight, bias!]) { config.run($0[0], $0[1], $0[2]) }
        }
    }

    /// The arguments make_conv_fixtures.py used for each fixture.
    static let fixtures: [(String, ConvCase)] = [
        ("conv_pad1", ConvCase(n: 2, c: 3, h: 9, w: 8, o: 4, kernel: 3, padding: 1)),
        ("conv_stride_dil_group", ConvCase(n: 1, c: 4, h: 11, w: 10, o: 6, kernel: [3, 2], stride: [2, 3],
                                           padding: [2, 1], dilation: [2, 1], groups: 2)),
        ("conv_depthwise_mult2", ConvCase(n: 2, c: 3, h: 7, w: 7, o: 6, kernel: 3, stride: 2, padding: 1, groups: 3)),
        ("conv_pointwise", ConvCase(n: 2, c: 5, h: 6, w: 5, o: 3, kernel: 1)),
        ("conv_stem7", ConvCase(n: 1, c: 3, h: 16, w: 16, o: 8, kernel: 7, stride: 2, padding: 3, bias: false)),
    ]

    @Test(arguments: fixtures.map(\.0))
    func matchesPyTorch(_ name: String) throws {
        let config = Self.fixtures.first { $0.0 == name }!.1
        let x = try convFixtureTensor("\(name)_x").requiringGrad(), weight = try convFixtureTensor("\(name)_w").requiringGrad()
        let bias = config.bias ? try convFixtureTensor("\(name)_b").requiringGrad() : nil
        #expect(x.shape == config.inputShape && weight.shape == config.weightShape)
        let y = config.run(x, weight, bias)
        let expected = try convFixtureTensor("\(name)_y")
        #expect(y.shape == expected.shape)
        #expect(relativeError(y.scalars, expected.scalars) < 1e-5)
        y.backward(try convFixtureTensor("\(name)_gy"))
        #expect(relativeError(x.grad!.scalars, try convFixtureTensor("\(name)_gx").scalars) < 1e-5)
        #expect(relativeError(weight.grad!.scalars, try convFixtureTensor("\(name)_gw").scalars) < 1e-5)
        if let bias { #expect(relativeError(bias.grad!.scalars, try convFixtureTensor("\(name)_gb").scalars) < 1e-5) }
    }

    @Test func unbatchedInputAndArrayLiterals() {
        let x = randomTensor([3, 6, 5]), weight = randomTensor([4, 3, 2, 3], seed: 3)
        let batched = x.unsqueezed(axis: 0).conv2d(weight: weight, stride: [1, 2], padding: [1, 0])
        let unbatched = x.conv2d(weight: weight, stride: [1, 2], padding: [1, 0])
        #expect(unbatched.shape == [4, 7, 2])
        #expect(unbatched.scalars == batched.scalars)
        #expect(Size2(3) == [3, 3] && Size2(2, 5) == [2, 5] && Size2(height: 2, width: 5).array == [2, 5])
    }

    @Test func geometryReportsPaths() {
        let depthwise = Conv2dGeometry(batch: 1, inChannels: 8, inputSize: 9, outChannels: 16, kernel: 3, padding: 1, groups: 8)
        #expect(depthwise.isDepthwise && !depthwise.isPointwise && depthwise.depthMultiplier == 2)
        #expect(depthwise.outputSize == 9 && depthwise.weightShape == [16, 1, 3, 3])
        let pointwise = Conv2dGeometry(batch: 2, inChannels: 8, inputSize: [5, 7], outChannels: 4, kernel: 1)
        #expect(pointwise.isPointwise && pointwise.outputShape == [2, 4, 5, 7])
        let strided = Conv2dGeometry(batch: 1, inChannels: 3, inputSize: 224, outChannels: 64, kernel: 7, stride: 2, padding: 3)
        #expect(strided.outputSize == 112 && strided.columnRows == 147)
    }

    /// Taps that only ever see padding are cut (symmetrically only): ResNet's 3×3 over a 1×1 input keeps its
    /// centre, a 3×3 over 2×2 keeps all nine, a stride-2 3×3 over 2×2 would need asymmetric padding.
    @Test func reachableTapsOfSmallInputs() {
        func taps(_ size: Size2, kernel: Size2, stride: Size2 = 1, padding: Size2, dilation: Size2 = 1) -> [Range<Int>]? {
            let g = Conv2dGeometry(batch: 1, inChannels: 1, inputSize: size, outChannels: 1, kernel: kernel, stride: stride,
                                   padding: padding, dilation: dilation)
            return g.reachableTaps.map { [$0.rows, $0.columns] }
        }
        #expect(taps(1, kernel: 3, padding: 1) == [1..<2, 1..<2])
        #expect(taps(2, kernel: 3, padding: 1) == nil)
        #expect(taps(2, kernel: 3, stride: 2, padding: 1) == nil)
        #expect(taps([1, 5], kernel: 3, padding: 1) == [1..<2, 0..<3])
        #expect(taps(1, kernel: 7, padding: 3) == [3..<4, 3..<4])
        #expect(taps(3, kernel: 7, padding: 3) == [1..<6, 1..<6])
        #expect(taps(1, kernel: 3, padding: 2, dilation: 2) == [1..<2, 1..<2])
    }

    /// A cropped convolution equals the product with its centre tap, and its gradients (outer taps: zero)
    /// match finite differences.
    @Test func croppedConvolutionOfOnePixelInputs() {
        let x = randomTensor([3, 6, 1, 1], seed: 51), weight = randomTensor([5, 6, 3, 3], seed: 52), bias = randomTensor([5], seed: 53)
        let y = x.conv2d(weight: weight, bias: bias, padding: 1)
        let centre = weight.narrowed(axis: 2, start: 1, length: 1).narrowed(axis: 3, start: 1, length: 1).reshaped([5, 6])
        let expected = x.reshaped([3, 6]).matmul(centre.transposed()) + bias
        #expect(y.shape == [3, 5, 1, 1])
        #expect(relativeError(y.reshaped([3, 5]), expected) < 1e-6)
        GradientCheck().run([x, weight, bias]) { $0[0].conv2d(weight: $0[1], bias: $0[2], padding: 1) }
        let w = weight.requiringGrad()
        x.conv2d(weight: w, padding: 1).sum().backward()
        let g = w.grad!
        #expect(g.narrowed(axis: 2, start: 0, length: 1).scalars.allSatisfy { $0 == 0 })
        #expect(g.narrowed(axis: 3, start: 2, length: 1).scalars.allSatisfy { $0 == 0 })
    }

    /// Same op twice → bitwise equal outputs and gradients (the weight gradient sums per-thread buffers).
    @Test(arguments: tiledCases)
    func deterministic(_ config: ConvCase) {
        func pass() -> [[Float]] {
            let (x, weight, bias) = Self.operands(config, seed: 41)
            let (xg, wg, bg) = (x.requiringGrad(), weight.requiringGrad(), bias!.requiringGrad())
            let y = config.run(xg, wg, bg)
            y.backward(randomTensor(y.shape, seed: 5))
            return [y.scalars, xg.grad!.scalars, wg.grad!.scalars, bg.grad!.scalars]
        }
        let first = pass(), second = pass()
        for (a, b) in zip(first, second) {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        }
    }
}
