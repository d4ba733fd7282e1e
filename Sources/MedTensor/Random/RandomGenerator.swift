/// A seedable random generator whose numbers are bit-identical on every platform.
///
/// xoshiro256** seeded through SplitMix64 supplies 64-bit integers; uniforms use the top 24 bits (Float)
/// or 53 bits (Double); normals use Marsaglia's polar method with a logarithm computed here from
/// IEEE-exact operations, because the platform's libm may round `log` differently from one system to
/// another.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double? = nil

    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (mean 0, variance 1).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal { spareNormal = nil; return spare }
        while true {
            let u = 2 * nextDouble() - 1, v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let factor = (-2 * portableLog(s) / s).squareRoot()
            spareNormal = v * factor
            return u * factor
        }
    }

    /// A uniformly random integer in `0..<bound`, unbiased (Lemire's method on 64-bit products).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:): bound must be positive")
        let limit = UInt64(bound)
        var product = next().multipliedFullWidth(by: limit)
        if product.low < limit {
            let threshold = (0 &- limit) % limit
            while product.low < threshold { product = next().multipliedFullWidth(by: limit) }
        }
        return Int(product.high)
    }

    /// The elements of `0..<count` in a random order (Fisher–Yates), the same on every platform.
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { values.swapAt(i, nextInt(below: i + 1)) }
        return values
    }
}

/// Natural logarithm from IEEE-exact steps: x = m · 2ᵉ with m in [√½, √2), then
/// ln m = 2·atanh((m−1)/(m+1)) by its odd series. Accurate to about 1 ulp for positive finite x.
func portableLog(_ x: Double) -> Double {
    precondition(x > 0 && x.isFinite, "portableLog: \(x) is not a positive finite number")
    var m = x.significand          // in [1, 2)
    var e = Double(x.exponent)
    if m > 1.4142135623730951 { m /= 2; e += 1 }
    let t = (m - 1) / (m + 1)
    let t2 = t * t
    // |t| ≤ 0.1716, so 12 odd terms reach below 1e-18.
    var term = t, sum = 0.0
    var k = 1.0
    for _ in 0..<12 {
        sum += term / k
        term *= t2
        k += 2
    }
    return 2 * sum + e * 0.6931471805599453
}

extension Tensor {
    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = low + (high - low) * generator.nextFloat() }
        return Tensor(shape: shape, scalars: values)
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = mean + std * Float(generator.nextNormal()) }
        return Tensor(shape: shape, scalars: values)
    }
}
