#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Where a command writes: standard output for its results, standard error for progress and messages.
/// Commands take one instead of calling `print`, so that tests can run them in-process with a
/// ``RecordingConsole``.
public protocol Console: Sendable {
    /// Writes `text` and a newline to standard output.
    func write(_ text: String)
    /// Writes `text` and a newline to standard error.
    func writeError(_ text: String)
}

/// The process's standard output and standard error.
public struct StandardConsole: Console {
    /// The process's streams.
    public init() {}

    public func write(_ text: String) { writeAll(1, text + "\n") }

    public func writeError(_ text: String) { writeAll(2, text + "\n") }
}

/// Writes every byte of `text` to file descriptor `descriptor` (unbuffered, so that the two streams keep
/// their order on a terminal).
private func writeAll(_ descriptor: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#endif

/// A console that keeps what is written, for tests.
public final class RecordingConsole: Console, @unchecked Sendable {
    private let lock = Mutex()
    private var outputText = ""
    private var errorText = ""

    /// An empty recording.
    public init() {}

    public func write(_ text: String) { lock.locked { outputText += text + "\n" } }
    public func writeError(_ text: String) { lock.locked { errorText += text + "\n" } }

    /// Everything written to standard output so far.
    public var output: String { lock.locked { outputText } }
    /// Everything written to standard error so far.
    public var error: String { lock.locked { errorText } }
    /// The first line written to standard error, or "" when nothing was.
    public var firstErrorLine: String { String(error.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
}

/// A pthread mutex (the module has no Foundation nor Synchronization dependency).
private final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
