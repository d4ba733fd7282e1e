import Foundation
@testable import MedIO
import MedTestSupport
import Testing

// MARK: - helpers shared with SafeTensorsTests

/// The fixtures written by `Tests/Fixtures/make_io_fixtures.py` (numpy 2.4, safetensors 0.8, torch 2.x).
enum IOFixture {
    static let directory = Fixtures.url("io")

    static func url(_ name: String) -> URL { Fixtures.url("io/\(name)") }
    static func bytes(_ name: String) throws -> [UInt8] { try Fixtures.bytes("io/\(name)") }
}

/// SplitMix64: a tiny seeded generator so the fuzz tests are reproducible.
struct IOSplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

extension IOFixture {
    /// Random damage to a valid file. `header` is the byte range of the text header; `lengthField` is where the
    /// header length is stored. Eight kinds of damage, chosen uniformly.
    static func mutate(_ original: [UInt8], header: Range<Int>, lengthField: Range<Int>, rng: inout IOSplitMix64) -> [UInt8] {
        var b = original
        let special = Array("\"',:[]{}()-.e\\ 0123456789".utf8) + [0x00, 0x80, 0xff, 0x0a]
        func headerIndex() -> Int { header.isEmpty ? 0 : header.lowerBound + rng.below(header.count) }
        switch rng.below(8) {
        case 0:  // bit flips anywhere
            for _ in 0..<(1 + rng.below(4)) where !b.isEmpty { b[rng.below(b.count)] ^= 1 << UInt8(rng.below(8)) }
        case 1:  // random bytes over the header
            for _ in 0..<(1 + rng.below(3)) { b[headerIndex()] = rng.byte() }
        case 2:  // a syntax character over the header
            b[headerIndex()] = special[rng.below(special.count)]
        case 3:  // one digit for another, which keeps the syntax and changes shapes and offsets
            let digits = header.filter { b[$0] >= 0x30 && b[$0] <= 0x39 }
            if !digits.isEmpty { b[digits[rng.below(digits.count)]] = 0x30 + UInt8(rng.below(10)) }
        case 4:  // truncation
            b.removeLast(rng.below(b.count + 1))
        case 5:  // extension
            b += (0..<(1 + rng.below(64))).map { _ in rng.below(2) == 0 ? 0 : rng.byte() }
        case 6:  // header length tampering: small deltas, random values, extremes
            let width = lengthField.count
            var value: UInt64 = 0
            for (i, p) in lengthField.enumerated() { value |= UInt64(b[p]) << (8 * UInt64(i)) }
            switch rng.below(4) {
            case 0: value &+= UInt64(1 + rng.below(16))
            case 1: value &-= UInt64(1 + rng.below(16))
            case 2: value = rng.next()
            default: value = [0, UInt64.max, UInt64(Int.max), 1 << 32][rng.below(4)]
            }
            for (i, p) in lengthField.enumerated() where i < width { b[p] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        default:  // delete or duplicate a slice of the header (shifts everything after it)
            let start = headerIndex()
            let length = min(1 + rng.below(8), b.count - start)
            if rng.below(2) == 0 {
                b.removeSubrange(start..<start + length)
            } else {
                b.insert(contentsOf: b[start..<start + length], at: start)
            }
        }
        return b
    }

    /// The case name of an error, for tallying which validations the fuzzer reached.
    static func caseName(_ error: TensorFileError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    /// A hand-made v1.0 npy file with `header` padded as numpy pads it.
    static func npyFile(_ header: String, data: [UInt8]) -> [UInt8] {
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: 63 - (10 + text.count) % 64) + [0x0a]
        return Npy.magic + [1, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8)] + text + data
    }
}

// MARK: - npy

/// Expected contents of `dtype_<code>.npy` (same values as VALUES in make_io_fixtures.py), shape [2, 3].
struct NpyDTypeCase: Sendable, CustomStringConvertible {
    var code: String
    var dtype: DType
    var integers: [Int64] = []
    var doubles: [Double] = []
    var description: String { code }

    static let all: [NpyDTypeCase] = [
        .init(code: "b1", dtype: .bool, integers: [1, 0, 1, 0, 0, 1]),
        .init(code: "u1", dtype: .uint8, integers: [0, 1, 127, 128, 254, 255]),
        .init(code: "i1", dtype: .int8, integers: [-128, -1, 0, 1, 100, 127]),
        .init(code: "u2", dtype: .uint16, integers: [0, 1, 255, 256, 65534, 65535]),
        .init(code: "i2", dtype: .int16, integers: [-32768, -1, 0, 1, 12345, 32767]),
        .init(code: "i4", dtype: .int32, integers: [-2_147_483_648, -1, 0, 1, 123_456_789, 2_147_483_647]),
        .init(code: "i8", dtype: .int64, integers: [.min, -1, 0, 1, 9_007_199_254_740_993, .max]),
        .init(code: "f2", dtype: .float16, doubles: [0, -0.0, 1.5, -65504, 0x1p-24, .infinity]),
        .init(code: "f4", dtype: .float32, doubles: [0, -0.0, 1.5, -2.25, Double(Float.greatestFiniteMagnitude),
                                                     Double(Float.leastNonzeroMagnitude)]),
        .init(code: "f8", dtype: .float64, doubles: [0, -0.0, 0.1, 1e300, -2.5, .leastNonzeroMagnitude]),
    ]

    /// The array the fixture holds, built in Swift.
    var array: TypedArray {
        switch dtype {
        case .float64:
            try! TypedArray(dtype: .float64, shape: [2, 3], bytes: doubles.flatMap { IOFixture.littleEndian($0.bitPattern) })
        case .float16, .float32: TypedArray(floats: doubles.map(Float.init), shape: [2, 3], as: dtype)
        default: try! TypedArray(integers: integers, shape: [2, 3], dtype: dtype)
        }
    }
}

@Suite struct NpyTests {
    @Test(arguments: NpyDTypeCase.all)
    func readsNumpyFixtureOfEachDType(_ c: NpyDTypeCase) throws {
        let a = try Npy.read(contentsOf: IOFixture.url("dtype_\(c.code).npy"))
        #expect(a.dtype == c.dtype)
        #expect(a.shape == [2, 3])
        if c.dtype.isFloatingPoint {
            #expect(throws: TensorFileError.notInteger(dtype: c.dtype, requested: "Int64")) { try a.int64s() }
            #expect(a.floats().map(\.bitPattern) == c.doubles.map { Float($0).bitPattern })
        } else {
            #expect(try a.int64s() == c.integers)
            #expect(a.floats() == c.integers.map(Float.init))
        }
        if c.dtype == .float64 { #expect(a.bytes == c.doubles.flatMap { IOFixture.littleEndian($0.bitPattern) }) }
        #expect(a == c.array)
    }

    /// Our encoder writes exactly the bytes numpy does, header padding included.
    @Test(arguments: NpyDTypeCase.all.map { "dtype_\($0.code).npy" }
        + ["scalar_f4.npy", "scalar_i8.npy", "empty_f4.npy", "bool_1d.npy", "version_1.npy"])
    func encodeIsByteIdenticalToNumpy(_ name: String) throws {
        let file = try IOFixture.bytes(name)
        #expect(try Npy.encode(Npy.decode(file)) == file)
    }

    @Test(arguments: DType.allCases.filter { $0 != .bfloat16 })
    func everyDTypeRoundTrips(_ dtype: DType) throws {
        for shape in [[], [0], [5], [2, 3], [2, 0, 3], [1, 2, 3, 2]] {
            let n = shape.reduce(1, *)
            var rng = IOSplitMix64(state: UInt64(n) &* 977 &+ UInt64(dtype.byteSize))
            let bytes: [UInt8] = (0..<n * dtype.byteSize).map { _ in dtype == .bool ? UInt8(rng.below(2)) : rng.byte() }
            let a = try TypedArray(dtype: dtype, shape: shape, bytes: bytes)
            let encoded = try Npy.encode(a)
            #expect(encoded.count % 64 == bytes.count % 64, "data starts on a 64-byte boundary")
            #expect(try Npy.decode(encoded) == a)
        }
    }

    @Test func bfloat16CannotBeWrittenAsNpy() {
        let a = TypedArray(floats: [1, 2], shape: [2], as: .bfloat16)
        #expect(throws: TensorFileError.unsupportedDType(dtype: .bfloat16, format: "npy")) { try Npy.encode(a) }
    }

    @Test func fortranOrderBecomesCOrder() throws {
        let i4 = try Npy.read(contentsOf: IOFixture.url("fortran_i4.npy"))
        #expect(i4.shape == [2, 3, 4])
        #expect(try i4.int64s() == (0..<24).map(Int64.init))
        let f8 = try Npy.read(contentsOf: IOFixture.url("fortran_f8.npy"))
        #expect(f8.shape == [2, 3])
        #expect(f8.floats() == [0, 0.5, 1, 1.5, 2, 2.5])
        let beI2 = try Npy.read(contentsOf: IOFixture.url("fortran_be_i2.npy"))
        #expect(beI2.dtype == .int16 && beI2.shape == [3, 2, 2])
        #expect(try beI2.int64s() == (0..<12).map { Int64($0) - 6 })
        let empty = try Npy.read(contentsOf: IOFixture.url("empty_fortran_u1.npy"))
        #expect(empty.shape == [2, 0, 4] && empty.bytes.isEmpty)
    }

    @Test func bigEndianIsSwapped() throws {
        let f8 = try Npy.read(contentsOf: IOFixture.url("be_f8.npy"))
        #expect(f8.dtype == .float64 && f8.shape == [2, 3])
        #expect(f8.floats() == [0, 1.25, 2.5, 3.75, 5, 6.25])
        #expect(try Npy.read(contentsOf: IOFixture.url("be_i4.npy")).int64s() == [-2, -1, 0, 1, 2, 2_147_483_647])
        #expect(try Npy.read(contentsOf: IOFixture.url("be_u2.npy")).int64s() == [1, 258, 65535])
        #expect(try Npy.read(contentsOf: IOFixture.url("be_f2.npy")).floats() == [1, -2, 0.5, 65504])
        #expect(try Npy.read(contentsOf: IOFixture.url("be_i8.npy")).int64s() == [-(1 << 62), (1 << 40) + 7])
    }

    @Test func headerVersions123() throws {
        let v1 = try Npy.read(contentsOf: IOFixture.url("version_1.npy"))
        #expect(v1.dtype == .float32 && v1.shape == [2, 3] && v1.floats() == [0, 1, 2, 3, 4, 5])
        for v in [2, 3] {
            let name = "version_\(v).npy"
            #expect(try IOFixture.bytes(name)[6] == UInt8(v))
            #expect(try Npy.read(contentsOf: IOFixture.url(name)) == v1)
        }
    }

    @Test func zeroDimensionalEmptyAndBool() throws {
        let s = try Npy.read(contentsOf: IOFixture.url("scalar_f4.npy"))
        #expect(s.shape == [] && s.count == 1 && s.floats() == [3.5])
        let i = try Npy.read(contentsOf: IOFixture.url("scalar_i8.npy"))
        #expect(try i.shape == [] && i.int64s() == [-7])
        let e = try Npy.read(contentsOf: IOFixture.url("empty_f4.npy"))
        #expect(e.shape == [0, 3] && e.count == 0 && e.floats().isEmpty)
        let b = try Npy.read(contentsOf: IOFixture.url("bool_1d.npy"))
        #expect(try b.dtype == .bool && b.shape == [3] && b.uint8s() == [1, 1, 0] && b.floats() == [1, 1, 0])
    }

    @Test func versionTwoWhenTheHeaderIsLarge() throws {
        // 23000 axes of length 1 make a header longer than 65535 bytes, which needs the 4-byte length of 2.0.
        let a = try TypedArray(dtype: .uint8, shape: [Int](repeating: 1, count: 23000) + [3], bytes: [1, 2, 3])
        let encoded = try Npy.encode(a)
        #expect(encoded[6] == 2)
        #expect((encoded.count - 3) % 64 == 0)
        #expect(try Npy.decode(encoded) == a)
    }

    @Test func lenientWhereNumpyIsLenient() throws {
        // Double quotes, no trailing comma, other key order, Python 2 long suffix, extra whitespace.
        let header = "{ \"shape\" : (2L, 1,) , 'fortran_order':False,'descr':'<i2'}\n"
        let a = try Npy.decode(IOFixture.npyFile(header, data: [1, 0, 2, 0]))
        #expect(try a.shape == [2, 1] && a.int64s() == [1, 2])
        // A 1-byte type may say '<' instead of '|'.
        let u1 = IOFixture.npyFile("{'descr': '<u1', 'fortran_order': False, 'shape': (1,)}", data: [9])
        #expect(try Npy.decode(u1).uint8s() == [9])
    }

    @Test func malformedFilesGiveSpecificErrors() throws {
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let data = [UInt8](repeating: 0, count: 8)
        func decode(_ bytes: [UInt8]) throws -> TypedArray { try Npy.decode(bytes) }
        func kind(_ bytes: [UInt8]) -> String {
            do { _ = try Npy.decode(bytes); return "success" } catch {
                return (error as? TensorFileError).map(IOFixture.caseName) ?? "foreign \(error)"
            }
        }
        #expect(throws: TensorFileError.npyBadMagic) { try decode(Array("PK\u{3}\u{4}whatever".utf8)) }
        #expect(throws: TensorFileError.truncated(what: "npy preamble", offset: 0, needed: 10, available: 0)) {
            try decode([])
        }
        #expect(throws: TensorFileError.truncated(what: "npy preamble", offset: 0, needed: 10, available: 7)) {
            try decode(Array(IOFixture.npyFile(good, data: data).prefix(7)))
        }
        var v4 = IOFixture.npyFile(good, data: data)
        v4[6] = 4
        #expect(throws: TensorFileError.npyUnsupportedVersion(major: 4, minor: 0)) { try decode(v4) }
        #expect(throws: TensorFileError.truncated(what: "npy header length", offset: 8, needed: 2, available: 1)) {
            try decode(Array(IOFixture.npyFile(good, data: data).prefix(9)))
        }
        let full = IOFixture.npyFile(good, data: data)
        let dataStart = full.count - data.count
        #expect(dataStart == 128)
        #expect(throws: TensorFileError.truncated(what: "npy header", offset: 10, needed: 118, available: 30)) {
            try decode(Array(full.prefix(40)))
        }
        #expect(throws: TensorFileError.truncated(what: "npy data", offset: 128, needed: 8, available: 5)) {
            try decode(Array(full.prefix(133)))
        }
        #expect(throws: TensorFileError.npyTrailingBytes(offset: 128, expected: 8, actual: 9)) { try decode(full + [0]) }
        // Header syntax: each of these stops the strict parser.
        for header in ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "{'descr': '<f4' 'shape': (2,)}",
                       "{'descr': <f4, 'fortran_order': False, 'shape': (2,)}", "{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}",
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "{'descr': '<f4\\x', 'fortran_order': False, 'shape': (2,)}",
                       "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}",
                       String(repeating: "(", count: 40) + String(repeating: ")", count: 40),
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}"] {
            #expect(kind(IOFixture.npyFile(header, data: data)) == "npyHeaderSyntax", "\(header)")
        }
        #expect(throws: TensorFileError.npyHeaderKeys(found: ["descr", "shape"])) {
            try decode(IOFixture.npyFile("{'descr': '<f4', 'shape': (2,)}", data: data))
        }
        #expect(throws: TensorFileError.npyHeaderKeys(found: ["descr", "fortran_order", "shape", "extra"])) {
            try decode(IOFixture.npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", data: data))
        }
        #expect(kind(IOFixture.npyFile("[1, 2]", data: data)) == "npyHeaderSyntax")
        #expect(throws: TensorFileError.npyHeaderValue(key: "fortran_order", message: "is not True or False")) {
            try decode(IOFixture.npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", data: data))
        }
        #expect(throws: TensorFileError.npyHeaderValue(key: "shape", message: "is not a tuple")) {
            try decode(IOFixture.npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", data: data))
        }
        #expect(throws: TensorFileError.npyHeaderValue(key: "shape", message: "is not a tuple of non-negative integers")) {
            try decode(IOFixture.npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 1)}", data: data))
        }
        for descr in ["<u4", "<c8", "<f16", "|O", "<U3", "f4", "=f4", "<b2"] {
            #expect(throws: TensorFileError.npyUnsupportedDescr(descr)) {
                try decode(IOFixture.npyFile("{'descr': '\(descr)', 'fortran_order': False, 'shape': (2,)}", data: data))
            }
        }
        #expect(throws: TensorFileError.npyUnsupportedDescr("structured dtype")) {
            try decode(IOFixture.npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", data: data))
        }
        #expect(kind(IOFixture.npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", data: data))
            == "invalidShape")
    }

    @Test func errorsFromFilesNameThePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dir = directory.url
        let url = dir.appendingPathComponent("labels.npy")
        try Data(IOFixture.npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}", data: [1, 2])).write(to: url)
        do {
            _ = try Npy.read(contentsOf: url)
            Issue.record("expected an error")
        } catch let error as FileError {
            #expect(error.path == url.path)
            #expect(error.underlying(as: TensorFileError.self) == .truncated(what: "npy data", offset: 128, needed: 24, available: 2))
            #expect(error.description == "\(url.path): file ends inside the npy data at byte 128: needs 24 bytes, 2 remain")
        }
        let missing = dir.appendingPathComponent("missing.npy")
        let error = try #require(throws: FileError.self) { try Npy.read(contentsOf: missing) }
        let system = try #require(error.systemError)
        #expect(error.path == missing.path && system.operation == "open for reading" && system.reason.contains("No such file"))
    }

    @Test func writeReplacesAtomically() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let dir = directory.url
        let url = dir.appendingPathComponent("x.npy")
        let a = TypedArray(floats: [1, 2, 3], shape: [3])
        try Npy.write(a, to: url)
        let b = TypedArray(int64s: [7, 8], shape: [1, 2])
        try Npy.write(b, to: url)
        #expect(try Npy.read(contentsOf: url) == b)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.npy"], "no temporary left behind")
        // Writing into a directory that does not exist fails cleanly.
        #expect(throws: FileError.self) { try Npy.write(a, to: dir.appendingPathComponent("no/such/dir/x.npy")) }
    }

    /// With MEDTENSOR_IO_VERIFY_DIR set, leaves Swift-written files for `make_io_fixtures.py verify DIR`.
    @Test func writesFilesForNumpyToVerify() throws {
        let env = ProcessInfo.processInfo.environment["MEDTENSOR_IO_VERIFY_DIR"]
        let scratch = try env == nil ? TemporaryDirectory() : nil
        defer { scratch?.remove() }
        let dir = env.map { URL(fileURLWithPath: $0) } ?? scratch!.url
        for c in NpyDTypeCase.all {
            let url = dir.appendingPathComponent("swift_\(c.code).npy")
            try Npy.write(c.array, to: url)
            #expect(try Npy.read(contentsOf: url) == c.array)
        }
    }

    /// 4000 seeded mutations of valid npy files: every decode either throws a TensorFileError or returns an
    /// array whose bytes match its shape and which re-encodes to an equal array. Never a crash.
    @Test func fuzzedFilesNeverCrash() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: IOFixture.directory.path)
            .filter { $0.hasSuffix(".npy") }.sorted()
        let files = try names.map(IOFixture.bytes)
        var rng = IOSplitMix64(state: 0x5EED_0_4E59)
        var successes = 0
        var failures: [String: Int] = [:]
        let mutations = 4000
        for _ in 0..<mutations {
            let original = files[rng.below(files.count)]
            let lengthField = original[6] == 1 ? 8..<10 : 8..<12
            let header = lengthField.upperBound..<(original.count - (try Npy.decode(original).bytes.count))
            let mutated = IOFixture.mutate(original, header: header, lengthField: lengthField, rng: &rng)
            do {
                let a = try Npy.decode(mutated)
                #expect(a.bytes.count == a.count * a.dtype.byteSize)
                #expect(try Npy.decode(Npy.encode(a)) == a)
                successes += 1
            } catch let error as TensorFileError {
                #expect(!error.description.isEmpty)
                failures[IOFixture.caseName(error), default: 0] += 1
            }
        }
        #expect(successes + failures.values.reduce(0, +) == mutations)
        #expect(successes > 100 && failures.count >= 6, "successes \(successes), failures \(failures)")
        print("npy fuzz: \(mutations) mutations, \(successes) decoded consistently, "
            + "rejected: \(failures.sorted { $0.key < $1.key })")
    }
}

// MARK: - TypedArray and the 16-bit float conversions

@Suite struct TypedArrayTests {
    /// f32 → f16 matches numpy's astype(float16) bit for bit, NaN payloads included.
    @Test func float16MatchesNumpy() throws {
        let source = try Npy.read(contentsOf: IOFixture.url("f16_source_f32.npy")).floats()
        let numpy = try Npy.read(contentsOf: IOFixture.url("f16_numpy.npy"))
        let ours = TypedArray(floats: source, shape: [source.count], as: .float16)
        #expect(source.count > 800 && numpy.dtype == .float16)
        let mismatches = (0..<source.count).filter { ours.bytes[2 * $0 ..< 2 * $0 + 2] != numpy.bytes[2 * $0 ..< 2 * $0 + 2] }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5).map { String(source[$0].bitPattern, radix: 16) })")
        // f16 → f32 matches numpy's widening exactly.
        let widened = try Npy.read(contentsOf: IOFixture.url("f16_numpy_widened_f32.npy"))
        #expect(numpy.floats().map(\.bitPattern) == widened.floats().map(\.bitPattern))
    }

    /// f32 → bf16 matches PyTorch's .to(torch.bfloat16) for every non-NaN input; NaN stays NaN.
    @Test func bfloat16MatchesTorch() throws {
        let source = try Npy.read(contentsOf: IOFixture.url("bf16_source_f32.npy")).floats()
        let torch = try Npy.read(contentsOf: IOFixture.url("bf16_torch_u2.npy")).integers(as: UInt16.self)
        let bits = TypedArray(floats: source, shape: [source.count], as: .bfloat16)
        let ourBits = (0..<source.count).map { UInt16(bits.bytes[2 * $0]) | UInt16(bits.bytes[2 * $0 + 1]) << 8 }
        var nanCount = 0
        for i in source.indices {
            if source[i].isNaN {
                nanCount += 1
                #expect(ourBits[i] & 0x7f80 == 0x7f80 && ourBits[i] & 0x7f != 0 && ourBits[i] & 0x40 != 0)
                #expect(HalfFloatBits.float(fromBFloat: torch[i]).isNaN)
            } else {
                #expect(ourBits[i] == torch[i], "input \(String(source[i].bitPattern, radix: 16))")
            }
        }
        #expect(nanCount >= 5)
        // bf16 → f32 is the top half of the bits.
        let widened = try TypedArray(dtype: .bfloat16, shape: [torch.count], bytes: torch.flatMap(IOFixture.littleEndian))
        #expect(widened.floats().map(\.bitPattern) == torch.map { UInt32($0) << 16 })
    }

    /// Every half bit pattern survives f16 → f32 → f16, NaNs included.
    @Test func float16RoundTripsExhaustively() {
        let all = (0...UInt16.max).flatMap(IOFixture.littleEndian)
        let halves = try! TypedArray(dtype: .float16, shape: [65536], bytes: all)
        #expect(TypedArray(floats: halves.floats(), shape: [65536], as: .float16).bytes == all)
    }

    #if !(os(macOS) && arch(x86_64))
    /// Cross-check against the standard library's Float16, which is independent of our bit twiddling.
    @Test func float16AgreesWithStandardLibrary() {
        for h in 0...UInt16.max {
            let f = HalfFloatBits.float(fromHalf: h)
            let reference = Float(Float16(bitPattern: h))
            #expect(f.bitPattern == reference.bitPattern || (f.isNaN && reference.isNaN))
        }
        var rng = IOSplitMix64(state: 16)
        var mismatches = 0
        for _ in 0..<200_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if !f.isNaN && HalfFloatBits.half(from: f) != Float16(f).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif

    @Test func initialiserValidates() throws {
        #expect(throws: TensorFileError.byteCountMismatch(dtype: .float32, shape: [2, 3], expected: 24, actual: 20)) {
            try TypedArray(dtype: .float32, shape: [2, 3], bytes: [UInt8](repeating: 0, count: 20))
        }
        #expect(throws: TensorFileError.invalidShape(tensor: nil, shape: [2, -3], reason: "negative dimension")) {
            try TypedArray(dtype: .uint8, shape: [2, -3], bytes: [])
        }
        #expect(throws: TensorFileError.invalidShape(tensor: nil, shape: [1 << 62, 4], reason: "element count overflows")) {
            try TypedArray(dtype: .uint8, shape: [1 << 62, 4], bytes: [])
        }
        #expect(throws: TensorFileError.invalidShape(tensor: nil, shape: [1 << 62], reason: "byte count overflows")) {
            try TypedArray(dtype: .int64, shape: [1 << 62], bytes: [])
        }
        #expect(try TypedArray(dtype: .float64, shape: [], bytes: [UInt8](repeating: 0, count: 8)).count == 1)
    }

    @Test func integersNeverGoThroughFloat() throws {
        let big = TypedArray(int64s: [(1 << 53) + 1, .max, .min], shape: [3])
        #expect(try big.int64s() == [(1 << 53) + 1, .max, .min])
        #expect(big.floats() == [0x1p53, 0x1p63, -0x1p63], "floats() rounds, explicitly")
        let f = TypedArray(floats: [1, 2], shape: [2])
        #expect(throws: TensorFileError.notInteger(dtype: .float32, requested: "Int64")) { try f.int64s() }
        #expect(throws: TensorFileError.notInteger(dtype: .float32, requested: "UInt8")) { try f.uint8s() }
        let wide = try TypedArray(integers: [0, 255, 300, -1], shape: [4], dtype: .int16)
        #expect(throws: TensorFileError.valueOutOfRange(index: 2, value: "300", target: "UInt8")) { try wide.uint8s() }
        #expect(try wide.integers(as: Int16.self) == [0, 255, 300, -1])
        #expect(throws: TensorFileError.valueOutOfRange(index: 3, value: "-1", target: "UInt32")) {
            try wide.integers(as: UInt32.self)
        }
        #expect(throws: TensorFileError.valueOutOfRange(index: 1, value: "256", target: "uint8")) {
            try TypedArray(integers: [1, 256], shape: [2], dtype: .uint8)
        }
        #expect(throws: TensorFileError.valueOutOfRange(index: 0, value: "2", target: "bool")) {
            try TypedArray(integers: [2], shape: [1], dtype: .bool)
        }
        #expect(throws: TensorFileError.valueOutOfRange(index: 0, value: "-129", target: "int8")) {
            try TypedArray(integers: [-129], shape: [1], dtype: .int8)
        }
    }

    @Test(arguments: DType.allCases)
    func floatsFromEveryDType(_ dtype: DType) throws {
        let a: TypedArray
        if dtype.isFloatingPoint {
            a = TypedArray(floats: [0, 1, -2.5, 100], shape: [2, 2], as: dtype)
            #expect(a.floats() == [0, 1, -2.5, 100])
        } else {
            let values: [Int64] = switch dtype {
            case .bool: [0, 1, 1, 0]
            case .uint8, .uint16: [0, 1, 2, 100]
            default: [0, 1, -2, 100]
            }
            a = try TypedArray(integers: values, shape: [2, 2], dtype: dtype)
            #expect(a.floats() == values.map(Float.init))
            #expect(try a.int64s() == values)
        }
        #expect(a.bytes.count == 4 * dtype.byteSize && a.count == 4)
    }

    @Test func float64RoundsToNearestAndHalfFormatsSaturate() {
        let doubles: [Double] = [0.1, 1e300, 5e-46]
        let d = try! TypedArray(dtype: .float64, shape: [3], bytes: doubles.flatMap { IOFixture.littleEndian($0.bitPattern) })
        #expect(d.floats() == [Float(0.1), .infinity, 0])
        let h = TypedArray(floats: [65520, 65519, 1e-8, -1e9], shape: [4], as: .float16)
        #expect(h.floats() == [.infinity, 65504, 0, -.infinity])
        let b = TypedArray(floats: [Float.greatestFiniteMagnitude, 1.00390625, 1.01171875], shape: [3], as: .bfloat16)
        #expect(b.floats() == [.infinity, 1, 1.015625], "ties to even")
    }
}
