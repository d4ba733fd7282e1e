import MedIO

/// A reference-counted buffer of Float32 values: the memory behind one or more tensors.
///
/// Views (reshape, transpose, slice, broadcast) share one storage and differ only in their ``Layout``.
/// The storage is freed when the last tensor that uses it goes away.
public final class TensorStorage: @unchecked Sendable {
    /// Number of Float32 elements.
    public let count: Int
    /// The first element; aligned to 64 bytes (a cache line, and an AVX-512 vector) when the storage allocated
    /// it, to 4 when it borrows a mapped file's bytes (the kernels load unaligned).
    public let pointer: UnsafeMutablePointer<Float>
    /// The mapped file whose bytes this storage borrows; nil when it owns an allocation.
    private let mapping: MappedFile?

    /// Allocates `count` elements, uninitialised (large buffers may be reused ones, see ``StoragePool``).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let raw = StoragePool.allocate(byteCount: count * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        mapping = nil
    }

    /// Borrows `count` little-endian Float32 values at `byteOffset` of a copy-on-write `file`, which stays
    /// mapped as long as the storage lives: a cached array is used where it lies, without a copy, and pages the
    /// process never writes stay shared with the page cache (and with other processes reading the file).
    public init(borrowing file: MappedFile, byteOffset: Int, count: Int) {
        precondition(file.isCopyOnWrite, "TensorStorage: a borrowed map must be copy-on-write, since tensors may be written")
        precondition(byteOffset >= 0 && count >= 0 && byteOffset + count * MemoryLayout<Float>.stride <= file.count,
                     "TensorStorage: \(count) floats at byte \(byteOffset) lie outside the map's \(file.count) bytes")
        let address = UnsafeMutableRawPointer(mutating: file.bytes.baseAddress!) + byteOffset
        precondition(Int(bitPattern: address) % MemoryLayout<Float>.alignment == 0, "TensorStorage: misaligned floats in a map")
        self.count = count
        pointer = address.bindMemory(to: Float.self, capacity: max(count, 1))
        mapping = file
    }

    /// Allocates `count` elements, all equal to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        if mapping == nil { StoragePool.deallocate(UnsafeMutableRawPointer(pointer), byteCount: count * MemoryLayout<Float>.stride) }
    }

    /// Whether the elements are a mapped file's bytes (``init(borrowing:byteOffset:count:)``).
    public var isBorrowed: Bool { mapping != nil }

    /// The whole buffer, for kernels.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
