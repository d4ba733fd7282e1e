import MedTensor

/// The order in which samples are visited, epoch after epoch: seeded shuffling that is the same on every
/// platform (``RandomGenerator/permutation(_:)``: xoshiro256**, Lemire's bounded integers, Fisher–Yates),
/// cut into batches, with an optional drop of the last incomplete batch.
///
/// One generator is seeded once; each epoch draws the next permutation from it, like a PyTorch `DataLoader`
/// with a seeded `RandomSampler`. Without shuffling every epoch is `0..<count` in order.
public struct BatchSampler: Sendable {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public private(set) var generator: RandomGenerator
    /// Epochs drawn so far.
    public private(set) var epochsDrawn = 0

    /// `count` samples in batches of `batchSize`; `seed` fixes every epoch's order when `shuffle` is set.
    /// - Throws: ``BatchingError/batchSize(_:)`` when `batchSize` < 1, ``BatchingError/sampleCount(_:)``
    ///   when `count` < 0.
    public init(count: Int, batchSize: Int, shuffle: Bool, seed: UInt64 = 0, dropLast: Bool = false) throws {
        guard count >= 0 else { throw BatchingError.sampleCount(count) }
        guard batchSize > 0 else { throw BatchingError.batchSize(batchSize) }
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        generator = RandomGenerator(seed: seed)
    }

    /// Batches per epoch: `count / batchSize`, rounded up unless `dropLast`.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The sample order of the next epoch.
    public mutating func nextOrder() -> [Int] {
        epochsDrawn += 1
        return shuffle ? generator.permutation(count) : Array(0..<count)
    }

    /// The next epoch's batches of sample indices.
    public mutating func nextEpoch() -> [[Int]] {
        let order = nextOrder()
        return (0..<batchesPerEpoch).map { b in Array(order[b * batchSize ..< min((b + 1) * batchSize, count)]) }
    }
}
