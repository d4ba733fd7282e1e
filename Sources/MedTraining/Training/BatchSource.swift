import MedMNISTData
import MedTensor

/// Labelled inputs that a training loop draws batches from: images through a transform, or precomputed
/// features (the cached probe). Each epoch's order comes from its own seed, so epoch e is the same batch
/// sequence whether or not the run was resumed before it.
public protocol BatchSource {
    /// Number of samples.
    var count: Int { get }
    /// `[N, L]` labels, in sample order (what the evaluator scores against).
    var labels: IndexTensor { get }
    /// One pass over the samples; shuffled by `seed` when it is given, in order otherwise.
    func batches(size: Int, shuffleSeed seed: UInt64?) throws -> AnySequence<(inputs: Tensor, labels: IndexTensor)>
}

/// A split's images through a transform, batched by ``BatchLoader`` (which prepares the next batch while the
/// current one trains).
public struct ImageBatches: BatchSource {
    public let split: MedMNISTSplit
    public let transform: ImageTransform

    public init(_ split: MedMNISTSplit, transform: ImageTransform) {
        self.split = split
        self.transform = transform
    }

    public var count: Int { split.count }
    public var labels: IndexTensor { split.labels }

    public func batches(size: Int, shuffleSeed seed: UInt64?) throws -> AnySequence<(inputs: Tensor, labels: IndexTensor)> {
        let loader = try BatchLoader(split, transform: transform, batchSize: size, shuffle: seed != nil, seed: seed ?? 0)
        return AnySequence(loader.nextEpoch().lazy.map { (inputs: $0.images, labels: $0.labels) })
    }
}

/// Rows of a `[N, D]` feature matrix with their labels (a linear probe on cached features).
public struct FeatureBatches: BatchSource {
    public let features: Tensor
    public let labels: IndexTensor

    /// - Precondition: `features` is `[N, D]` and `labels` `[N, L]` (both built by the library).
    public init(features: Tensor, labels: IndexTensor) {
        precondition(features.rank == 2 && labels.shape.count == 2 && labels.shape[0] == features.shape[0],
                     "FeatureBatches: features \(features.shape) and labels \(labels.shape) do not pair up")
        self.features = features.contiguous()
        self.labels = labels
    }

    public var count: Int { features.shape[0] }

    public func batches(size: Int, shuffleSeed seed: UInt64?) throws -> AnySequence<(inputs: Tensor, labels: IndexTensor)> {
        var sampler = try BatchSampler(count: count, batchSize: size, shuffle: seed != nil, seed: seed ?? 0)
        let indices = sampler.nextOrder()
        let width = features.shape[1], columns = labels.shape[1]
        let rows = features.scalars, labels = self.labels
        return AnySequence(stride(from: 0, to: indices.count, by: size).lazy.map { start in
            let batch = indices[start..<min(start + size, indices.count)]
            var scalars = [Float](), values = [Int]()
            scalars.reserveCapacity(batch.count * width)
            for i in batch {
                scalars += rows[(i * width)..<((i + 1) * width)]
                values += labels.values[(i * columns)..<((i + 1) * columns)]
            }
            return (inputs: Tensor(shape: [batch.count, width], scalars: scalars),
                    labels: IndexTensor(shape: [batch.count, columns], values: values))
        })
    }
}
