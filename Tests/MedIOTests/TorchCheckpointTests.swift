import Foundation
@testable import MedIO
import MedTestSupport
import Testing

// Tests of the PyTorch checkpoint reader. Fixtures in Tests/Fixtures/torch come from
// Tests/Fixtures/make_torch_fixtures.py (torch.save + safetensors); each NAME.pth is compared with the
// contiguous copy of its state dict that the script saved as safetensors.

// MARK: - helpers

private enum TorchFixture {
    static func url(_ name: String) -> URL { Fixtures.url("torch/\(name)") }
    static func bytes(_ name: String) throws -> [UInt8] { try Fixtures.bytes("torch/\(name)") }
    static func expected(_ name: String) throws -> SafeTensorsFile { try SafeTensorsFile.read(contentsOf: url(name)) }

    /// Key order of basic_dict() in the script (dict insertion order, which the reader must keep).
    static let basicKeys = [
        "f32", "f16", "bf16", "f64", "i64", "i32", "i16", "i8", "u8", "bool", "scalar", "empty", "transposed",
        "permuted", "half_transposed", "half_full", "expanded", "base", "view_a", "view_b", "view_c", "view_d",
    ]
    static let moduleKeys = [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "4.weight", "4.bias",
    ]
}

/// SplitMix64, for reproducible mutations.
private struct CheckpointFuzzRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    /// One random damage to `bytes`: flipped bits, interesting bytes, a truncation, an insertion, a deletion
    /// or a duplicated span.
    mutating func mutate(_ bytes: [UInt8], in range: Range<Int>? = nil) -> [UInt8] {
        var b = bytes
        let r = range ?? 0..<b.count
        guard !r.isEmpty else { return b }
        func spot() -> Int { r.lowerBound + below(r.count) }
        switch below(7) {
        case 0:
            for _ in 0...below(4) { let i = spot(); b[i] ^= UInt8(1 << below(8)) }
        case 1:
            let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x2E, 0x28, 0x52, 0x71, 0x68, 0x4B, 0x85]
            for _ in 0...below(3) { b[spot()] = interesting[below(interesting.count)] }
        case 2:
            b.removeSubrange(spot()...)
        case 3:
            let at = spot()
            b.insert(contentsOf: (0...below(8)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
        case 4:
            let at = spot()
            b.removeSubrange(at..<min(b.count, at + 1 + below(16)))
        case 5:
            let at = spot()
            let span = Array(b[at..<min(b.count, at + 1 + below(32))])
            b.insert(contentsOf: span, at: spot())
        default:
            // Overwrite a 4- or 8-byte field with a large or negative value (counts, lengths, offsets).
            let at = spot()
            let values: [UInt64] = [0, .max, 1 << 31, 1 << 62, 0xFFFF_FFFF, UInt64(bitPattern: -1_000_000), 1_000_000]
            let v = values[below(values.count)]
            for k in 0..<(below(2) == 0 ? 4 : 8) where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        }
        return b
    }
}

/// A minimal writer of stored (uncompressed) zip archives, for checkpoints crafted in the tests.
private enum TestZip {
    static func make(_ files: [(String, [UInt8])]) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in files {
            let nameBytes = Array(name.utf8)
            let crc = CRC32.checksum(data)
            let offset = UInt32(out.count)
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
            out += le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0)
            out += nameBytes + data
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
            central += le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count)
            central += le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
        }
        let centralOffset = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(files.count) + le16(files.count)
        out += le32(UInt32(central.count)) + le32(UInt32(centralOffset)) + le16(0)
        return out
    }

    /// A torch-style checkpoint: `archive/data.pkl`, `archive/byteorder`, `archive/data/KEY`.
    static func checkpoint(pickle: [UInt8], storages: [(String, [UInt8])], byteorder: String? = "little") -> [UInt8] {
        var files: [(String, [UInt8])] = [("archive/data.pkl", pickle)]
        if let byteorder { files.append(("archive/byteorder", Array(byteorder.utf8))) }
        files += storages.map { ("archive/data/\($0.0)", $0.1) }
        files.append(("archive/version", Array("3\n".utf8)))
        return make(files)
    }
}

/// Writes pickles opcode by opcode.
private struct PickleWriter {
    var bytes: [UInt8]
    init(protocol version: UInt8? = 2) { bytes = version.map { [0x80, $0] } ?? [] }

    mutating func op(_ b: UInt8) { bytes.append(b) }
    mutating func raw(_ s: String) { bytes += Array(s.utf8) }
    mutating func mark() { op(0x28) }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        op(0x58)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: u.count >> (8 * $0)) } + u
    }
    mutating func int(_ v: Int32) {
        op(0x4A)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * Int32($0))) }
    }
    mutating func global(_ module: String, _ name: String) { op(0x63); raw("\(module)\n\(name)\n") }
    mutating func ints(_ values: [Int32]) { mark(); for v in values { int(v) }; op(0x74) }
    mutating func stop() { op(0x2E) }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` with the storage
    /// `('storage', torch.TYPE, key, 'cpu', numel)`.
    mutating func tensor(type: String = "FloatStorage", key: String, numel: Int32, offset: Int32, size: [Int32], stride: [Int32]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); string("storage"); global("torch", type); string(key); string("cpu"); int(numel); op(0x74)
        op(0x51)  // BINPERSID
        int(offset)
        ints(size)
        ints(stride)
        op(0x89)  // NEWFALSE
        global("collections", "OrderedDict"); op(0x29); op(0x52)
        op(0x74)
        op(0x52)
    }

    /// `{key: tensor, ...}` as a complete pickle.
    static func stateDict(_ tensors: [(key: String, storage: String, numel: Int32, offset: Int32, size: [Int32], stride: [Int32])]) -> [UInt8] {
        var w = PickleWriter()
        w.op(0x7D)  // EMPTY_DICT
        for t in tensors {
            w.string(t.key)
            w.tensor(key: t.storage, numel: t.numel, offset: t.offset, size: t.size, stride: t.stride)
            w.op(0x73)  // SETITEM
        }
        w.stop()
        return w.bytes
    }
}

private func floatBytes(_ values: [Float]) -> [UInt8] { TypedArray(floats: values, shape: [values.count]).bytes }

/// Runs the restricted unpickler on `bytes`, keeping the arena alive while `inspect` looks at the result.
private func unpickle<R>(_ bytes: [UInt8], _ inspect: (PickleValue) throws -> R) throws -> R {
    let arena = PickleArena()
    return try withExtendedLifetime(arena) {
        let value = try bytes.withUnsafeBytes { raw -> PickleValue in
            var u = RestrictedUnpickler(bytes: raw, stream: "test", arena: arena)
            return try u.load()
        }
        return try inspect(value)
    }
}

private func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do {
        try body()
        return nil
    } catch let error as CheckpointError {
        return error
    } catch let error as FileError {
        if let inner = error.underlying(as: CheckpointError.self) { return inner }
        Issue.record("expected a CheckpointError, got \(error)")
        return nil
    } catch {
        Issue.record("expected a CheckpointError, got \(type(of: error)): \(error)")
        return nil
    }
}

// MARK: - files written by torch

@Suite struct TorchCheckpointFixtureTests {
    func expectMatches(_ entries: [(key: String, array: TypedArray)], _ expected: SafeTensorsFile, _ label: String) {
        #expect(entries.count == expected.count, "\(label): \(entries.count) entries, expected \(expected.count)")
        for (key, array) in entries {
            guard let want = expected[key] else {
                Issue.record("\(label): unexpected key \(key)")
                continue
            }
            #expect(array.dtype == want.dtype, "\(label) \(key): dtype \(array.dtype) vs \(want.dtype)")
            #expect(array.shape == want.shape, "\(label) \(key): shape \(array.shape) vs \(want.shape)")
            #expect(array.bytes == want.bytes, "\(label) \(key): values differ")
        }
    }

    @Test(arguments: ["basic.pth", "basic_archive.pth", "basic_p4.pth"])
    func zipFormatMatchesTorch(_ name: String) throws {
        let contents = try TorchCheckpoint.load(contentsOf: TorchFixture.url(name))
        #expect(contents.format == .zip)
        #expect(contents.location == .topLevel)
        #expect(contents.entries.map(\.key) == TorchFixture.basicKeys + ["u16"])
        expectMatches(contents.entries, try TorchFixture.expected("basic.safetensors"), name)
    }

    @Test(arguments: ["basic_legacy.pth", "basic_legacy_p5.pth", "bigendian.pth"])
    func legacyFormatAndBigEndianMatchTorch(_ name: String) throws {
        let contents = try TorchCheckpoint.load(contentsOf: TorchFixture.url(name))
        #expect(contents.format == (name == "bigendian.pth" ? .zip : .legacy))
        #expect(contents.entries.map(\.key) == TorchFixture.basicKeys)
        expectMatches(contents.entries, try TorchFixture.expected("bigendian.safetensors"), name)
    }

    @Test func spotCheckValues() throws {
        let entries = try TorchCheckpoint.read(contentsOf: TorchFixture.url("basic.pth"))
        let dict = Dictionary(entries.map { ($0.key, $0.array) }, uniquingKeysWith: { a, _ in a })
        #expect(try dict["i64"]!.int64s() == [0, -1, (1 << 53) + 1, .min, .max])
        #expect(dict["scalar"]!.shape == [] && dict["scalar"]!.floats() == [3.5])
        #expect(dict["empty"]!.shape == [0, 3] && dict["empty"]!.bytes.isEmpty)
        #expect(dict["view_a"]!.floats() == [2, 3, 4, 5, 6, 7])
        #expect(dict["view_b"]!.shape == [2, 3] && dict["view_b"]!.floats() == [6, 8, 10, 12, 14, 16])
        #expect(dict["view_c"]!.floats() == [5, 11, 17, 23])
        #expect(dict["view_d"]!.shape == [4, 3] && dict["view_d"]!.floats().prefix(3) == [12, 16, 20])
        #expect(dict["expanded"]!.shape == [4, 3] && dict["expanded"]!.floats() == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
        #expect(try dict["u16"]!.dtype == .uint16 && dict["u16"]!.integers(as: Int.self) == [0, 1, 40000, 65535])
        #expect(try dict["bool"]!.dtype == .bool && dict["bool"]!.uint8s() == [1, 0, 1, 1])
        let transposed = dict["transposed"]!
        let base = try TorchFixture.expected("basic.safetensors")["transposed"]!
        #expect(transposed.shape == [4, 3] && transposed == base)
    }

    @Test(arguments: ["module.pth", "module_legacy.pth"])
    func moduleStateDict(_ name: String) throws {
        let contents = try TorchCheckpoint.load(contentsOf: TorchFixture.url(name))
        #expect(contents.entries.map(\.key) == TorchFixture.moduleKeys)
        expectMatches(contents.entries, try TorchFixture.expected("module.safetensors"), name)
        let tracked = try #require(contents.entries.first { $0.key == "1.num_batches_tracked" }?.array)
        #expect(try tracked.dtype == .int64 && tracked.shape == [] && tracked.int64s() == [2])
    }

    @Test func wrappedUnderStateDict() throws {
        let url = TorchFixture.url("wrapped.pth")
        let contents = try TorchCheckpoint.load(contentsOf: url)
        #expect(contents.location == .nested(key: "state_dict") && contents.format == .zip)
        #expect(contents.entries.map(\.key) == TorchFixture.moduleKeys)
        expectMatches(contents.entries, try TorchFixture.expected("module.safetensors"), "wrapped")
        #expect(try TorchCheckpoint.load(contentsOf: url, stateDict: .key("state_dict")).entries.count == 9)

        // The top level holds an int, a str, a float and the optimizer: not a state dict, and the message says
        // which keys there are.
        let top = checkpointError { _ = try TorchCheckpoint.read(contentsOf: url, stateDict: .topLevel) }
        guard case .notAStateDict(let detail)? = top else { Issue.record("got \(String(describing: top))"); return }
        #expect(detail.contains("'epoch'") && detail.contains("'optimizer'"))
        let optimizer = checkpointError { _ = try TorchCheckpoint.read(contentsOf: url, stateDict: .key("optimizer")) }
        guard case .notATensor(key: "state", _)? = optimizer else { Issue.record("got \(String(describing: optimizer))"); return }
        let missing = checkpointError { _ = try TorchCheckpoint.read(contentsOf: url, stateDict: .key("ema")) }
        guard case .notAStateDict? = missing else { Issue.record("got \(String(describing: missing))"); return }
    }

    @Test func wrappedUnderModelLegacy() throws {
        let contents = try TorchCheckpoint.load(contentsOf: TorchFixture.url("wrapped_model.pth"))
        #expect(contents.location == .nested(key: "model") && contents.format == .legacy)
        expectMatches(contents.entries, try TorchFixture.expected("module.safetensors"), "wrapped_model")
    }

    @Test func parametersRebuildAsTensors() throws {
        let entries = try TorchCheckpoint.read(contentsOf: TorchFixture.url("params.pth"))
        #expect(entries.map(\.key) == ["w", "b"])
        expectMatches(entries, try TorchFixture.expected("params.safetensors"), "params")
    }

    @Test func maliciousGlobalsAreRejectedUnexecuted() throws {
        let zip = checkpointError { _ = try TorchCheckpoint.read(contentsOf: TorchFixture.url("malicious.pth")) }
        #expect(zip == .forbiddenGlobal(stream: "archive/data.pkl", offset: 2, module: "os", name: "system"))
        let legacy = checkpointError { _ = try TorchCheckpoint.read(contentsOf: TorchFixture.url("malicious_legacy.pth")) }
        guard case .forbiddenGlobal(let stream, _, let module, let name)? = legacy else {
            Issue.record("got \(String(describing: legacy))")
            return
        }
        #expect(stream == "file" && module == "builtins" && name == "eval")
        // The message names the file and the global.
        do {
            _ = try CheckpointFile.read(contentsOf: TorchFixture.url("malicious.pth"))
            Issue.record("malicious.pth loaded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("malicious.pth") && text.contains("os.system") && text.contains("without being executed"))
        }
    }

    @Test func checkpointFilePicksFormatByContent() throws {
        #expect(try CheckpointFile.detectFormat(of: TorchFixture.url("basic.pth")) == .torchZip)
        #expect(try CheckpointFile.detectFormat(of: TorchFixture.url("basic_legacy.pth")) == .torchLegacy)
        #expect(try CheckpointFile.detectFormat(of: TorchFixture.url("module.safetensors")) == .safetensors)
        let fromTorch = try CheckpointFile.read(contentsOf: TorchFixture.url("module.pth"))
        let fromSafetensors = try CheckpointFile.read(contentsOf: TorchFixture.url("module.safetensors"))
        #expect(Set(fromTorch.map(\.key)) == Set(fromSafetensors.map(\.key)))
        for (key, array) in fromTorch { #expect(fromSafetensors.first { $0.key == key }?.array == array) }

        // A .pth name says nothing: a safetensors file under that name still reads as safetensors.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let renamed = directory.appending("weights.pth")
        try FileManager.default.copyItem(at: TorchFixture.url("module.safetensors"), to: renamed)
        #expect(try CheckpointFile.read(contentsOf: renamed).count == 9)

        let junk = directory.appending("junk.bin")
        try Data("hello world, not a checkpoint".utf8).write(to: junk)
        let error = checkpointError { _ = try CheckpointFile.read(contentsOf: junk) }
        #expect(error == .unrecognizedFormat(firstBytes: "68 65 6c 6c 6f 20 77 6f 72 6c 64 2c 20 6e 6f 74"))
        let empty = directory.appending("empty.pth")
        try Data().write(to: empty)
        #expect(checkpointError { _ = try CheckpointFile.read(contentsOf: empty) } == .unrecognizedFormat(firstBytes: "nothing (the file is empty)"))
        let absent = directory.appending("absent.pth")
        let missing = try #require(throws: FileError.self) { _ = try CheckpointFile.read(contentsOf: absent) }
        #expect(missing.path == absent.path && missing.systemError?.code == ENOENT)
    }
}

// MARK: - the unpickler

@Suite struct RestrictedUnpicklerTests {
    @Test func protocolZeroAndPython2Opcodes() throws {
        // (dp0 / Vkey / I42 / S'x\n' / F1.5 / L-7L / I01 / N / GET ... : text opcodes as Python 2 wrote them.
        var w = PickleWriter(protocol: nil)
        w.raw("(dp0\nVk\\u00e9y\np1\nI42\nsS'x\\n'\np2\nF1.5\nsVlong\nL-7L\nsVbool\nI01\nsVnone\nNsVagain\ng1\ns.")
        try unpickle(w.bytes) { value in
            guard case .dict(let d) = value else { Issue.record("not a dict: \(value.typeName)"); return }
            #expect(d.keys.compactMap(\.asString) == ["k\u{e9}y", "x\n", "long", "bool", "none", "again"])
            #expect(d["k\u{e9}y"]?.asInt == 42)
            guard case .float(let f)? = d["x\n"] else { Issue.record("float"); return }
            #expect(f == 1.5)
            #expect(d["long"]?.asInt == -7)
            guard case .bool(true)? = d["bool"], case .none? = d["none"] else { Issue.record("bool/none"); return }
            #expect(d["again"]?.asString == "k\u{e9}y")  // g1: the key memoized as p1
        }
    }

    @Test func binaryScalarsAndContainers() throws {
        var w = PickleWriter(protocol: 2)
        w.op(0x5D)  // EMPTY_LIST
        w.mark()
        w.op(0x4B); w.op(200)                                  // BININT1 200
        w.op(0x4D); w.bytes += [0x34, 0x12]                    // BININT2 0x1234
        w.int(-5)
        w.op(0x8A); w.bytes += [2, 0x00, 0x80]                 // LONG1 -32768
        w.op(0x8A); w.bytes += [0]                             // LONG1 0
        w.op(0x8B); w.bytes += [9, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0, 0]  // LONG4 1 with a redundant byte
        w.op(0x47); w.bytes += [0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18]  // BINFLOAT pi
        w.op(0x55); w.bytes += [3] + Array("abc".utf8)         // SHORT_BINSTRING
        w.op(0x43); w.bytes += [2, 0xFF, 0x00]                 // SHORT_BINBYTES
        w.op(0x8C); w.bytes += [2] + Array("hi".utf8)          // SHORT_BINUNICODE
        w.op(0x88); w.op(0x89)                                 // True False
        w.op(0x29); w.op(0x8F)                                 // () and set()
        w.op(0x65)                                             // APPENDS
        w.op(0x71); w.bytes += [7]                             // BINPUT 7
        w.op(0x68); w.bytes += [7]                             // BINGET 7 -> the same list
        w.op(0x86)                                             // TUPLE2
        w.stop()
        try unpickle(w.bytes) { value in
            guard case .tuple(let pair) = value, pair.items.count == 2, case .list(let a) = pair.items[0],
                case .list(let b) = pair.items[1]
            else { Issue.record("shape: \(value.typeName)"); return }
            #expect(a === b)  // memo keeps identity
            let items = a.items
            #expect(items.count == 14)
            #expect(items[0].asInt == 200 && items[1].asInt == 0x1234 && items[2].asInt == -5)
            #expect(items[3].asInt == -32768 && items[4].asInt == 0 && items[5].asInt == 1)
            guard case .float(let pi) = items[6] else { Issue.record("float"); return }
            #expect(pi == Double.pi)
            #expect(items[7].asString == "abc")
            guard case .bytes([0xFF, 0x00]) = items[8] else { Issue.record("bytes"); return }
            #expect(items[9].asString == "hi")
        }
    }

    @Test func python2OrderedDictFromPairsAndBigInts() throws {
        // py2's OrderedDict.__reduce__: OrderedDict([[k, v], ...]).
        var w = PickleWriter()
        w.global("collections", "OrderedDict")
        w.mark(); w.op(0x5D); w.mark()
        w.op(0x5D); w.string("a"); w.op(0x61); w.int(1); w.op(0x61)
        w.mark(); w.string("b"); w.int(2); w.op(0x6C)  // LIST
        w.op(0x65); w.op(0x74); w.op(0x52)
        w.stop()
        try unpickle(w.bytes) { value in
            guard case .dict(let d) = value else { Issue.record("not a dict"); return }
            #expect(d.keys.compactMap(\.asString) == ["a", "b"] && d["b"]?.asInt == 2)
        }
        var big = PickleWriter()
        big.op(0x8A); big.bytes += [10] + TorchCheckpoint.legacyMagic
        big.stop()
        try unpickle(big.bytes) { value in
            guard case .bigInt(let digits) = value else { Issue.record("not a big int"); return }
            #expect(digits == TorchCheckpoint.legacyMagic)
        }
    }

    @Test func forbiddenGlobalsAnywhere() throws {
        // GLOBAL, STACK_GLOBAL and INST all go through the allow-list, before anything is called.
        let cases: [([UInt8], String, String)] = [
            (Array("cbuiltins\neval\n.".utf8), "builtins", "eval"),
            ([0x80, 0x04, 0x8C, 0x02] + Array("os".utf8) + [0x8C, 0x06] + Array("system".utf8) + [0x93, 0x2E], "os", "system"),
            (Array("(S'ls'\nisubprocess\ncheck_output\n.".utf8), "subprocess", "check_output"),
            (Array("ctorch\nload\n.".utf8), "torch", "load"),
            (Array("ctorch.nn.modules.conv\nConv2d\n.".utf8), "torch.nn.modules.conv", "Conv2d"),
            (Array("cnumpy.core.multiarray\n_reconstruct\n.".utf8), "numpy.core.multiarray", "_reconstruct"),
        ]
        for (bytes, module, name) in cases {
            let error = checkpointError { try unpickle(bytes) { _ in } }
            guard case .forbiddenGlobal(_, _, let m, let n)? = error else {
                Issue.record("\(module).\(name): got \(String(describing: error))")
                continue
            }
            #expect(m == module && n == name)
        }
    }

    @Test func malformedPicklesGiveTypedErrors() throws {
        func expectError(_ bytes: [UInt8], _ label: String, _ check: (CheckpointError) -> Bool) {
            let error = checkpointError { try unpickle(bytes) { _ in } }
            guard let error else { Issue.record("\(label): no error"); return }
            #expect(check(error), "\(label): \(error)")
        }
        expectError([0x80, 0x02], "no STOP") { if case .pickleTruncated = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], "huge length") {
            if case .pickleTruncated(_, 2, "BINUNICODE", 2_147_483_647, 1) = $0 { true } else { false }
        }
        expectError([0x80, 0x02, 0xFF, 0x2E], "unknown opcode") { $0 == .pickleUnknownOpcode(stream: "test", offset: 2, opcode: 0xFF) }
        expectError([0x80, 0x06, 0x2E], "protocol 6") { if case .pickleMalformed(_, 0, "PROTO", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x2E], "empty stack at STOP") { if case .pickleMalformed(_, 2, "STOP", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x61, 0x2E], "APPEND underflow") { if case .pickleMalformed(_, 2, "APPEND", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x4B, 1, 0x61, 0x2E], "APPEND to int") { if case .pickleMalformed(_, 4, "APPEND", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x68, 3, 0x2E], "memo miss") { if case .pickleMalformed(_, 2, "BINGET", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x74, 0x2E], "TUPLE without MARK") { if case .pickleMalformed(_, 2, "TUPLE", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x28, 0x85, 0x2E], "TUPLE1 below mark") { if case .pickleMalformed(_, 3, "TUPLE1", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x82, 1, 0x2E], "EXT1") { if case .pickleUnsupportedOpcode(_, 2, "EXT1", _) = $0 { true } else { false } }
        expectError([0x80, 0x05, 0x97, 0x2E], "NEXT_BUFFER") { if case .pickleUnsupportedOpcode(_, 2, "NEXT_BUFFER", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x4B, 1, 0x29, 0x52, 0x2E], "calling an int") { if case .pickleMalformed(_, 5, "REDUCE", _) = $0 { true } else { false } }
        expectError(Array("ctorch\nfloat32\n)R.".utf8), "calling a dtype") { if case .pickleMalformed(_, _, "REDUCE", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E], "invalid UTF-8") { if case .pickleMalformed(_, 2, "BINUNICODE", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x4E, 0x51, 0x2E], "persistent id without a loader") { if case .pickleMalformed(_, 3, "BINPERSID", _) = $0 { true } else { false } }
        expectError([0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], "negative LONG4") { if case .pickleMalformed(_, 2, "LONG4", _) = $0 { true } else { false } }
    }

    @Test func deepNestingDoesNotOverflowTheStack() throws {
        // 300,000 nested tuples and lists ((((...None...)))): built and torn down without recursion.
        let depth = 300_000
        var w = PickleWriter()
        w.bytes += [UInt8](repeating: 0x28, count: depth)
        w.op(0x4E)
        for i in 0..<depth { w.op(i % 2 == 0 ? 0x74 : 0x6C) }
        w.stop()
        try unpickle(w.bytes) { value in #expect(value.typeName.hasPrefix("a ")) }
        // As a checkpoint, it is not a state dict.
        let error = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: w.bytes, storages: [])) }
        guard case .notAStateDict? = error else { Issue.record("got \(String(describing: error))"); return }
    }
}

// MARK: - crafted checkpoints

@Suite struct TorchCheckpointCraftedTests {
    @Test func stridedGatherAndByteOrder() throws {
        let storage = floatBytes((0..<12).map(Float.init))
        let pickle = PickleWriter.stateDict([
            ("reversed", "0", 12, 11, [4], [-1]),
            ("columns", "0", 12, 1, [3, 2], [4, 2]),
            ("broadcast", "0", 12, 5, [2, 1, 3], [0, 7, 0]),
            ("huge_stride_unit_dim", "0", 12, 2, [1, 2], [Int32.max, 3]),
            ("empty_with_bad_offset", "0", 12, 99, [0, 5], [5, 1]),
        ])
        let contents = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: pickle, storages: [("0", storage)]))
        let arrays = contents.entries.map(\.array)
        #expect(arrays[0].floats() == [11, 10, 9, 8])
        #expect(arrays[1].floats() == [1, 3, 5, 7, 9, 11])
        #expect(arrays[2].shape == [2, 1, 3] && arrays[2].floats() == [5, 5, 5, 5, 5, 5])
        #expect(arrays[3].floats() == [2, 5])
        #expect(arrays[4].shape == [0, 5] && arrays[4].bytes.isEmpty)

        // The same storage written big-endian.
        var swapped = storage
        for i in stride(from: 0, to: swapped.count, by: 4) { swapped[i..<(i + 4)].reverse() }
        let big = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: pickle, storages: [("0", swapped)], byteorder: "big"))
        #expect(big.entries.map(\.array) == arrays)
        let bad = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: pickle, storages: [("0", storage)], byteorder: "middle")) }
        #expect(bad == .invalidRecord(name: "archive/byteorder", detail: "says 'middle', not 'little' or 'big'"))
    }

    @Test func outOfRangeTensorsAndStorages() throws {
        let storage = floatBytes([1, 2, 3, 4])
        func decode(_ size: [Int32], _ stride: [Int32], offset: Int32 = 0, numel: Int32 = 4, record: [UInt8]? = nil) -> CheckpointError? {
            let pickle = PickleWriter.stateDict([("t", "0", numel, offset, size, stride)])
            return checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: pickle, storages: [("0", record ?? storage)])) }
        }
        func isInvalidTensor(_ e: CheckpointError?) -> Bool { if case .invalidTensor(key: "t", _)? = e { true } else { false } }
        #expect(isInvalidTensor(decode([5], [1])))
        #expect(isInvalidTensor(decode([2], [1], offset: 3)))
        #expect(isInvalidTensor(decode([2], [1], offset: -1)))
        #expect(isInvalidTensor(decode([-1], [1])))
        #expect(isInvalidTensor(decode([2, 2], [1])))
        #expect(isInvalidTensor(decode([3], [-1])))
        #expect(isInvalidTensor(decode([Int32.max, Int32.max, Int32.max], [0, 0, 0])))  // element count overflows
        #expect(isInvalidTensor(decode([65536, 65536], [0, 0])))  // 16 GiB from 16 bytes: past the allowance
        #expect(isInvalidTensor(decode([65536, 65536], [Int32.max, 1])))
        #expect(decode([4], [1], numel: 8) == .storageSize(key: "0", expected: 32, actual: 16))
        #expect(decode([4], [1], numel: -3) != nil)

        let missing = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: PickleWriter.stateDict([("t", "7", 4, 0, [4], [1])]), storages: [("0", storage)])) }
        #expect(missing == .missingRecord(name: "archive/data/7"))
        let noPickle = checkpointError { _ = try TorchCheckpoint.decode(TestZip.make([("archive/data/0", storage)])) }
        #expect(noPickle == .missingRecord(name: "PREFIX/data.pkl"))
    }

    @Test func manyViewsOfOneStorageStayWithinTheAllowance() throws {
        // One 4 MB storage; the same view under many keys is shared (memo), but 100 distinct whole-storage
        // views would need 400 MB from a 4 MB file.
        let count: Int32 = 1 << 20
        let storage = [UInt8](repeating: 0x3F, count: Int(count) * 4)
        var w = PickleWriter()
        w.op(0x7D)
        w.string("t0"); w.tensor(key: "0", numel: count, offset: 0, size: [count], stride: [1]); w.op(0x71); w.bytes += [200]; w.op(0x73)
        for i in 1..<300 { w.string("same\(i)"); w.op(0x68); w.bytes += [200]; w.op(0x73) }
        w.stop()
        let shared = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: w.bytes, storages: [("0", storage)]))
        #expect(shared.entries.count == 300 && shared.entries.allSatisfy { $0.array.bytes.count == storage.count })

        var distinct = PickleWriter()
        distinct.op(0x7D)
        for i in 0..<100 {
            distinct.string("v\(i)")
            distinct.tensor(key: "0", numel: count, offset: Int32(i), size: [count - 100], stride: [1])
            distinct.op(0x73)
        }
        distinct.stop()
        let error = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: distinct.bytes, storages: [("0", storage)])) }
        guard case .invalidTensor(let key, let detail)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(key.hasPrefix("v") && detail.contains("damaged or hostile"))
    }

    @Test func unsupportedDTypesAndStorages() throws {
        var w = PickleWriter()
        w.op(0x7D); w.string("c")
        w.tensor(type: "ComplexFloatStorage", key: "0", numel: 1, offset: 0, size: [1], stride: [1])
        w.op(0x73); w.stop()
        let complex = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: w.bytes, storages: [("0", [UInt8](repeating: 0, count: 8))])) }
        #expect(complex == .unsupportedDType("torch.ComplexFloatStorage"))

        // A whole pickled module class (torch.save(model) in the legacy format) is refused by name.
        var m = PickleWriter()
        m.mark(); m.string("module"); m.op(0x4E); m.op(0x74); m.op(0x51); m.stop()
        let module = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: m.bytes, storages: [])) }
        guard case .pickleMalformed(_, _, "BINPERSID", let detail)? = module else { Issue.record("got \(String(describing: module))"); return }
        #expect(detail.contains("state_dict()"))

        let list = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: [0x80, 0x02, 0x5D, 0x2E], storages: [])) }
        #expect(list == .notAStateDict(detail: "the file holds a list of 0, not a dict"))
        let intKey = checkpointError { _ = try TorchCheckpoint.decode(TestZip.checkpoint(pickle: [0x80, 0x02, 0x7D, 0x4B, 1, 0x4E, 0x73, 0x2E], storages: [])) }
        #expect(intKey == .notAStateDict(detail: "key 0 is an int, not a str"))
    }

    @Test func legacyPreambleErrors() throws {
        let valid = try TorchFixture.bytes("basic_legacy.pth")
        // Replace the first pickle (the magic number) with the int 5.
        let notMagic = [0x80, 0x02, 0x4B, 5, 0x2E] + valid[15...]
        guard case .legacyHeader("magic number", _)? = checkpointError({ _ = try TorchCheckpoint.decode(Array(notMagic)) }) else {
            Issue.record("bad magic accepted")
            return
        }
        // Protocol version 1002.
        var version = valid
        #expect(Array(version[15..<20]) == [0x80, 0x02, 0x4D, 0xE9, 0x03])
        version[18] = 0xEA
        #expect(checkpointError { _ = try TorchCheckpoint.decode(version) } == .legacyHeader(what: "protocol version", detail: "is 1002, not 1001"))
        // Truncated inside the storage section.
        let truncated = Array(valid.dropLast(5))
        guard case .storageSize? = checkpointError({ _ = try TorchCheckpoint.decode(truncated) }) else {
            Issue.record("truncated storages accepted")
            return
        }
        // A tar archive (torch < 0.1.10).
        var tar = [UInt8](repeating: 0, count: 512)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(checkpointError { _ = try TorchCheckpoint.decode(tar) } == .legacyTarFormat)
    }
}

// MARK: - fuzzing

@Suite struct TorchCheckpointFuzzTests {
    /// `MEDMNIST_FUZZ_SCALE=50 swift test ...` runs fifty times as many mutations (with other seeds).
    static let scale = max(1, Int(ProcessInfo.processInfo.environment["MEDMNIST_FUZZ_SCALE"] ?? "") ?? 1)

    /// Decodes `bytes`; anything but success or a CheckpointError is a failure. Returns whether it decoded.
    static func survive(_ bytes: [UInt8], _ label: String) -> Bool {
        do {
            let contents = try TorchCheckpoint.decode(bytes)
            for (_, array) in contents.entries { array.preconditionConsistent(label) }
            return true
        } catch is CheckpointError {
            return false
        } catch {
            Issue.record("\(label): unexpected error type \(type(of: error)): \(error)")
            return false
        }
    }

    // async, yielding now and then, so that these CPU-bound loops do not hold the test runner's few threads
    // while time-sensitive tests elsewhere wait for one.
    @Test func mutatedZipCheckpoints() async throws {
        let original = try TorchFixture.bytes("basic.pth")
        var random = CheckpointFuzzRandom(state: 0x5EED_0001 &+ UInt64(Self.scale - 1) << 32)
        var decoded = 0
        let n = 2000 * Self.scale
        for i in 0..<n {
            if Self.survive(random.mutate(original), "zip mutation \(i)") { decoded += 1 }
            if i % 64 == 0 { await Task.yield() }
        }
        print("fuzz: \(n) mutated zip checkpoints, \(decoded) still decoded")
    }

    @Test func mutatedLegacyCheckpoints() async throws {
        let original = try TorchFixture.bytes("basic_legacy.pth")
        var random = CheckpointFuzzRandom(state: 0x5EED_0002 &+ UInt64(Self.scale - 1) << 32)
        var decoded = 0
        let n = 2000 * Self.scale
        for i in 0..<n {
            if Self.survive(random.mutate(original), "legacy mutation \(i)") { decoded += 1 }
            if i % 64 == 0 { await Task.yield() }
        }
        print("fuzz: \(n) mutated legacy checkpoints, \(decoded) still decoded")
    }

    /// Mutations of data.pkl alone, re-packed with valid CRCs so they reach the unpickler and tensor rebuild
    /// (most byte flips in a zip only trip its CRC check).
    @Test func mutatedPicklesInValidZips() async throws {
        let archive = try ZipArchive(bytes: try TorchFixture.bytes("module.pth"))
        let files = try archive.entries.map { ($0.name, try archive.extract($0)) }
        let pickleIndex = try #require(files.firstIndex { $0.0.hasSuffix("/data.pkl") })
        var random = CheckpointFuzzRandom(state: 0x5EED_0003 &+ UInt64(Self.scale - 1) << 32)
        var decoded = 0
        let n = 3000 * Self.scale
        for i in 0..<n {
            var mutated = files
            mutated[pickleIndex].1 = random.mutate(files[pickleIndex].1)
            if Self.survive(TestZip.make(mutated), "pickle mutation \(i)") { decoded += 1 }
            if i % 64 == 0 { await Task.yield() }
        }
        print("fuzz: \(n) mutated data.pkl, \(decoded) still decoded")
    }
}
