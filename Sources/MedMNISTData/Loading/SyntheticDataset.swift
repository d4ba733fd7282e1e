import Foundation
import MedIO
import MedTensor

/// Generated data in the MedMNIST schema whose classes differ in image content, for examples, tests and
/// benchmarks where the real files are not at hand: a model that learns anything separates them.
public enum SyntheticDataset {
    /// What tells the classes apart.
    public enum Pattern: String, Sendable, CaseIterable {
        /// Class c puts a bright square (a third of the side) at the c-th of a fixed cycle of positions, over a dim
        /// noisy background. Only the position differs, so a network must learn where to look: trained end to end
        /// it separates them, but the globally pooled features of a random, frozen backbone barely do.
        case squares
        /// Class c is a noisy sinusoidal grating at the c-th of `numClasses` orientations over 180° (period 7
        /// pixels, random phase). Orientation survives global pooling, so even a random frozen backbone's features
        /// separate the classes: the pattern for showing that kNN and a linear probe learn.
        case stripes
    }

    /// `count` images of `size`² pixels (`channels` 1 or 3) with labels for `task`. For multi-label tasks each
    /// label l is present independently with probability ½ and adds its own square or grating.
    /// - Parameter numClasses: classes, or labels for multi-label tasks (2 for binary).
    /// - Throws: ``DataFileError`` if the arguments cannot make a valid split (numClasses < 1, say).
    public static func split(_ split: Split = .train, task: MedMNISTTask = .multiClass, numClasses: Int = 4, count: Int = 256,
                             size: Int = 28, channels: Int = 1, pattern: Pattern = .squares, seed: UInt64 = 0) throws -> MedMNISTSplit {
        precondition(size >= 3 && count >= 0 && (channels == 1 || channels == 3), "SyntheticDataset: size ≥ 3, count ≥ 0, channels 1 or 3")
        var generator = RandomGenerator(seed: seed ^ (split == .train ? 0 : split == .val ? 0x5EED_0001 : 0x5EED_0002))
        let columns = task.isMultiLabel ? numClasses : 1
        var pixels = [UInt8](repeating: 0, count: count * size * size * channels)
        var labels = [Int](repeating: 0, count: count * columns)
        for i in 0..<count {
            var present: [Int] = []
            if task.isMultiLabel {
                for l in 0..<numClasses where generator.nextInt(below: 2) == 1 { present.append(l); labels[i * columns + l] = 1 }
            } else {
                let c = generator.nextInt(below: Swift.max(numClasses, 1))
                present.append(c)
                labels[i] = c
            }
            let pixelsPerImage = size * size * channels
            pixels.withUnsafeMutableBufferPointer { all in
                let image = UnsafeMutableBufferPointer(rebasing: all[(i * pixelsPerImage)..<((i + 1) * pixelsPerImage)])
                switch pattern {
                case .squares: drawSquares(present, numClasses: numClasses, size: size, channels: channels, into: image, &generator)
                case .stripes: drawStripes(present, numClasses: numClasses, size: size, channels: channels, into: image, &generator)
                }
            }
        }
        let images = ImageArray(shape: channels == 1 ? [count, size, size] : [count, size, size, 3],
                                layout: channels == 1 ? .grayscale : .rgb, bytes: pixels)
        return try MedMNISTSplit(name: "synthetic", split: split, task: task, images: images,
                                 labels: IndexTensor(shape: [count, columns], values: labels), numClasses: numClasses)
    }

    private static func drawSquares(_ present: [Int], numClasses: Int, size: Int, channels: Int,
                                    into image: UnsafeMutableBufferPointer<UInt8>, _ generator: inout RandomGenerator) {
        let side = max(1, size / 3), positions = max(1, (size - side + 1))
        func corner(_ c: Int) -> (Int, Int) {
            // Spread the classes over the image: a walk over a coarse grid of top-left corners.
            let grid = Swift.max(2, Int(Double(Swift.max(numClasses, 1)).squareRoot().rounded(.up)))
            let step = Swift.max(1, (positions - 1) / Swift.max(grid - 1, 1))
            return (Swift.min((c / grid) * step, positions - 1), Swift.min((c % grid) * step, positions - 1))
        }
        for p in 0..<image.count { image[p] = UInt8(generator.nextInt(below: 48)) }
        for c in present {
            let (top, left) = corner(c)
            for y in top..<Swift.min(top + side, size) {
                for x in left..<Swift.min(left + side, size) {
                    for ch in 0..<channels { image[(y * size + x) * channels + ch] = UInt8(200 + generator.nextInt(below: 56)) }
                }
            }
        }
    }

    private static func drawStripes(_ present: [Int], numClasses: Int, size: Int, channels: Int,
                                    into image: UnsafeMutableBufferPointer<UInt8>, _ generator: inout RandomGenerator) {
        let waves = present.map { c -> (Double, Double, Double) in
            let angle = Double(c) * Double.pi / Double(Swift.max(numClasses, 1))
            return (cos(angle), sin(angle), 2 * Double.pi * generator.nextDouble())
        }
        let amplitude = 80 / Double(Swift.max(waves.count, 1))
        for y in 0..<size {
            for x in 0..<size {
                var value = 128.0
                for (cx, cy, phase) in waves { value += amplitude * sin(2 * Double.pi * (cx * Double(x) + cy * Double(y)) / 7 + phase) }
                value += 25 * generator.nextNormal()
                let pixel = UInt8(Swift.min(Swift.max(value.rounded(), 0), 255))
                for ch in 0..<channels { image[(y * size + x) * channels + ch] = pixel }
            }
        }
    }
}

extension SyntheticDataset {
    /// Writes a generated set as a MedMNIST `.npz` (`train_images`, `train_labels`, … as uint8), loadable as a
    /// catalog file (name it `{flag}.npz` with the catalog's split sizes, which `verify` checks) or as custom
    /// data with `--npz`.
    public static func writeNpz(train: MedMNISTSplit, val: MedMNISTSplit, test: MedMNISTSplit, to url: URL) throws {
        var arrays: [(key: String, array: TypedArray)] = []
        for split in [train, val, test] {
            let images = split.images
            let bytes = Array(UnsafeRawBufferPointer(start: images.storage.baseAddress + images.offset, count: images.shape.reduce(1, *)))
            arrays.append((split.split.imagesKey, TypedArray(uint8s: bytes, shape: images.shape)))
            arrays.append((split.split.labelsKey, TypedArray(uint8s: split.labels.values.map { UInt8(clamping: $0) }, shape: split.labels.shape)))
        }
        try Npz.write(arrays, to: url)
    }
}
