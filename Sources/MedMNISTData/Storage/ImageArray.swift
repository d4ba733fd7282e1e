/// How the axes of an ``ImageArray`` are to be read.
public enum ImageLayout: Sendable, Equatable {
    /// `(N, H, W)`: 2D grayscale.
    case grayscale
    /// `(N, H, W, 3)`: 2D RGB, channels last (HWC), as in the npz files.
    case rgb
    /// `(N, D, H, W)`: 3D single-channel volumes.
    case volume

    /// Channels per sample: 3 for RGB, else 1.
    public var channels: Int { self == .rgb ? 3 : 1 }
}

/// A batch or split of UInt8 images exactly as stored in MedMNIST files: `(N, H, W)`, `(N, H, W, 3)` or
/// `(N, D, H, W)`, C order, values 0–255. It is never converted to Float32 as a whole; the transforms read
/// from it batch by batch.
///
/// Copies share the bytes. The storage is heap memory or a memory-mapped cache file (see ``SplitCache``).
public struct ImageArray: Sendable {
    public let storage: ByteStorage
    /// Byte offset of the first pixel inside `storage`.
    public let offset: Int
    public let shape: [Int]
    public let layout: ImageLayout

    /// Wraps `storage` (no copy). `shape` must match `layout`'s rank and fit inside the storage.
    public init(storage: ByteStorage, offset: Int = 0, shape: [Int], layout: ImageLayout) {
        precondition(shape.count == (layout == .grayscale ? 3 : 4), "ImageArray: shape \(shape) does not fit layout \(layout)")
        precondition(layout != .rgb || shape[3] == 3, "ImageArray: RGB images need a last axis of 3, got \(shape)")
        precondition(shape.allSatisfy { $0 >= 0 }, "ImageArray: negative dimension in \(shape)")
        precondition(offset >= 0 && offset + shape.reduce(1, *) <= storage.count, "ImageArray: shape \(shape) exceeds its storage")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.layout = layout
    }

    /// Copies `bytes` (C order) into a new array.
    public init(shape: [Int], layout: ImageLayout, bytes: [UInt8]) {
        precondition(shape.reduce(1, *) == bytes.count, "ImageArray: shape \(shape) does not hold \(bytes.count) bytes")
        self.init(storage: ByteStorage(bytes), shape: shape, layout: layout)
    }

    /// Number of samples (N).
    public var count: Int { shape[0] }
    /// The shape of one sample: `[H, W]`, `[H, W, 3]` or `[D, H, W]`.
    public var sampleShape: [Int] { Array(shape.dropFirst()) }
    /// Bytes per sample.
    public var sampleByteCount: Int { sampleShape.reduce(1, *) }
    /// Bytes in total.
    public var byteCount: Int { shape.reduce(1, *) }
    /// Height and width of a 2D sample, or of one slice of a volume.
    public var height: Int { layout == .volume ? shape[2] : shape[1] }
    public var width: Int { layout == .volume ? shape[3] : shape[2] }

    /// Pointer to the first byte of sample `index`.
    public func samplePointer(_ index: Int) -> UnsafePointer<UInt8> {
        precondition(index >= 0 && index < count, "ImageArray: sample \(index) out of range 0..<\(count)")
        return UnsafePointer((storage.baseAddress + offset + index * sampleByteCount).assumingMemoryBound(to: UInt8.self))
    }

    /// The bytes of sample `index`, copied.
    public func sample(_ index: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: samplePointer(index), count: sampleByteCount))
    }

    /// Calls `body` with all pixels in C order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.baseAddress + offset, count: byteCount))
    }

    /// The samples at `indices`, copied into a new heap array (a batch, a montage selection).
    public func gathering(_ indices: [Int]) -> ImageArray {
        let per = sampleByteCount
        let result = ByteStorage(uninitializedCount: indices.count * per)
        for (k, index) in indices.enumerated() {
            (result.baseAddress + k * per).copyMemory(from: samplePointer(index), byteCount: per)
        }
        return ImageArray(storage: result, shape: [indices.count] + sampleShape, layout: layout)
    }
}
