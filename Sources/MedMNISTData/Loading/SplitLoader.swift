import Foundation
import MedIO
import MedTensor

extension DatasetRoot {
    /// Loads one split of a catalog set: `{flag}.npz` (28) or `{flag}_{size}.npz` from this root, validated
    /// against the catalog (keys, dtypes, shapes, split sizes, label ranges).
    ///
    /// - Parameters:
    ///   - flag: a catalog flag such as `pathmnist` (or the Python class name).
    ///   - cache: see ``CacheMode``; the default maps an existing cache and otherwise decodes into memory.
    /// - Throws: ``CatalogError`` for an unknown flag or size, ``DataFileError`` for a missing or bad file.
    public func load(_ flag: String, size: Int = 28, split: Split, cache: CacheMode = .automatic) throws -> MedMNISTSplit {
        try load(MedMNISTCatalog.info(flag), size: size, split: split, cache: cache)
    }

    /// Loads one split of `info` (a catalog entry, possibly with changed split sizes) at `size`.
    public func load(_ info: DatasetInfo, size: Int = 28, split: Split, cache: CacheMode = .automatic) throws -> MedMNISTSplit {
        let file = try info.file(size: size)
        let url = url(for: file)
        let expectation = SplitExpectation(info: info, size: size, split: split)
        let (images, labels) = try SplitLoader.load(
            url: url, split: split, expectation: expectation, cache: cache, cacheDirectory: cacheDirectory,
            downloadURL: file.url.absoluteString)
        return MedMNISTSplit(flag: info.flag, size: size, split: split, task: info.task, info: info, images: images,
                             labels: labels, numClasses: info.numClasses, file: url)
    }

    /// The labels of one split, `(N, L)`, validated, without decoding any image (what the evaluator needs).
    public func labels(_ info: DatasetInfo, size: Int = 28, split: Split) throws -> IndexTensor {
        let file = try info.file(size: size)
        let url = url(for: file)
        let npz = try NpzFile(contentsOf: url, downloadURL: file.url.absoluteString)
        let expectation = SplitExpectation(info: info, size: size, split: split)
        let bytes = try npz.read(split.labelsKey)
        let array = try NpyMember.decode(bytes, path: url.path, key: split.labelsKey)
        return try expectation.checkLabels(array, path: url.path, key: split.labelsKey, imagesKey: split.imagesKey,
                                           imageCount: array.shape.first ?? 0)
    }
}

/// Custom data in the MedMNIST schema: any `.npz` with the six keys `{train,val,test}_{images,labels}`.
public enum CustomDataset {
    /// Loads one split of the npz at `url`. Images must be uint8 `(N, H, W)`, `(N, H, W, 3)` or `(N, D, H, W)`;
    /// labels integer `(N, L)` (or `(N,)`).
    ///
    /// - Parameters:
    ///   - task: the task; nil infers it from the labels of all three splits (see ``inferTask(labels:)``).
    ///   - dimensions: `.three` to read a 4-D array whose last axis is 3 as volumes; nil guesses (last axis 3
    ///     means RGB).
    ///   - cache: as for catalog sets; the cache goes to `.cache` beside the file.
    public static func load(
        contentsOf url: URL, split: Split, task: MedMNISTTask? = nil, dimensions: Dimensions? = nil,
        cache: CacheMode = .automatic
    ) throws -> MedMNISTSplit {
        let npz = try NpzFile(contentsOf: url, downloadURL: nil)
        // All label arrays present decide the task and the class count.
        var allLabels: [IndexTensor] = []
        for s in Split.allCases where npz.keys.contains(s.labelsKey) || s == split {
            let bytes = try npz.read(s.labelsKey)
            let array = try NpyMember.decode(bytes, path: url.path, key: s.labelsKey)
            allLabels.append(try SplitExpectation().checkLabels(array, path: url.path, key: s.labelsKey,
                                                                 imagesKey: s.imagesKey, imageCount: array.shape.first ?? 0))
        }
        let columns = allLabels[0].shape[1]
        if let odd = allLabels.first(where: { $0.shape[1] != columns }) {
            throw DataFileError.shape(path: url.path, key: "labels", found: odd.shape, expected: "(N, \(columns)) in every split")
        }
        let maximum = allLabels.flatMap(\.values).max() ?? 0
        let resolvedTask = try task ?? inferTask(columns: columns, maximum: maximum, path: url.path)
        let range: ClosedRange<Int> = resolvedTask == .binaryClass || resolvedTask.isMultiLabel ? 0...1 : 0...max(maximum, 1)
        if !resolvedTask.isMultiLabel && columns > 1 {
            throw DataFileError.shape(path: url.path, key: split.labelsKey, found: allLabels[0].shape,
                                      expected: "(N, 1) for a \(resolvedTask.rawValue) task")
        }
        let expectation = SplitExpectation(labelColumns: columns, labelRange: range, dimensions: dimensions)
        let (images, labels) = try SplitLoader.load(
            url: url, split: split, expectation: expectation, cache: cache,
            cacheDirectory: url.deletingLastPathComponent().appendingPathComponent(".cache"), downloadURL: nil, npz: npz)
        let numClasses = resolvedTask.isMultiLabel ? columns : (resolvedTask == .binaryClass ? 2 : maximum + 1)
        return MedMNISTSplit(flag: url.deletingPathExtension().lastPathComponent, size: images.height, split: split,
                             task: resolvedTask, info: nil, images: images, labels: labels, numClasses: numClasses, file: url)
    }

    /// The task labels of this shape and range imply: several columns → multi-label (values must be 0/1);
    /// one column with values 0 and 1 → binary-class; larger values → multi-class (ordinal regression cannot be
    /// told apart from multi-class; pass it explicitly).
    public static func inferTask(labels: [IndexTensor]) throws -> MedMNISTTask {
        let columns = labels.first?.shape.last ?? 1
        return try inferTask(columns: columns, maximum: labels.flatMap(\.values).max() ?? 0, path: "labels")
    }

    static func inferTask(columns: Int, maximum: Int, path: String) throws -> MedMNISTTask {
        if columns > 1 {
            guard maximum <= 1 else {
                throw DataFileError.cannotInferTask(path: path, reason: "\(columns) label columns with values up to \(maximum)")
            }
            return .multiLabelBinary
        }
        return maximum <= 1 ? .binaryClass : .multiClass
    }
}

/// Reads a split from an npz, through the cache when asked.
enum SplitLoader {
    static func load(
        url: URL, split: Split, expectation: SplitExpectation, cache: CacheMode, cacheDirectory: URL,
        downloadURL: String?, npz existing: NpzFile? = nil
    ) throws -> (ImageArray, IndexTensor) {
        let path = url.path
        let stem = url.deletingPathExtension().lastPathComponent
        if cache != .off,
           let cached = try SplitCache.open(source: url, directory: cacheDirectory, stem: stem, split: split, expectation: expectation) {
            return cached
        }
        let npz = try existing ?? NpzFile(contentsOf: url, downloadURL: downloadURL)
        for key in [split.imagesKey, split.labelsKey] where !npz.keys.contains(key) {
            throw DataFileError.missingKey(path: path, key: key, found: npz.keys)
        }
        let labelBytes = try npz.read(split.labelsKey)
        let labelArray = try NpyMember.decode(labelBytes, path: path, key: split.labelsKey)
        if cache == .readWrite || (cache == .automatic && (try? npz.uncompressedSize(of: split.imagesKey)).map(exceedsMemoryBudget) == true) {
            // Validate the labels before spending time on the images.
            _ = try expectation.checkLabels(labelArray, path: path, key: split.labelsKey, imagesKey: split.imagesKey,
                                            imageCount: labelArray.shape.first ?? 0)
            do {
                return try SplitCache.build(npz: npz, directory: cacheDirectory, stem: stem, split: split,
                                            imagesKey: split.imagesKey, labelsKey: split.labelsKey,
                                            labelBytes: labelBytes, expectation: expectation)
            } catch DataFileError.cache {
                // Not cacheable (e.g. Fortran order): fall through to memory.
            }
        }
        let images = try decodeImages(npz: npz, key: split.imagesKey, expectation: expectation)
        let labels = try expectation.checkLabels(labelArray, path: path, key: split.labelsKey, imagesKey: split.imagesKey,
                                                 imageCount: images.count)
        return (images, labels)
    }

    /// True when `bytes` of images would take more than half of the physical memory: `.automatic` then
    /// builds the cache instead of decoding into the heap, so a split larger than RAM still loads.
    static func exceedsMemoryBudget(_ bytes: Int) -> Bool {
        UInt64(bytes) > ProcessInfo.processInfo.physicalMemory / 2
    }

    /// Inflates the images member into one heap buffer and uses it in place (the npy header stays in front of
    /// the pixels): peak memory is the member's size.
    static func decodeImages(npz: NpzFile, key: String, expectation: SplitExpectation) throws -> ImageArray {
        let size = try npz.uncompressedSize(of: key)
        let storage = ByteStorage(uninitializedCount: size)
        try npz.extract(key, into: UnsafeMutableRawBufferPointer(start: storage.baseAddress, count: size))
        let npy = try NpyMember.layout(of: storage.bytes, path: npz.path, key: key)
        let layout = try expectation.checkImages(npy, path: npz.path, key: key)
        if npy.isNativeCOrder {
            return ImageArray(storage: storage, offset: npy.dataOffset, shape: npy.shape, layout: layout)
        }
        // Fortran-ordered: MedTensor's decoder reorders it (a copy; numpy never writes MedMNIST files this way).
        let array: TypedArray
        do { array = try withExtendedLifetime(storage) { try Npy.decode(storage.bytes) } } catch let error as TensorFileError {
            throw DataFileError.npy(path: npz.path, key: key, error)
        }
        return ImageArray(shape: array.shape, layout: layout, bytes: array.bytes)
    }
}
