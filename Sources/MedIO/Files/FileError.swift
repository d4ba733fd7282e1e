#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error in a file: which file, where in it (a byte offset or a key, when known), and what went wrong.
///
/// Every reader and writer in the package reports file trouble in this one shape: the operating system refusing
/// an operation is a ``SystemError`` inside it; a format error (``TensorFileError``, ``CheckpointError``,
/// ``ArchiveError``, …) found while decoding a file is that error inside it. Decoding from bytes throws the bare
/// format error; ``underlying(as:)`` finds it again when you want to match a case.
public struct FileError: Error, CustomStringConvertible, Sendable {
    /// Where in the file the error is.
    public enum Location: Equatable, Sendable {
        /// A byte offset from the start of the file.
        case offset(Int)
        /// A named part of the file: an npz key, a tensor name, an archive entry.
        case key(String)
    }

    /// The file's path.
    public let path: String
    /// Where in the file, when known.
    public let location: Location?
    /// What went wrong: a ``SystemError`` or a format's own error.
    public let underlying: any Error

    public init(path: String, location: Location? = nil, _ underlying: any Error) {
        self.path = path
        self.location = location
        self.underlying = underlying
    }

    /// The operating system refused `operation` on `path`; `code` is the C error number (`errno` by default).
    public static func system(path: String, operation: String, code: Int32 = errno) -> FileError {
        FileError(path: path, SystemError(operation: operation, code: code))
    }

    /// The operating system (or Foundation) refused `operation` on `path` for `reason`.
    public static func system(path: String, operation: String, reason: String) -> FileError {
        FileError(path: path, SystemError(operation: operation, code: 0, reason: reason))
    }

    /// The underlying error as `E`, looking through nested file errors; nil when it is something else.
    public func underlying<E: Error>(as type: E.Type) -> E? {
        if let error = underlying as? E { return error }
        if let inner = underlying as? FileError { return inner.underlying(as: type) }
        return nil
    }

    /// The operating system's error, when that is what went wrong.
    public var systemError: SystemError? { underlying(as: SystemError.self) }

    /// Runs `body`, wrapping what it throws in a file error for `path` (errors that already are file errors pass
    /// through unchanged).
    public static func wrapping<R>(path: String, location: Location? = nil, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: path, location: location, error)
        }
    }

    public var description: String {
        switch location {
        case .offset(let offset)?: return "\(path) at byte \(offset): \(underlying)"
        case .key(let key)?: return "\(path) [\(key)]: \(underlying)"
        case nil: return "\(path): \(underlying)"
        }
    }
}

/// An operation the operating system refused: what was tried, the C error number (0 when it came from elsewhere)
/// and the reason in words.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let code: Int32
    public let reason: String

    public init(operation: String, code: Int32, reason: String? = nil) {
        self.operation = operation
        self.code = code
        self.reason = reason ?? strerror(code).map { String(cString: $0) } ?? "errno \(code)"
    }

    public var description: String { "cannot \(operation): \(reason)" }
}
