import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of bytes that outlives the code that filled it: a 64-byte-aligned heap allocation, or a memory map
/// of a file. ``ImageArray``s share one storage the way tensors share a `TensorStorage`.
///
/// A mapped storage reads pages from the file on demand, so it can be larger than RAM; the kernel evicts
/// pages under pressure. The bytes are never written after the storage is handed out.
public final class ByteStorage: @unchecked Sendable {
    /// The first byte (never nil; a zero-length storage still has a valid one-byte allocation).
    public let baseAddress: UnsafeMutableRawPointer
    public let count: Int
    /// The mapped file, or nil for heap memory.
    public let mappedFile: URL?
    private let mappingLength: Int
    private let mappingBase: UnsafeMutableRawPointer?

    /// Allocates `count` uninitialised bytes on the heap.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "ByteStorage: negative byte count \(count)")
        baseAddress = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        self.count = count
        mappedFile = nil
        mappingLength = 0
        mappingBase = nil
    }

    /// Copies `bytes` into a new heap storage.
    public convenience init(_ bytes: [UInt8]) {
        self.init(uninitializedCount: bytes.count)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { baseAddress.copyMemory(from: source, byteCount: bytes.count) } }
    }

    /// Maps `length` bytes of the file at `url` starting at `offset` (read-only, shared with the page cache).
    /// - Throws: ``DataFileError/io(path:operation:reason:)``.
    public init(mapping url: URL, offset: Int = 0, length: Int? = nil) throws {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataFileError.io(path: path, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataFileError.io(path: path, operation: "stat", reason: String(cString: strerror(errno))) }
        let fileSize = Int(info.st_size)
        let length = length ?? (fileSize - offset)
        guard offset >= 0, length >= 0, offset + length <= fileSize else {
            throw DataFileError.io(path: path, operation: "map",
                                   reason: "bytes \(offset)..<\(offset + length) lie outside the file's \(fileSize) bytes")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let alignedOffset = offset / page * page
        let total = length + (offset - alignedOffset)
        if total == 0 {
            self.baseAddress = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            mappingBase = nil
            mappingLength = 0
        } else {
            guard let base = mmap(nil, total, PROT_READ, MAP_SHARED, fd, off_t(alignedOffset)), base != MAP_FAILED else {
                throw DataFileError.io(path: path, operation: "map", reason: String(cString: strerror(errno)))
            }
            mappingBase = base
            mappingLength = total
            self.baseAddress = base + (offset - alignedOffset)
        }
        count = length
        mappedFile = url
    }

    deinit {
        if mappedFile == nil || mappingBase == nil {
            baseAddress.deallocate()
        } else if let mappingBase {
            munmap(mappingBase, mappingLength)
        }
    }

    /// The bytes, read-only.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }
}
