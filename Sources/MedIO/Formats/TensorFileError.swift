/// Everything a tensor file, or the typed data in it, can get wrong: `.npy` and safetensors alike.
///
/// Decoding from bytes throws the bare case. Reading from a URL wraps it in a ``FileError`` naming the file,
/// so the message starts with the path; `FileError.underlying(as: TensorFileError.self)` gives the case back.
/// Offsets in messages are byte offsets from the start of the file unless they say otherwise.
public enum TensorFileError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: typed arrays (any format)

    /// A shape with a negative dimension, or whose byte count overflows `Int`.
    case invalidShape(tensor: String?, shape: [Int], reason: String)
    /// The byte buffer does not hold exactly `shape`'s elements of `dtype`.
    case byteCountMismatch(dtype: DType, shape: [Int], expected: Int, actual: Int)
    /// An integer accessor was used on floating-point data; integers are never rounded out of floats.
    case notInteger(dtype: DType, requested: String)
    /// Element `index` holds `value`, which does not fit in `target`.
    case valueOutOfRange(index: Int, value: String, target: String)
    /// `dtype` cannot be stored in `format` (npy has no bfloat16).
    case unsupportedDType(dtype: DType, format: String)

    // MARK: shared framing

    /// The file ends inside `what`, which starts at `offset` and needs `needed` bytes; only `available` remain.
    case truncated(what: String, offset: Int, needed: Int, available: Int)

    // MARK: npy

    /// The file does not start with `\x93NUMPY`.
    case npyBadMagic
    /// A format version other than 1.0, 2.0 or 3.0.
    case npyUnsupportedVersion(major: UInt8, minor: UInt8)
    /// The header is not a Python dict literal; `offset` is where parsing stopped.
    case npyHeaderSyntax(offset: Int, message: String)
    /// The header dict does not have exactly the keys `descr`, `fortran_order` and `shape`.
    case npyHeaderKeys(found: [String])
    /// A header value has the wrong type or an invalid value.
    case npyHeaderValue(key: String, message: String)
    /// A `descr` this reader does not support (structured, unsigned 32/64-bit, complex, strings, ...).
    case npyUnsupportedDescr(String)
    /// More bytes follow the array data than the header accounts for.
    case npyTrailingBytes(offset: Int, expected: Int, actual: Int)

    // MARK: safetensors

    /// The 8-byte header length points past the end of the file.
    case safetensorsHeaderLength(length: UInt64, fileSize: Int)
    /// The header is not valid UTF-8 at `offset`.
    case safetensorsHeaderEncoding(offset: Int)
    /// The header is not valid JSON; `offset` is where parsing stopped.
    case safetensorsHeaderJSON(offset: Int, message: String)
    /// The header's JSON is valid but not an object.
    case safetensorsHeaderNotObject
    /// A tensor's entry is not an object, lacks a field, or has a field of the wrong type.
    case safetensorsInvalidEntry(tensor: String, message: String)
    /// A `dtype` string this library does not know.
    case safetensorsUnknownDType(tensor: String, dtype: String)
    /// `data_offsets` is not a pair of non-negative integers.
    case safetensorsDataOffsets(tensor: String, message: String)
    /// `data_offsets` has end < begin.
    case safetensorsOffsetsReversed(tensor: String, begin: Int, end: Int)
    /// `data_offsets` reaches past the data buffer (`bufferSize` bytes, starting at file offset `bufferStart`).
    case safetensorsOffsetsOutOfBounds(tensor: String, begin: Int, end: Int, bufferSize: Int, bufferStart: Int)
    /// `data_offsets` spans a different number of bytes than `shape` × `dtype` needs.
    case safetensorsSizeMismatch(tensor: String, dtype: String, shape: [Int], begin: Int, end: Int, expected: Int)
    /// Two tensors share bytes of the data buffer.
    case safetensorsOverlap(tensor: String, other: String, begin: Int, end: Int)
    /// Bytes `[begin, end)` of the data buffer belong to no tensor (the format requires full coverage).
    case safetensorsHole(begin: Int, end: Int, bufferStart: Int)
    /// The same key appears twice in the header.
    case safetensorsDuplicateName(String)
    /// `__metadata__` is not an object of string values (`key` names the offending entry when there is one).
    case safetensorsMetadata(key: String?, message: String)

    public var description: String {
        switch self {
        case .invalidShape(let tensor, let shape, let reason):
            return "\(Self.subject(tensor))shape \(shape) is invalid: \(reason)"
        case .byteCountMismatch(let dtype, let shape, let expected, let actual):
            return "shape \(shape) of \(dtype) needs \(expected) bytes but \(actual) were given"
        case .notInteger(let dtype, let requested):
            return "cannot read \(dtype) data as \(requested): integer accessors never round floating-point values"
        case .valueOutOfRange(let index, let value, let target):
            return "element \(index) is \(value), which does not fit in \(target)"
        case .unsupportedDType(let dtype, let format):
            return "\(format) cannot store \(dtype) data"
        case .truncated(let what, let offset, let needed, let available):
            return "file ends inside the \(what) at byte \(offset): needs \(needed) bytes, \(available) remain"
        case .npyBadMagic:
            return "not an npy file: it does not start with \\x93NUMPY"
        case .npyUnsupportedVersion(let major, let minor):
            return "npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)"
        case .npyHeaderSyntax(let offset, let message):
            return "npy header is not a valid dict literal at byte \(offset): \(message)"
        case .npyHeaderKeys(let found):
            return "npy header must have exactly the keys 'descr', 'fortran_order', 'shape'; found \(found)"
        case .npyHeaderValue(let key, let message):
            return "npy header value for '\(key)' \(message)"
        case .npyUnsupportedDescr(let descr):
            return "npy dtype '\(descr)' is not supported (u1 i1 u2 i2 i4 i8 f2 f4 f8 b1 are)"
        case .npyTrailingBytes(let offset, let expected, let actual):
            return "npy data at byte \(offset) should be \(expected) bytes but the file holds \(actual)"
        case .safetensorsHeaderLength(let length, let fileSize):
            return "safetensors header length \(length) (at byte 0) runs past the end of the \(fileSize)-byte file"
        case .safetensorsHeaderEncoding(let offset):
            return "safetensors header is not valid UTF-8 at byte \(offset)"
        case .safetensorsHeaderJSON(let offset, let message):
            return "safetensors header is not valid JSON at byte \(offset): \(message)"
        case .safetensorsHeaderNotObject:
            return "safetensors header is valid JSON but not an object"
        case .safetensorsInvalidEntry(let tensor, let message):
            return "tensor '\(tensor)' \(message)"
        case .safetensorsUnknownDType(let tensor, let dtype):
            return "tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case .safetensorsDataOffsets(let tensor, let message):
            return "tensor '\(tensor)' has invalid data_offsets: \(message)"
        case .safetensorsOffsetsReversed(let tensor, let begin, let end):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)] whose end is before its begin"
        case .safetensorsOffsetsOutOfBounds(let tensor, let begin, let end, let bufferSize, let bufferStart):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)] beyond the \(bufferSize)-byte data buffer "
                + "(which starts at byte \(bufferStart))"
        case .safetensorsSizeMismatch(let tensor, let dtype, let shape, let begin, let end, let expected):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)] but shape \(shape) of \(dtype) "
                + "needs \(expected) bytes"
        case .safetensorsOverlap(let tensor, let other, let begin, let end):
            return "tensor '\(tensor)' (data_offsets [\(begin), \(end)]) overlaps tensor '\(other)'"
        case .safetensorsHole(let begin, let end, let bufferStart):
            return "bytes [\(begin), \(end)) of the data buffer "
                + "(file bytes \(bufferStart + begin)..<\(bufferStart + end)) belong to no tensor"
        case .safetensorsDuplicateName(let name):
            return "the header names '\(name)' more than once"
        case .safetensorsMetadata(let key, let message):
            return key.map { "__metadata__ entry '\($0)' \(message)" } ?? "__metadata__ \(message)"
        }
    }

    private static func subject(_ tensor: String?) -> String {
        tensor.map { "tensor '\($0)': " } ?? ""
    }
}
