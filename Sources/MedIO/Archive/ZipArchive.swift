import Foundation

/// One member of a zip archive, as its central directory record describes it.
public struct ZipEntry: Sendable, Hashable {
    /// Path inside the archive, e.g. "train_images.npy" (UTF-8 if flagged, else code page 437, as zip specifies).
    public let name: String
    /// Compression method: 0 = stored, 8 = deflate. Only these two can be extracted.
    public let method: UInt16
    /// General-purpose flags: bit 0 encrypted, bit 3 sizes in a data descriptor, bit 11 UTF-8 name.
    public let flags: UInt16
    /// CRC-32 of the uncompressed data.
    public let crc32: UInt32
    /// Size of the stored (compressed) data, in bytes.
    public let compressedSize: Int
    /// Size after extraction, in bytes.
    public let uncompressedSize: Int
    /// Position of the entry's local header in the file. Like Python's `ZipInfo.header_offset`, this
    /// includes any data prepended to the archive (as in self-extractors), unlike the recorded value.
    public let localHeaderOffset: Int

    /// True when the entry is encrypted (which this reader cannot extract).
    public var isEncrypted: Bool { flags & 1 != 0 }

    /// The name exactly as stored, compared with the local header's copy on extraction.
    let rawName: [UInt8]
    /// Where this entry's central directory record starts, for error messages.
    let recordOffset: Int
}

/// A read-only zip archive (including zip64) backed by a memory map of the file.
///
/// Opening reads only the end records and the central directory; entries are decompressed on
/// demand. Extraction supports stored and deflated entries and checks each entry's CRC-32 as
/// Python's `zipfile` does. The archive is immutable, so it can be shared between threads.
/// ```swift
/// let archive = try ZipArchive(contentsOf: url)
/// for entry in archive.entries { print(entry.name, entry.uncompressedSize) }
/// let bytes = try archive.extract(named: "train_labels.npy")
/// ```
public final class ZipArchive: @unchecked Sendable {  // all stored properties are immutable
    /// The entries in central directory order (the order they were written).
    public let entries: [ZipEntry]
    /// Size of the archive file in bytes.
    public var fileSize: Int { bytes.count }

    /// Bytes in front of the archive proper (e.g. a self-extractor stub); 0 for ordinary files.
    public let prefixLength: Int

    private let bytes: ArchiveBytes

    /// Opens and memory-maps the zip archive at `url`.
    public convenience init(contentsOf url: URL) throws {
        try self.init(path: url.path)
    }

    /// Opens and memory-maps the zip archive at `path`.
    public convenience init(path: String) throws {
        try self.init(storage: ArchiveBytes(mappingFileAt: path))
    }

    /// Reads a zip archive held in memory (the bytes are copied).
    public convenience init(bytes: [UInt8]) throws {
        try self.init(storage: ArchiveBytes(copying: bytes))
    }

    private init(storage: ArchiveBytes) throws {
        bytes = storage
        let directory = try CentralDirectory.locate(in: storage)
        prefixLength = directory.prefixLength
        entries = try CentralDirectory.readEntries(in: storage, directory)
    }

    /// The entry called `name`; with duplicate names, the last one, as Python's `zipfile` does.
    public func entry(named name: String) -> ZipEntry? {
        entries.last { $0.name == name }
    }

    /// Decompresses `entry` into the first `entry.uncompressedSize` bytes of `buffer`, for example
    /// straight into a memory-mapped file or a tensor's storage.
    /// - Returns: the number of bytes written (`entry.uncompressedSize`).
    /// - Throws: `ArchiveError`: `.bufferTooSmall`, `.unsupported`, `.truncated`, `.crcMismatch`, DEFLATE errors, ...
    @discardableResult
    public func extract(_ entry: ZipEntry, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let size = entry.uncompressedSize
        guard buffer.count >= size else {
            throw ArchiveError.bufferTooSmall(entry: entry.name, needed: size, available: buffer.count)
        }
        return try extract(entry, from: compressedData(of: entry), into: buffer)
    }

    /// Decompresses `entry` into a new array.
    public func extract(_ entry: ZipEntry) throws -> [UInt8] {
        let data = try compressedData(of: entry)
        try checkPlausibleSize(entry)
        return try [UInt8](unsafeUninitializedCapacity: entry.uncompressedSize) { buffer, initialized in
            _ = try extract(entry, from: data, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = entry.uncompressedSize
        }
    }

    private func extract(_ entry: ZipEntry, from data: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let crc = try Inflate.withOutputPointer(buffer) { out -> UInt32 in
            switch entry.method {
            case 0: return try Self.copyStored(entry, data, into: out)
            default: return try Self.inflate(entry, data, into: out)
            }
        }
        guard crc == entry.crc32 else {
            throw ArchiveError.crcMismatch(entry: entry.name, expected: entry.crc32, actual: crc)
        }
        return entry.uncompressedSize
    }

    /// Decompresses the entry called `name` into a new array.
    public func extract(named name: String) throws -> [UInt8] {
        guard let entry = entry(named: name) else { throw ArchiveError.entryNotFound(name: name) }
        return try extract(entry)
    }

    /// Offset in the file where `entry`'s data starts, after checking its local header (and that
    /// it is a stored or deflated, unencrypted entry). For a stored entry these are the
    /// uncompressed bytes, which a caller may map directly instead of copying.
    public func dataOffset(of entry: ZipEntry) throws -> Int {
        try dataRange(of: entry).lowerBound
    }

    /// Throws unless `entry`'s recorded uncompressed size is possible, so that a damaged size field
    /// cannot make a caller allocate absurd amounts of memory. DEFLATE expands at most 1032-fold.
    public func checkPlausibleSize(_ entry: ZipEntry) throws {
        let compressed = min(entry.compressedSize, bytes.count)  // more would fail as truncated anyway
        let plausible = entry.method == 0 ? compressed : (compressed + 1) * 1032
        guard entry.uncompressedSize <= plausible else {
            throw ArchiveError.malformed(
                what: "central directory record of entry '\(entry.name)'", offset: entry.recordOffset,
                detail: "\(entry.uncompressedSize) uncompressed bytes cannot come from \(compressed) compressed bytes")
        }
    }

    // MARK: - Extraction internals

    /// The entry's compressed bytes, inside the archive's memory.
    private func compressedData(of entry: ZipEntry) throws -> UnsafeRawBufferPointer {
        let range = try dataRange(of: entry)
        return UnsafeRawBufferPointer(start: bytes.base + range.lowerBound, count: range.count)
    }

    /// Checks that the entry can be extracted and its local header, and returns where its data lies.
    private func dataRange(of entry: ZipEntry) throws -> Range<Int> {
        // Python's zipfile refuses the same flag bits: encryption (0, 6) and patch data (5).
        if entry.flags & 0x41 != 0 { throw ArchiveError.unsupported(feature: "encrypted entry", entry: entry.name) }
        if entry.flags & 0x20 != 0 { throw ArchiveError.unsupported(feature: "compressed patch data", entry: entry.name) }
        guard entry.method == 0 || entry.method == 8 else {
            throw ArchiveError.unsupported(
                feature: "compression method \(entry.method) (\(Self.methodName(entry.method)))", entry: entry.name)
        }
        let size = bytes.count
        let what = "local header of entry '\(entry.name)'"
        let header = entry.localHeaderOffset
        guard header <= size, size - header >= 30 else {
            throw ArchiveError.truncated(what: what, needed: 30, offset: header, fileSize: size)
        }
        guard bytes.u32(header) == 0x0403_4B50 else { throw ArchiveError.badSignature(what: what, offset: header) }
        let nameLength = bytes.u16(header + 26)
        let extraLength = bytes.u16(header + 28)
        guard size - header - 30 >= nameLength + extraLength else {
            throw ArchiveError.truncated(what: what, needed: 30 + nameLength + extraLength, offset: header, fileSize: size)
        }
        guard nameLength == entry.rawName.count, bytes.bytes(header + 30, nameLength) == entry.rawName else {
            throw ArchiveError.malformed(
                what: what, offset: header, detail: "its file name differs from the central directory's '\(entry.name)'")
        }
        let start = header + 30 + nameLength + extraLength
        guard entry.compressedSize <= size - start else {
            throw ArchiveError.truncated(
                what: "entry '\(entry.name)'", needed: entry.compressedSize, offset: start, fileSize: size)
        }
        return start..<(start + entry.compressedSize)
    }

    /// Output is checksummed in pieces of this size right after it is produced, while still in cache.
    private static let checksumChunk = 256 * 1024

    private static func copyStored(_ entry: ZipEntry, _ data: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) throws -> UInt32 {
        guard data.count == entry.uncompressedSize else {
            throw ArchiveError.sizeMismatch(entry: entry.name, expected: entry.uncompressedSize, actual: data.count)
        }
        var crc = CRC32()
        var done = 0
        while done < data.count {
            let piece = min(checksumChunk, data.count - done)
            let source = UnsafeRawBufferPointer(rebasing: data[done..<(done + piece)])
            UnsafeMutableRawPointer(out + done).copyMemory(from: source.baseAddress!, byteCount: piece)
            crc.update(source)
            done += piece
        }
        return crc.checksum
    }

    private static func inflate(_ entry: ZipEntry, _ data: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) throws -> UInt32 {
        let size = entry.uncompressedSize
        let decoder = InflateDecoder(input: data)
        var crc = CRC32()
        var position = 0
        do {
            while true {
                let checked = position
                let limit = min(size, position + checksumChunk)
                let progress = try decoder.decode(into: out, position: &position, limit: limit)
                crc.update(UnsafeRawBufferPointer(start: out + checked, count: position - checked))
                if progress == .finished { break }
                if limit == size { throw ArchiveError.outputOverflow(entry: entry.name, capacity: size) }
            }
        } catch let error as ArchiveError {
            throw error.naming(entry: entry.name)
        }
        guard position == size else { throw ArchiveError.sizeMismatch(entry: entry.name, expected: size, actual: position) }
        return crc.checksum
    }

    private static func methodName(_ method: UInt16) -> String {
        switch method {
        case 1: return "shrink"
        case 6: return "implode"
        case 9: return "deflate64"
        case 12: return "bzip2"
        case 14: return "lzma"
        case 93: return "zstandard"
        case 95: return "xz"
        case 99: return "AES encryption"
        default: return "unknown"
        }
    }
}
