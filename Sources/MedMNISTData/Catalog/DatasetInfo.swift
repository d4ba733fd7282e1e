import Foundation
import MedIO

/// Whether a set holds images or volumes.
public enum Dimensions: Sendable, Equatable {
    /// Images: `(N, H, W)` grayscale or `(N, H, W, 3)` RGB; sizes 28, 64, 128, 224.
    case two
    /// Volumes: `(N, D, H, W)` single-channel; sizes 28 and 64.
    case three

    /// The sizes the package publishes for this kind of set (`available_sizes`).
    public var availableSizes: [Int] { self == .two ? [28, 64, 128, 224] : [28, 64] }
}

/// One downloadable file: a set at one size.
public struct DatasetFile: Sendable, Equatable {
    public let flag: String
    /// Edge length in pixels (28, 64, 128 or 224).
    public let size: Int
    /// `{flag}.npz` at 28, `{flag}_{size}.npz` otherwise.
    public let fileName: String
    /// The Zenodo URL the package downloads from (`INFO[flag]['url' / 'url_{size}']`).
    public let url: URL
    /// Lower-case hex MD5 of the whole file (`INFO[flag]['MD5' / 'MD5_{size}']`).
    public let md5: String
}

/// Everything the `medmnist` package's `INFO` holds about one set, plus what follows from it.
public struct DatasetInfo: Sendable, Equatable {
    /// The key of `INFO`, e.g. `pathmnist`; also the file-name stem.
    public let flag: String
    /// The package's dataset class, e.g. `PathMNIST`.
    public let pythonClass: String
    public let dimensions: Dimensions
    /// A one-line description of the modality and source.
    public let description: String
    public let task: MedMNISTTask
    /// 1 (grayscale) or 3 (RGB).
    public let channels: Int
    /// Class names (label columns for multi-label sets), index = label value.
    public let labels: [String]
    public var splitSizes: SplitSizes
    public let license: String
    /// MD5 of the published file for each available size.
    public let md5BySize: [Int: String]

    /// An entry; the catalog's are in ``MedMNISTCatalog/all``. Change ``splitSizes`` of a copy to validate
    /// subsets or test files.
    public init(
        flag: String, pythonClass: String, dimensions: Dimensions, description: String, task: MedMNISTTask,
        channels: Int, labels: [String], splitSizes: SplitSizes, license: String, md5BySize: [Int: String]
    ) {
        self.flag = flag
        self.pythonClass = pythonClass
        self.dimensions = dimensions
        self.description = description
        self.task = task
        self.channels = channels
        self.labels = labels
        self.splitSizes = splitSizes
        self.license = license
        self.md5BySize = md5BySize
    }

    /// The sizes published for this set, ascending.
    public var availableSizes: [Int] { md5BySize.keys.sorted() }

    /// Number of classes (multi-class, binary, ordinal) or of labels (multi-label).
    public var numClasses: Int { labels.count }

    /// The old name of ``numClasses`` (the models' and timm's name for it).
    @available(*, deprecated, renamed: "numClasses")
    public var classCount: Int { numClasses }

    /// Columns of the label array: L for multi-label sets, 1 otherwise.
    public var labelColumns: Int { task.isMultiLabel ? labels.count : 1 }

    /// The file of this set at `size`.
    /// - Throws: ``CatalogError/unavailableSize(flag:size:available:)``.
    public func file(size: Int) throws -> DatasetFile {
        guard let md5 = md5BySize[size] else {
            throw CatalogError.unavailableSize(flag: flag, size: size, available: availableSizes)
        }
        let name = MedMNISTCatalog.fileName(flag: flag, size: size)
        return DatasetFile(
            flag: flag, size: size, fileName: name,
            url: URL(string: "\(MedMNISTCatalog.zenodoFilesURL)/\(name)?download=1")!, md5: md5)
    }

    /// How the set's images are stored: grayscale or RGB images, or volumes.
    public var imageLayout: ImageLayout {
        dimensions == .three ? .volume : (channels == 3 ? .rgb : .grayscale)
    }

    /// The shape of one sample at `size`: `[s, s]`, `[s, s, 3]` or `[s, s, s]`.
    public func sampleShape(size: Int) -> [Int] {
        switch (dimensions, channels) {
        case (.three, _): [size, size, size]
        case (.two, 3): [size, size, 3]
        default: [size, size]
        }
    }
}

/// A flag or size the catalog does not know.
public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case unknownFlag(String, suggestion: String?)
    case unavailableSize(flag: String, size: Int, available: [Int])

    public var description: String {
        switch self {
        case .unknownFlag(let flag, let suggestion):
            "unknown dataset '\(flag)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; the 18 flags are listed by 'medmnist info'"
        case .unavailableSize(let flag, let size, let available):
            "\(flag) has no size \(size); available sizes: \(available.map(String.init).joined(separator: ", "))"
        }
    }
}
