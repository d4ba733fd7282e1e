import Foundation
import MedIO
import MedTensor

/// Generated data in the MedMNIST schema whose classes differ in image content, for examples, tests and
/// benchmarks where the real files are not at hand: a model that learns anything separates them.
///
/// Class c puts a bright square (a third of the side) at the c-th of a fixed cycle of positions, over a dim
/// noisy background. For multi-label tasks each label l independently adds its own square with probability ½.
public enum SyntheticDataset {
    /// `count` images of `size`² pixels (`channels` 1 or 3) with labels for `task`.
    /// - Parameter numClasses: classes, or labels for multi-label tasks (2 for binary).
    /// - Throws: ``DataFileError`` if the arguments cannot make a valid split (numClasses < 1, say).
    public static func split(_ split: Split = .train, task: MedMNISTTask = .multiClass, numClasses: Int = 4, count: Int = 256,
                             size: Int = 28, channels: Int = 1, seed: UInt64 = 0) throws -> MedMNISTSplit {
        precondition(size >= 3 && count >= 0 && (channels == 1 || channels == 3), "SyntheticDataset: size ≥ 3, count ≥ 0, channels 1 or 3")
        var generator = RandomGenerator(seed: seed ^ (split == .train ? 0 : split == .val ? 0x5EED_0001 : 0x5EED_0002))
        let columns = task.isMultiLabel ? numClasses : 1
        var pixels = [UInt8](repeating: 0, count: count * size * size * channels)
        var labels = [Int](repeating: 0, count: count * columns)
        let side = max(1, size / 3), positions = max(1, (size - side + 1))
        func corner(_ c: Int) -> (Int, Int) {
            // Spread the classes over the image: a walk over a coarse grid of top-left corners.
            let grid = Swift.max(2, Int(Double(Swift.max(numClasses, 1)).squareRoot().rounded(.up)))
            let step = Swift.max(1, (positions - 1) / Swift.max(grid - 1, 1))
            return (Swift.min((c / grid) * step, positions - 1), Swift.min((c % grid) * step, positions - 1))
        }
        for i in 0..<count {
            var squares: [Int] = []
            if task.isMultiLabel {
                for l in 0..<numClasses where generator.nextInt(below: 2) == 1 { squares.append(l); labels[i * columns + l] = 1 }
            } else {
                let c = generator.nextInt(below: Swift.max(numClasses, 1))
                squares.append(c)
                labels[i] = c
            }
            let base = i * size * size * channels
            for p in 0..<(size * size * channels) { pixels[base + p] = UInt8(generator.nextInt(below: 48)) }
            for c in squares {
                let (top, left) = corner(c)
                for y in top..<Swift.min(top + side, size) {
                    for x in left..<Swift.min(left + side, size) {
                        for ch in 0..<channels { pixels[base + (y * size + x) * channels + ch] = UInt8(200 + generator.nextInt(below: 56)) }
                    }
                }
            }
        }
        let images = ImageArray(shape: channels == 1 ? [count, size, size] : [count, size, size, 3],
                                layout: channels == 1 ? .grayscale : .rgb, bytes: pixels)
        return try MedMNISTSplit(name: "synthetic", split: split, task: task, images: images,
                                 labels: IndexTensor(shape: [count, columns], values: labels), numClasses: numClasses)
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
