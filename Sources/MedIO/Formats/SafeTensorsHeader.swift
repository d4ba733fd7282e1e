/// The validated header of a safetensors file: where each tensor's bytes are, checked against the buffer.
struct SafeTensorsHeader {
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Tensors in header order.
    var tensors: [Entry] = []
    var metadata: [String: String] = [:]
    /// File offset of the data buffer (8 + header length).
    var bufferStart = 0

    static func parse(_ file: UnsafeRawBufferPointer) throws -> SafeTensorsHeader {
        guard file.count >= 8 else {
            throw TensorFileError.truncated(
                what: "safetensors header length", offset: 0, needed: 8, available: file.count)
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(file.count - 8) else {
            throw TensorFileError.safetensorsHeaderLength(length: length, fileSize: file.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<8 + Int(length)])
        if let bad = firstInvalidUTF8(headerBytes) { throw TensorFileError.safetensorsHeaderEncoding(offset: 8 + bad) }
        guard case .object(let pairs) = try SafeTensorsJSON.parse(headerBytes, baseOffset: 8) else {
            throw TensorFileError.safetensorsHeaderNotObject
        }

        var header = SafeTensorsHeader(bufferStart: 8 + Int(length))
        let bufferSize = file.count - header.bufferStart
        var seen: Set<String> = []
        for (name, value) in pairs {
            guard seen.insert(name).inserted else { throw TensorFileError.safetensorsDuplicateName(name) }
            if name == SafeTensorsFile.metadataKey {
                header.metadata = try parseMetadata(value)
            } else {
                header.tensors.append(
                    try parseTensor(name, value, bufferSize: bufferSize, bufferStart: header.bufferStart))
            }
        }
        try checkCoverage(header.tensors, bufferSize: bufferSize, bufferStart: header.bufferStart)
        return header
    }

    private static func parseMetadata(_ value: SafeTensorsJSON.Value) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw TensorFileError.safetensorsMetadata(key: nil, message: "is \(value.kind), not an object")
        }
        var metadata: [String: String] = [:]
        for (key, value) in pairs {
            guard case .string(let text) = value else {
                throw TensorFileError.safetensorsMetadata(key: key, message: "is \(value.kind), not a string")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw TensorFileError.safetensorsMetadata(key: key, message: "appears twice")
            }
        }
        return metadata
    }

    /// One entry, checked on its own: known dtype, valid shape, offsets inside the buffer spanning exactly
    /// the bytes the shape needs. Unknown extra fields are ignored, as the Python library does.
    private static func parseTensor(
        _ name: String, _ value: SafeTensorsJSON.Value, bufferSize: Int, bufferStart: Int
    ) throws -> Entry {
        func invalid(_ message: String) -> TensorFileError { .safetensorsInvalidEntry(tensor: name, message: message) }
        guard case .object(let pairs) = value else { throw invalid("is \(value.kind), not an object") }
        var fields: [String: SafeTensorsJSON.Value] = [:]
        for (key, value) in pairs {
            guard fields.updateValue(value, forKey: key) == nil else { throw invalid("has the field '\(key)' twice") }
        }
        guard let dtypeValue = fields["dtype"] else { throw invalid("has no 'dtype'") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw invalid("has a 'dtype' that is \(dtypeValue.kind)")
        }
        guard let dtype = SafeTensorsFile.dtypesByName[dtypeName] else {
            throw TensorFileError.safetensorsUnknownDType(tensor: name, dtype: dtypeName)
        }
        guard let shapeValue = fields["shape"] else { throw invalid("has no 'shape'") }
        guard case .array(let dims) = shapeValue else { throw invalid("has a 'shape' that is \(shapeValue.kind)") }
        var shape: [Int] = []
        for d in dims {
            guard case .integer(let n) = d else {
                throw invalid("has a 'shape' that is not a list of integers: \(shapeValue.snippet)")
            }
            shape.append(n)
        }
        let expected = try TypedArray.checkedByteCount(shape: shape, dtype: dtype, tensor: name)
        guard let offsetsValue = fields["data_offsets"] else { throw invalid("has no 'data_offsets'") }
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
            case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1], begin >= 0, end >= 0
        else {
            throw TensorFileError.safetensorsDataOffsets(
                tensor: name, message: "\(offsetsValue.snippet) is not a pair of non-negative integers")
        }
        guard begin <= end else {
            throw TensorFileError.safetensorsOffsetsReversed(tensor: name, begin: begin, end: end)
        }
        guard end <= bufferSize else {
            throw TensorFileError.safetensorsOffsetsOutOfBounds(
                tensor: name, begin: begin, end: end, bufferSize: bufferSize, bufferStart: bufferStart)
        }
        guard end - begin == expected else {
            throw TensorFileError.safetensorsSizeMismatch(
                tensor: name, dtype: dtypeName, shape: shape, begin: begin, end: end, expected: expected)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The format requires the tensors to tile the buffer: sorted by offset, each must start where the
    /// previous one ended, and the last must end at the buffer's end.
    private static func checkCoverage(_ tensors: [Entry], bufferSize: Int, bufferStart: Int) throws {
        // Sorting by end as well keeps an empty tensor ahead of a non-empty one at the same offset.
        let sorted = tensors.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var cursor = 0
        var previous: String?
        for t in sorted {
            if t.begin < cursor {
                throw TensorFileError.safetensorsOverlap(
                    tensor: t.name, other: previous ?? "", begin: t.begin, end: t.end)
            }
            if t.begin > cursor {
                throw TensorFileError.safetensorsHole(begin: cursor, end: t.begin, bufferStart: bufferStart)
            }
            cursor = t.end
            previous = t.name
        }
        if cursor < bufferSize {
            throw TensorFileError.safetensorsHole(begin: cursor, end: bufferSize, bufferStart: bufferStart)
        }
    }

    /// Offset of the first byte that does not start a valid UTF-8 sequence, or nil if all of it is valid.
    private static func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
