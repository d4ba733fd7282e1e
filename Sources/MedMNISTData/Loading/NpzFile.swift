import Foundation
import MedIO
import MedTensor

/// An open `.npz`: MedTensor's memory-mapped ``ZipArchive`` (stored and deflated members, zip64, CRC-32
/// checked on extraction) with numpy's naming — member `train_images.npy` is key `train_images` — and
/// errors that name the file and the key.
final class NpzFile: @unchecked Sendable {  // immutable; ZipArchive is thread-safe
    let url: URL
    var path: String { url.path }
    let archive: ZipArchive
    /// Keys in archive order (member names without `.npy`).
    let keys: [String]

    /// - Parameter downloadURL: where the file comes from, for the message when it is missing.
    init(contentsOf url: URL, downloadURL: String?) throws {
        self.url = url
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DataFileError.missingFile(path: url.path, downloadURL: downloadURL)
        }
        do { archive = try ZipArchive(contentsOf: url) } catch let error as ArchiveError {
            throw DataFileError.archive(path: url.path, key: nil, reason: error.description)
        }
        keys = archive.entries.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
    }

    func entry(_ key: String) throws -> ZipEntry {
        guard let entry = archive.entry(named: key + ".npy") ?? archive.entry(named: key) else {
            throw DataFileError.missingKey(path: path, key: key, found: keys)
        }
        return entry
    }

    /// The member's size after extraction (npy header included), checked for plausibility so a damaged
    /// size field cannot trigger a huge allocation.
    func uncompressedSize(of key: String) throws -> Int {
        let entry = try entry(key)
        do { try archive.checkPlausibleSize(entry) } catch let error as ArchiveError {
            throw DataFileError.archive(path: path, key: key, reason: error.description)
        }
        return entry.uncompressedSize
    }

    /// Members at least this large are streamed with their mapped pages released as they go. Both paths give
    /// the same bytes and errors; tests lower it to exercise the streaming path on small files.
    static var streamingThreshold: Int {
        get { thresholdLock.withLock { threshold } }
        set { thresholdLock.withLock { threshold = newValue } }
    }
    private static let thresholdLock = NSLock()
    nonisolated(unsafe) private static var threshold = 64 << 20

    /// Extracts the member into `buffer` (at least ``uncompressedSize(of:)`` bytes), verifying its CRC-32.
    ///
    /// - Parameter outputIsFileMapping: true when `buffer` is a shared mapping of a file (the cache being
    ///   built), whose pages may then be released from the resident set during extraction as well.
    func extract(_ key: String, into buffer: UnsafeMutableRawBufferPointer, outputIsFileMapping: Bool = false) throws {
        let entry = try entry(key)
        do {
            if entry.uncompressedSize >= Self.streamingThreshold {
                try extractStreaming(entry, into: buffer, outputIsFileMapping: outputIsFileMapping)
            } else {
                try archive.extract(entry, into: buffer)
            }
        } catch let error as ArchiveError {
            throw DataFileError.archive(path: path, key: key, reason: error.description)
        }
    }

    /// A large member: the compressed bytes mapped here rather than through the archive's own map, so that the
    /// pages already consumed can be dropped from the resident set while inflating (``PageReleaser``). Peak
    /// memory is then the output alone instead of output + compressed input. Same checks as
    /// `ZipArchive.extract`: local header, method, sizes, and the CRC-32 of the result.
    private func extractStreaming(_ entry: ZipEntry, into buffer: UnsafeMutableRawBufferPointer, outputIsFileMapping: Bool) throws {
        let size = entry.uncompressedSize
        guard buffer.count >= size else {
            throw ArchiveError.bufferTooSmall(entry: entry.name, needed: size, available: buffer.count)
        }
        let start = try archive.dataOffset(of: entry)  // checks the local header, encryption and method
        let input: ByteStorage
        do { input = try ByteStorage(mapping: url, offset: start, length: entry.compressedSize) } catch {
            throw ArchiveError.truncated(what: "entry '\(entry.name)'", needed: entry.compressedSize, offset: start,
                                         fileSize: archive.fileSize)
        }
        let output = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
        try withExtendedLifetime(input) {
            let releaser = PageReleaser(fileMappings: [input.bytes] + (outputIsFileMapping ? [UnsafeRawBufferPointer(output)] : []))
            defer { releaser.stop() }
            if entry.method == 0 {
                guard entry.compressedSize == size else {
                    throw ArchiveError.sizeMismatch(entry: entry.name, expected: size, actual: entry.compressedSize)
                }
                if size > 0 { output.baseAddress!.copyMemory(from: input.baseAddress, byteCount: size) }
            } else {
                let (written, _) = try Inflate.decompress(input.bytes, into: output)
                guard written == size else { throw ArchiveError.sizeMismatch(entry: entry.name, expected: size, actual: written) }
            }
            // Still under the releaser: for a cache file, reading the output back must not pin it in memory.
            let crc = ParallelCRC32.checksum(UnsafeRawBufferPointer(output), threads: Parallel.threadCount)
            guard crc == entry.crc32 else { throw ArchiveError.crcMismatch(entry: entry.name, expected: entry.crc32, actual: crc) }
        }
    }

    /// The member's bytes (for small members: labels, scores).
    func read(_ key: String) throws -> [UInt8] {
        let size = try uncompressedSize(of: key)
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            try extract(key, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = size
        }
    }
}
