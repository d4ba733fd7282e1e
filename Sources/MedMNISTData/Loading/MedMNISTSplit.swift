import Foundation
import MedTensor

/// One split of one set, loaded: UInt8 images and integer labels, validated.
///
/// The images stay UInt8 — in heap memory, or memory-mapped from the decoded cache — and are converted to
/// Float32 batch by batch by an ``ImageTransform`` (or a ``BatchLoader``).
public struct MedMNISTSplit: Sendable {
    /// The catalog flag, or the file's name without `.npz` for custom data.
    public let flag: String
    /// Edge length in pixels (the images' height).
    public let size: Int
    public let split: Split
    public let task: MedMNISTTask
    /// The catalog entry the split was validated against; nil for custom data.
    public let info: DatasetInfo?
    /// `(N, H, W)`, `(N, H, W, 3)` or `(N, D, H, W)`.
    public let images: ImageArray
    /// `(N, L)`: L = 1 except for multi-label sets.
    public let labels: IndexTensor
    /// Number of classes (or labels, for multi-label tasks).
    public let numClasses: Int
    /// The old name of ``numClasses`` (the models' and timm's name for it).
    @available(*, deprecated, renamed: "numClasses")
    public var classCount: Int { numClasses }
    /// The `.npz` file it came from.
    public let file: URL

    /// Number of samples.
    public var count: Int { images.count }
    /// True when the images are read from the memory-mapped cache rather than heap memory.
    public var isMemoryMapped: Bool { images.storage.mappedFile != nil }
}

/// Whether loading uses the decoded on-disk cache (`{root}/.cache`).
public enum CacheMode: String, Sendable, CaseIterable {
    /// Decode the npz into heap memory; never touch the cache.
    case off
    /// Map a valid existing cache; otherwise decode into heap memory without writing one — unless the images
    /// would take more than half the physical memory, in which case the cache is built (as ``readWrite``).
    /// The default.
    case automatic
    /// Map a valid existing cache; otherwise decode straight into a new cache file and map that. Needed for
    /// splits larger than RAM; later opens take milliseconds.
    case readWrite
}

extension MedMNISTSplit {
    /// A split from arrays already in memory (generated data, or images from another source), checked as a
    /// file's would be: one label row per image, one column per label for multi-label tasks and one otherwise,
    /// values inside the task's range.
    /// - Parameters:
    ///   - name: stands in for the flag and names the data in messages; `file` becomes `memory:{name}`.
    ///   - numClasses: classes (labels, for multi-label tasks); 2 for binary tasks.
    /// - Throws: ``DataFileError`` `.shape`, `.countMismatch` or `.labelOutOfRange`, naming `name`.
    public init(name: String, split: Split, task: MedMNISTTask, images: ImageArray, labels: IndexTensor, numClasses: Int) throws {
        let path = "memory:\(name)"
        guard labels.shape.count == 2 else {
            throw DataFileError.shape(path: path, key: split.labelsKey, found: labels.shape, expected: "(N, L)")
        }
        guard labels.shape[0] == images.count else {
            throw DataFileError.countMismatch(path: path, imagesKey: split.imagesKey, images: images.count,
                                              labelsKey: split.labelsKey, labels: labels.shape[0])
        }
        let columns = task.isMultiLabel ? numClasses : 1
        guard labels.shape[1] == columns else {
            throw DataFileError.shape(path: path, key: split.labelsKey, found: labels.shape, expected: "(N, \(columns))")
        }
        let allowed = task.isMultiLabel ? 0...1 : 0...max(numClasses - 1, 0)
        if let offset = labels.values.firstIndex(where: { !allowed.contains($0) }) {
            throw DataFileError.labelOutOfRange(path: path, key: split.labelsKey, sample: offset / columns, column: offset % columns,
                                                value: labels.values[offset], allowed: allowed)
        }
        self.init(flag: name, size: images.layout == .volume ? images.shape[2] : images.shape[1], split: split, task: task,
                  info: nil, images: images, labels: labels, numClasses: numClasses,
                  file: URL(string: path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "memory:data") ?? URL(fileURLWithPath: "/dev/null"))
    }
}
