import Foundation

/// Reading and writing numpy's `.npy` format (versions 1.0, 2.0 and 3.0).
///
/// Layout: the magic `\x93NUMPY`, a major and a minor version byte, the header length (2 bytes little-endian in
/// 1.0, 4 bytes in 2.0 and 3.0), the header (a Python dict literal, latin-1 before 3.0 and UTF-8 in 3.0, padded
/// with spaces and a newline so the data starts on a 64-byte boundary), then the raw elements.
///
/// Decoding always yields a C-ordered, little-endian ``TypedArray``: big-endian data is byte-swapped and
/// Fortran-ordered data is transposed into C order.
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]  // \x93NUMPY

    /// Decodes a complete `.npy` file.
    public static func decode(_ bytes: [UInt8]) throws -> TypedArray {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    /// Decodes a complete `.npy` file from raw memory, e.g. a member of an `.npz` archive or a mapped file.
    public static func decode(_ buffer: UnsafeRawBufferPointer) throws -> TypedArray {
        let layout = try layout(ofPrefix: buffer)
        let (dataStart, expected) = (layout.dataOffset, layout.dataByteCount)
        let available = buffer.count - dataStart
        if available < expected {
            throw TensorFileError.truncated(what: "npy data", offset: dataStart, needed: expected, available: available)
        }
        // numpy itself ignores trailing bytes; here they mean a damaged or concatenated file.
        if available > expected {
            throw TensorFileError.npyTrailingBytes(offset: dataStart, expected: expected, actual: available)
        }
        var bytes = Array(buffer[dataStart..<dataStart + expected])
        if layout.bigEndian && layout.dtype.byteSize > 1 { swapBytes(&bytes, elementSize: layout.dtype.byteSize) }
        if layout.fortranOrder && layout.shape.count > 1 {
            bytes = fortranToC(bytes, shape: layout.shape, elementSize: layout.dtype.byteSize)
        }
        return TypedArray(unchecked: layout.dtype, shape: layout.shape, bytes: bytes)
    }

    /// Reads and decodes the `.npy` file at `url` (memory-mapped).
    public static func read(contentsOf url: URL) throws -> TypedArray {
        try TensorFileAccess.withMappedContents(of: url) { try decode($0) }
    }

    /// Encodes `array` exactly as `numpy.save` would: the same header text, version 1.0 unless the header
    /// needs 2.0, data aligned to 64 bytes.
    /// - Throws: ``TensorFileError/unsupportedDType(dtype:format:)`` for bfloat16, which npy cannot describe
    ///   (convert with `TypedArray(floats: a.floats(), shape: a.shape)` first; that is lossless).
    public static func encode(_ array: TypedArray) throws -> [UInt8] {
        try header(for: array) + array.bytes
    }

    /// Everything before the data: magic, version, header length and the padded header.
    static func header(for array: TypedArray) throws -> [UInt8] {
        array.preconditionConsistent("Npy.encode")
        guard let descr = descr(for: array.dtype) else {
            throw TensorFileError.unsupportedDType(dtype: array.dtype, format: "npy")
        }
        let text = Array(NpyHeader(descr: descr, fortranOrder: false, shape: array.shape).pythonLiteral.utf8)
        // numpy: padlen = 64 - (preamble + len(header) + 1) % 64, so an already aligned header still gets 64.
        func padding(_ preamble: Int) -> Int { 64 - (preamble + text.count + 1) % 64 }
        var major: UInt8 = 1
        var lengthSize = 2
        if text.count + 1 + padding(10) > Int(UInt16.max) { (major, lengthSize) = (2, 4) }
        let headerLength = text.count + padding(8 + lengthSize) + 1
        var out = magic + [major, 0]
        for i in 0..<lengthSize { out.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
        out += text
        out += [UInt8](repeating: 0x20, count: padding(8 + lengthSize))
        out.append(0x0a)
        return out
    }

    /// Encodes `array` and writes it to `url` through a temporary file and a rename, so an interrupted write
    /// never leaves a partial file behind.
    public static func write(_ array: TypedArray, to url: URL) throws {
        try TensorFileAccess.writeAtomically([header(for: array), array.bytes], to: url)
    }

    // MARK: descr

    /// The numpy type string for a dtype; 1-byte types use `|` ("byte order not applicable"), as numpy does.
    static func descr(for dtype: DType) -> String? {
        switch dtype {
        case .bool: "|b1"
        case .uint8: "|u1"
        case .int8: "|i1"
        case .uint16: "<u2"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .bfloat16: nil
        }
    }

    /// `'<f4'` → (.float32, bigEndian: false). `|` is read as little-endian, since it only means "native"
    /// for multi-byte types and every supported platform is little-endian.
    static func parseDescr(_ descr: String) throws -> (DType, bigEndian: Bool) {
        guard let order = descr.first, "<>|".contains(order) else {
            throw TensorFileError.npyUnsupportedDescr(descr)
        }
        let table: [String: DType] = [
            "b1": .bool, "u1": .uint8, "i1": .int8, "u2": .uint16, "i2": .int16, "i4": .int32, "i8": .int64,
            "f2": .float16, "f4": .float32, "f8": .float64,
        ]
        guard let dtype = table[String(descr.dropFirst())] else { throw TensorFileError.npyUnsupportedDescr(descr) }
        return (dtype, order == ">")
    }

    // MARK: byte order and memory order

    static func swapBytes(_ bytes: inout [UInt8], elementSize: Int) {
        bytes.withUnsafeMutableBufferPointer { b in
            var i = 0
            while i < b.count {
                b[i..<i + elementSize].reverse()
                i += elementSize
            }
        }
    }

    /// Fortran (column-major) element order → C (row-major) order for the same shape.
    static func fortranToC(_ source: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        let rank = shape.count
        let count = source.count / elementSize
        guard count > 0 else { return source }
        // Stride of each axis, in elements, in the Fortran-ordered source: the first axis varies fastest.
        var fortranStrides = [Int](repeating: 1, count: rank)
        for axis in 1..<rank { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
        var out = [UInt8](repeating: 0, count: source.count)
        var index = [Int](repeating: 0, count: rank)
        var sourceElement = 0
        source.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for element in 0..<count {
                    dst.baseAddress!.advanced(by: element * elementSize)
                        .copyMemory(from: src.baseAddress! + sourceElement * elementSize, byteCount: elementSize)
                    // Odometer over C order: the last axis varies fastest.
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        sourceElement += fortranStrides[axis]
                        if index[axis] < shape[axis] { break }
                        sourceElement -= fortranStrides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return out
    }
}

/// numpy's `.npz`: a zip of `.npy` members.
public enum Npz {
    /// Writes `arrays` as `np.savez` does (stored members named `{key}.npy`, in order; ZIP64 past 4 GiB),
    /// through a temporary file and a rename.
    /// - Throws: ``TensorFileError/unsupportedDType(dtype:format:)`` for an array npy cannot describe.
    public static func write(_ arrays: [(key: String, array: TypedArray)], to url: URL) throws {
        let members = try arrays.map { (name: "\($0.key).npy", chunks: [try Npy.header(for: $0.array), $0.array.bytes]) }
        try TensorFileAccess.writeAtomically(ZipWriter.storedArchive(members), to: url)
    }
}
