import MedTensor

/// Random augmentations drawn from a seeded ``RandomGenerator`` (bit-identical on every platform).
///
/// The paper's protocol uses none; these exist for prototyping. Per sample, in this order: horizontal flip,
/// vertical flip, random resized crop — each draw taken from the generator in batch order, before any pixel is
/// computed, so the result does not depend on the thread count.
public struct Augmentation: Sendable, Equatable {
    /// Probability of mirroring left–right (`RandomHorizontalFlip`).
    public var horizontalFlip: Double
    /// Probability of mirroring top–bottom (`RandomVerticalFlip`).
    public var verticalFlip: Double
    /// `RandomResizedCrop` parameters, or nil for none. The crop is resized to the transform's `resize` size
    /// (or the input size) with the transform's interpolation, without antialiasing.
    public var resizedCrop: ResizedCrop?

    /// Flip probabilities and an optional random resized crop.
    public init(horizontalFlip: Double = 0.5, verticalFlip: Double = 0, resizedCrop: ResizedCrop? = nil) {
        self.horizontalFlip = horizontalFlip
        self.verticalFlip = verticalFlip
        self.resizedCrop = resizedCrop
    }

    /// torchvision's `RandomResizedCrop.get_params`: area fraction in `scale`, aspect ratio log-uniform in
    /// `ratio`, 10 attempts, then a centre crop with the ratio clamped.
    public struct ResizedCrop: Sendable, Equatable {
        /// Range of the crop's area as a fraction of the image.
        public var scale: ClosedRange<Double>
        /// Range of the crop's width / height.
        public var ratio: ClosedRange<Double>

        /// torchvision's defaults: scale 0.08…1, ratio 3/4…4/3.
        public init(scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)) {
            precondition(scale.lowerBound > 0 && ratio.lowerBound > 0, "ResizedCrop: scale and ratio must be positive")
            self.scale = scale
            self.ratio = ratio
        }
    }

    /// A crop box in source pixels and the flips, for one sample.
    struct Draw: Equatable {
        var top: Int, left: Int, height: Int, width: Int
        var flipHorizontal: Bool, flipVertical: Bool
    }

    func draw(height: Int, width: Int, generator: inout RandomGenerator) -> Draw {
        var d = Draw(top: 0, left: 0, height: height, width: width, flipHorizontal: false, flipVertical: false)
        if horizontalFlip > 0 { d.flipHorizontal = generator.nextDouble() < horizontalFlip }
        if verticalFlip > 0 { d.flipVertical = generator.nextDouble() < verticalFlip }
        if let crop = resizedCrop {
            (d.top, d.left, d.height, d.width) = crop.box(height: height, width: width, generator: &generator)
        }
        return d
    }
}

extension Augmentation.ResizedCrop {
    func box(height: Int, width: Int, generator: inout RandomGenerator) -> (Int, Int, Int, Int) {
        let area = Double(height * width)
        let logLow = PortableMath.log(ratio.lowerBound), logHigh = PortableMath.log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * generator.nextDouble())
            let aspect = PortableMath.exp(logLow + (logHigh - logLow) * generator.nextDouble())
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = generator.nextInt(below: height - h + 1)
                let left = generator.nextInt(below: width - w + 1)
                return (top, left, h, w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }
}

/// `exp` and `log` from IEEE-exact operations only (+, −, ×, ÷), so augmentation parameters are the same on
/// every platform whatever its libm does. Accurate to a few ulp, which is plenty for crop sizes.
enum PortableMath {
    static let ln2 = 0.6931471805599453

    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "PortableMath.log: \(x) is not a positive finite number")
        var m = x.significand
        var e = Double(x.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let t = (m - 1) / (m + 1), t2 = t * t
        var term = t, sum = 0.0, k = 1.0
        for _ in 0..<12 { sum += term / k; term *= t2; k += 2 }
        return 2 * sum + e * ln2
    }

    static func exp(_ x: Double) -> Double {
        precondition(x.isFinite && abs(x) < 700, "PortableMath.exp: \(x) out of range")
        // x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in two, fdlibm's constants, so k·ln2hi is exact); e^r by
        // its Taylor series in Horner form; then scale by 2^k exactly.
        let k = (x / ln2).rounded(.toNearestOrEven)
        let r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
        var sum = 1.0
        for n in stride(from: 18, through: 1, by: -1) { sum = 1 + r / Double(n) * sum }
        return sum * Double(sign: .plus, exponent: Int(k), significand: 1)
    }
}
