import Foundation
import MedTestSupport
import Testing
@testable import MedTensor

/// One sliding-window pooling configuration over input [n, c, h, w].
struct PoolCase: CustomTestStringConvertible, Sendable {
    var n = 1, c = 2, h: Int, w: Int
    var kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1, ceilMode = false
    var countIncludePad = true, divisorOverride: Int? = nil
    var testDescription: String {
        "x[\(n),\(c),\(h),\(w)] k\(kernel) s\(stride.map { "\($0)" } ?? "=k") p\(padding) d\(dilation)"
            + "\(ceilMode ? " ceil" : "")\(countIncludePad ? "" : " excludePad")\(divisorOverride.map { " divisor \($0)" } ?? "")"
    }
    var shape: [Int] { [n, c, h, w] }

    func maxPool(_ x: Tensor) -> (values: Tensor, indices: IndexTensor) {
        x.maxPool2d(kernelSize: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    func avgPool(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernelSize: kernel, stride: stride, padding: padding, ceilMode: ceilMode,
                    countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
}

/// Direct-loop pooling in Double, written from PyTorch's definitions.
enum ReferencePool {
    /// PyTorch's pooling_output_shape for one axis.
    static func outputLength(_ input: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, _ ceil: Bool) -> Int {
        let span = Double(input + 2 * p - d * (k - 1) - 1) / Double(s)
        var out = Int(ceil ? span.rounded(.up) : span.rounded(.down)) + 1
        if ceil && (out - 1) * s >= input + p { out -= 1 }
        return out
    }

    /// Values, flat h·W + w indices and the windows' input positions (for gradients), plane by plane.
    static func maxPool(_ x: [Float], _ c: PoolCase) -> (values: [Double], indices: [Int], shape: [Int]) {
        let stride = c.stride ?? c.kernel
        let oh = outputLength(c.h, c.kernel.height, stride.height, c.padding.height, c.dilation.height, c.ceilMode)
        let ow = outputLength(c.w, c.kernel.width, stride.width, c.padding.width, c.dilation.width, c.ceilMode)
        var values: [Double] = [], indices: [Int] = []
        for plane in 0..<(c.n * c.c) { for i in 0..<oh { for j in 0..<ow {
            var best = -Double.infinity, index = -1
            for kh in 0..<c.kernel.height { for kw in 0..<c.kernel.width {
                let ih = i * stride.height - c.padding.height + kh * c.dilation.height
                let iw = j * stride.width - c.padding.width + kw * c.dilation.width
                guard ih >= 0, ih < c.h, iw >= 0, iw < c.w else { continue }
                let value = Double(x[(plane * c.h + ih) * c.w + iw])
                if index < 0 || value > best || value.isNaN { best = value; index = ih * c.w + iw }
            } }
            values.append(best)
            indices.append(index)
        } } }
        return (values, indices, [c.n, c.c, oh, ow])
    }

    static func avgPool(_ x: [Float], _ c: PoolCase) -> (values: [Double], shape: [Int]) {
        let stride = c.stride ?? c.kernel
        let oh = outputLength(c.h, c.kernel.height, stride.height, c.padding.height, 1, c.ceilMode)
        let ow = outputLength(c.w, c.kernel.width, stride.width, c.padding.width, 1, c.ceilMode)
        var values: [Double] = []
        for plane in 0..<(c.n * c.c) { for i in 0..<oh { for j in 0..<ow {
            let h0 = i * stride.height - c.padding.height, w0 = j * stride.width - c.padding.width
            // The window, clipped to the padded input: what count_include_pad counts.
            let h1 = min(h0 + c.kernel.height, c.h + c.padding.height), w1 = min(w0 + c.kernel.width, c.w + c.padding.width)
            var sum = 0.0, inside = 0
            for ih in max(h0, 0)..<max(max(h0, 0), min(h1, c.h)) { for iw in max(w0, 0)..<max(max(w0, 0), min(w1, c.w)) {
                sum += Double(x[(plane * c.h + ih) * c.w + iw])
                inside += 1
            } }
            let divisor = c.divisorOverride ?? (c.countIncludePad ? (h1 - h0) * (w1 - w0) : inside)
            values.append(inside == 0 ? 0 : sum / Double(divisor))
        } } }
        return (values, [c.n, c.c, oh, ow])
    }

    /// Adaptive bins [floor(i·in/out), ceil((i+1)·in/out)), computed in floating point.
    static func bins(_ input: Int, _ output: Int) -> [Range<Int>] {
        (0..<output).map { i in
            Int((Double(i * input) / Double(output)).rounded(.down))..<Int((Double((i + 1) * input) / Double(output)).rounded(.up))
        }
    }

    static func adaptive(_ x: [Float], _ shape: [Int], _ out: Size2, max: Bool) -> (values: [Double], indices: [Int]) {
        let (h, w) = (shape[2], shape[3])
        var values: [Double] = [], indices: [Int] = []
        for plane in 0..<(shape[0] * shape[1]) { for rows in bins(h, out.height) { for columns in bins(w, out.width) {
            var sum = 0.0, best = -Double.infinity, index = -1
            for ih in rows { for iw in columns {
                let value = Double(x[(plane * h + ih) * w + iw])
                sum += value
                if index < 0 || value > best || value.isNaN { best = value; index = ih * w + iw }
            } }
            values.append(max ? best : sum / Double(rows.count * columns.count))
            indices.append(index)
        } } }
        return (values, indices)
    }
}

/// Values without ties, 0.05 apart, so that finite differences of ±0.01 never move a maximum.
func tieFreeTensor(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: generator.permutation(count).map { Float($0) * 0.05 - Float(count) * 0.025 })
}

@Suite struct PoolingTests {
    static let maxCases: [PoolCase] = [
        PoolCase(h: 8, w: 8, kernel: 2),
        PoolCase(n: 2, c: 3, h: 9, w: 7, kernel: 3, stride: 2, padding: 1),
        PoolCase(h: 7, w: 7, kernel: 3, stride: 2, ceilMode: true),
        PoolCase(h: 5, w: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true),
        PoolCase(n: 2, h: 8, w: 9, kernel: [3, 2], stride: 2, padding: 1, dilation: [2, 1], ceilMode: true),
        PoolCase(h: 10, w: 11, kernel: [2, 3], stride: [3, 1], padding: [1, 1], dilation: [3, 2]),
        PoolCase(h: 6, w: 6, kernel: 3, stride: 1, padding: 1),
        PoolCase(n: 1, c: 1, h: 6, w: 6, kernel: 4, stride: 3, ceilMode: true),
    ]

    static let avgCases: [PoolCase] = [
        PoolCase(n: 2, c: 3, h: 6, w: 8, kernel: 2),
        PoolCase(h: 7, w: 6, kernel: 3, stride: 2, padding: 1, ceilMode: true),
        PoolCase(h: 7, w: 6, kernel: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false),
        PoolCase(h: 7, w: 6, kernel: [3, 2], stride: 2, padding: 1, ceilMode: true, divisorOverride: 5),
        PoolCase(h: 6, w: 6, kernel: 4, stride: 3, ceilMode: true),
        PoolCase(h: 9, w: 10, kernel: [3, 4], stride: [2, 3], padding: [1, 2], countIncludePad: false),
        PoolCase(n: 2, h: 5, w: 5, kernel: 3, stride: 1, padding: 1),
        PoolCase(h: 8, w: 7, kernel: 3, stride: 2, padding: 1, ceilMode: true, divisorOverride: -2),
    ]

    static let adaptiveSizes: [([Int], Size2)] = [
        ([1, 3, 2, 2], 7), ([2, 2, 5, 5], 3), ([1, 2, 10, 7], 6), ([1, 2, 7, 9], [3, 4]),
        ([1, 2, 8, 8], 4), ([1, 1, 3, 5], [5, 2]), ([2, 1, 4, 4], 1), ([1, 2, 6, 4], [6, 4]),
    ]

    @Test(arguments: maxCases)
    func maxPoolMatchesDirectLoop(_ config: PoolCase) {
        let x = tieFreeTensor(config.shape)
        let expected = ReferencePool.maxPool(x.scalars, config)
        let (values, indices) = config.maxPool(x)
        #expect(values.shape == expected.shape && indices.shape == expected.shape)
        #expect(referenceError(values.scalars, expected.values) == 0)
        #expect(indices.values == expected.indices)
        GradientCheck(tolerance: 1e-3).run([x]) { config.maxPool($0[0]).values }
    }

    @Test(arguments: avgCases)
    func avgPoolMatchesDirectLoop(_ config: PoolCase) {
        let x = randomTensor(config.shape, seed: 17)
        let expected = ReferencePool.avgPool(x.scalars, config)
        let values = config.avgPool(x)
        #expect(values.shape == expected.shape)
        #expect(referenceError(values.scalars, expected.values) < 1e-6)
        GradientCheck(tolerance: 1e-3).run([x]) { config.avgPool($0[0]) }
    }

    @Test(arguments: 0..<adaptiveSizes.count)
    func adaptivePoolsMatchDirectLoops(_ index: Int) {
        let (shape, size) = Self.adaptiveSizes[index]
        let x = tieFreeTensor(shape, seed: 9)
        let average = ReferencePool.adaptive(x.scalars, shape, size, max: false)
        let maximum = ReferencePool.adaptive(x.scalars, shape, size, max: true)
        let avg = x.adaptiveAvgPool2d(outputSize: size)
        let (values, indices) = x.adaptiveMaxPool2d(outputSize: size)
        #expect(avg.shape == [shape[0], shape[1], size.height, size.width] && values.shape == avg.shape)
        #expect(referenceError(avg.scalars, average.values) < 1e-6)
        #expect(referenceError(values.scalars, maximum.values) == 0)
        #expect(indices.values == maximum.indices)
        GradientCheck(tolerance: 1e-3).run([x]) { $0[0].adaptiveAvgPool2d(outputSize: size) }
        GradientCheck(tolerance: 1e-3).run([x]) { $0[0].adaptiveMaxPool2d(outputSize: size).values }
    }

    @Test func globalAverageIsMeanOverSpace() {
        let x = randomTensor([2, 3, 5, 4])
        let pooled = x.globalAvgPool2d()
        #expect(pooled.shape == [2, 3])
        #expect(relativeError(pooled.scalars, x.adaptiveAvgPool2d(outputSize: 1).scalars) < 1e-6)
        GradientCheck(tolerance: 1e-3).run([x]) { $0[0].globalAvgPool2d() }
    }

    /// The values-only max pool (no argmax tracked without a recorded gradient) gives the same bits as the
    /// full one, NaN included, and the same gradient when one is recorded.
    @Test(arguments: maxCases)
    func valuesOnlyMaxPoolEqualsTheFullOne(_ config: PoolCase) {
        var scalars = tieFreeTensor(config.shape).scalars
        scalars[scalars.count / 3] = .nan
        let x = Tensor(shape: config.shape, scalars: scalars)
        func valuesOnly(_ x: Tensor) -> Tensor {
            x.maxPool2dValues(kernelSize: config.kernel, stride: config.stride, padding: config.padding,
                              dilation: config.dilation, ceilMode: config.ceilMode)
        }
        let full = config.maxPool(x).values.scalars.map(\.bitPattern)
        #expect(withoutGrad { valuesOnly(x) }.scalars.map(\.bitPattern) == full)
        let (a, b) = (x.requiringGrad(), x.requiringGrad())
        let seed = randomTensor(config.maxPool(x).values.shape, seed: 3)
        valuesOnly(a).backward(seed)
        config.maxPool(b).values.backward(seed)
        #expect(a.grad!.scalars.map(\.bitPattern) == b.grad!.scalars.map(\.bitPattern))
    }

    @Test func nanPropagatesAndPaddingIsMinusInfinity() {
        let nan = Float.nan
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [1, nan, 3, nan, -5, -6, -7, -8])
        let (values, indices) = x.maxPool2d(kernelSize: [1, 4])
        #expect(values[0, 0, 0, 0].isNaN && values[0, 0, 1, 0] == -5)
        #expect(indices.values == [3, 4])  // PyTorch's CPU kernel keeps the last NaN
        // All-negative input with padding: the padding never wins.
        let negative = Tensor(shape: [1, 1, 2, 2], scalars: [-4, -3, -2, -1])
        let padded = negative.maxPool2d(kernelSize: 2, stride: 1, padding: 1)
        #expect(padded.values.scalars == [-4, -3, -3, -2, -1, -1, -2, -1, -1])
        #expect(padded.indices.values == [0, 1, 1, 2, 3, 3, 2, 3, 3])
        let (adaptive, at) = x.adaptiveMaxPool2d(outputSize: [1, 1])
        #expect(adaptive.item.isNaN && at.values == [3])
    }

    @Test func unbatchedInput() {
        let x = tieFreeTensor([3, 7, 6])
        let (values, indices) = x.maxPool2d(kernelSize: 3, stride: 2, ceilMode: true)
        let batched = x.unsqueezed(axis: 0).maxPool2d(kernelSize: 3, stride: 2, ceilMode: true)
        #expect(values.shape == [3, 3, 3] && indices.shape == [3, 3, 3])
        #expect(values.scalars == batched.values.scalars && indices.values == batched.indices.values)
        #expect(x.avgPool2d(kernelSize: 2).shape == [3, 3, 3] && x.adaptiveAvgPool2d(outputSize: 5).shape == [3, 5, 5])
    }

    // MARK: PyTorch parity

    static let maxFixtures: [(String, PoolCase)] = [
        ("maxpool_k3s2_ceil", PoolCase(h: 7, w: 7, kernel: 3, stride: 2, ceilMode: true)),
        ("maxpool_pad_dil_ceil", PoolCase(n: 2, h: 8, w: 9, kernel: [3, 2], stride: 2, padding: 1, dilation: [2, 1], ceilMode: true)),
        ("maxpool_ceil_drops_last", PoolCase(c: 1, h: 5, w: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true)),
        ("maxpool_k3s2p1", PoolCase(n: 2, c: 3, h: 8, w: 8, kernel: 3, stride: 2, padding: 1)),
    ]
    static let avgFixtures: [(String, PoolCase)] = [
        ("avgpool_ceil_pad_include", PoolCase(h: 7, w: 6, kernel: 3, stride: 2, padding: 1, ceilMode: true)),
        ("avgpool_ceil_pad_exclude", PoolCase(h: 7, w: 6, kernel: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)),
        ("avgpool_divisor", PoolCase(h: 7, w: 6, kernel: [3, 2], stride: 2, padding: 1, ceilMode: true, divisorOverride: 5)),
        ("avgpool_ceil_nopad", PoolCase(c: 1, h: 6, w: 6, kernel: 4, stride: 3, ceilMode: true)),
        ("avgpool_k2", PoolCase(n: 2, c: 3, h: 6, w: 8, kernel: 2)),
    ]
    static let adaptiveFixtures: [(String, Size2, Bool)] = [
        ("adaptive_avg_2to7", 7, false), ("adaptive_avg_5to3", 3, false), ("adaptive_avg_10x7to6", 6, false),
        ("adaptive_avg_7x9to3x4", [3, 4], false), ("adaptive_max_5to3", 3, true), ("adaptive_max_2x3to7", 7, true),
    ]

    /// Runs `op` on the fixture's input and checks its values, its indices (max pools) and the input
    /// gradient for the fixture's upstream gradient `gy`.
    func checkFixture(_ name: String, _ op: (Tensor) -> (Tensor, IndexTensor?)) throws {
        let x = try convFixtureTensor("\(name)_x").requiringGrad()
        let (values, indices) = op(x)
        let expected = try convFixtureTensor("\(name)_y")
        #expect(values.shape == expected.shape, "\(name)")
        #expect(relativeError(values.scalars, expected.scalars) < 1e-6, "\(name)")
        if let indices {
            #expect(indices.values.map(Int64.init) == (try convFixture("\(name)_idx").int64s()), "\(name)")
        }
        values.backward(try convFixtureTensor("\(name)_gy"))
        #expect(relativeError(x.grad!.scalars, try convFixtureTensor("\(name)_gx").scalars) < 1e-6, "\(name)")
    }

    @Test func matchesPyTorch() throws {
        for (name, config) in Self.maxFixtures { try checkFixture(name) { config.maxPool($0) } }
        for (name, config) in Self.avgFixtures { try checkFixture(name) { (config.avgPool($0), nil) } }
        for (name, size, isMax) in Self.adaptiveFixtures {
            try checkFixture(name) { isMax ? $0.adaptiveMaxPool2d(outputSize: size) : ($0.adaptiveAvgPool2d(outputSize: size), nil) }
        }
    }

    @Test func deterministic() {
        let x = randomTensor([4, 16, 33, 31])
        func pass() -> [[UInt32]] {
            let leaf = x.requiringGrad()
            let y = leaf.avgPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true).sum()
                + leaf.maxPool2d(kernelSize: 3, stride: 2, padding: 1).values.square().sum()
                + leaf.adaptiveAvgPool2d(outputSize: 7).square().sum()
            y.backward()
            return [y.scalars.map(\.bitPattern), leaf.grad!.scalars.map(\.bitPattern)]
        }
        #expect(pass() == pass())
    }
}
