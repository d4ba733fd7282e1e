#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of an archive: a read-only memory map of a file, or a private copy of an array.
///
/// Mapping lets a multi-gigabyte `.npz` be opened without reading it: pages come in from the page
/// cache only as entries are decompressed, and the kernel can drop them again under memory pressure.
final class ArchiveBytes: @unchecked Sendable {  // immutable after init; the memory is never written
    let base: UnsafeRawPointer
    let count: Int
    private let mappedLength: Int  // > 0 when `base` is an mmap that deinit must unmap

    init(mappingFileAt path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError.cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ArchiveError.cannotOpen(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            throw ArchiveError.cannotOpen(path: path, errno: isDirectory ? EISDIR : EINVAL)
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            // mmap rejects length 0; an empty file is simply an empty (and invalid) archive.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))
            count = 0
            mappedLength = 0
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
            mapped != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw ArchiveError.cannotOpen(path: path, errno: errno) }
        base = UnsafeRawPointer(mapped)
        count = size
        mappedLength = size
    }

    init(copying bytes: [UInt8]) {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { copy.copyMemory(from: source, byteCount: $0.count) } }
        base = UnsafeRawPointer(copy)
        count = bytes.count
        mappedLength = 0
    }

    deinit {
        if mappedLength > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    // Little-endian field readers. Callers check bounds first.
    @inline(__always) func u16(_ offset: Int) -> Int {
        Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func u64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    func bytes(_ offset: Int, _ length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base + offset, count: length))
    }
}
