import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written in full or not at all: the bytes go to `.NAME.tmp-HOST-PID-RANDOM` in the destination's
/// directory (the same file system), and ``commit()`` flushes it, renames it over the destination and flushes the
/// directory. Readers see the old file or the new one, never a partial one. Until the commit the destination is
/// untouched; ``discard()``, or dropping the object uncommitted (a writer that threw), removes the temporary file.
///
/// A writer killed outright (SIGKILL, a node lost) cannot remove its temporary file, so each new writer of a
/// destination removes the ones left by processes of this host that no longer exist. Files of other hosts (a
/// shared file system under a cluster) are left alone: their processes cannot be checked from here.
///
/// Every writer in the package goes through this type: tensor files, checkpoints, caches, downloads, CSV, PNG.
public final class AtomicFile: @unchecked Sendable {  // used from one thread at a time
    /// Where the file goes on ``commit()``.
    public let destination: URL
    /// The temporary file being written.
    public let temporaryPath: String
    private var fd: Int32
    private var finished = false

    /// Creates the temporary file for `destination`.
    /// - Throws: ``FileError`` naming the destination.
    public init(_ destination: URL) throws {
        self.destination = destination
        let directory = destination.deletingLastPathComponent().path
        let nonce = String(UInt64.random(in: .min ... .max), radix: 16)
        let prefix = Self.temporaryPrefix(for: destination)
        Self.removeAbandonedTemporaries(in: directory, prefix: prefix)
        temporaryPath = "\(directory)/\(prefix)\(getpid())-\(nonce)"
        fd = open(temporaryPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError.system(path: destination.path, operation: "create a temporary file in \(directory)")
        }
    }

    deinit { discard() }

    /// Removes the temporary files that writers of `destination` on this host left when they were killed. Every
    /// new writer does this; readers of a cache call it on a hit, when no writer may come for a long time.
    public static func removeAbandonedTemporaries(of destination: URL) {
        removeAbandonedTemporaries(in: destination.deletingLastPathComponent().path, prefix: temporaryPrefix(for: destination))
    }

    /// `.NAME.tmp-HOST-`: what this host's temporary files for `destination` start with, before the pid.
    static func temporaryPrefix(for destination: URL) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count - 1) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        // The pid follows the host, so the host must not contain the separator.
        let safeHost = String(host.map { $0 == "-" || $0 == "/" ? "_" : $0 })
        return ".\(destination.lastPathComponent).tmp-\(safeHost)-"
    }

    /// Removes the temporary files in `directory` that start with `prefix` and whose writer (the pid after the
    /// prefix) is no longer running.
    static func removeAbandonedTemporaries(in directory: String, prefix: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { unlink("\(directory)/\(entry)") }
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "AtomicFile: write after commit or discard")
        guard var address = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = systemWrite(fd, address, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: destination.path, operation: "write")
            }
            address += n
            remaining -= n
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Appends `data`.
    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }

    /// Sizes the file to `size` bytes and calls `body` with a writable shared map of them, for writers that fill
    /// a file in place (an inflated archive member straight into a cache). The map is gone when `body` returns.
    public func withMappedContents<R>(size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
        precondition(!finished, "AtomicFile: write after commit or discard")
        guard ftruncate(fd, off_t(size)) == 0 else { throw FileError.system(path: destination.path, operation: "size") }
        if size == 0 { return try body(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw FileError.system(path: destination.path, operation: "map")
        }
        defer { munmap(base, size) }
        return try body(UnsafeMutableRawBufferPointer(start: base, count: size))
    }

    /// Flushes the file, renames it over the destination and flushes the directory.
    public func commit() throws {
        precondition(!finished, "AtomicFile: commit after commit or discard")
        let path = destination.path
        guard fsync(fd) == 0 else { throw FileError.system(path: path, operation: "flush") }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw FileError.system(path: path, operation: "close") }
        guard rename(temporaryPath, path) == 0 else {
            throw FileError.system(path: path, operation: "rename the temporary file into place")
        }
        finished = true
        // The rename is durable only once the directory is on disk too; some file systems refuse, which is harmless.
        let directory = open(destination.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Removes the temporary file, unless it was committed. Safe to call more than once.
    public func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        if !finished { unlink(temporaryPath) }
        finished = true
    }

    // MARK: one call

    /// Writes the file with `body`, committing when it returns and discarding when it throws.
    public static func write(to url: URL, _ body: (AtomicFile) throws -> Void) throws {
        let file = try AtomicFile(url)
        do {
            try body(file)
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// Writes `parts` one after another (a header and the arrays' own buffers, without first concatenating a
    /// second copy in memory).
    public static func write(_ parts: [[UInt8]], to url: URL) throws {
        try write(to: url) { file in for part in parts { try file.write(part) } }
    }

    public static func write(_ bytes: [UInt8], to url: URL) throws { try write(to: url) { try $0.write(bytes) } }

    public static func write(_ data: Data, to url: URL) throws { try write(to: url) { try $0.write(data) } }

    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to url: URL) throws { try write(Array(text.utf8), to: url) }
}

/// `write(2)`, under a name that the methods called `write` do not shadow.
private func systemWrite(_ fd: Int32, _ address: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, address, count)
}
