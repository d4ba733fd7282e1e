/// Everything that can go wrong while reading a zip archive or decoding a DEFLATE stream.
///
/// Each case says what failed and where: the entry name (when there is one) and a byte offset.
/// (A file that cannot be opened or read is a ``FileError``.) For zip structures the offset is an absolute position in the archive file; for DEFLATE
/// errors it is the position in the compressed stream (`inputOffset`) or in the output (`outputOffset`).
public enum ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Zip structure

    /// No end-of-central-directory record was found, so this is not a zip archive.
    case notAZipArchive(size: Int)
    /// A structure runs past the end of the file. `what` names it, e.g. "entry 'train_images.npy'".
    case truncated(what: String, needed: Int, offset: Int, fileSize: Int)
    /// A record does not start with its signature ("magic number").
    case badSignature(what: String, offset: Int)
    /// A record's fields contradict each other or the file (bad offsets, names that differ, ...).
    case malformed(what: String, offset: Int, detail: String)
    /// The archive uses something this reader does not implement (encryption, a compression method, disks).
    case unsupported(feature: String, entry: String?)
    /// No entry has this name.
    case entryNotFound(name: String)
    /// The caller's output buffer cannot hold the entry.
    case bufferTooSmall(entry: String, needed: Int, available: Int)
    /// The CRC-32 of the extracted data is not the one recorded in the central directory.
    case crcMismatch(entry: String, expected: UInt32, actual: UInt32)
    /// The extracted data is not as long as the central directory says.
    case sizeMismatch(entry: String, expected: Int, actual: Int)

    // MARK: DEFLATE stream (`entry` is nil when decoding a bare stream)

    /// A block header has the reserved block type 3.
    case invalidBlockType(entry: String?, inputOffset: Int)
    /// A stored block's length and its one's complement disagree.
    case invalidStoredLength(entry: String?, inputOffset: Int)
    /// A Huffman code is malformed (over-subscribed, incomplete, missing end-of-block, bad repeat)
    /// or the data uses a symbol that has no meaning.
    case invalidHuffmanCode(entry: String?, inputOffset: Int, detail: String)
    /// A match refers back further than the data produced so far.
    case distanceTooFar(entry: String?, distance: Int, outputOffset: Int)
    /// The stream produces more bytes than the output can hold.
    case outputOverflow(entry: String?, capacity: Int)
    /// The compressed stream ends before its final block does.
    case truncatedStream(entry: String?, inputOffset: Int)

    public var description: String {
        switch self {
        case let .notAZipArchive(size):
            return "not a zip archive: no end-of-central-directory record in \(size) bytes"
        case let .truncated(what, needed, offset, fileSize):
            return "truncated: \(what) needs \(needed) bytes at offset \(offset) but the file ends at \(fileSize)"
        case let .badSignature(what, offset):
            return "bad signature: \(what) at offset \(offset)"
        case let .malformed(what, offset, detail):
            return "malformed \(what) at offset \(offset): \(detail)"
        case let .unsupported(feature, entry):
            return "unsupported: \(feature)\(Self.inEntry(entry))"
        case let .entryNotFound(name):
            return "no entry named '\(name)' in the archive"
        case let .bufferTooSmall(entry, needed, available):
            return "buffer too small: entry '\(entry)' needs \(needed) bytes but only \(available) are available"
        case let .crcMismatch(entry, expected, actual):
            return "CRC-32 mismatch in entry '\(entry)': expected \(Self.hex(expected)), got \(Self.hex(actual))"
        case let .sizeMismatch(entry, expected, actual):
            return "size mismatch in entry '\(entry)': expected \(expected) bytes, got \(actual)"
        case let .invalidBlockType(entry, offset):
            return "invalid DEFLATE block type 3\(Self.inEntry(entry)) at input offset \(offset)"
        case let .invalidStoredLength(entry, offset):
            return "stored block length does not match its complement\(Self.inEntry(entry)) at input offset \(offset)"
        case let .invalidHuffmanCode(entry, offset, detail):
            return "invalid Huffman data\(Self.inEntry(entry)) at input offset \(offset): \(detail)"
        case let .distanceTooFar(entry, distance, outputOffset):
            return "match distance \(distance) reaches before the start of the output\(Self.inEntry(entry)) at output offset \(outputOffset)"
        case let .outputOverflow(entry, capacity):
            return "DEFLATE data\(Self.inEntry(entry)) decodes to more than \(capacity) bytes"
        case let .truncatedStream(entry, offset):
            return "DEFLATE stream\(Self.inEntry(entry)) ends early at input offset \(offset)"
        }
    }

    /// The same error, naming the zip entry whose DEFLATE stream failed.
    /// Inflate knows nothing about entries; the zip reader adds the name on the way out.
    func naming(entry name: String) -> ArchiveError {
        switch self {
        case let .invalidBlockType(_, o): return .invalidBlockType(entry: name, inputOffset: o)
        case let .invalidStoredLength(_, o): return .invalidStoredLength(entry: name, inputOffset: o)
        case let .invalidHuffmanCode(_, o, d): return .invalidHuffmanCode(entry: name, inputOffset: o, detail: d)
        case let .distanceTooFar(_, d, o): return .distanceTooFar(entry: name, distance: d, outputOffset: o)
        case let .outputOverflow(_, c): return .outputOverflow(entry: name, capacity: c)
        case let .truncatedStream(_, o): return .truncatedStream(entry: name, inputOffset: o)
        default: return self
        }
    }

    private static func inEntry(_ entry: String?) -> String {
        entry.map { " in entry '\($0)'" } ?? ""
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
