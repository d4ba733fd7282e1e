import Foundation

/// The contents of a safetensors file: named ``TypedArray``s in order, plus the string-to-string `__metadata__`.
///
/// Format: an 8-byte little-endian header length N; N bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (offsets relative to the first byte after
/// the header) and optionally `"__metadata__"` to an object of strings; then the data buffer, which the
/// tensors must cover exactly, without overlaps or holes.
///
/// Decoding keeps the header's order (for files written by the Python library: by dtype, then name). Names
/// are unique; ``subscript(_:)`` adds, replaces and removes. Equality ignores order: two files are equal
/// when they map the same names to equal arrays and have the same metadata.
public struct SafeTensorsFile: Sendable, Equatable {
    /// The tensors, in order. Modify through ``subscript(_:)``, which keeps names unique.
    public private(set) var entries: [(name: String, array: TypedArray)] = []
    private var positions: [String: Int] = [:]
    /// The free-form `__metadata__` (e.g. `["format": "pt"]`).
    public var metadata: [String: String]

    /// An empty file.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// A file holding `entries` in this order.
    /// - Throws: ``TensorFileError/safetensorsDuplicateName(_:)`` if a name repeats, and
    ///   ``TensorFileError/safetensorsInvalidEntry(tensor:message:)`` for the reserved name `__metadata__`.
    public init(_ entries: [(name: String, array: TypedArray)], metadata: [String: String] = [:]) throws {
        self.metadata = metadata
        for (name, array) in entries {
            if name == Self.metadataKey {
                throw TensorFileError.safetensorsInvalidEntry(tensor: name, message: "is reserved for metadata")
            }
            guard positions[name] == nil else { throw TensorFileError.safetensorsDuplicateName(name) }
            positions[name] = self.entries.count
            self.entries.append((name, array))
        }
    }

    public var names: [String] { entries.map(\.name) }
    public var count: Int { entries.count }

    /// The array named `name`. Setting a new name appends it; setting nil removes it.
    public subscript(name: String) -> TypedArray? {
        get { positions[name].map { entries[$0].array } }
        set {
            precondition(name != Self.metadataKey, "'__metadata__' is reserved and cannot name a tensor")
            if let i = positions[name] {
                if let newValue {
                    entries[i].array = newValue
                } else {
                    entries.remove(at: i)
                    positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
                }
            } else if let newValue {
                positions[name] = entries.count
                entries.append((name, newValue))
            }
        }
    }

    public static func == (lhs: SafeTensorsFile, rhs: SafeTensorsFile) -> Bool {
        lhs.metadata == rhs.metadata && lhs.count == rhs.count
            && lhs.entries.allSatisfy { rhs[$0.name] == $0.array }
    }

    static let metadataKey = "__metadata__"
}

// MARK: - reading

extension SafeTensorsFile {
    /// Decodes a complete safetensors file, validating everything the format requires (see
    /// ``TensorFileError`` for the cases): header bounds and JSON, each entry's dtype, shape and offsets,
    /// and that the tensors tile the data buffer exactly.
    public static func decode(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    /// Decodes a complete safetensors file from raw memory (e.g. a mapped file). Tensor bytes are copied out.
    public static func decode(_ buffer: UnsafeRawBufferPointer) throws -> SafeTensorsFile {
        let header = try SafeTensorsHeader.parse(buffer)
        var file = SafeTensorsFile(metadata: header.metadata)
        file.entries.reserveCapacity(header.tensors.count)
        for t in header.tensors {
            let start = header.bufferStart + t.begin
            file.positions[t.name] = file.entries.count
            let bytes = Array(buffer[start..<start + t.end - t.begin])
            file.entries.append((t.name, TypedArray(unchecked: t.dtype, shape: t.shape, bytes: bytes)))
        }
        return file
    }

    /// Reads the safetensors file at `url`. The file is memory-mapped, so each tensor's bytes are copied
    /// once, from the mapping into its array (``SafeTensorsIndex`` reads where they are without copying).
    public static func read(contentsOf url: URL) throws -> SafeTensorsFile {
        try TensorFileAccess.withMappedContents(of: url) { try decode($0) }
    }
}

// MARK: - dtypes

extension SafeTensorsFile {
    /// The safetensors name of each dtype.
    static func name(of dtype: DType) -> String {
        switch dtype {
        case .bool: "BOOL"
        case .uint8: "U8"
        case .int8: "I8"
        case .uint16: "U16"
        case .int16: "I16"
        case .int32: "I32"
        case .int64: "I64"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float32: "F32"
        case .float64: "F64"
        }
    }

    static let dtypesByName: [String: DType] =
        Dictionary(uniqueKeysWithValues: DType.allCases.map { (name(of: $0), $0) })

    /// The position of the dtype in the Rust library's `Dtype` enum, whose writer lays tensors out by this
    /// rank descending, then by name. Using the same order makes our files byte-identical to the Python
    /// library's (U32 = 8 and U64 = 12 exist there but not here).
    static func layoutRank(_ dtype: DType) -> Int {
        switch dtype {
        case .bool: 0
        case .uint8: 1
        case .int8: 2
        case .int16: 3
        case .uint16: 4
        case .float16: 5
        case .bfloat16: 6
        case .int32: 7
        case .float32: 9
        case .float64: 10
        case .int64: 11
        }
    }
}

// MARK: - writing

extension SafeTensorsFile {
    /// Encodes the file as the Python `safetensors` library does: tensors laid out by dtype (widest first),
    /// then name; compact JSON with `__metadata__` first (keys sorted; omitted when empty); the header padded
    /// with spaces to a multiple of 8 bytes so the data buffer stays 8-byte aligned.
    public func encode() -> [UInt8] {
        let parts = encodedParts()
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { out += part }
        return out
    }

    /// The length-prefixed header, then each tensor's bytes in layout order (shared, not copied).
    func encodedParts() -> [[UInt8]] {
        let order = entries.indices.sorted { a, b in
            let (ra, rb) = (Self.layoutRank(entries[a].array.dtype), Self.layoutRank(entries[b].array.dtype))
            if ra != rb { return ra > rb }
            return entries[a].name.utf8.lexicographicallyPrecedes(entries[b].name.utf8)
        }
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { SafeTensorsJSON.quoted($0.key) + ":" + SafeTensorsJSON.quoted($0.value) }
            fields.append(SafeTensorsJSON.quoted(Self.metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for i in order {
            let (name, array) = entries[i]
            array.preconditionConsistent("SafeTensorsFile.encode, tensor '\(name)'")
            let shape = array.shape.map(String.init).joined(separator: ",")
            fields.append(
                SafeTensorsJSON.quoted(name) + ":{\"dtype\":\"\(Self.name(of: array.dtype))\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(offset + array.bytes.count)]}")
            offset += array.bytes.count
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var prefix = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64($0))) }
        prefix += header
        return [prefix] + order.map { entries[$0].array.bytes }
    }

    /// Encodes the file and writes it to `url` through a temporary file and a rename, so an interrupted write
    /// never leaves a partial file behind.
    public func write(to url: URL) throws {
        try TensorFileAccess.writeAtomically(encodedParts(), to: url)
    }
}

/// A safetensors file's validated header, for readers that use the tensors' bytes where they lie (in a
/// ``MappedFile``) instead of copying them: each tensor's dtype, shape and byte range in the file.
public struct SafeTensorsIndex: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Offsets from the start of the file.
        public let byteRange: Range<Int>
    }

    /// Tensors in header order.
    public let entries: [Entry]
    /// The string map under `__metadata__`.
    public let metadata: [String: String]

    /// Parses and checks the header of the complete file in `buffer` (the same checks as
    /// ``SafeTensorsFile/decode(_:)-(UnsafeRawBufferPointer)``).
    /// - Throws: ``TensorFileError``.
    public init(parsing buffer: UnsafeRawBufferPointer) throws {
        let header = try SafeTensorsHeader.parse(buffer)
        entries = header.tensors.map {
            Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape,
                  byteRange: (header.bufferStart + $0.begin)..<(header.bufferStart + $0.end))
        }
        metadata = header.metadata
    }

    /// The entry called `name`.
    public subscript(name: String) -> Entry? { entries.first { $0.name == name } }
}
