import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes of a file, read-only: a memory map of `length` bytes from `offset` (the map itself starts on a page
/// boundary), unmapped when the object goes away. When the file system cannot map, the bytes are read into
/// memory instead, so callers need not care which they got.
///
/// Mapping lets a multi-gigabyte file be opened without reading it: pages come in from the page cache as they
/// are touched and the kernel can drop them again under pressure. As with any mmap, another process truncating
/// the file while it is mapped would fault; that is the usual trade for not copying.
public final class MappedFile: @unchecked Sendable {  // immutable after init; the file is never written
    /// The file's path.
    public let path: String
    /// Whether the bytes may be written (``init(path:offset:length:copyOnWrite:)``): written pages become this
    /// process's private copies and the file never changes.
    public let isCopyOnWrite: Bool
    /// The bytes; the base address is never nil (an empty range has a valid one-byte allocation), and is at
    /// least 64-byte aligned when `offset` is.
    public let bytes: UnsafeRawBufferPointer
    /// Whether the bytes are a memory map (false: they were read into memory).
    public var isMapped: Bool { if case .mapped = storage { return true } else { return false } }

    private enum Storage {
        case mapped(base: UnsafeMutableRawPointer, length: Int)
        case heap(UnsafeMutableRawPointer)
    }
    private let storage: Storage

    /// Maps `length` bytes (the rest of the file when nil) of the file at `path`, from `offset`. With
    /// `copyOnWrite`, the memory may be written (a tensor borrowing it need not be read-only): the pages written
    /// become private copies, and the file and other processes' maps of it are untouched.
    /// - Throws: ``FileError`` with a ``SystemError`` (missing file, not a regular file, a range outside it).
    public init(path: String, offset: Int = 0, length: Int? = nil, copyOnWrite: Bool = false) throws {
        self.path = path
        isCopyOnWrite = copyOnWrite
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.system(path: path, operation: "open for reading") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError.system(path: path, operation: "stat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            throw FileError(path: path, SystemError(operation: "read", code: isDirectory ? EISDIR : EINVAL,
                                                    reason: isDirectory ? "is a directory" : "not a regular file"))
        }
        let fileSize = Int(info.st_size)
        let length = length ?? (fileSize - offset)
        guard offset >= 0, length >= 0, offset <= fileSize, length <= fileSize - offset else {
            throw FileError(path: path, location: .offset(offset), SystemError(
                operation: "map", code: EINVAL,
                reason: "bytes \(offset)..<\(offset + length) lie outside the file's \(fileSize) bytes"))
        }
        if length == 0 {
            let empty = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
            storage = .heap(empty)
            bytes = UnsafeRawBufferPointer(start: empty, count: 0)
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let alignedOffset = offset / page * page
        let total = length + (offset - alignedOffset)
        let protection = copyOnWrite ? PROT_READ | PROT_WRITE : PROT_READ
        if let base = mmap(nil, total, protection, MAP_PRIVATE, fd, off_t(alignedOffset)), base != MAP_FAILED {
            storage = .mapped(base: base, length: total)
            bytes = UnsafeRawBufferPointer(start: base + (offset - alignedOffset), count: length)
            return
        }
        // Some file systems cannot map; read the range instead.
        let copy = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 64)
        var done = 0
        while done < length {
            let n = pread(fd, copy + done, length - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let error = n < 0 ? FileError.system(path: path, operation: "read")
                    : FileError(path: path, location: .offset(offset + done),
                                SystemError(operation: "read", code: EIO, reason: "the file ends early"))
                copy.deallocate()
                throw error
            }
            done += n
        }
        storage = .heap(copy)
        bytes = UnsafeRawBufferPointer(start: copy, count: length)
    }

    public convenience init(_ url: URL, offset: Int = 0, length: Int? = nil, copyOnWrite: Bool = false) throws {
        try self.init(path: url.path, offset: offset, length: length, copyOnWrite: copyOnWrite)
    }

    deinit {
        switch storage {
        case .mapped(let base, let length): munmap(base, length)
        case .heap(let pointer): pointer.deallocate()
        }
    }

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// Calls `body` with the bytes of `url`, keeping the map alive for the call. Errors from `body` that are not
    /// file errors already come back wrapped in a ``FileError`` naming the file.
    public static func withContents<R>(of url: URL, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let file = try MappedFile(url)
        return try withExtendedLifetime(file) {
            try FileError.wrapping(path: file.path) { try body(file.bytes) }
        }
    }
}
