import Foundation
import MedIO
import MedMNISTData
import MedModels
import MedTensor

/// What determines a split's frozen features: change any part and they are computed again.
public struct FeatureCacheKey: Sendable, Codable, Hashable {
    /// Registry name of the architecture (`resnet18`).
    public var model: String
    /// SHA-256 of the weights file, or `random-seed-N` for a randomly initialised model.
    public var weights: String
    /// Catalog flag or custom file name, size and split.
    public var dataset: String
    public var size: Int
    public var split: String
    /// The transform, as ``ImageTransform`` describes itself.
    public var preprocessing: String
    /// `bfloat16` for features computed with BF16 matrix products; nil for Float32, so that Float32 keys
    /// (and the files of earlier versions) stay what they were.
    public var precision: String?

    public init(model: String, weights: String, dataset: String, size: Int, split: Split, transform: ImageTransform,
                precision: Precision = .float32) {
        self.model = model
        self.weights = weights
        self.dataset = dataset
        self.size = size
        self.split = split.rawValue
        preprocessing = "\(transform)"
        self.precision = precision == .float32 ? nil : precision.rawValue
    }

    /// The key as canonical JSON (sorted keys), stored in the entry and compared on reuse.
    var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// `{dataset}_{size}_{split}_{model}_{first 16 hex digits of the key's SHA-256}.safetensors`.
    var fileName: String {
        let digest = SHA256.hexDigest(Array(canonicalJSON.utf8)).prefix(16)
        return "\(dataset)_\(size)_\(split)_\(model)_\(digest).safetensors"
    }
}

/// Frozen pre-logit features on disk, so that kNN and the cached probe (and the grid's three seeds) compute
/// them once. Each entry is one safetensors file written atomically, holding the features, the full key and a
/// CRC-32 of the data; an entry whose key or checksum does not match (a collision, a truncated or damaged
/// file) is computed again and replaced.
public struct FeatureCache: Sendable {
    public let directory: URL

    /// Where the cache lives: `MEDMNIST_FEATURE_CACHE`, or `{dataset root}/.cache/features`.
    public init(directory: URL) { self.directory = directory }

    /// Whether a lookup found a valid entry.
    public enum Outcome: String, Sendable { case hit, computed, rebuilt }

    /// The file of `key`'s entry (whether or not it exists yet).
    public func url(for key: FeatureCacheKey) -> URL { directory.appendingPathComponent(key.fileName) }

    /// The cached features for `key`, or those of `compute()` (stored before they are returned).
    public func features(for key: FeatureCacheKey, compute: () throws -> Tensor) throws -> (features: Tensor, outcome: Outcome) {
        let url = url(for: key)
        var outcome = Outcome.computed
        if FileManager.default.fileExists(atPath: url.path) {
            if let cached = Self.read(url, key: key) {
                AtomicFile.removeAbandonedTemporaries(of: url)  // a writer killed before this entry was complete
                return (cached, .hit)
            }
            outcome = .rebuilt
        }
        let features = try compute().contiguous()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let array = features.typedArray()
        try SafeTensorsFile([(name: "features", array: array)], metadata: [
            "medmnist.feature-cache.key": key.canonicalJSON,
            "medmnist.feature-cache.crc32": String(CRC32.checksum(array.bytes), radix: 16),
        ]).write(to: url)
        return (features, outcome)
    }

    /// A valid entry's features, nil for anything else (unreadable, other key, checksum mismatch). The features
    /// are the file's own bytes, memory-mapped copy-on-write: nothing is copied, and processes reading the same
    /// entry (the grid's seeds) share its pages.
    static func read(_ url: URL, key: FeatureCacheKey) -> Tensor? {
        guard let file = try? MappedFile(url, copyOnWrite: true), let index = try? SafeTensorsIndex(parsing: file.bytes),
            index.metadata["medmnist.feature-cache.key"] == key.canonicalJSON,
            let entry = index["features"], entry.dtype == .float32, entry.shape.count == 2,
            index.metadata["medmnist.feature-cache.crc32"]
                == String(CRC32.checksum(UnsafeRawBufferPointer(rebasing: file.bytes[entry.byteRange])), radix: 16)
        else { return nil }
        #if _endian(little)
        let storage = TensorStorage(borrowing: file, byteOffset: entry.byteRange.lowerBound, count: entry.shape.reduce(1, *))
        return Tensor(storage: storage, layout: Layout(contiguous: entry.shape))
        #else
        return (try? TypedArray(dtype: .float32, shape: entry.shape, bytes: Array(file.bytes[entry.byteRange]))).map { Tensor($0) }
        #endif
    }
}

/// Pre-logit features of a whole split.
public enum FeatureExtraction {
    /// `model.preLogits` of every image of `source`, in order, in evaluation mode and without gradients:
    /// `[N, numFeatures]`. The model's mode is restored afterwards.
    public static func features(of model: any ImageEncoder, source: ImageBatches, batchSize: Int) throws -> Tensor {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var parts: [Tensor] = []
        try withoutGrad {
            for batch in try source.batches(size: batchSize, shuffleSeed: nil) { parts.append(model.preLogits(batch.inputs)) }
        }
        return parts.isEmpty ? Tensor.zeros([0, model.numFeatures]) : Tensor.concatenate(parts)
    }
}
