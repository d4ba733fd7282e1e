import Foundation

/// The two file operations the tensor formats share, both from ``MappedFile`` and ``AtomicFile``.
enum TensorFileAccess {
    /// Calls `body` with the file's bytes, memory-mapped so that a multi-gigabyte checkpoint is copied once
    /// (into the decoded arrays) rather than twice. Errors from `body` come back wrapped in a ``FileError``
    /// naming the file.
    static func withMappedContents<R>(of url: URL, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try MappedFile.withContents(of: url, body)
    }

    /// Writes `parts` one after another to `url`, atomically (``AtomicFile``).
    static func writeAtomically(_ parts: [[UInt8]], to url: URL) throws {
        try AtomicFile.write(parts, to: url)
    }
}
