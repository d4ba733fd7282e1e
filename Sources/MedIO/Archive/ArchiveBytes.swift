/// The bytes of an archive: a read-only ``MappedFile``, or a private copy of an array.
///
/// Mapping lets a multi-gigabyte `.npz` be opened without reading it: pages come in from the page
/// cache only as entries are decompressed, and the kernel can drop them again under memory pressure.
final class ArchiveBytes: @unchecked Sendable {  // immutable after init; the memory is never written
    let base: UnsafeRawPointer
    let count: Int
    private let file: MappedFile?  // keeps the map alive; nil for a copy, which deinit frees

    /// - Throws: ``FileError`` when the file cannot be opened or mapped.
    init(mappingFileAt path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        base = file.bytes.baseAddress!
        count = file.count
    }

    init(copying bytes: [UInt8]) {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if let source = $0.baseAddress { copy.copyMemory(from: source, byteCount: $0.count) } }
        base = UnsafeRawPointer(copy)
        count = bytes.count
        file = nil
    }

    deinit {
        if file == nil { UnsafeMutableRawPointer(mutating: base).deallocate() }
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
