/// Where the elements of an `.npy` sit and how to read them, from its preamble and header alone.
///
/// For readers that stream or map the data themselves (a multi-gigabyte image array inflated straight into
/// its final buffer, or a memory-mapped cache) instead of copying it into a ``TypedArray``.
public struct NpyLayout: Sendable, Equatable {
    public let dtype: DType
    /// The array's shape as the header states it (in the header's order even when Fortran-ordered).
    public let shape: [Int]
    public let fortranOrder: Bool
    /// True for a `>` descr with multi-byte elements.
    public let bigEndian: Bool
    /// Offset of the first element from the start of the file (a multiple of 64 when numpy wrote it).
    public let dataOffset: Int
    /// Bytes of element data: `count × dtype.byteSize`.
    public let dataByteCount: Int

    /// True when the data can be used as is: C order and little-endian (or 1-byte elements).
    public var isNativeCOrder: Bool { (!fortranOrder || shape.count <= 1) && (!bigEndian || dtype.byteSize == 1) }
}

extension Npy {
    /// Parses the preamble and header at the start of `buffer`, which needs to hold only those bytes (the first
    /// few hundred of a numpy-written file); the data need not be present. Uses the same header rules as
    /// ``decode(_:)-(UnsafeRawBufferPointer)``.
    /// - Throws: ``TensorFileError`` for a bad magic, version, header or descr, or a truncated header.
    public static func layout(ofPrefix buffer: UnsafeRawBufferPointer) throws -> NpyLayout {
        guard buffer.count >= 8 else {
            if !buffer.prefix(6).elementsEqual(magic.prefix(min(6, buffer.count))) { throw TensorFileError.npyBadMagic }
            throw TensorFileError.truncated(what: "npy preamble", offset: 0, needed: 10, available: buffer.count)
        }
        guard buffer.prefix(6).elementsEqual(magic) else { throw TensorFileError.npyBadMagic }
        let (major, minor) = (buffer[6], buffer[7])
        guard minor == 0, (1...3).contains(major) else {
            throw TensorFileError.npyUnsupportedVersion(major: major, minor: minor)
        }
        let lengthSize = major == 1 ? 2 : 4
        guard buffer.count >= 8 + lengthSize else {
            throw TensorFileError.truncated(
                what: "npy header length", offset: 8, needed: lengthSize, available: buffer.count - 8)
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(buffer[8 + i]) << (8 * i) }
        let headerStart = 8 + lengthSize
        guard buffer.count - headerStart >= headerLength else {
            throw TensorFileError.truncated(
                what: "npy header", offset: headerStart, needed: headerLength, available: buffer.count - headerStart)
        }
        let header = try NpyHeader.parse(
            UnsafeRawBufferPointer(rebasing: buffer[headerStart..<headerStart + headerLength]),
            baseOffset: headerStart, utf8: major == 3)
        let (dtype, bigEndian) = try parseDescr(header.descr)
        let byteCount = try TypedArray.checkedByteCount(shape: header.shape, dtype: dtype, tensor: nil)
        return NpyLayout(dtype: dtype, shape: header.shape, fortranOrder: header.fortranOrder, bigEndian: bigEndian,
                         dataOffset: headerStart + headerLength, dataByteCount: byteCount)
    }
}
