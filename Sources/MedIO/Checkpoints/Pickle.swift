/// A restricted Python unpickler for PyTorch checkpoints: it builds plain values (None, bools, ints, floats,
/// strings, bytes, tuples, lists, dicts, sets) and a handful of recognised PyTorch objects, and executes nothing.
///
/// Python's unpickler calls whatever callable the stream names (`GLOBAL` + `REDUCE`), which is how a malicious
/// `.pth` runs code. Here `GLOBAL`/`STACK_GLOBAL`/`INST` resolve names only against ``PickleGlobal``'s
/// allow-list — `collections.OrderedDict`, `torch._utils._rebuild_tensor{,_v2,_v3}`,
/// `torch._utils._rebuild_parameter{,_with_state}`, `torch.*Storage`, `torch.storage.UntypedStorage` and the
/// `torch.<dtype>` objects — and `REDUCE` interprets those few by their documented meaning. Any other name is
/// a ``CheckpointError/forbiddenGlobal(stream:offset:module:name:)``, raised at the opcode that names it.
///
/// Implements every opcode of protocols 0–5 except the extension registry (`EXT1/2/4`) and out-of-band
/// buffers (`NEXT_BUFFER`, `READONLY_BUFFER`), which checkpoints never use.

// MARK: - values

/// One Python object as the unpickler sees it. Containers are reference types, as in Python: a dict that is
/// memoized and later filled by `SETITEMS` is the same dict wherever it is referenced.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer outside `Int`'s range, as little-endian two's-complement bytes (legacy files' magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleSequence)
    case list(PickleSequence)
    case set(PickleSequence)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(TorchStorage)
    case tensor(TorchTensorSpec)

    /// Python's name for the type, for error messages.
    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInt: "an int"
        case .float: "a float"
        case .string: "a str"
        case .bytes: "bytes"
        case .tuple(let t): "a tuple of \(t.items.count)"
        case .list(let l): "a list of \(l.items.count)"
        case .set: "a set"
        case .dict(let d): "a dict of \(d.count)"
        case .global(let g): "the global \(g.qualifiedName)"
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }

    var asInt: Int? { if case .int(let v) = self { return v }; if case .bool(let b) = self { return b ? 1 : 0 }; return nil }
    var asString: String? { if case .string(let s) = self { return s }; return nil }

    /// The items of a tuple or list.
    var sequenceItems: [PickleValue]? {
        switch self {
        case .tuple(let s), .list(let s): return s.items
        default: return nil
        }
    }
}

/// Items of a tuple, list or set.
final class PickleSequence {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A Python dict (or OrderedDict): insertion-ordered, with Python's replace-in-place for a repeated
/// str / int / bool / None key. Other key types are kept in order without deduplication.
final class PickleDict {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var index: [Key: Int] = [:]

    private enum Key: Hashable { case string(String), int(Int), none }

    var count: Int { keys.count }

    func set(_ key: PickleValue, _ value: PickleValue) {
        let hashable: Key?
        switch key {
        case .string(let s): hashable = .string(s)
        case .int(let i): hashable = .int(i)
        case .bool(let b): hashable = .int(b ? 1 : 0)  // True == 1 in Python
        case .none: hashable = Key.none
        default: hashable = nil
        }
        if let hashable, let i = index[hashable] {
            values[i] = value
            return
        }
        if let hashable { index[hashable] = keys.count }
        keys.append(key)
        values.append(value)
    }

    subscript(key: String) -> PickleValue? {
        index[.string(key)].map { values[$0] }
    }

    /// Drops the contents (see ``PickleArena``).
    func removeAll() {
        keys.removeAll()
        values.removeAll()
        index.removeAll()
    }
}

/// Every container an unpickler made. Tearing them down one by one, emptied, keeps the release of a deeply
/// nested pickle (a million `TUPLE1`s) from recursing through the stack.
final class PickleArena {
    private var sequences: [PickleSequence] = []
    private var dicts: [PickleDict] = []

    func sequence(_ items: [PickleValue] = []) -> PickleSequence {
        let s = PickleSequence(items)
        sequences.append(s)
        return s
    }

    func dict() -> PickleDict {
        let d = PickleDict()
        dicts.append(d)
        return d
    }

    deinit {
        for s in sequences { s.items.removeAll() }
        for d in dicts { d.removeAll() }
    }
}

// MARK: - allowed globals

/// A PyTorch storage class (`torch.FloatStorage`, `torch.storage.UntypedStorage`, ...).
struct TorchStorageType: Equatable {
    /// The Python name, e.g. "torch.FloatStorage".
    let name: String
    /// The element type, or nil for types with no ``DType`` (complex, quantized) and for untyped storage.
    let dtype: DType?
    /// Bytes per element (1 for untyped storage, whose "elements" are bytes).
    let elementSize: Int
    let isUntyped: Bool

    static let typed: [String: (DType?, Int)] = [
        "DoubleStorage": (.float64, 8), "FloatStorage": (.float32, 4), "HalfStorage": (.float16, 2),
        "BFloat16Storage": (.bfloat16, 2), "LongStorage": (.int64, 8), "IntStorage": (.int32, 4),
        "ShortStorage": (.int16, 2), "CharStorage": (.int8, 1), "ByteStorage": (.uint8, 1), "BoolStorage": (.bool, 1),
        "ComplexFloatStorage": (nil, 8), "ComplexDoubleStorage": (nil, 16), "QInt8Storage": (nil, 1),
        "QUInt8Storage": (nil, 1), "QInt32Storage": (nil, 4), "QUInt4x2Storage": (nil, 1), "QUInt2x4Storage": (nil, 1),
    ]
}

/// The `torch.<name>` dtype objects; nil for dtypes that have no ``DType``.
let torchDTypes: [String: DType?] = [
    "float32": .float32, "float": .float32, "float16": .float16, "half": .float16, "bfloat16": .bfloat16,
    "float64": .float64, "double": .float64, "int64": .int64, "long": .int64, "int32": .int32, "int": .int32,
    "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool, "uint16": .uint16,
    "uint32": nil, "uint64": nil, "complex32": nil, "complex64": nil, "complex128": nil, "cfloat": nil,
    "cdouble": nil, "chalf": nil, "qint8": nil, "quint8": nil, "qint32": nil, "quint4x2": nil, "quint2x4": nil,
    "float8_e4m3fn": nil, "float8_e5m2": nil, "float8_e4m3fnuz": nil, "float8_e5m2fnuz": nil, "float8_e8m0fnu": nil,
    "float4_e2m1fn_x2": nil, "bits8": nil, "bits16": nil,
]

/// The only globals the unpickler accepts.
enum PickleGlobal: Equatable {
    case orderedDict
    /// `torch._utils._rebuild_tensor` (1, torch < 0.4), `_rebuild_tensor_v2` (2) or `_rebuild_tensor_v3` (3).
    case rebuildTensor(version: Int)
    /// `torch._utils._rebuild_parameter` / `_rebuild_parameter_with_state`: the tensor, unchanged.
    case rebuildParameter(withState: Bool)
    case storageType(TorchStorageType)
    /// `torch.float32` etc.; `dtype` is nil for those without a ``DType``.
    case dtype(name: String, dtype: DType?)

    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensor(let v): "torch._utils._rebuild_tensor" + (v == 1 ? "" : "_v\(v)")
        case .rebuildParameter(let s): "torch._utils._rebuild_parameter" + (s ? "_with_state" : "")
        case .storageType(let t): t.name
        case .dtype(let name, _): "torch.\(name)"
        }
    }

    /// The allowed global called `module.name`, or nil.
    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor(version: 1)
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensor(version: 2)
        case ("torch._utils", "_rebuild_tensor_v3"): return .rebuildTensor(version: 3)
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter(withState: false)
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameter(withState: true)
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"), ("torch", "ByteStorageBase"):
            return .storageType(TorchStorageType(name: "\(module).\(name)", dtype: .uint8, elementSize: 1, isUntyped: true))
        default: break
        }
        if module == "torch" || module == "torch.cuda" {
            if let (dtype, size) = TorchStorageType.typed[name] {
                return .storageType(TorchStorageType(name: "\(module).\(name)", dtype: dtype, elementSize: size, isUntyped: false))
            }
        }
        if module == "torch", let dtype = torchDTypes[name] {
            return .dtype(name: name, dtype: dtype)
        }
        return nil
    }
}

// MARK: - PyTorch objects

/// A storage a persistent id refers to: `byteCount` bytes from `byteOffset` of the record named `key`
/// (`data/KEY` in a zip checkpoint; the legacy format's storage section). Legacy views have a non-zero offset.
final class TorchStorage {
    let key: String
    let type: TorchStorageType
    let byteOffset: Int
    let byteCount: Int

    init(key: String, type: TorchStorageType, byteOffset: Int, byteCount: Int) {
        self.key = key
        self.type = type
        self.byteOffset = byteOffset
        self.byteCount = byteCount
    }
}

/// A tensor as `_rebuild_tensor*` describes it: a view of a storage. The bytes are gathered later, once the
/// storages have been read (the legacy format stores them after the pickle).
struct TorchTensorSpec {
    let storage: TorchStorage
    /// nil when the dtype has no ``DType``; `dtypeName` then says which it was.
    let dtype: DType?
    let dtypeName: String
    let elementSize: Int
    /// In elements of the tensor's dtype.
    let storageOffset: Int
    let size: [Int]
    let stride: [Int]
}

// MARK: - the unpickler

/// Runs one pickle from `start` to its `STOP`. `persistentLoad` turns a `BINPERSID` id into a value (for
/// PyTorch, a storage). After ``load()``, `position` is just past the `STOP`, where the legacy format's next
/// pickle begins.
struct RestrictedUnpickler {
    let bytes: UnsafeRawBufferPointer
    /// Name of the stream for error messages ("archive/data.pkl", "file").
    let stream: String
    private(set) var position: Int
    let arena: PickleArena
    var persistentLoad: (PickleValue) throws -> PickleValue

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Offset and name of the opcode being run, for errors.
    private var opcodeStart = 0
    private var opcodeName = ""

    init(
        bytes: UnsafeRawBufferPointer, start: Int = 0, stream: String, arena: PickleArena,
        persistentLoad: @escaping (PickleValue) throws -> PickleValue = { _ in
            throw PickleFailure.noPersistentLoad
        }
    ) {
        self.bytes = bytes
        self.position = start
        self.stream = stream
        self.arena = arena
        self.persistentLoad = persistentLoad
    }

    /// Thrown by the default `persistentLoad`; reported as a malformed pickle.
    enum PickleFailure: Error { case noPersistentLoad }

    // MARK: errors

    private func malformed(_ detail: String) -> CheckpointError {
        .pickleMalformed(stream: stream, offset: opcodeStart, opcode: opcodeName, detail: detail)
    }

    // MARK: reading the stream

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        let available = bytes.count - position
        guard n >= 0, n <= available else {
            throw CheckpointError.pickleTruncated(
                stream: stream, offset: opcodeStart, opcode: opcodeName, needed: n, available: available)
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    private mutating func u8() throws -> Int { Int(try take(1)[0]) }

    private mutating func littleEndian(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }

    /// A length field of `n` bytes, checked against what remains so nothing huge is allocated.
    private mutating func length(_ n: Int, signed: Bool = false) throws -> Int {
        let raw = try littleEndian(n)
        if signed && n == 4 && Int32(bitPattern: UInt32(raw)) < 0 {
            throw malformed("negative length \(Int32(bitPattern: UInt32(raw)))")
        }
        let available = bytes.count - position
        guard raw <= UInt64(available) else {
            throw CheckpointError.pickleTruncated(
                stream: stream, offset: opcodeStart, opcode: opcodeName,
                needed: raw > UInt64(Int.max) ? Int.max : Int(raw), available: available)
        }
        return Int(raw)
    }

    /// A protocol-0 text argument: the bytes up to the next newline (which is consumed).
    private mutating func line() throws -> [UInt8] {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else {
            throw CheckpointError.pickleTruncated(
                stream: stream, offset: opcodeStart, opcode: opcodeName, needed: bytes.count - position + 1,
                available: bytes.count - position)
        }
        defer { position = end + 1 }
        return Array(bytes[position..<end])
    }

    private mutating func lineString() throws -> String {
        let raw = try line()
        guard let s = String(validating: raw, as: UTF8.self) else { throw malformed("text argument is not UTF-8") }
        return s
    }

    private func utf8(_ raw: UnsafeRawBufferPointer) throws -> String {
        guard let s = String(validating: raw, as: UTF8.self) else { throw malformed("string is not valid UTF-8") }
        return s
    }

    // MARK: stack

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw malformed("the stack is empty") }
        if let mark = marks.last, stack.count < mark { throw malformed("pops below a mark") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw malformed("the stack is empty") }
        if let mark = marks.last, stack.count <= mark { throw malformed("the stack is empty above the mark") }
        return v
    }

    /// Pops everything above the topmost mark, and the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("there is no MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    // MARK: running

    /// Runs opcodes until `STOP` and returns the object it built.
    mutating func load() throws -> PickleValue {
        while true {
            opcodeStart = position
            opcodeName = "opcode"
            guard position < bytes.count else {
                throw CheckpointError.pickleTruncated(
                    stream: stream, offset: position, opcode: "the next opcode (no STOP)", needed: 1, available: 0)
            }
            let op = bytes[position]
            position += 1
            if op == 0x2E {  // STOP
                opcodeName = "STOP"
                guard let result = stack.popLast() else { throw malformed("the stack is empty") }
                return result
            }
            try run(op)
        }
    }

    private mutating func run(_ op: UInt8) throws {
        switch op {
        // framing and protocol
        case 0x80:
            opcodeName = "PROTO"
            let version = try u8()
            guard version <= 5 else { throw malformed("protocol \(version) is newer than 5") }
        case 0x95:
            opcodeName = "FRAME"
            _ = try littleEndian(8)  // frames are advisory; the opcodes inside are read as they come

        // marks and stack manipulation
        case 0x28: opcodeName = "MARK"; marks.append(stack.count)
        case 0x30:
            opcodeName = "POP"
            if let mark = marks.last, stack.count == mark { marks.removeLast() } else { _ = try pop() }
        case 0x31: opcodeName = "POP_MARK"; _ = try popMark()
        case 0x32: opcodeName = "DUP"; push(try top())

        // constants and numbers
        case 0x4E: opcodeName = "NONE"; push(.none)
        case 0x88: opcodeName = "NEWTRUE"; push(.bool(true))
        case 0x89: opcodeName = "NEWFALSE"; push(.bool(false))
        case 0x4A:
            opcodeName = "BININT"
            push(.int(Int(Int32(bitPattern: UInt32(try littleEndian(4))))))
        case 0x4B: opcodeName = "BININT1"; push(.int(try u8()))
        case 0x4D: opcodeName = "BININT2"; push(.int(Int(try littleEndian(2))))
        case 0x8A:
            opcodeName = "LONG1"
            let n = try u8()
            push(Self.long(Array(try take(n))))
        case 0x8B:
            opcodeName = "LONG4"
            let n = try length(4, signed: true)
            push(Self.long(Array(try take(n))))
        case 0x49:
            opcodeName = "INT"
            let text = try lineString()
            if text == "01" { push(.bool(true)) } else if text == "00" { push(.bool(false)) } else {
                guard let v = Int(text) else { throw malformed("'\(text.prefix(40))' is not an integer") }
                push(.int(v))
            }
        case 0x4C:
            opcodeName = "LONG"
            var text = try lineString()
            if text.hasSuffix("L") { text.removeLast() }
            guard let v = Int(text) else { throw malformed("'\(text.prefix(40))' is not an integer that fits 64 bits") }
            push(.int(v))
        case 0x47:
            opcodeName = "BINFLOAT"
            let raw = try take(8)
            var bits: UInt64 = 0
            for b in raw { bits = bits << 8 | UInt64(b) }  // big-endian
            push(.float(Double(bitPattern: bits)))
        case 0x46:
            opcodeName = "FLOAT"
            let text = try lineString()
            guard let v = Double(text) else { throw malformed("'\(text.prefix(40))' is not a float") }
            push(.float(v))

        // strings and bytes
        case 0x58: opcodeName = "BINUNICODE"; push(.string(try utf8(take(length(4)))))
        case 0x8C: opcodeName = "SHORT_BINUNICODE"; push(.string(try utf8(take(u8()))))
        case 0x8D: opcodeName = "BINUNICODE8"; push(.string(try utf8(take(length(8)))))
        case 0x56:
            opcodeName = "UNICODE"
            guard let text = Self.rawUnicodeEscape(try line()) else { throw malformed("invalid \\u escape") }
            push(.string(text))
        case 0x54: opcodeName = "BINSTRING"; push(Self.py2String(try take(length(4, signed: true))))
        case 0x55: opcodeName = "SHORT_BINSTRING"; push(Self.py2String(try take(u8())))
        case 0x53:
            opcodeName = "STRING"
            guard let raw = Self.quotedString(try line()) else { throw malformed("not a quoted string literal") }
            push(raw.withUnsafeBytes { Self.py2String($0) })
        case 0x42: opcodeName = "BINBYTES"; push(.bytes(Array(try take(length(4)))))
        case 0x43: opcodeName = "SHORT_BINBYTES"; push(.bytes(Array(try take(u8()))))
        case 0x8E: opcodeName = "BINBYTES8"; push(.bytes(Array(try take(length(8)))))
        case 0x96: opcodeName = "BYTEARRAY8"; push(.bytes(Array(try take(length(8)))))

        // containers
        case 0x7D: opcodeName = "EMPTY_DICT"; push(.dict(arena.dict()))
        case 0x5D: opcodeName = "EMPTY_LIST"; push(.list(arena.sequence()))
        case 0x29: opcodeName = "EMPTY_TUPLE"; push(.tuple(arena.sequence()))
        case 0x8F: opcodeName = "EMPTY_SET"; push(.set(arena.sequence()))
        case 0x85: opcodeName = "TUPLE1"; let a = try pop(); push(.tuple(arena.sequence([a])))
        case 0x86:
            opcodeName = "TUPLE2"
            let b = try pop(), a = try pop()
            push(.tuple(arena.sequence([a, b])))
        case 0x87:
            opcodeName = "TUPLE3"
            let c = try pop(), b = try pop(), a = try pop()
            push(.tuple(arena.sequence([a, b, c])))
        case 0x74: opcodeName = "TUPLE"; push(.tuple(arena.sequence(try popMark())))
        case 0x6C: opcodeName = "LIST"; push(.list(arena.sequence(try popMark())))
        case 0x91: opcodeName = "FROZENSET"; push(.set(arena.sequence(try popMark())))
        case 0x64:
            opcodeName = "DICT"
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("odd number of items (\(items.count)) for a dict") }
            let d = arena.dict()
            for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            push(.dict(d))
        case 0x61:
            opcodeName = "APPEND"
            let v = try pop()
            guard case .list(let list) = try top() else { throw malformed("APPEND to \(try top().typeName)") }
            list.items.append(v)
        case 0x65:
            opcodeName = "APPENDS"
            let items = try popMark()
            guard case .list(let list) = try top() else { throw malformed("APPENDS to \(try top().typeName)") }
            list.items += items
        case 0x90:
            opcodeName = "ADDITEMS"
            let items = try popMark()
            guard case .set(let set) = try top() else { throw malformed("ADDITEMS to \(try top().typeName)") }
            set.items += items
        case 0x73:
            opcodeName = "SETITEM"
            let v = try pop(), k = try pop()
            guard case .dict(let d) = try top() else { throw malformed("SETITEM on \(try top().typeName)") }
            d.set(k, v)
        case 0x75:
            opcodeName = "SETITEMS"
            let items = try popMark()
            guard items.count % 2 == 0 else { throw malformed("odd number of items (\(items.count)) for SETITEMS") }
            guard case .dict(let d) = try top() else { throw malformed("SETITEMS on \(try top().typeName)") }
            for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }

        // memo
        case 0x71: opcodeName = "BINPUT"; memo[try u8()] = try top()
        case 0x72: opcodeName = "LONG_BINPUT"; memo[Int(try littleEndian(4))] = try top()
        case 0x70:
            opcodeName = "PUT"
            let text = try lineString()
            guard let i = Int(text), i >= 0 else { throw malformed("'\(text.prefix(40))' is not a memo index") }
            memo[i] = try top()
        case 0x94: opcodeName = "MEMOIZE"; memo[memo.count] = try top()
        case 0x68: opcodeName = "BINGET"; try get(try u8())
        case 0x6A: opcodeName = "LONG_BINGET"; try get(Int(try littleEndian(4)))
        case 0x67:
            opcodeName = "GET"
            let text = try lineString()
            guard let i = Int(text) else { throw malformed("'\(text.prefix(40))' is not a memo index") }
            try get(i)

        // globals and calls: the restricted part
        case 0x63:
            opcodeName = "GLOBAL"
            let module = try lineString(), name = try lineString()
            push(.global(try resolve(module: module, name: name)))
        case 0x93:
            opcodeName = "STACK_GLOBAL"
            let name = try pop(), module = try pop()
            guard case .string(let n) = name, case .string(let m) = module else {
                throw malformed("module and name must be strings, not \(module.typeName) and \(name.typeName)")
            }
            push(.global(try resolve(module: m, name: n)))
        case 0x52:
            opcodeName = "REDUCE"
            let args = try pop(), callable = try pop()
            push(try call(callable, args))
        case 0x81:
            opcodeName = "NEWOBJ"
            let args = try pop(), cls = try pop()
            push(try call(cls, args))
        case 0x92:
            opcodeName = "NEWOBJ_EX"
            let kwargs = try pop(), args = try pop(), cls = try pop()
            if case .dict(let d) = kwargs, d.count == 0 {} else { throw malformed("keyword arguments are not supported") }
            push(try call(cls, args))
        case 0x69:
            opcodeName = "INST"
            let module = try lineString(), name = try lineString()
            let cls = PickleValue.global(try resolve(module: module, name: name))
            push(try call(cls, .tuple(arena.sequence(try popMark()))))
        case 0x6F:
            opcodeName = "OBJ"
            let items = try popMark()
            guard let cls = items.first else { throw malformed("no class after the mark") }
            push(try call(cls, .tuple(arena.sequence(Array(items.dropFirst())))))
        case 0x62:
            opcodeName = "BUILD"
            // Python would set attributes from the state (OrderedDict's `_metadata`, a Parameter's hooks);
            // none of them matter for the tensors, so the state is dropped.
            _ = try pop()
            _ = try top()
        case 0x51:
            opcodeName = "BINPERSID"
            let id = try pop()
            push(try loadPersistent(id))
        case 0x50:
            opcodeName = "PERSID"
            push(try loadPersistent(.string(try lineString())))

        case 0x82, 0x83, 0x84:
            opcodeName = ["EXT1", "EXT2", "EXT4"][Int(op - 0x82)]
            throw CheckpointError.pickleUnsupportedOpcode(
                stream: stream, offset: opcodeStart, opcode: opcodeName, reason: "the copyreg extension registry")
        case 0x97, 0x98:
            opcodeName = op == 0x97 ? "NEXT_BUFFER" : "READONLY_BUFFER"
            throw CheckpointError.pickleUnsupportedOpcode(
                stream: stream, offset: opcodeStart, opcode: opcodeName, reason: "out-of-band buffers")
        default:
            throw CheckpointError.pickleUnknownOpcode(stream: stream, offset: opcodeStart, opcode: op)
        }
    }

    private mutating func get(_ index: Int) throws {
        guard let v = memo[index] else { throw malformed("memo has no entry \(index)") }
        push(v)
    }

    private func resolve(module: String, name: String) throws -> PickleGlobal {
        guard let global = PickleGlobal.resolve(module: module, name: name) else {
            throw CheckpointError.forbiddenGlobal(stream: stream, offset: opcodeStart, module: module, name: name)
        }
        return global
    }

    private func loadPersistent(_ id: PickleValue) throws -> PickleValue {
        do {
            return try persistentLoad(id)
        } catch is PickleFailure {
            throw malformed("a persistent id where none is expected")
        } catch let error as PersistentIDError {
            throw malformed(error.detail)
        }
    }

    /// What a `persistentLoad` closure throws for an id it cannot use; reported at the opcode.
    struct PersistentIDError: Error { let detail: String }

    // MARK: the allowed calls

    private func call(_ callable: PickleValue, _ argsValue: PickleValue) throws -> PickleValue {
        guard case .global(let global) = callable else { throw malformed("calls \(callable.typeName)") }
        guard case .tuple(let argsTuple) = argsValue else {
            throw malformed("arguments of \(global.qualifiedName) are \(argsValue.typeName), not a tuple")
        }
        let args = argsTuple.items
        switch global {
        case .orderedDict:
            let d = arena.dict()
            if args.isEmpty { return .dict(d) }
            guard args.count == 1 else { throw malformed("OrderedDict takes at most one argument, not \(args.count)") }
            switch args[0] {
            case .dict(let source):
                for (k, v) in zip(source.keys, source.values) { d.set(k, v) }
            case .list(let pairs), .tuple(let pairs):
                for pair in pairs.items {
                    guard let kv = pair.sequenceItems, kv.count == 2 else {
                        throw malformed("OrderedDict item is \(pair.typeName), not a key-value pair")
                    }
                    d.set(kv[0], kv[1])
                }
            default:
                throw malformed("OrderedDict of \(args[0].typeName)")
            }
            return .dict(d)
        case .rebuildParameter:
            guard let first = args.first, case .tensor = first else {
                throw malformed("\(global.qualifiedName) expects a tensor, found \(args.first?.typeName ?? "no arguments")")
            }
            return first
        case .rebuildTensor(let version):
            return .tensor(try rebuildTensor(version: version, args))
        case .storageType, .dtype:
            throw malformed("\(global.qualifiedName) is not callable here")
        }
    }

    /// `_rebuild_tensor(storage, storage_offset, size, stride)`; v2 adds `requires_grad, backward_hooks[, metadata]`;
    /// v3 adds `dtype` after the hooks. Only the storage view matters here.
    private func rebuildTensor(version: Int, _ args: [PickleValue]) throws -> TorchTensorSpec {
        let needed = version == 3 ? 7 : 4
        let name = PickleGlobal.rebuildTensor(version: version).qualifiedName
        guard args.count >= needed else { throw malformed("\(name) needs \(needed) arguments, found \(args.count)") }
        guard case .storage(let storage) = args[0] else { throw malformed("\(name): storage is \(args[0].typeName)") }
        guard let offset = args[1].asInt else { throw malformed("\(name): storage offset is \(args[1].typeName)") }
        func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
            guard let items = v.sequenceItems else { throw malformed("\(name): \(what) is \(v.typeName)") }
            return try items.map {
                guard let i = $0.asInt else { throw malformed("\(name): \(what) holds \($0.typeName)") }
                return i
            }
        }
        let size = try ints(args[2], "size")
        let stride = try ints(args[3], "stride")
        var dtype = storage.type.dtype
        var dtypeName = storage.type.name
        var elementSize = storage.type.elementSize
        if version == 3 {
            guard case .global(.dtype(let n, let d)) = args[6] else { throw malformed("\(name): dtype is \(args[6].typeName)") }
            dtype = d
            dtypeName = "torch.\(n)"
            elementSize = d?.byteSize ?? 1
        } else if storage.type.isUntyped {
            throw malformed("\(name) on an untyped storage needs a dtype (only _rebuild_tensor_v3 has one)")
        }
        return TorchTensorSpec(
            storage: storage, dtype: dtype, dtypeName: dtypeName, elementSize: elementSize,
            storageOffset: offset, size: size, stride: stride)
    }

    // MARK: literal decoding

    /// LONG1/LONG4 payload: little-endian two's complement; empty means 0.
    static func long(_ raw: [UInt8]) -> PickleValue {
        if raw.isEmpty { return .int(0) }
        if raw.count <= 8 {
            var v: UInt64 = 0
            for b in raw.reversed() { v = v << 8 | UInt64(b) }
            let shift = UInt64(64 - 8 * raw.count)
            // Sign-extend from the top byte.
            return .int(Int(Int64(bitPattern: v << shift) >> Int64(shift)))
        }
        // Longer encodings may still fit after dropping redundant sign bytes.
        let fill: UInt8 = raw.last! & 0x80 == 0 ? 0 : 0xFF
        var trimmed = raw
        while trimmed.count > 8, trimmed.last == fill, (trimmed[trimmed.count - 2] & 0x80 == 0) == (fill == 0) {
            trimmed.removeLast()
        }
        if trimmed.count <= 8 { return long(trimmed) }
        return .bigInt(raw)
    }

    /// A Python 2 `str`: text if it is UTF-8 (as `torch.load`'s `encoding='utf-8'` would give), else bytes.
    static func py2String(_ raw: UnsafeRawBufferPointer) -> PickleValue {
        if let s = String(validating: raw, as: UTF8.self) { return .string(s) }
        return .bytes(Array(raw))
    }

    /// The body of a protocol-0 `STRING` argument: a Python repr in single or double quotes.
    static func quotedString(_ raw: [UInt8]) -> [UInt8]? {
        guard raw.count >= 2, let q = raw.first, q == 0x27 || q == 0x22, raw.last == q else { return nil }
        var out: [UInt8] = []
        var i = 1
        let end = raw.count - 1
        while i < end {
            let c = raw[i]
            i += 1
            guard c == 0x5C else { out.append(c); continue }
            guard i < end else { return nil }
            let e = raw[i]
            i += 1
            switch e {
            case 0x6E: out.append(0x0A)
            case 0x74: out.append(0x09)
            case 0x72: out.append(0x0D)
            case 0x30: out.append(0)
            case 0x78:
                guard i + 2 <= end, let v = UInt8(String(decoding: raw[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                i += 2
            default: out.append(e)
            }
        }
        return out
    }

    /// Python's raw-unicode-escape: `\uXXXX` and `\UXXXXXXXX` escapes in Latin-1 text.
    static func rawUnicodeEscape(_ raw: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < raw.count {
            let c = raw[i]
            if c == 0x5C, i + 1 < raw.count, raw[i + 1] == 0x75 || raw[i + 1] == 0x55 {
                let n = raw[i + 1] == 0x75 ? 4 : 8
                guard i + 2 + n <= raw.count,
                    let v = UInt32(String(decoding: raw[(i + 2)..<(i + 2 + n)], as: UTF8.self), radix: 16),
                    let s = Unicode.Scalar(v)
                else { return nil }
                scalars.append(s)
                i += 2 + n
            } else {
                scalars.append(Unicode.Scalar(c))
                i += 1
            }
        }
        return String(scalars)
    }
}
