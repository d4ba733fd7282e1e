import Foundation

/// Keeps the large buffers of freed tensors for the next tensor of the same size.
///
/// A training step allocates the same activations and gradients every time; without a pool each large one
/// comes from the system as fresh pages, and every page costs a fault and a zero-fill the first time a
/// kernel touches it (2–4 % of a ResNet-18 step, on the thread that should be computing). With it, the
/// loop allocates nothing new after its first step. Only buffers of at least ``minimumBytes`` are kept,
/// sorted by their size rounded up to 4 KiB, and never more than ``capacityBytes`` in all: a buffer that
/// would pass it is freed. ``releaseCached()`` returns everything to the system, say between a training
/// run and a long evaluation with other shapes.
public enum StoragePool {
    /// Buffers smaller than this go straight back to `free` (the allocator serves them quickly already).
    public static let minimumBytes = 64 << 10

    /// The most bytes kept: `MEDTENSOR_POOL_MB` when set (0 turns the pool off), else a sixteenth of the
    /// machine's memory, at most 2 GiB.
    public static let capacityBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["MEDTENSOR_POOL_MB"], let megabytes = Int(text), megabytes >= 0 {
            return megabytes << 20
        }
        return Int(min(ProcessInfo.processInfo.physicalMemory / 16, 2 << 30))
    }()

    private static let lock = NSLock()
    private nonisolated(unsafe) static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private nonisolated(unsafe) static var cached = 0

    /// The bytes held for reuse now.
    public static var cachedBytes: Int { lock.withLock { cached } }

    /// The size a buffer of `byteCount` bytes is allocated with (and filed under).
    static func roundedBytes(_ byteCount: Int) -> Int { byteCount < minimumBytes ? byteCount : (byteCount + 4095) & ~4095 }

    /// A buffer of at least `byteCount` bytes, 64-byte aligned, uninitialised: a kept one when there is one.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = roundedBytes(max(byteCount, 1))
        if size >= minimumBytes, capacityBytes > 0, let reused = lock.withLock({ () -> UnsafeMutableRawPointer? in
            guard let buffer = free[size]?.popLast() else { return nil }
            cached -= size
            return buffer
        }) {
            return reused
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Takes back a buffer from ``allocate(byteCount:)`` with the same `byteCount`.
    static func deallocate(_ buffer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = roundedBytes(max(byteCount, 1))
        if size >= minimumBytes, capacityBytes > 0, lock.withLock({ () -> Bool in
            guard cached + size <= capacityBytes else { return false }
            free[size, default: []].append(buffer)
            cached += size
            return true
        }) {
            return
        }
        buffer.deallocate()
    }

    /// Frees every kept buffer.
    public static func releaseCached() {
        let buffers = lock.withLock { () -> [UnsafeMutableRawPointer] in
            let all = free.values.flatMap { $0 }
            free = [:]
            cached = 0
            return all
        }
        for buffer in buffers { buffer.deallocate() }
    }
}
