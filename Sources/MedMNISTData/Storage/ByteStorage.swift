import Foundation
import MedIO

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
    private let mapping: MappedFile?  // keeps the map alive; nil for heap memory, which deinit frees

    /// Allocates `count` uninitialised bytes on the heap.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "ByteStorage: negative byte count \(count)")
        baseAddress = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        self.count = count
        mappedFile = nil
        mapping = nil
    }

    /// Copies `bytes` into a new heap storage.
    public convenience init(_ bytes: [UInt8]) {
        self.init(uninitializedCount: bytes.count)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { baseAddress.copyMemory(from: source, byteCount: bytes.count) } }
    }

    /// Maps `length` bytes of the file at `url` starting at `offset` (read-only, a ``MappedFile``).
    /// - Throws: ``FileError``.
    public init(mapping url: URL, offset: Int = 0, length: Int? = nil) throws {
        let file = try MappedFile(url, offset: offset, length: length)
        mapping = file
        baseAddress = UnsafeMutableRawPointer(mutating: file.bytes.baseAddress!)
        count = file.count
        mappedFile = url
    }

    deinit {
        if mapping == nil { baseAddress.deallocate() }
    }

    /// The bytes, read-only.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }
}
