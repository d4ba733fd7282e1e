import MedTensor

/// A grid of samples, like the `medmnist` package's `montage` (`skimage.util.montage` of the selected images).
///
/// `n` images fill a ⌈√n⌉ × ⌈√n⌉ grid row by row; unfilled tiles take the mean of the images' pixels (per
/// channel for RGB), as scikit-image does. 3D volumes contribute their middle slice (`D / 2`), where the package
/// writes an animated GIF of every slice.
public struct Montage: Sendable, Equatable {
    /// Row-major pixels, `channels` bytes per pixel.
    public let pixels: [UInt8]
    /// Width in pixels: ⌈√n⌉ tiles.
    public let width: Int
    /// Height in pixels: ⌈√n⌉ tiles.
    public let height: Int
    /// 1 (grayscale) or 3 (RGB).
    public let channels: Int

    /// The montage of `images[indices]`.
    public init(_ images: ImageArray, indices: [Int]) {
        precondition(!indices.isEmpty, "Montage: no images selected")
        let tiles = Int(Double(indices.count).squareRoot().rounded(.up))
        let side = tiles * tiles < indices.count ? tiles + 1 : tiles
        let h = images.height, w = images.width, c = images.layout.channels
        let sliceOffset = images.layout == .volume ? (images.shape[1] / 2) * h * w : 0
        // skimage: fill = arr_in.mean(axis=(0, 1, 2)) per channel (or overall), cast to uint8 by truncation.
        var fill = [UInt8](repeating: 0, count: c)
        if side * side > indices.count {
            var sums = [Double](repeating: 0, count: c)
            for index in indices {
                let p = images.samplePointer(index) + sliceOffset
                for i in 0..<(h * w * c) { sums[i % c] += Double(p[i]) }
            }
            fill = sums.map { UInt8($0 / Double(indices.count * h * w)) }
        }
        var out = [UInt8](repeating: 0, count: side * h * side * w * c)
        for i in 0..<(side * side) {
            let tileRow = i / side, tileColumn = i % side
            for y in 0..<h {
                let destination = ((tileRow * h + y) * side * w + tileColumn * w) * c
                if i < indices.count {
                    let source = images.samplePointer(indices[i]) + sliceOffset + y * w * c
                    for k in 0..<(w * c) { out[destination + k] = source[k] }
                } else {
                    for k in 0..<(w * c) { out[destination + k] = fill[k % c] }
                }
            }
        }
        pixels = out
        width = side * w
        height = side * h
        channels = c
    }

    /// `length²` distinct samples out of `count`, chosen with a seeded generator (the package uses
    /// `np.random.choice(n, length², replace=False)`, unseeded). With `replace` samples may repeat.
    /// - Throws: ``MontageError/notEnoughSamples(available:requested:)`` without `replace` when `count < length²`.
    public static func selection(count: Int, length: Int, seed: UInt64, replace: Bool = false) throws -> [Int] {
        precondition(length > 0, "Montage.selection: length must be positive")
        let n = length * length
        var generator = RandomGenerator(seed: seed)
        if replace { return (0..<n).map { _ in generator.nextInt(below: count) } }
        guard count >= n else { throw MontageError.notEnoughSamples(available: count, requested: n) }
        return Array(generator.permutation(count).prefix(n))
    }

    /// PNG bytes of the montage.
    public func pngData() -> [UInt8] {
        PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: channels)
    }
}

/// Why a montage cannot be made.
public enum MontageError: Error, Equatable, CustomStringConvertible {
    case notEnoughSamples(available: Int, requested: Int)

    public var description: String {
        switch self {
        case .notEnoughSamples(let available, let requested):
            "the split has \(available) samples, fewer than the \(requested) a montage of this length needs; use a smaller --length"
        }
    }
}
