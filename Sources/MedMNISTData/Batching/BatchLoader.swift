import Dispatch
import MedTensor

/// One batch: the transformed images, their labels and which samples they are.
public struct Batch: Sendable {
    /// `[B, C, H, W]` (3D: `[B, C, D, H, W]`), Float32.
    public let images: Tensor
    /// `[B, L]` integer labels.
    public let labels: IndexTensor
    /// The samples' indices in the split.
    public let indices: [Int]
}

/// Iterates a split in batches: seeded order from a ``BatchSampler``, each batch gathered from the UInt8
/// images and transformed as a whole by an ``ImageTransform``, and — with `prefetch` — the next batch prepared
/// on a background thread while the caller works on the current one.
///
/// ```swift
/// let loader = try BatchLoader(images: split.images, labels: split.labels, transform: .paper(normalization: .imagenet),
///                          batchSize: 128, shuffle: true, seed: 0)
/// for epoch in 0..<10 { for batch in loader.nextEpoch() { train(batch.images, batch.labels) } }
/// ```
///
/// Results are deterministic: the order comes from the sampler, and augmentation parameters come from a
/// second generator used in batch order on one thread at a time.
public final class BatchLoader: @unchecked Sendable {
    public let images: ImageArray
    public let labels: IndexTensor
    public let transform: ImageTransform
    public let prefetch: Bool
    public private(set) var sampler: BatchSampler
    private let augmentation: GeneratorBox

    /// Everything is checked here, before the first batch: the batch size, the labels against the images,
    /// and the transform against the images' layout (``ImageTransform/validate(for:)``).
    /// - Parameters:
    ///   - labels: `[N, L]`, the same N as `images`.
    ///   - seed: seeds the order (and, derived from it, the augmentation).
    /// - Throws: ``BatchingError``, or ``TransformError`` when the transform cannot apply to these images.
    public init(
        images: ImageArray, labels: IndexTensor, transform: ImageTransform = ImageTransform(), batchSize: Int,
        shuffle: Bool, seed: UInt64 = 0, dropLast: Bool = false, prefetch: Bool = true
    ) throws {
        guard labels.shape.count == 2 && labels.shape[0] == images.count else {
            throw BatchingError.labelShape(labels: labels.shape, images: images.count)
        }
        try transform.validate(for: images.layout)
        sampler = try BatchSampler(count: images.count, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast)
        self.images = images
        self.labels = labels
        self.transform = transform
        self.prefetch = prefetch
        augmentation = GeneratorBox(RandomGenerator(seed: seed ^ 0x5EED_A11C_0000_0001))
    }

    /// A loader over a loaded split.
    /// - Throws: as ``init(images:labels:transform:batchSize:shuffle:seed:dropLast:prefetch:)``.
    public convenience init(
        _ split: MedMNISTSplit, transform: ImageTransform = ImageTransform(), batchSize: Int, shuffle: Bool,
        seed: UInt64 = 0, dropLast: Bool = false, prefetch: Bool = true
    ) throws {
        try self.init(images: split.images, labels: split.labels, transform: transform, batchSize: batchSize,
                  shuffle: shuffle, seed: seed, dropLast: dropLast, prefetch: prefetch)
    }

    public var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// The batches of the next epoch. Finish (or drop) one epoch before starting the next; both share the
    /// augmentation generator.
    public func nextEpoch() -> Epoch {
        Epoch(loader: self, batches: sampler.nextEpoch())
    }

    /// Gathers and transforms one batch. Runs on the prefetch thread or the caller's, never two at a time.
    fileprivate func makeBatch(_ indices: [Int]) -> Batch {
        let tensor: Tensor
        if transform.augmentation != nil {
            tensor = augmentation.withGenerator { transform.apply(images, indices: indices, generator: &$0) }
        } else {
            tensor = transform.apply(images, indices: indices)
        }
        let columns = labels.shape[1]
        var values = [Int]()
        values.reserveCapacity(indices.count * columns)
        for i in indices { values.append(contentsOf: labels.values[i * columns ..< (i + 1) * columns]) }
        return Batch(images: tensor, labels: IndexTensor(shape: [indices.count, columns], values: values), indices: indices)
    }

    /// One pass over the split. Iterating prepares batch k + 1 in the background while batch k is in use.
    public final class Epoch: Sequence, IteratorProtocol, @unchecked Sendable {
        private let loader: BatchLoader
        /// The sample indices of each batch, in order.
        public let batches: [[Int]]
        private var position = 0
        private var pending: (DispatchGroup, ResultBox)?
        private let queue = DispatchQueue(label: "MedMNISTData.BatchLoader.prefetch", qos: .userInitiated)

        fileprivate init(loader: BatchLoader, batches: [[Int]]) {
            self.loader = loader
            self.batches = batches
        }

        public func next() -> Batch? {
            guard position < batches.count else { return nil }
            let batch: Batch
            if let (group, box) = pending {
                group.wait()
                batch = box.value!
                pending = nil
            } else {
                batch = loader.makeBatch(batches[position])
            }
            position += 1
            if loader.prefetch && position < batches.count {
                let group = DispatchGroup(), box = ResultBox()
                let indices = batches[position], loader = self.loader
                queue.async(group: group) { box.value = loader.makeBatch(indices) }
                pending = (group, box)
            }
            return batch
        }

        deinit { pending?.0.wait() }
    }
}

/// A batch handed from the prefetch thread to the consumer; the DispatchGroup orders the accesses.
private final class ResultBox: @unchecked Sendable {
    var value: Batch?
}

/// The augmentation generator, used by one batch preparation at a time.
private final class GeneratorBox: @unchecked Sendable {
    private var generator: RandomGenerator
    init(_ generator: RandomGenerator) { self.generator = generator }
    func withGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R { body(&generator) }
}
