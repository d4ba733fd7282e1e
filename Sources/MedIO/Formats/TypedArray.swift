/// The element types that `.npy` and safetensors files carry.
public enum DType: String, Sendable, CaseIterable {
    case bool, uint8, int8, uint16, int16, int32, int64, float16, bfloat16, float32, float64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    /// True for the four float formats; false for `bool` and the integers.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }
}

/// An n-dimensional array of any ``DType``, as it sits in a file: C-ordered (row-major), little-endian
/// element bytes.
///
/// This is the file boundary of the library. Float data converts to `[Float]` with ``floats()``; integer data
/// (labels, indices, BatchNorm's `num_batches_tracked`) stays in its own dtype and is read with
/// ``int64s()`` / ``uint8s()`` / ``integers(as:)``, never routed through `Float`, which cannot hold every
/// `Int64` exactly. A 0-dimensional array (`shape == []`) holds one element.
///
/// The initialisers check that `bytes` holds exactly `shape`'s elements. The stored properties stay `var` so
/// callers can reshape in place; keeping `bytes.count == count * dtype.byteSize` is then up to them, and
/// the encoders stop with a precondition failure if it does not hold.
public struct TypedArray: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    /// Little-endian element bytes in C order.
    public var bytes: [UInt8]

    /// Number of elements: the product of `shape` (1 for a 0-dimensional array).
    public var count: Int {
        guard let n = Self.elementCount(shape) else { preconditionFailure("TypedArray shape \(shape) is invalid") }
        return n
    }

    /// Wraps little-endian, C-ordered element bytes.
    /// - Throws: ``TensorFileError/invalidShape(tensor:shape:reason:)`` for negative dimensions or overflow,
    ///   ``TensorFileError/byteCountMismatch(dtype:shape:expected:actual:)`` when `bytes` is the wrong size.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        let expected = try Self.checkedByteCount(shape: shape, dtype: dtype, tensor: nil)
        guard bytes.count == expected else {
            throw TensorFileError.byteCountMismatch(dtype: dtype, shape: shape, expected: expected, actual: bytes.count)
        }
        self.init(unchecked: dtype, shape: shape, bytes: bytes)
    }

    /// For callers that have already validated the sizes (the decoders).
    init(unchecked dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Product of `shape`, or nil if a dimension is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(where: { $0 < 0 }) { return nil }
        // Any zero makes the product zero, however large the other dimensions (numpy agrees).
        if shape.contains(0) { return 0 }
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// `count × byteSize` for `shape`, throwing ``TensorFileError/invalidShape(tensor:shape:reason:)``.
    static func checkedByteCount(shape: [Int], dtype: DType, tensor: String?) throws -> Int {
        if shape.contains(where: { $0 < 0 }) {
            throw TensorFileError.invalidShape(tensor: tensor, shape: shape, reason: "negative dimension")
        }
        guard let n = elementCount(shape) else {
            throw TensorFileError.invalidShape(tensor: tensor, shape: shape, reason: "element count overflows")
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow {
            throw TensorFileError.invalidShape(tensor: tensor, shape: shape, reason: "byte count overflows")
        }
        return bytes
    }

    /// Checks the invariant the encoders rely on.
    func preconditionConsistent(_ context: @autoclosure () -> String) {
        precondition(
            (try? Self.checkedByteCount(shape: shape, dtype: dtype, tensor: nil)) == bytes.count,
            "\(context()): TypedArray of \(dtype) with shape \(shape) holds \(bytes.count) bytes")
    }
}

// MARK: - reading elements

extension TypedArray {
    /// The elements as Float32, for any dtype: float16 and bfloat16 convert exactly, float64 rounds to
    /// nearest, integers convert like `Float(_:)` (rounding above 2^24), bool gives 0 or 1.
    public func floats() -> [Float] {
        switch dtype {
        case .float32:
            #if _endian(little)
            // The stored bytes already are the floats: one copy, no per-element work.
            let n = bytes.count / 4
            return [Float](unsafeUninitializedCapacity: n) { out, initialized in
                bytes.withUnsafeBytes { source in
                    let floats = UnsafeRawBufferPointer(rebasing: source.prefix(n * 4))
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: floats)
                }
                initialized = n
            }
            #else
            return load(UInt32.self) { Float(bitPattern: $0) }
            #endif
        case .float16: return load(UInt16.self) { HalfFloatBits.float(fromHalf: $0) }
        case .bfloat16: return load(UInt16.self) { HalfFloatBits.float(fromBFloat: $0) }
        case .float64: return load(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .bool: return load(UInt8.self) { $0 == 0 ? 0 : 1 }
        case .uint8: return load(UInt8.self) { Float($0) }
        case .int8: return load(Int8.self) { Float($0) }
        case .uint16: return load(UInt16.self) { Float($0) }
        case .int16: return load(Int16.self) { Float($0) }
        case .int32: return load(Int32.self) { Float($0) }
        case .int64: return load(Int64.self) { Float($0) }
        }
    }

    /// The elements of an integer or bool array as Int64 (bool gives 0 or 1). Every supported integer dtype fits.
    /// - Throws: ``TensorFileError/notInteger(dtype:requested:)`` for floating-point data.
    public func int64s() throws -> [Int64] {
        try integers(as: Int64.self)
    }

    /// The elements of an integer or bool array as bytes, e.g. uint8 images or masks.
    /// - Throws: ``TensorFileError/notInteger(dtype:requested:)`` for floating-point data,
    ///   ``TensorFileError/valueOutOfRange(index:value:target:)`` for an element outside 0...255.
    public func uint8s() throws -> [UInt8] {
        if dtype == .uint8 { return bytes }
        return try integers(as: UInt8.self)
    }

    /// The elements of an integer or bool array converted exactly to `T`.
    /// - Throws: ``TensorFileError/notInteger(dtype:requested:)`` for floating-point data,
    ///   ``TensorFileError/valueOutOfRange(index:value:target:)`` for the first element `T` cannot hold.
    public func integers<T: FixedWidthInteger>(as type: T.Type = T.self) throws -> [T] {
        let wide: [Int64]
        switch dtype {
        case .float16, .bfloat16, .float32, .float64:
            throw TensorFileError.notInteger(dtype: dtype, requested: "\(T.self)")
        case .bool: wide = load(UInt8.self) { $0 == 0 ? 0 : 1 }
        case .uint8: wide = load(UInt8.self) { Int64($0) }
        case .int8: wide = load(Int8.self) { Int64($0) }
        case .uint16: wide = load(UInt16.self) { Int64($0) }
        case .int16: wide = load(Int16.self) { Int64($0) }
        case .int32: wide = load(Int32.self) { Int64($0) }
        case .int64: wide = load(Int64.self) { $0 }
        }
        if T.self == Int64.self { return wide as! [T] }
        var result = [T]()
        result.reserveCapacity(wide.count)
        for (i, v) in wide.enumerated() {
            guard let t = T(exactly: v) else {
                throw TensorFileError.valueOutOfRange(index: i, value: "\(v)", target: "\(T.self)")
            }
            result.append(t)
        }
        return result
    }

    /// Decodes every element as the little-endian `Raw` and maps it. Tolerates a `bytes` that is not a
    /// multiple of the element size (ignores the tail) so a hand-edited array cannot make it read out of bounds.
    @inline(__always)
    private func load<Raw: FixedWidthInteger, R>(_: Raw.Type, _ transform: (Raw) -> R) -> [R] {
        let size = MemoryLayout<Raw>.size
        let n = bytes.count / size
        return bytes.withUnsafeBytes { raw in
            [R](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n {
                    out[i] = transform(Raw(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: Raw.self)))
                }
                initialized = n
            }
        }
    }
}

// MARK: - building arrays

extension TypedArray {
    /// Float32 values stored as `dtype`, which must be a float format. float16 and bfloat16 round to nearest
    /// even, bit-identical to numpy's `astype(np.float16)` and PyTorch's `.to(torch.bfloat16)` (overflow → ±Inf,
    /// subnormals kept; NaN stays NaN, see ``HalfFloatBits``); float64 is exact.
    public init(floats: [Float], shape: [Int], as dtype: DType = .float32) {
        precondition(dtype.isFloatingPoint, "TypedArray(floats:) stores float dtypes only, not \(dtype)")
        Self.preconditionCount(floats.count, shape)
        let bytes: [UInt8]
        switch dtype {
        case .float32:
            #if _endian(little)
            bytes = floats.withUnsafeBytes { Array($0) }
            #else
            bytes = Self.store(floats) { $0.bitPattern }
            #endif
        case .float16: bytes = Self.store(floats) { HalfFloatBits.half(from: $0) }
        case .bfloat16: bytes = Self.store(floats) { HalfFloatBits.bfloat(from: $0) }
        default: bytes = Self.store(floats) { Double($0).bitPattern }
        }
        self.init(unchecked: dtype, shape: shape, bytes: bytes)
    }

    /// An int64 array, e.g. labels, indices or `num_batches_tracked` (`shape: []`).
    public init(int64s: [Int64], shape: [Int]) {
        Self.preconditionCount(int64s.count, shape)
        self.init(unchecked: .int64, shape: shape, bytes: Self.store(int64s) { $0 })
    }

    /// A uint8 array, e.g. images or masks.
    public init(uint8s: [UInt8], shape: [Int]) {
        Self.preconditionCount(uint8s.count, shape)
        self.init(unchecked: .uint8, shape: shape, bytes: uint8s)
    }

    /// Integers stored as `dtype`, which must be `bool` or an integer type.
    /// - Throws: ``TensorFileError/valueOutOfRange(index:value:target:)`` for the first value `dtype` cannot hold
    ///   (for `bool`, anything but 0 and 1).
    public init<T: FixedWidthInteger>(integers: [T], shape: [Int], dtype: DType) throws {
        precondition(!dtype.isFloatingPoint, "TypedArray(integers:) stores bool and integer dtypes only, not \(dtype)")
        Self.preconditionCount(integers.count, shape)
        func narrow<Raw: FixedWidthInteger>(_: Raw.Type) throws -> [UInt8] {
            var out = [Raw]()
            out.reserveCapacity(integers.count)
            for (i, v) in integers.enumerated() {
                guard let r = Raw(exactly: v), dtype != .bool || r <= 1 else {
                    throw TensorFileError.valueOutOfRange(index: i, value: "\(v)", target: "\(dtype)")
                }
                out.append(r)
            }
            return Self.store(out) { $0 }
        }
        let bytes: [UInt8]
        switch dtype {
        case .bool, .uint8: bytes = try narrow(UInt8.self)
        case .int8: bytes = try narrow(Int8.self)
        case .uint16: bytes = try narrow(UInt16.self)
        case .int16: bytes = try narrow(Int16.self)
        case .int32: bytes = try narrow(Int32.self)
        default: bytes = try narrow(Int64.self)
        }
        self.init(unchecked: dtype, shape: shape, bytes: bytes)
    }

    private static func preconditionCount(_ count: Int, _ shape: [Int], function: StaticString = #function) {
        precondition(elementCount(shape) == count, "\(function): \(count) values do not fill shape \(shape)")
    }

    /// Encodes each value as the little-endian `Raw` that `transform` gives.
    @inline(__always)
    private static func store<S, Raw: FixedWidthInteger>(_ values: [S], _ transform: (S) -> Raw) -> [UInt8] {
        let size = MemoryLayout<Raw>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * size) { out, initialized in
            let raw = UnsafeMutableRawBufferPointer(out)
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: transform(v).littleEndian, toByteOffset: i * size, as: Raw.self)
            }
            initialized = values.count * size
        }
    }
}
