/// What a ``BatchSampler`` or ``BatchLoader`` refuses to be built with: a batch size or sample count from a
/// user's flags, or labels that do not belong to the images.
public enum BatchingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A batch size below 1.
    case batchSize(Int)
    /// A negative sample count.
    case sampleCount(Int)
    /// Labels that are not `(N, L)` for the N images.
    case labelShape(labels: [Int], images: Int)

    public var description: String {
        switch self {
        case .batchSize(let size): "the batch size must be at least 1, got \(size)"
        case .sampleCount(let count): "the sample count must not be negative, got \(count)"
        case let .labelShape(labels, images): "labels of shape \(labels) do not match \(images) images: expected [\(images), L]"
        }
    }
}
