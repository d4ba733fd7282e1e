import Foundation

/// Reads PyTorch state-dict files written by `torch.save` (`.pth`, `.pt`, `.bin`) without Python and without
/// executing anything in them.
///
/// Both formats are supported:
/// - **zip** (torch ≥ 1.6, the default): `PREFIX/data.pkl` holds the pickled object, `PREFIX/data/KEY` each
///   storage's raw bytes, `PREFIX/byteorder` says `little` or `big` (absent: little). `PREFIX` is whatever name the
///   writer chose (`archive`, or the file's stem).
/// - **legacy** (`_use_new_zipfile_serialization=False`, and early torchvision weights): five pickles in a row
///   — the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a sys-info dict (byte order), the
///   object, the list of storage keys — then each storage as an 8-byte element count and its bytes.
///
/// The pickle is read by a restricted unpickler (see `Pickle.swift`) that accepts only tensors, storages,
/// dtypes, `collections.OrderedDict` and plain containers; any other global (`os.system`, `builtins.eval`, a
/// model class from `torch.save(model)`) is a ``CheckpointError/forbiddenGlobal(stream:offset:module:name:)``
/// and is never executed. Tensors are rebuilt from storage, offset, size and stride — views, shared storages
/// and non-contiguous (e.g. transposed) tensors come out as C-ordered ``TypedArray``s of the same dtype
/// (float32/16/64, bfloat16, int64/32/16/8, uint8/16, bool).
///
/// The file's top-level object must be a dict: either the state dict itself, or a training checkpoint that
/// wraps one under `"state_dict"` or `"model"` (see ``StateDictSelection``; ``Contents/location`` says which
/// was used).
/// ```swift
/// let entries = try TorchCheckpoint.read(contentsOf: url)     // [(key, TypedArray)] in the file's order
/// try model.loadStateDict(entries)
/// ```
public enum TorchCheckpoint {
    public enum Format: String, Sendable {
        /// torch ≥ 1.6 zip archive.
        case zip
        /// The pre-1.6 (non-zip) format.
        case legacy
    }

    /// Where in the file the state dict was found.
    public enum StateDictLocation: Sendable, Equatable, CustomStringConvertible {
        /// The top-level dict is the state dict.
        case topLevel
        /// The state dict is the value of this key of the top-level dict.
        case nested(key: String)

        public var description: String {
            switch self {
            case .topLevel: "the top-level dict"
            case .nested(let key): "the top-level dict's '\(key)'"
            }
        }
    }

    /// Which dict of the file to return.
    public enum StateDictSelection: Sendable, Equatable {
        /// The value of `"state_dict"` if the top-level dict has that key holding a dict, else that of `"model"`
        /// likewise (see ``wrapperKeys``), else the top-level dict itself.
        case automatic
        /// The top-level dict, whatever keys it has.
        case topLevel
        /// The dict under this top-level key (e.g. `"state_dict_ema"`).
        case key(String)
    }

    /// The keys ``StateDictSelection/automatic`` looks under, in order.
    public static let wrapperKeys = ["state_dict", "model"]

    /// A decoded checkpoint.
    public struct Contents: Sendable {
        /// The tensors, in the state dict's order.
        public var entries: [(key: String, array: TypedArray)]
        public var format: Format
        public var location: StateDictLocation
    }

    /// The rebuilt tensors may hold at most 4 × the file's size plus this many bytes in all, so that a damaged
    /// or hostile file (one storage viewed by thousands of entries, or stride-0 views with huge sizes) cannot
    /// make the reader allocate without bound. Real checkpoints hold each tensor's bytes once; entries that are
    /// the very same view (tied weights) share one buffer and count once.
    public static let outputAllowance = 1 << 28

    /// The state dict's tensors, in the file's order. Shorthand for ``load(contentsOf:stateDict:)``'s entries.
    /// - Throws: ``FileError`` naming the file, around a ``CheckpointError`` (or a ``SystemError``).
    public static func read(
        contentsOf url: URL, stateDict selection: StateDictSelection = .automatic
    ) throws -> [(key: String, array: TypedArray)] {
        try load(contentsOf: url, stateDict: selection).entries
    }

    /// Reads the checkpoint at `url`: the zip format through a memory-mapped ``ZipArchive``, the legacy format
    /// through a memory map of the file. Every tensor's bytes are copied once, into its array.
    /// - Throws: ``FileError`` naming the file, around a ``CheckpointError`` (or a ``SystemError``).
    public static func load(contentsOf url: URL, stateDict selection: StateDictSelection = .automatic) throws -> Contents {
        try FileError.wrapping(path: url.path) {
            let legacy = try mapped(url) { bytes -> Contents? in
                if isZip(bytes) { return nil }
                return try decodeLegacy(bytes, selection)
            }
            if let legacy { return legacy }
            let archive: ZipArchive
            do { archive = try ZipArchive(contentsOf: url) } catch let error as ArchiveError {
                throw CheckpointError.archive(error)
            }
            return try decodeZip(archive, selection)
        }
    }

    /// Decodes a checkpoint held in memory.
    /// - Throws: ``CheckpointError``.
    public static func decode(_ bytes: [UInt8], stateDict selection: StateDictSelection = .automatic) throws -> Contents {
        let isZipFile = bytes.withUnsafeBytes { isZip($0) }
        if isZipFile {
            let archive: ZipArchive
            do { archive = try ZipArchive(bytes: bytes) } catch let error as ArchiveError {
                throw CheckpointError.archive(error)
            }
            return try decodeZip(archive, selection)
        }
        return try bytes.withUnsafeBytes { try decodeLegacy($0, selection) }
    }

    // MARK: - formats

    /// The legacy format's magic number, 0x1950a86a20f9469cfc6c, as LONG1 stores it (little-endian).
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let legacyProtocolVersion = 1001

    static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (3, 4)
            || bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2], bytes[3]) == (5, 6)
    }

    /// A pickle stream starts with PROTO (0x80) and a protocol 2...5; the legacy format's first pickle is
    /// the magic number.
    static func looksLikeLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x80 && (2...5).contains(bytes[1])
    }

    /// The zip format: `PREFIX/data.pkl` + `PREFIX/data/KEY`.
    static func decodeZip(_ archive: ZipArchive, _ selection: StateDictSelection) throws -> Contents {
        // Nothing here is written to disk by member name, but a checkpoint with an absolute member name or one
        // that climbs out with `..` was crafted (torch.save writes `PREFIX/...` only), and `../data.pkl` used to
        // be taken for the pickle of a folder called `..`. Refuse the whole file, naming the member.
        if let unsafe = archive.entries.first(where: { isUnsafeMemberName($0.name) }) {
            throw CheckpointError.invalidRecord(
                name: unsafe.name,
                detail: "has an unsafe name (absolute, or climbing out of the archive with '..'); torch.save never "
                    + "writes one, so the file was crafted or damaged and is rejected")
        }
        // torch writes one top-level folder; its name varies. Take the first data.pkl one folder deep (or at
        // the root, which torch never writes but costs nothing to accept).
        let pickleEntry = archive.entries.first { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
        } ?? archive.entry(named: "data.pkl")
        guard let pickleEntry else { throw CheckpointError.missingRecord(name: "PREFIX/data.pkl") }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))

        let bigEndian = try byteOrderIsBig(archive, name: prefix + "byteorder")
        let pickle = try extract(archive, pickleEntry)

        let storages = StorageTable()
        // The arena must outlive the walk over the containers: its deinit empties them.
        let arena = PickleArena()
        let (tensors, location) = try withExtendedLifetime(arena) {
            let root = try pickle.withUnsafeBytes { bytes -> PickleValue in
                var unpickler = RestrictedUnpickler(
                    bytes: bytes, stream: pickleEntry.name, arena: arena,
                    persistentLoad: { try storages.zipStorage($0) })
                return try unpickler.load()
            }
            return try selectStateDict(root, selection)
        }

        var records: [String: [UInt8]] = [:]
        var entries: [(key: String, array: TypedArray)] = []
        entries.reserveCapacity(tensors.count)
        var assembler = TensorAssembler(fileSize: archive.fileSize)
        for (key, spec) in tensors {
            if let shared = assembler.existing(spec) {
                entries.append((key, shared))
                continue
            }
            let storage = spec.storage
            let record: [UInt8]
            if let cached = records[storage.key] {
                record = cached
            } else {
                let name = prefix + "data/" + storage.key
                guard let entry = archive.entry(named: name) else { throw CheckpointError.missingRecord(name: name) }
                guard entry.uncompressedSize >= storage.byteCount else {
                    throw CheckpointError.storageSize(key: storage.key, expected: storage.byteCount, actual: entry.uncompressedSize)
                }
                record = try extract(archive, entry)
                records[storage.key] = record
            }
            try assembler.charge(spec, key: key)
            entries.append((key, assembler.remember(spec, try materialize(spec, key: key, record: record, bigEndian: bigEndian))))
        }
        return Contents(entries: entries, format: .zip, location: location)
    }

    /// A zip member name that is absolute (`/x`, `\x`, `C:x`) or has a `..` component (either separator).
    static func isUnsafeMemberName(_ name: String) -> Bool {
        if name.hasPrefix("/") || name.hasPrefix("\\") { return true }
        let scalars = Array(name.unicodeScalars.prefix(2))
        if scalars.count == 2, scalars[1] == ":", scalars[0].properties.isAlphabetic { return true }
        return name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).contains("..")
    }

    private static func extract(_ archive: ZipArchive, _ entry: ZipEntry) throws -> [UInt8] {
        do { return try archive.extract(entry) } catch let error as ArchiveError { throw CheckpointError.archive(error) }
    }

    private static func byteOrderIsBig(_ archive: ZipArchive, name: String) throws -> Bool {
        guard let entry = archive.entry(named: name) else { return false }  // written since torch 1.10; before: little
        guard entry.uncompressedSize <= 64 else {
            throw CheckpointError.invalidRecord(name: name, detail: "is \(entry.uncompressedSize) bytes, not 'little' or 'big'")
        }
        let text = String(decoding: try extract(archive, entry), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch text {
        case "little": return false
        case "big": return true
        default: throw CheckpointError.invalidRecord(name: name, detail: "says '\(text)', not 'little' or 'big'")
        }
    }

    /// The legacy format: magic, protocol version, sys info, object, storage keys, then the storages.
    static func decodeLegacy(_ bytes: UnsafeRawBufferPointer, _ selection: StateDictSelection) throws -> Contents {
        if bytes.count >= 262, Array(bytes[257..<262]) == Array("ustar".utf8) { throw CheckpointError.legacyTarFormat }
        guard looksLikeLegacy(bytes) else {
            throw CheckpointError.unrecognizedFormat(firstBytes: hexPrefix(bytes))
        }
        // The arena must outlive the walk over the containers: its deinit empties them.
        let arena = PickleArena()
        return try withExtendedLifetime(arena) { try decodeLegacy(bytes, selection, arena) }
    }

    private static func decodeLegacy(
        _ bytes: UnsafeRawBufferPointer, _ selection: StateDictSelection, _ arena: PickleArena
    ) throws -> Contents {
        let stream = "file"
        var position = 0
        func next(_ persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) throws -> PickleValue {
            var unpickler = RestrictedUnpickler(bytes: bytes, start: position, stream: stream, arena: arena)
            if let persistentLoad { unpickler.persistentLoad = persistentLoad }
            let value = try unpickler.load()
            position = unpickler.position
            return value
        }

        let magic = try next()
        guard case .bigInt(let digits) = magic, digits == legacyMagic else {
            throw CheckpointError.legacyHeader(what: "magic number", detail: "is \(describe(magic)), not 0x1950a86a20f9469cfc6c")
        }
        let version = try next()
        guard version.asInt == legacyProtocolVersion else {
            throw CheckpointError.legacyHeader(what: "protocol version", detail: "is \(describe(version)), not 1001")
        }
        let sysInfo = try next()
        guard case .dict(let info) = sysInfo else {
            throw CheckpointError.legacyHeader(what: "sys info", detail: "is \(sysInfo.typeName), not a dict")
        }
        var bigEndian = false
        if let little = info["little_endian"] {
            guard case .bool(let isLittle) = little else {
                throw CheckpointError.legacyHeader(what: "sys info", detail: "has little_endian = \(little.typeName)")
            }
            bigEndian = !isLittle
        }

        let storages = StorageTable()
        let root = try next { try storages.legacyStorage($0) }
        let keysValue = try next()
        guard let keyItems = keysValue.sequenceItems else {
            throw CheckpointError.legacyHeader(what: "storage key list", detail: "is \(keysValue.typeName), not a list")
        }

        // The storages follow the key list: an 8-byte element count, then the elements.
        var ranges: [String: Range<Int>] = [:]
        for item in keyItems {
            guard let key = item.asString ?? item.asInt.map(String.init) else {
                throw CheckpointError.legacyHeader(what: "storage key list", detail: "holds \(item.typeName)")
            }
            guard let storage = storages.roots[key] else { throw CheckpointError.storageMissing(key: key) }
            guard bytes.count - position >= 8 else {
                throw CheckpointError.storageSize(key: key, expected: storage.byteCount, actual: max(0, bytes.count - position - 8))
            }
            var raw: UInt64 = 0
            for i in 0..<8 {
                let b = UInt64(bytes[position + (bigEndian ? i : 7 - i)])
                raw = raw << 8 | b
            }
            position += 8
            let count = Int64(bitPattern: raw)
            let (fileBytes, overflow) = Int(truncatingIfNeeded: count).multipliedReportingOverflow(by: storage.type.elementSize)
            guard count >= 0, !overflow, fileBytes == storage.byteCount else {
                throw CheckpointError.storageSize(
                    key: key, expected: storage.byteCount, actual: overflow || count < 0 ? -1 : fileBytes)
            }
            guard bytes.count - position >= fileBytes else {
                throw CheckpointError.storageSize(key: key, expected: fileBytes, actual: bytes.count - position)
            }
            ranges[key] = position..<(position + fileBytes)
            position += fileBytes
        }

        let (tensors, location) = try selectStateDict(root, selection)
        var entries: [(key: String, array: TypedArray)] = []
        entries.reserveCapacity(tensors.count)
        var assembler = TensorAssembler(fileSize: bytes.count)
        for (key, spec) in tensors {
            if let shared = assembler.existing(spec) {
                entries.append((key, shared))
                continue
            }
            guard let range = ranges[spec.storage.key] else { throw CheckpointError.storageMissing(key: spec.storage.key) }
            let record = UnsafeRawBufferPointer(rebasing: bytes[range])
            try assembler.charge(spec, key: key)
            entries.append((key, assembler.remember(spec, try materialize(spec, key: key, root: record, bigEndian: bigEndian))))
        }
        return Contents(entries: entries, format: .legacy, location: location)
    }

    // MARK: - state dict

    static func selectStateDict(
        _ root: PickleValue, _ selection: StateDictSelection
    ) throws -> ([(String, TorchTensorSpec)], StateDictLocation) {
        guard case .dict(let top) = root else {
            throw CheckpointError.notAStateDict(detail: "the file holds \(root.typeName), not a dict")
        }
        func nested(_ key: String) throws -> PickleDict {
            guard let value = top[key] else {
                throw CheckpointError.notAStateDict(detail: "the top-level dict has no key '\(key)' (\(keyList(top)))")
            }
            guard case .dict(let d) = value else {
                throw CheckpointError.notAStateDict(detail: "'\(key)' holds \(value.typeName), not a dict")
            }
            return d
        }
        switch selection {
        case .topLevel:
            return (try tensors(of: top, topLevel: true), .topLevel)
        case .key(let key):
            return (try tensors(of: nested(key), topLevel: false), .nested(key: key))
        case .automatic:
            for key in wrapperKeys {
                if case .dict(let d)? = top[key] { return (try tensors(of: d, topLevel: false), .nested(key: key)) }
            }
            return (try tensors(of: top, topLevel: true), .topLevel)
        }
    }

    private static func tensors(of dict: PickleDict, topLevel: Bool) throws -> [(String, TorchTensorSpec)] {
        var result: [(String, TorchTensorSpec)] = []
        result.reserveCapacity(dict.count)
        for (i, (k, v)) in zip(dict.keys, dict.values).enumerated() {
            guard case .string(let key) = k else {
                throw CheckpointError.notAStateDict(detail: "key \(i) is \(k.typeName), not a str")
            }
            guard case .tensor(let spec) = v else {
                if topLevel {
                    throw CheckpointError.notAStateDict(
                        detail: "'\(key)' holds \(v.typeName), not a tensor, and no '\(wrapperKeys.joined(separator: "' or '"))' "
                            + "key holds a dict (\(keyList(dict))); choose one with StateDictSelection.key")
                }
                throw CheckpointError.notATensor(key: key, found: v.typeName)
            }
            result.append((key, spec))
        }
        return result
    }

    private static func keyList(_ dict: PickleDict) -> String {
        let names = dict.keys.prefix(20).map { $0.asString.map { "'\($0)'" } ?? $0.typeName }
        let more = dict.count > 20 ? ", ..." : ""
        return names.isEmpty ? "it is empty" : "its keys: " + names.joined(separator: ", ") + more
    }

    // MARK: - tensors

    /// Gathers `spec`'s elements from the storage record. When the tensor is the whole record, contiguous and in
    /// the host's byte order, the record's array is reused without copying.
    static func materialize(_ spec: TorchTensorSpec, key: String, record: [UInt8], bigEndian: Bool) throws -> TypedArray {
        if !bigEndian, spec.storage.byteOffset == 0, let dtype = spec.dtype, spec.storageOffset == 0,
            isContiguous(spec.size, spec.stride), let n = TypedArray.elementCount(spec.size),
            case let (bytes, overflow) = n.multipliedReportingOverflow(by: spec.elementSize),
            !overflow, bytes == record.count, spec.storage.byteCount == record.count
        {
            return TypedArray(unchecked: dtype, shape: spec.size, bytes: record)
        }
        return try record.withUnsafeBytes { try materialize(spec, key: key, root: $0, bigEndian: bigEndian) }
    }

    /// Gathers `spec`'s elements, C-ordered, from `root` (the bytes of the storage record `spec.storage.key`).
    static func materialize(_ spec: TorchTensorSpec, key: String, root: UnsafeRawBufferPointer, bigEndian: Bool) throws -> TypedArray {
        guard let dtype = spec.dtype else { throw CheckpointError.unsupportedDType(spec.dtypeName) }
        func invalid(_ detail: String) -> CheckpointError { .invalidTensor(key: key, detail: detail) }
        let storage = spec.storage
        guard storage.byteOffset >= 0, storage.byteCount >= 0, storage.byteOffset <= root.count,
            storage.byteCount <= root.count - storage.byteOffset
        else {
            throw CheckpointError.storageSize(key: storage.key, expected: storage.byteOffset &+ storage.byteCount, actual: root.count)
        }
        let view = UnsafeRawBufferPointer(rebasing: root[storage.byteOffset..<(storage.byteOffset + storage.byteCount)])
        let size = spec.size, stride = spec.stride, es = spec.elementSize
        guard size.count == stride.count else {
            throw invalid("size \(size) and stride \(stride) have different lengths")
        }
        guard !size.contains(where: { $0 < 0 }) else { throw invalid("size \(size) has a negative dimension") }
        guard let n = TypedArray.elementCount(size) else { throw invalid("size \(size) overflows") }
        guard spec.storageOffset >= 0 else { throw invalid("storage offset \(spec.storageOffset) is negative") }
        let available = view.count / es
        if n == 0 { return TypedArray(unchecked: dtype, shape: size, bytes: []) }

        // The lowest and highest element the view reaches.
        var low = spec.storageOffset, high = spec.storageOffset
        for (d, s) in zip(size, stride) {
            let (reach, o1) = (d - 1).multipliedReportingOverflow(by: s)
            if o1 { throw invalid("size \(size) with stride \(stride) overflows") }
            let (sum, o2) = (reach < 0 ? low : high).addingReportingOverflow(reach)
            if o2 { throw invalid("size \(size) with stride \(stride) overflows") }
            if reach < 0 { low = sum } else { high = sum }
        }
        guard low >= 0, high < available else {
            throw invalid(
                "size \(size), stride \(stride) and offset \(spec.storageOffset) reach elements \(low)...\(high) "
                    + "of a storage of \(available) \(spec.dtypeName) elements")
        }
        let (outBytes, o3) = n.multipliedReportingOverflow(by: es)
        guard !o3 else { throw invalid("size \(size) overflows") }

        let start = spec.storageOffset * es
        var bytes: [UInt8]
        if isContiguous(size, stride) {
            bytes = Array(view[start..<(start + outBytes)])
            if bigEndian && es > 1 { swapElements(&bytes, es) }
        } else {
            switch es {
            case 1: bytes = gather(UInt8.self, view, spec.storageOffset, size, stride, n, swap: false)
            case 2: bytes = gather(UInt16.self, view, spec.storageOffset, size, stride, n, swap: bigEndian)
            case 4: bytes = gather(UInt32.self, view, spec.storageOffset, size, stride, n, swap: bigEndian)
            default: bytes = gather(UInt64.self, view, spec.storageOffset, size, stride, n, swap: bigEndian)
            }
        }
        return TypedArray(unchecked: dtype, shape: size, bytes: bytes)
    }

    /// C-contiguous: strides are the row-major ones, ignoring dimensions of size 1.
    static func isContiguous(_ size: [Int], _ stride: [Int]) -> Bool {
        guard size.count == stride.count else { return false }
        var expected = 1
        for (d, s) in zip(size, stride).reversed() where d != 1 {
            if s != expected { return false }
            let (next, overflow) = expected.multipliedReportingOverflow(by: d)
            if overflow { return false }
            expected = next
        }
        return true
    }

    /// Copies the `n` elements of a strided view in C order. The caller has checked that every reachable
    /// element lies in `source`; the odometer uses wrapping arithmetic because stepping past the end of a
    /// dimension of size 1 with a huge stride is undone immediately.
    private static func gather<T: FixedWidthInteger>(
        _: T.Type, _ source: UnsafeRawBufferPointer, _ offset: Int, _ size: [Int], _ stride: [Int], _ n: Int, swap: Bool
    ) -> [UInt8] {
        let es = MemoryLayout<T>.size
        let rank = size.count
        let inner = size[rank - 1], innerStride = stride[rank - 1]
        return [UInt8](unsafeUninitializedCapacity: n * es) { out, initialized in
            let dst = UnsafeMutableRawBufferPointer(out)
            var index = [Int](repeating: 0, count: rank)
            var base = offset
            var o = 0
            outer: while true {
                var p = base
                for _ in 0..<inner {
                    let v = source.loadUnaligned(fromByteOffset: p * es, as: T.self)
                    dst.storeBytes(of: swap ? v.byteSwapped : v, toByteOffset: o * es, as: T.self)
                    p &+= innerStride
                    o += 1
                }
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    base &+= stride[d]
                    if index[d] < size[d] { continue outer }
                    base &-= stride[d] &* size[d]
                    index[d] = 0
                    d -= 1
                }
                break
            }
            initialized = n * es
        }
    }

    private static func swapElements(_ bytes: inout [UInt8], _ es: Int) {
        bytes.withUnsafeMutableBufferPointer { b in
            var i = 0
            while i + es <= b.count {
                var lo = i, hi = i + es - 1
                while lo < hi { b.swapAt(lo, hi); lo += 1; hi -= 1 }
                i += es
            }
        }
    }

    // MARK: - helpers

    static func hexPrefix(_ bytes: UnsafeRawBufferPointer) -> String {
        let shown = bytes.prefix(16).map { b -> String in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }
        return shown.isEmpty ? "nothing (the file is empty)" : shown.joined(separator: " ")
    }

    private static func describe(_ value: PickleValue) -> String {
        switch value {
        case .int(let v): return "\(v)"
        case .string(let s): return "'\(s.prefix(40))'"
        default: return value.typeName
        }
    }

    /// Maps `url` and calls `body`; errors come back in a ``FileError`` naming the file.
    static func mapped<R>(_ url: URL, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try MappedFile.withContents(of: url, body)
    }
}

/// Bookkeeping for rebuilding a state dict's tensors: entries that are the very same view share one buffer,
/// and the total output stays within ``TorchCheckpoint/outputAllowance``.
struct TensorAssembler {
    private struct ViewKey: Hashable {
        let storage: ObjectIdentifier
        let dtypeName: String
        let offset: Int
        let size: [Int]
        let stride: [Int]
    }

    private var built: [ViewKey: TypedArray] = [:]
    private var remaining: Int
    private let limit: Int

    init(fileSize: Int) {
        let (scaled, overflow) = fileSize.multipliedReportingOverflow(by: 4)
        limit = overflow ? .max : scaled.addingReportingOverflow(TorchCheckpoint.outputAllowance).partialValue
        remaining = limit
    }

    private static func key(_ spec: TorchTensorSpec) -> ViewKey {
        ViewKey(
            storage: ObjectIdentifier(spec.storage), dtypeName: spec.dtypeName, offset: spec.storageOffset,
            size: spec.size, stride: spec.stride)
    }

    func existing(_ spec: TorchTensorSpec) -> TypedArray? { built[Self.key(spec)] }

    /// Reserves the tensor's bytes, or throws if the state dict would exceed the allowance.
    mutating func charge(_ spec: TorchTensorSpec, key: String) throws {
        // Invalid sizes are left to `materialize`, which says what is wrong with them.
        guard let n = TypedArray.elementCount(spec.size), case let (bytes, false) = n.multipliedReportingOverflow(by: spec.elementSize)
        else { return }
        guard bytes <= remaining else {
            throw CheckpointError.invalidTensor(
                key: key,
                detail: "size \(spec.size) would take the state dict past \(limit) bytes (4 × the file plus "
                    + "\(TorchCheckpoint.outputAllowance)); the file is damaged or hostile")
        }
        remaining -= bytes
    }

    mutating func remember(_ spec: TorchTensorSpec, _ array: TypedArray) -> TypedArray {
        built[Self.key(spec)] = array
        return array
    }
}

/// The storages a pickle's persistent ids name, shared between the tensors that view them.
final class StorageTable {
    /// Whole storages by key.
    private(set) var roots: [String: TorchStorage] = [:]
    /// Legacy storage views by view key.
    private var views: [String: TorchStorage] = [:]

    private typealias Failure = RestrictedUnpickler.PersistentIDError

    private func fields(_ id: PickleValue, count: Int) throws -> [PickleValue] {
        guard case .tuple(let tuple) = id else { throw Failure(detail: "persistent id is \(id.typeName), not a tuple") }
        let items = tuple.items
        if items.first?.asString == "module" {
            throw Failure(detail: "the file holds a pickled nn.Module (torch.save(model)); save model.state_dict() instead")
        }
        guard items.count == count, items[0].asString == "storage" else {
            throw Failure(detail: "persistent id is not a ('storage', ...) tuple of \(count)")
        }
        return items
    }

    private func storageArguments(_ items: [PickleValue]) throws -> (TorchStorageType, String, Int) {
        guard case .global(.storageType(let type)) = items[1] else {
            throw Failure(detail: "storage type is \(items[1].typeName)")
        }
        guard let key = items[2].asString ?? items[2].asInt.map(String.init) else {
            throw Failure(detail: "storage key is \(items[2].typeName)")
        }
        guard let numel = items[4].asInt, numel >= 0 else {
            throw Failure(detail: "storage size is \(items[4].typeName == "an int" ? "negative" : items[4].typeName)")
        }
        let (bytes, overflow) = numel.multipliedReportingOverflow(by: type.elementSize)
        guard !overflow else { throw Failure(detail: "storage of \(numel) elements overflows") }
        return (type, key, bytes)
    }

    /// Zip format: `('storage', storage_type, key, location, numel)`.
    func zipStorage(_ id: PickleValue) throws -> PickleValue {
        let items = try fields(id, count: 5)
        let (type, key, byteCount) = try storageArguments(items)
        if let existing = roots[key] { return .storage(existing) }
        let storage = TorchStorage(key: key, type: type, byteOffset: 0, byteCount: byteCount)
        roots[key] = storage
        return .storage(storage)
    }

    /// Legacy format: `('storage', storage_type, root_key, location, numel, view_metadata)`, where
    /// view_metadata is None or `(view_key, offset, view_size)` in elements.
    func legacyStorage(_ id: PickleValue) throws -> PickleValue {
        let items = try fields(id, count: 6)
        let (type, key, byteCount) = try storageArguments(items)
        let root: TorchStorage
        if let existing = roots[key] {
            root = existing
        } else {
            root = TorchStorage(key: key, type: type, byteOffset: 0, byteCount: byteCount)
            roots[key] = root
        }
        if case .none = items[5] { return .storage(root) }
        guard let view = items[5].sequenceItems, view.count == 3, let viewKey = view[0].asString ?? view[0].asInt.map(String.init),
            let offset = view[1].asInt, let count = view[2].asInt
        else { throw Failure(detail: "storage view is \(items[5].typeName), not (key, offset, size)") }
        if let existing = views[viewKey] { return .storage(existing) }
        // Offsets and sizes are in elements of this id's type, as torch reads them.
        let es = type.elementSize
        let capacity = root.byteCount / es
        guard offset >= 0, count >= 0, offset <= capacity, count <= capacity - offset else {
            throw Failure(detail: "storage view \(offset)..<\(offset &+ count) lies outside storage '\(key)'")
        }
        let storage = TorchStorage(key: key, type: type, byteOffset: offset * es, byteCount: count * es)
        views[viewKey] = storage
        return .storage(storage)
    }
}
