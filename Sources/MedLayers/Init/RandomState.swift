import Foundation
import MedTensor

/// The library-wide random state used to initialise parameters and draw dropout masks, like
/// `torch.manual_seed`. Thread-safe; seed it once for reproducible models and training.
public enum RandomState {
    /// A generator behind a lock, so a scope's draws stay ordered even across threads.
    final class Source: @unchecked Sendable {
        private let lock = NSLock()
        private var generator: RandomGenerator
        init(seed: UInt64) { generator = RandomGenerator(seed: seed) }
        func reseed(_ seed: UInt64) { lock.withLock { generator = RandomGenerator(seed: seed) } }
        func draw<T>(_ body: (inout RandomGenerator) -> T) -> T { lock.withLock { body(&generator) } }
    }

    private static let global = Source(seed: 0)
    @TaskLocal private static var scoped: Source?

    /// Restarts the global generator from `seed` (or the current scope's, inside ``withSeed(_:_:)``).
    public static func seed(_ seed: UInt64) {
        (scoped ?? global).reseed(seed)
    }

    /// Runs `body` with a private generator started from `seed`: models built and dropout masks drawn
    /// inside are reproducible whatever other tasks do with the global generator meanwhile.
    public static func withSeed<T>(_ seed: UInt64, _ body: () throws -> T) rethrows -> T {
        try $scoped.withValue(Source(seed: seed), operation: body)
    }

    /// Runs `body` with exclusive use of the current generator.
    public static func withGenerator<T>(_ body: (inout RandomGenerator) -> T) -> T {
        (scoped ?? global).draw(body)
    }
}

/// Parameter initialisations with PyTorch's and timm's distributions.
public enum Initializer {
    /// U(−bound, bound).
    public static func uniform(_ shape: [Int], bound: Float) -> Tensor {
        RandomState.withGenerator { Tensor.uniform(shape, low: -bound, high: bound, generator: &$0) }
    }

    /// PyTorch's default for `nn.Linear`/`nn.Conv2d` weights: `kaiming_uniform_(a=√5)`, which is
    /// U(−1/√fanIn, 1/√fanIn).
    public static func kaimingUniformDefault(_ shape: [Int], fanIn: Int) -> Tensor {
        uniform(shape, bound: 1 / Float(max(fanIn, 1)).squareRoot())
    }

    /// `kaiming_normal_(mode='fan_out', nonlinearity='relu')`: N(0, 2/fanOut), as timm's ResNet uses.
    public static func kaimingNormal(_ shape: [Int], fanOut: Int) -> Tensor {
        normal(shape, std: (2 / Float(max(fanOut, 1))).squareRoot())
    }

    public static func normal(_ shape: [Int], mean: Float = 0, std: Float) -> Tensor {
        RandomState.withGenerator { Tensor.normal(shape, mean: mean, std: std, generator: &$0) }
    }

    /// timm's `trunc_normal_(std, a=-2, b=2)`: a normal with mean 0 and `std`, cut to [a, b] (absolute
    /// bounds, as timm uses them), drawn by inverting the CDF between Φ(a/std) and Φ(b/std).
    public static func truncatedNormal(_ shape: [Int], std: Float, lower: Float = -2, upper: Float = 2) -> Tensor {
        let sd = Double(std)
        let low = normalCDF(Double(lower) / sd), high = normalCDF(Double(upper) / sd)
        let count = shape.reduce(1, *)
        let values: [Float] = RandomState.withGenerator { generator in
            (0..<count).map { _ in
                let u = low + (high - low) * generator.nextDouble()
                let x = sd * inverseNormalCDF(u)
                return Float(min(max(x, Double(lower)), Double(upper)))
            }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// fan-in and fan-out of a Linear ([out, in]) or Conv2d ([out, in/groups, kh, kw]) weight shape.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape.count > 1 ? shape[1] * receptive : shape[0], shape[0] * receptive)
    }
}

private func normalCDF(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.0.squareRoot())) }

/// Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9), polished by one Newton step.
private func inverseNormalCDF(_ p: Double) -> Double {
    let q = min(max(p, 1e-300), 1 - 1e-16)
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
             -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
             -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
             4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let lowTail = 0.02425
    var x: Double
    if q < lowTail || q > 1 - lowTail {
        let r = (-2 * log(q < lowTail ? q : 1 - q)).squareRoot()
        let value = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
            ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
        x = q < lowTail ? value : -value
    } else {
        let u = q - 0.5, r = u * u
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * u /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
    let density = exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
    if density > 1e-280 { x -= (normalCDF(x) - q) / density }
    return x
}
