import Foundation
@testable import MedIO
import MedTestSupport
import Testing

extension IOFixture {
    /// The tensors of `numpy.safetensors` (numpy_tensors() in make_io_fixtures.py), built in Swift.
    static let numpyTensors: [(name: String, array: TypedArray)] = [
        ("weight", TypedArray(floats: [1, -2, 3.5, 0.25, -0.0, 1e-3], shape: [2, 3])),
        ("scalar", TypedArray(floats: [7.5], shape: [])),
        ("empty", TypedArray(floats: [], shape: [0, 4])),
        ("half", TypedArray(floats: [1, -0.5, 65504, 0x1p-24], shape: [4], as: .float16)),
        ("double", try! TypedArray(dtype: .float64, shape: [2], bytes: [0.1, -1e300].flatMap { littleEndian(($0 as Double).bitPattern) })),
        ("labels", TypedArray(int64s: [0, 1, -1, (1 << 53) + 1, .min], shape: [5])),
        ("i32", try! TypedArray(integers: [Int32.min, Int32.max], shape: [2], dtype: .int32)),
        ("i16", try! TypedArray(integers: [-300, 300], shape: [2], dtype: .int16)),
        ("i8", try! TypedArray(integers: [-128, 127, 0], shape: [3], dtype: .int8)),
        ("pixels", TypedArray(uint8s: [0, 255, 17, 128], shape: [2, 2])),
        ("mask", try! TypedArray(integers: [1, 0, 1], shape: [3], dtype: .bool)),
        ("u16", try! TypedArray(integers: [0, 65535], shape: [2], dtype: .uint16)),
    ]

    /// A file with a hand-written header (padded to 8 like the library's) and data buffer.
    static func safetensorsFile(_ header: String, _ buffer: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: (8 - text.count % 8) % 8)
        return littleEndian(length ?? UInt64(text.count)) + text + buffer
    }
}

@Suite struct SafeTensorsTests {
    @Test func readsNumpyWrittenFileExactly() throws {
        let file = try SafeTensorsFile.read(contentsOf: IOFixture.url("numpy.safetensors"))
        #expect(file.metadata == ["format": "np"])
        // Header order is the library's layout order: dtype rank descending, then name.
        #expect(file.names == [
            "labels", "double", "empty", "scalar", "weight", "i32", "half", "u16", "i16", "i8", "pixels", "mask",
        ])
        for (name, expected) in IOFixture.numpyTensors {
            #expect(file[name] == expected, "\(name)")
        }
        #expect(try file["labels"]!.int64s() == [0, 1, -1, 9_007_199_254_740_993, .min])
        #expect(file["half"]!.floats() == [1, -0.5, 65504, 0x1p-24])
        #expect(file["double"]!.floats() == [Float(0.1), -.infinity])
        #expect(try file["mask"]!.uint8s() == [1, 0, 1])
        #expect(file["scalar"]!.shape == [] && file["scalar"]!.floats() == [7.5])
    }

    @Test func readsTorchWrittenFileWithBFloat16() throws {
        let file = try SafeTensorsFile.read(contentsOf: IOFixture.url("torch.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.names == ["bn.num_batches_tracked", "fc.bias", "conv.weight", "fc.weight"])
        let conv = try #require(file["conv.weight"])
        #expect(conv.dtype == .bfloat16 && conv.shape == [2, 3])
        #expect(conv.floats() == [1, -2, 0.0078125, 3.140625, -0.0, 65280])
        #expect(conv.floats()[4].sign == .minus)
        let tracked = try #require(file["bn.num_batches_tracked"])
        #expect(try tracked.dtype == .int64 && tracked.shape == [] && tracked.int64s() == [12345])
        #expect(file["fc.weight"]!.dtype == .float16 && file["fc.weight"]!.floats() == [0.5, -1.25])
        #expect(file["fc.bias"]!.floats() == [0.125, 8])
    }

    @Test func readsEscapedMetadata() throws {
        let file = try SafeTensorsFile.read(contentsOf: IOFixture.url("metadata.safetensors"))
        #expect(file.metadata == ["format": "pt", "note": "unicode \u{2713} \"quoted\"\n\ttab", "empty": ""])
        #expect(file["x"]!.floats() == [0, 1, 2])
    }

    /// Our writer lays out and formats files exactly like the Python library (whatever order we insert in).
    @Test func encodeIsByteIdenticalToPythonLibrary() throws {
        let numpyFile = try SafeTensorsFile(IOFixture.numpyTensors.reversed(), metadata: ["format": "np"])
        #expect(numpyFile.encode() == (try IOFixture.bytes("numpy.safetensors")))
        let torchFile = try SafeTensorsFile([
            ("fc.weight", TypedArray(floats: [0.5, -1.25], shape: [2], as: .float16)),
            ("conv.weight", TypedArray(floats: [1, -2, 0.0078125, 3.140625, -0.0, 65280], shape: [2, 3], as: .bfloat16)),
            ("bn.num_batches_tracked", TypedArray(int64s: [12345], shape: [])),
            ("fc.bias", TypedArray(floats: [0.125, 8], shape: [2])),
        ], metadata: ["format": "pt"])
        #expect(torchFile.encode() == (try IOFixture.bytes("torch.safetensors")))
    }

    @Test func roundTripKeepsEverything() throws {
        var file = SafeTensorsFile(metadata: ["format": "pt", "\u{2713} key": "line\nbreak \"q\" \\ \u{1}"])
        for (name, array) in IOFixture.numpyTensors { file[name] = array }
        file["bf16"] = TypedArray(floats: [1.5, -3, .infinity, Float(bitPattern: 0x0001_16c2)], shape: [2, 2], as: .bfloat16)
        file["bn1.num_batches_tracked"] = TypedArray(int64s: [Int64.max], shape: [])
        file["unicode.\u{00e9}"] = TypedArray(uint8s: [], shape: [0])
        let encoded = file.encode()
        #expect((encoded.count - 8) % 8 == (file.entries.map(\.array.bytes.count).reduce(0, +)) % 8, "data 8-aligned")
        let decoded = try SafeTensorsFile.decode(encoded)
        #expect(decoded == file)
        #expect(decoded.metadata == file.metadata)
        #expect(try decoded["bn1.num_batches_tracked"]!.int64s() == [.max])
        #expect(decoded["bf16"]!.floats() == [1.5, -3, .infinity, Float(bitPattern: 0x0001_0000)])
        #expect(decoded.encode() == encoded, "re-encoding is stable")
    }

    @Test func emptyFileAndEditing() throws {
        let empty = SafeTensorsFile()
        #expect(empty.encode() == IOFixture.littleEndian(UInt64(8)) + Array("{}      ".utf8))
        #expect(try SafeTensorsFile.decode(empty.encode()) == empty)
        var file = try SafeTensorsFile([("a", TypedArray(floats: [1], shape: [1])), ("b", TypedArray(floats: [2], shape: [1]))])
        file["a"] = TypedArray(floats: [3], shape: [1])
        #expect(file.names == ["a", "b"] && file["a"]!.floats() == [3])
        file["a"] = nil
        file["c"] = TypedArray(int64s: [1], shape: [1])
        #expect(file.names == ["b", "c"] && file["b"]!.floats() == [2] && file["a"] == nil)
        #expect(throws: TensorFileError.safetensorsDuplicateName("a")) {
            try SafeTensorsFile([("a", TypedArray(floats: [1], shape: [1])), ("a", TypedArray(floats: [2], shape: [1]))])
        }
        #expect(throws: TensorFileError.safetensorsInvalidEntry(tensor: "__metadata__", message: "is reserved for metadata")) {
            try SafeTensorsFile([("__metadata__", TypedArray(floats: [1], shape: [1]))])
        }
    }

    @Test func fileReadWriteIsAtomic() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dir = directory.url
        let url = dir.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(IOFixture.numpyTensors, metadata: ["format": "np"])
        try file.write(to: url)
        try file.write(to: url)
        #expect(try SafeTensorsFile.read(contentsOf: url) == file)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
        // With MEDTENSOR_IO_VERIFY_DIR set, also leave it for `make_io_fixtures.py verify DIR`.
        if let verify = ProcessInfo.processInfo.environment["MEDTENSOR_IO_VERIFY_DIR"] {
            try file.write(to: URL(fileURLWithPath: verify).appendingPathComponent("swift.safetensors"))
        }
        // An empty file is an error, not a crash of the mapping code.
        let emptyURL = dir.appendingPathComponent("empty.safetensors")
        try Data().write(to: emptyURL)
        let empty = try #require(throws: FileError.self) { try SafeTensorsFile.read(contentsOf: emptyURL) }
        #expect(empty.path == emptyURL.path)
        #expect(empty.underlying(as: TensorFileError.self) == .truncated(
            what: "safetensors header length", offset: 0, needed: 8, available: 0))
        #expect(throws: FileError.self) { try SafeTensorsFile.read(contentsOf: dir) }
    }

    @Test func errorMessagesSayWhatAndWhere() {
        let error = FileError(path: "model.safetensors", TensorFileError.safetensorsSizeMismatch(
            tensor: "layer1.0.conv1.weight", dtype: "F32", shape: [64, 3, 7, 7], begin: 0, end: 100, expected: 37632))
        #expect(error.description == "model.safetensors: tensor 'layer1.0.conv1.weight' has data_offsets [0, 100] "
            + "but shape [64, 3, 7, 7] of F32 needs 37632 bytes")
        #expect(error.underlying(as: TensorFileError.self) == .safetensorsSizeMismatch(
            tensor: "layer1.0.conv1.weight", dtype: "F32", shape: [64, 3, 7, 7], begin: 0, end: 100, expected: 37632))
    }

    // MARK: malformed files: each gives its own error

    /// Decodes a file made of `header` (padded like the library's) and `buffer`; the error it throws, if any.
    private func error(_ header: String, _ buffer: [UInt8] = [], length: UInt64? = nil) -> TensorFileError? {
        do {
            _ = try SafeTensorsFile.decode(IOFixture.safetensorsFile(header, buffer, length: length))
            return nil
        } catch {
            return error as? TensorFileError
        }
    }

    /// A one-tensor header `{"t": {fields}}`.
    private func entry(_ fields: String) -> String { "{\"t\":{\(fields)}}" }
    private let f32x2 = "\"dtype\":\"F32\",\"shape\":[2]"
    private let eight = [UInt8](repeating: 0, count: 8)

    @Test func malformedFraming() {
        #expect(throws: TensorFileError.truncated(
            what: "safetensors header length", offset: 0, needed: 8, available: 5)) {
            try SafeTensorsFile.decode([1, 0, 0, 0, 0])
        }
        #expect(error("{}", eight, length: 1000) == .safetensorsHeaderLength(length: 1000, fileSize: 24))
        #expect(error("{}", length: .max) == .safetensorsHeaderLength(length: .max, fileSize: 16))
        #expect(throws: TensorFileError.safetensorsHeaderEncoding(offset: 10)) {
            try SafeTensorsFile.decode(IOFixture.littleEndian(UInt64(4)) + [0x7b, 0x22, 0xff, 0x7d])
        }
        #expect(error("[1, 2]") == .safetensorsHeaderNotObject)
    }

    /// Invalid JSON, with the file offset where parsing stopped.
    @Test(arguments: [
        ("{\"t\": }", 14), ("{\"a\":1,}", 15), ("{\"t\":{\"dtype\":\"F32\"", 32), ("{} {}", 11), ("{'t': 1}", 9),
        ("{\"a\":\"\u{1}\"}", 14), ("{\"a\":01}", 14), ("{\"a\":\"\\x\"}", 15), ("{\"a\":\"\\ud800\"}", 20), ("", 8),
        ("{\"a\":tru}", 16), ("{\"a\":-}", 14), ("{\"a\":1.}", 15),
        ("{\"a\":[" + String(repeating: "[", count: 70), 76),
    ])
    func malformedJSON(_ header: String, offset: Int) {
        guard case .safetensorsHeaderJSON(let at, _) = error(header) else {
            Issue.record("\(header): \(String(describing: error(header)))")
            return
        }
        #expect(at == offset, "\(String(describing: error(header)))")
    }

    @Test func malformedEntries() {
        func invalid(_ message: String) -> TensorFileError { .safetensorsInvalidEntry(tensor: "t", message: message) }
        #expect(error("{\"t\": 3}") == invalid("is a number, not an object"))
        #expect(error(entry("\"shape\":[2],\"data_offsets\":[0,8]"), eight) == invalid("has no 'dtype'"))
        #expect(error(entry("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), eight) == invalid("has no 'shape'"))
        #expect(error(entry(f32x2), eight) == invalid("has no 'data_offsets'"))
        #expect(error(entry("\(f32x2),\"dtype\":\"F32\",\"data_offsets\":[0,8]"), eight)
            == invalid("has the field 'dtype' twice"))
        #expect(error(entry("\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]"), eight)
            == invalid("has a 'shape' that is not a list of integers: [2.5]"))
        #expect(error(entry("\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]"), eight)
            == invalid("has a 'dtype' that is a number"))
        for dtype in ["F8_E4M3", "U64", "f32", "X9"] {
            #expect(error(entry("\"dtype\":\"\(dtype)\",\"shape\":[2],\"data_offsets\":[0,8]"), eight)
                == .safetensorsUnknownDType(tensor: "t", dtype: dtype))
        }
        #expect(error(entry("\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]"), eight)
            == .invalidShape(tensor: "t", shape: [-1, 2], reason: "negative dimension"))
        #expect(error(entry("\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,8]"), eight)
            == .invalidShape(tensor: "t", shape: [1 << 40, 1 << 40], reason: "element count overflows"))
        for offsets in ["[0]", "[0,8,8]", "[\"0\",8]", "[-8,0]", "[0,8.0]", "{}", "[0,18446744073709551616]"] {
            #expect(error(entry("\(f32x2),\"data_offsets\":\(offsets)"), eight)
                == .safetensorsDataOffsets(tensor: "t", message: "\(offsets) is not a pair of non-negative integers"))
        }
        #expect(error(entry("\(f32x2),\"data_offsets\":[8,0]"), eight)
            == .safetensorsOffsetsReversed(tensor: "t", begin: 8, end: 0))
        let outside = entry("\(f32x2),\"data_offsets\":[4,12]")
        #expect(error(outside, eight) == .safetensorsOffsetsOutOfBounds(
            tensor: "t", begin: 4, end: 12, bufferSize: 8, bufferStart: IOFixture.safetensorsFile(outside).count))
        #expect(error(entry("\(f32x2),\"data_offsets\":[0,4]"), eight) == .safetensorsSizeMismatch(
            tensor: "t", dtype: "F32", shape: [2], begin: 0, end: 4, expected: 8))
    }

    @Test func malformedLayout() {
        func two(_ a: String, _ b: String, _ nameB: String = "b") -> String {
            "{\"a\":{\(f32x2),\"data_offsets\":\(a)},\"\(nameB)\":{\(f32x2),\"data_offsets\":\(b)}}"
        }
        #expect(error(two("[0,8]", "[4,12]"), eight + eight)
            == .safetensorsOverlap(tensor: "b", other: "a", begin: 4, end: 12))
        #expect(error(two("[0,8]", "[0,8]"), eight) == .safetensorsOverlap(tensor: "b", other: "a", begin: 0, end: 8))
        let gap = two("[0,8]", "[12,20]")
        #expect(error(gap, eight + eight + [0, 0, 0, 0])
            == .safetensorsHole(begin: 8, end: 12, bufferStart: IOFixture.safetensorsFile(gap).count))
        let tail = entry("\(f32x2),\"data_offsets\":[0,8]")
        #expect(error(tail, eight + [0, 0])
            == .safetensorsHole(begin: 8, end: 10, bufferStart: IOFixture.safetensorsFile(tail).count))
        #expect(error("{}", [1, 2, 3]) == .safetensorsHole(begin: 0, end: 3, bufferStart: 16))
        #expect(error(two("[0,8]", "[8,16]", "a"), eight + eight) == .safetensorsDuplicateName("a"))
    }

    @Test func malformedMetadata() {
        #expect(error("{\"__metadata__\":{},\"__metadata__\":{}}") == .safetensorsDuplicateName("__metadata__"))
        #expect(error("{\"__metadata__\":{\"format\":\"pt\",\"n\":1}}")
            == .safetensorsMetadata(key: "n", message: "is a number, not a string"))
        #expect(error("{\"__metadata__\":[\"pt\"]}") == .safetensorsMetadata(key: nil, message: "is an array, not an object"))
        #expect(error("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}") == .safetensorsMetadata(key: "k", message: "appears twice"))
    }

    /// What the format allows: empty tensors anywhere, unknown extra fields (the Python library ignores them),
    /// any JSON whitespace, `\u` escapes and surrogate pairs in names.
    @Test func acceptsWhatTheFormatAllows() throws {
        let header = "{ \"e\" : {\"dtype\":\"I64\",\"shape\":[0,3],\"data_offsets\":[8,8]} ,\n"
            + "\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8],\"extra\":null}}"
        let file = try SafeTensorsFile.decode(IOFixture.safetensorsFile(header, eight))
        #expect(file.names == ["e", "\u{e9}\u{1F600}"])
        #expect(file["e"]!.shape == [0, 3] && file["\u{e9}\u{1F600}"]!.bytes == eight)
    }

    /// 4000 seeded mutations of valid safetensors files: every decode either throws a TensorFileError or returns
    /// a file whose arrays match their shapes and which re-encodes to an equal file. Never a crash.
    @Test func fuzzedFilesNeverCrash() throws {
        var files = try ["numpy.safetensors", "torch.safetensors", "metadata.safetensors"].map(IOFixture.bytes)
        let bf16 = TypedArray(floats: [1, 2], shape: [2], as: .bfloat16)
        files.append(try SafeTensorsFile(IOFixture.numpyTensors + [("b", bf16)], metadata: ["a": "b"]).encode())
        var rng = IOSplitMix64(state: 0x5EED_5AFE)
        var successes = 0
        var failures: [String: Int] = [:]
        let mutations = 4000
        for _ in 0..<mutations {
            let original = files[rng.below(files.count)]
            let headerLength = original.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
            let headerEnd = 8 + headerLength
            let mutated = IOFixture.mutate(original, header: 8..<headerEnd, lengthField: 0..<8, rng: &rng)
            do {
                let file = try SafeTensorsFile.decode(mutated)
                #expect(Set(file.names).count == file.count)
                #expect(file.entries.allSatisfy { $0.array.bytes.count == $0.array.count * $0.array.dtype.byteSize })
                #expect(try SafeTensorsFile.decode(file.encode()) == file)
                successes += 1
            } catch let error as TensorFileError {
                #expect(!error.description.isEmpty)
                failures[IOFixture.caseName(error), default: 0] += 1
            }
        }
        #expect(successes + failures.values.reduce(0, +) == mutations)
        #expect(successes > 100 && failures.count >= 8, "successes \(successes), failures \(failures)")
        print("safetensors fuzz: \(mutations) mutations, \(successes) decoded consistently, "
            + "rejected: \(failures.sorted { $0.key < $1.key })")
    }
}
