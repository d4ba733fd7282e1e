import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The two file operations the tensor formats share: read a file through a memory map, and replace a file
/// atomically.
enum TensorFileAccess {
    /// Calls `body` with the file's bytes, memory-mapped so that a multi-gigabyte checkpoint is copied once
    /// (into the decoded arrays) rather than twice. Errors from `body` come back wrapped in
    /// ``TensorFileError/inFile(path:_:)``.
    ///
    /// The mapping is private and read-only; as with any mmap, another process truncating the file while it
    /// is being decoded would fault, which is the usual trade for not copying.
    static func withMappedContents<R>(of url: URL, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError(path, "open for reading") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError(path, "stat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorFileError.io(path: path, operation: "read", reason: "not a regular file")
        }
        let size = Int(info.st_size)
        do {
            if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
                // Some file systems cannot map; fall back to one plain read.
                let data: Data
                do { data = try Data(contentsOf: url) } catch { throw ioError(path, "read", error) }
                return try data.withUnsafeBytes(body)
            }
            defer { munmap(base, size) }
            return try body(UnsafeRawBufferPointer(start: base, count: size))
        } catch let error as TensorFileError {
            if case .io = error { throw error }
            throw TensorFileError.inFile(path: path, error)
        }
    }

    /// Writes `bytes` to a fresh temporary file in the destination's directory, flushes it to disk, and renames
    /// it over `url`. The rename is atomic, so readers see the old file or the new one, never a partial one;
    /// on failure the temporary file is removed.
    /// `parts` are written one after another, so callers can pass a header and the arrays' own buffers
    /// without first concatenating a second copy of a large model in memory.
    static func writeAtomically(_ parts: [[UInt8]], to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let nonce = String(UInt64.random(in: .min ... .max), radix: 16)
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())-\(nonce)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw ioError(path, "create a temporary file in \(directory)") }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(fd) }
            if !renamed { unlink(temporary) }
        }
        for part in parts {
            try part.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ioError(path, "write")
                    }
                    offset += n
                }
            }
        }
        guard fsync(fd) == 0 else { throw ioError(path, "flush") }
        isOpen = false
        guard close(fd) == 0 else { throw ioError(path, "close") }
        guard rename(temporary, path) == 0 else { throw ioError(path, "rename the temporary file into place") }
        renamed = true
    }

    private static func ioError(_ path: String, _ operation: String, _ error: (any Error)? = nil) -> TensorFileError {
        let reason = error.map { "\($0.localizedDescription)" } ?? String(cString: strerror(errno))
        return .io(path: path, operation: operation, reason: reason)
    }
}
