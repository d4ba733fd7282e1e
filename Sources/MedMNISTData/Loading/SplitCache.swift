import Foundation
import MedIO
import MedTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The decoded on-disk cache of one split, memory-mapped on later loads.
///
/// Three files in the cache folder (`{root}/.cache` by default), for `{stem}` = the npz name without `.npz`:
/// - `{stem}-{split}.u8`: the images' `.npy` member, inflated verbatim (npy header, then the raw UInt8 pixels;
///   `numpy.load(path, mmap_mode='r')` reads it too);
/// - `{stem}-{split}.labels.npy`: the labels' `.npy` member, verbatim;
/// - `{stem}-{split}.json`: a small header — format, the source npz's size and modification time, the keys,
///   shape, layout and data offset — written last, so a cache without it is incomplete and ignored.
///
/// A cache whose source npz changed (size or modification time) is stale and rebuilt; if the npz is gone the
/// cache is still used. Images are inflated straight into the mapped cache file, so building it never holds
/// the split in anonymous memory, and a split larger than RAM works.
public enum SplitCache {
    static let format = "swift-medmnist split cache 1"

    struct Header: Codable, Equatable {
        var format: String
        var sourceName: String
        var sourceBytes: Int
        var sourceModified: Double
        var imagesKey: String
        var labelsKey: String
        var shape: [Int]
        var layout: String
        var dataOffset: Int
        var byteCount: Int
    }

    /// The three file URLs of `stem`/`split` in `directory`.
    static func paths(directory: URL, stem: String, split: Split) -> (images: URL, labels: URL, header: URL) {
        let base = "\(stem)-\(split.rawValue)"
        return (directory.appendingPathComponent(base + ".u8"), directory.appendingPathComponent(base + ".labels.npy"),
                directory.appendingPathComponent(base + ".json"))
    }

    /// Removes the cache files of `stem`/`split` (all splits when nil).
    public static func remove(directory: URL, stem: String, split: Split? = nil) {
        for s in split.map({ [$0] }) ?? Split.allCases {
            let p = paths(directory: directory, stem: stem, split: s)
            for url in [p.header, p.images, p.labels] { try? FileManager.default.removeItem(at: url) }
        }
    }

    /// Size and modification time of the source, to detect a changed npz.
    static func sourceStamp(_ url: URL) -> (bytes: Int, modified: Double)? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
        #else
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        #endif
        return (Int(info.st_size), modified)
    }

    /// The cached images and labels, or nil when there is no complete, current cache.
    static func open(
        source: URL, directory: URL, stem: String, split: Split, expectation: SplitExpectation
    ) throws -> (images: ImageArray, labels: IndexTensor)? {
        let p = paths(directory: directory, stem: stem, split: split)
        guard let data = try? Data(contentsOf: p.header),
              let header = try? JSONDecoder().decode(Header.self, from: data), header.format == format
        else { return nil }
        if let stamp = sourceStamp(source), stamp.bytes != header.sourceBytes || stamp.modified != header.sourceModified {
            return nil  // stale
        }
        guard let fileBytes = sourceStamp(p.images)?.bytes, fileBytes == header.dataOffset + header.byteCount else { return nil }
        let storage = try ByteStorage(mapping: p.images)
        let npy: NpyLayout
        do {
            npy = try withExtendedLifetime(storage) {
                try Npy.layout(ofPrefix: UnsafeRawBufferPointer(start: storage.baseAddress, count: min(storage.count, 4096)))
            }
        } catch {
            return nil
        }
        guard npy.dataOffset == header.dataOffset, npy.dataByteCount == header.byteCount, npy.shape == header.shape,
              npy.isNativeCOrder
        else { return nil }
        let layout = try expectation.checkImages(npy, path: p.images.path, key: header.imagesKey)
        let labelArray: TypedArray
        do { labelArray = try Npy.read(contentsOf: p.labels) } catch { return nil }
        let labels = try expectation.checkLabels(labelArray, path: p.labels.path, key: header.labelsKey,
                                                 imagesKey: header.imagesKey, imageCount: npy.shape[0])
        let images = ImageArray(storage: storage, offset: npy.dataOffset, shape: npy.shape, layout: layout)
        for file in [p.images, p.labels, p.header] { AtomicFile.removeAbandonedTemporaries(of: file) }
        return (images, labels)
    }

    /// Inflates the split's images from `npz` straight into a new cache file, writes the labels and the header,
    /// and returns the mapped result.
    static func build(
        npz: NpzFile, directory: URL, stem: String, split: Split, imagesKey: String, labelsKey: String,
        labelBytes: [UInt8], expectation: SplitExpectation
    ) throws -> (images: ImageArray, labels: IndexTensor) {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw FileError.system(path: directory.path, operation: "create the cache folder", reason: error.localizedDescription)
        }
        let p = paths(directory: directory, stem: stem, split: split)
        remove(directory: directory, stem: stem, split: split)
        let memberSize = try npz.uncompressedSize(of: imagesKey)
        try AtomicFile.write(to: p.images) { file in
            try file.withMappedContents(size: memberSize) { buffer in
                guard memberSize > 0 else { return }
                try npz.extract(imagesKey, into: buffer, outputIsFileMapping: true)
                let npy = try NpyMember.layout(of: UnsafeRawBufferPointer(buffer), path: npz.path, key: imagesKey)
                _ = try expectation.checkImages(npy, path: npz.path, key: imagesKey)
                guard npy.isNativeCOrder else {
                    throw DataFileError.cache(path: p.images.path, reason: "Fortran-ordered or big-endian images are not cached")
                }
            }
        }
        try AtomicFile.write(labelBytes, to: p.labels)
        let prefix = try ByteStorage(mapping: p.images, length: min(memberSize, 4096))
        let npy = try FileError.wrapping(path: p.images.path) { try withExtendedLifetime(prefix) { try Npy.layout(ofPrefix: prefix.bytes) } }
        let stamp = sourceStamp(npz.url) ?? (0, 0)
        let layout = try expectation.checkImages(npy, path: p.images.path, key: imagesKey)
        let header = Header(format: format, sourceName: npz.url.lastPathComponent, sourceBytes: stamp.bytes,
                            sourceModified: stamp.modified, imagesKey: imagesKey, labelsKey: labelsKey,
                            shape: npy.shape, layout: "\(layout)", dataOffset: npy.dataOffset, byteCount: npy.dataByteCount)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let headerData = try FileError.wrapping(path: p.header.path) { try encoder.encode(header) }
        try AtomicFile.write(headerData, to: p.header)
        guard let opened = try open(source: npz.url, directory: directory, stem: stem, split: split, expectation: expectation) else {
            throw DataFileError.cache(path: p.header.path, reason: "the cache just written does not read back")
        }
        return opened
    }
}
