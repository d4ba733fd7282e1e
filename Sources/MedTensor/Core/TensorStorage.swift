/// A reference-counted, 64-byte-aligned buffer of Float32 values: the memory behind one or more tensors.
///
/// Views (reshape, transpose, slice, broadcast) share one storage and differ only in their ``Layout``.
/// The storage is freed when the last tensor that uses it goes away.
public final class TensorStorage: @unchecked Sendable {
    /// Number of Float32 elements.
    public let count: Int
    /// The first element; aligned to 64 bytes (a cache line, and an AVX-512 vector).
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` elements, uninitialised.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` elements, all equal to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// The whole buffer, for kernels.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
