import Dispatch
import Foundation

/// A pointer that may cross into the worker closures of ``Parallel``. Each worker touches a disjoint
/// part of the memory, which is what makes this safe; this is the one place the library says so.
public struct SendablePointer<Pointee>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Pointee>
    public init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
    public init(_ pointer: UnsafePointer<Pointee>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// Splits loops over the machine's cores.
///
/// Work is divided into chunks whose boundaries depend only on the problem size and the thread count, and
/// every element is computed by one chunk in a fixed order, so results are bitwise identical from run to
/// run for a given thread count.
public enum Parallel {
    private static let configuredThreads: Int = {
        if let text = ProcessInfo.processInfo.environment["MEDTENSOR_NUM_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()
    private nonisolated(unsafe) static var overrideThreads: Int? = nil
    private static let overrideLock = NSLock()

    /// Threads used by the kernels: `MEDTENSOR_NUM_THREADS` when set, else the number of active cores.
    public static var threadCount: Int {
        get { overrideLock.withLock { overrideThreads } ?? configuredThreads }
        set {
            precondition(newValue > 0, "Parallel.threadCount must be positive")
            overrideLock.withLock { overrideThreads = newValue }
        }
    }

    /// Calls `body` on consecutive ranges covering `0..<count`, at most one range per thread and none
    /// shorter than `grain` (except the last), in parallel when there is more than one range.
    public static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        forEachRange(count, chunks: min(threadCount, max(1, count / max(grain, 1))), body)
    }

    /// Calls `body` on `chunks` consecutive ranges of near-equal length covering `0..<count` (fewer when
    /// `count` is smaller), in parallel when there is more than one. The split depends only on `count` and
    /// `chunks`.
    public static func forEachRange(_ count: Int, chunks requested: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(count, max(1, requested))
        if chunks == 1 { body(0..<count); return }
        // Task-local settings do not follow work onto Dispatch's threads, so the one the kernels read (the
        // products' precision) is carried over: every chunk computes the same way, whichever thread runs it.
        let precision = GEMM.precision
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let range = count * chunk / chunks ..< count * (chunk + 1) / chunks
                if precision == .float32 {
                    shared.value(range)
                } else {
                    GEMM.$precision.withValue(precision) { shared.value(range) }
                }
            }
        }
    }
}

/// Carries a closure into `concurrentPerform`; the closure itself only writes disjoint memory.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
