import Foundation
@testable import MedIO
import MedTestSupport
import Testing


// Tests of the archive layer: CRC-32, MD5, DEFLATE and zip. The fixtures in Tests/Fixtures/archive
// come from Tests/Fixtures/make_archive_fixtures.py (zlib, zipfile and numpy); manifest.json holds
// what Python decoded from each of them.

// MARK: - Fixtures

private enum ArchiveFixture {
    static let directory = Fixtures.url("archive")

    static func url(_ name: String) -> URL { Fixtures.url("archive/\(name)") }

    static func bytes(_ name: String) throws -> [UInt8] { try Fixtures.bytes("archive/\(name)") }

    struct Stream: Decodable {
        let size: Int
        let crc32: UInt32
        let md5: String
    }

    struct Entry: Decodable {
        let name: String
        let method: UInt16
        let compressedSize: Int
        let size: Int
        let crc32: UInt32
        let headerOffset: Int
        let md5: String?  // nil when Python could not extract it either
    }

    struct Zip: Decodable {
        let md5: String
        let entries: [Entry]
    }

    struct Manifest: Decodable {
        let streams: [String: Stream]
        let zips: [String: Zip]
    }

    static let manifest: Manifest = {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url("manifest.json")))
        } catch {
            fatalError("cannot read \(url("manifest.json").path): \(error)")
        }
    }()

    static let streamNames = manifest.streams.keys.sorted()
    /// Archives whose every entry Python could extract, with methods this reader supports.
    static let goodZipNames = manifest.zips.filter {
        $0.value.entries.allSatisfy { $0.md5 != nil && ($0.method == 0 || $0.method == 8) }
    }.keys.sorted()
}

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes DEFLATE bit streams by hand, for streams no compressor would produce.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var bitCount = 0

    /// `count` bits of `value`, least significant first (header fields, extra bits).
    mutating func write(_ value: Int, _ count: Int) {
        for i in 0..<count {
            if bitCount % 8 == 0 { bytes.append(0) }
            bytes[bytes.count - 1] |= UInt8((value >> i) & 1) << UInt8(bitCount % 8)
            bitCount += 1
        }
    }

    /// A Huffman code, most significant bit first.
    mutating func code(_ code: Int, _ length: Int) {
        for i in stride(from: length - 1, through: 0, by: -1) { write((code >> i) & 1, 1) }
    }

    /// A literal/length symbol in the fixed code of block type 1.
    mutating func fixedSymbol(_ symbol: Int) {
        switch symbol {
        case 0..<144: code(0x30 + symbol, 8)
        case 144..<256: code(0x190 + symbol - 144, 9)
        case 256..<280: code(symbol - 256, 7)
        default: code(0xC0 + symbol - 280, 8)
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String { MD5.hexDigest(bytes) }

/// Decodes with the resumable decoder, handing it `step` more bytes of room at a time. `strict`:
/// expect exactly `size` bytes from exactly all of `stream`.
private func decodeInSteps(
    _ stream: [UInt8], size: Int, step: Int, fastLoop: Bool = true, strict: Bool = true
) throws -> [UInt8] {
    var output = [UInt8](repeating: 0, count: size)
    try stream.withUnsafeBytes { input in
        try output.withUnsafeMutableBufferPointer { out in
            let decoder = InflateDecoder(input: input)
            decoder.disableFastLoop = !fastLoop
            var position = 0
            var limit = 0
            while true {
                limit = min(size, limit + step)
                let progress = try Inflate.withOutputPointer(UnsafeMutableRawBufferPointer(out)) {
                    try decoder.decode(into: $0, position: &position, limit: limit)
                }
                if progress == .finished { break }
                #expect(position == limit)
                if limit == size { throw ArchiveError.outputOverflow(entry: nil, capacity: size) }
            }
            if strict {
                #expect(position == size)
                #expect(decoder.consumedBytes == input.count)
            }
        }
    }
    return output
}

// MARK: - CRC-32

@Suite("CRC-32")
struct CRC32Tests {
    @Test("known vectors")
    func knownVectors() {
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("a".utf8)) == 0xE8B7_BE43)
        #expect(CRC32.checksum(Array("abc".utf8)) == 0x3524_41C2)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 1 << 20)) == 0xA738_EA1C)
        let ramp = (0..<256_000).map { UInt8(truncatingIfNeeded: $0) }
        #expect(CRC32.checksum(ramp) == 0xFC70_AF1A)
    }

    @Test("incremental updates equal one pass, at every split")
    func incremental() throws {
        let data = try ArchiveFixture.bytes("sample.bin")
        let whole = CRC32.checksum(data)
        #expect(whole == ArchiveFixture.manifest.streams["sample.l6.deflate"]!.crc32)
        for split in [0, 1, 15, 16, 17, 100, 4095, data.count - 1, data.count] {
            var crc = CRC32()
            crc.update(Array(data[..<split]))
            crc.update(Array(data[split...]))
            #expect(crc.checksum == whole, "split at \(split)")
        }
        var continued = CRC32(continuing: CRC32.checksum(Array(data[..<333])))
        continued.update(Array(data[333...]))
        #expect(continued.checksum == whole)
    }
}

// MARK: - MD5

@Suite("MD5")
struct MD5Tests {
    @Test("RFC 1321 test suite and block boundaries")
    func knownVectors() {
        let vectors: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
            (String(repeating: "a", count: 55), "ef1772b6dff9a122358552954ad0df65"),
            (String(repeating: "a", count: 56), "3b0c8ac703f828b04c6c197006d17218"),
            (String(repeating: "a", count: 63), "b06521f39153d618550606be297466d5"),
            (String(repeating: "a", count: 64), "014842d480b571495a4a0363793f7367"),
            (String(repeating: "a", count: 65), "c743a45e0d2e6a95cb859adae0248435"),
        ]
        for (message, digest) in vectors {
            #expect(MD5.hexDigest(Array(message.utf8)) == digest, "\(message.count) bytes")
        }
    }

    @Test("incremental in uneven chunks; a million 'a's")
    func incremental() {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var md5 = MD5()
        var offset = 0
        var chunk = 1
        while offset < data.count {
            let end = min(data.count, offset + chunk)
            md5.update(Array(data[offset..<end]))
            offset = end
            chunk = chunk * 3 % 1000 + 1
        }
        #expect(md5.hexDigest == "7707d6ae4e027c70eea2a935c2296f21")
        #expect(md5.digest.count == 16)
    }

    @Test("digest of a file equals Python's hashlib")
    func fileDigest() throws {
        for name in ["numpy_savez_compressed.npz", "zip64_full.zip"] {
            #expect(try MD5.hexDigest(ofFileAt: ArchiveFixture.url(name)) == ArchiveFixture.manifest.zips[name]!.md5)
        }
        #expect(throws: FileError.self) { try MD5.hexDigest(ofFileAt: ArchiveFixture.url("no-such-file.npz")) }
    }
}

// MARK: - Inflate

@Suite("Inflate")
struct InflateTests {
    @Test("zlib streams decode to what Python compressed", arguments: ArchiveFixture.streamNames)
    func decodesZlibStreams(name: String) throws {
        let stream = try ArchiveFixture.bytes(name)
        let expected = ArchiveFixture.manifest.streams[name]!
        let grown = try Inflate.decompress(stream)
        #expect(grown.count == expected.size)
        #expect(CRC32.checksum(grown) == expected.crc32)
        #expect(hex(grown) == expected.md5)

        // Into a buffer of exactly the right size, as zip extraction does.
        var exact = [UInt8](repeating: 0, count: expected.size)
        let result = try stream.withUnsafeBytes { input in
            try exact.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) }
        }
        #expect(result.written == expected.size)
        #expect(result.consumed == stream.count)
        #expect(exact == grown)

        // The careful loop alone, and resuming after every few bytes of room, give the same bytes.
        #expect(try decodeInSteps(stream, size: expected.size, step: expected.size + 1, fastLoop: false) == grown)
        for step in [1, 7, 300, 4096] {
            #expect(try decodeInSteps(stream, size: expected.size, step: step) == grown, "step \(step)")
        }
        if name.hasPrefix("sample.") { #expect(grown == (try ArchiveFixture.bytes("sample.bin"))) }
    }

    @Test("every truncation of a valid stream throws", arguments: ["sample.l1.deflate", "overlap.l9.deflate", "text.fixed.deflate", "sample.l0.deflate", "mixed.sync_flush.deflate"])
    func truncationThrows(name: String) throws {
        let stream = try ArchiveFixture.bytes(name)
        let size = ArchiveFixture.manifest.streams[name]!.size
        var cuts = Array(0..<min(stream.count, 64)) + Array(stride(from: 64, to: stream.count, by: 37))
        cuts += Array(max(0, stream.count - 40)..<stream.count)
        for cut in cuts {
            let prefix = Array(stream[..<cut])
            #expect(throws: ArchiveError.self, "cut at \(cut)") { try Inflate.decompress(prefix, limit: 2 * size + 1024) }
            var output = [UInt8](repeating: 0, count: size)
            #expect(throws: ArchiveError.self, "cut at \(cut), exact output") {
                try prefix.withUnsafeBytes { input in try output.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) } }
            }
        }
    }

    @Test("output that does not fit throws outputOverflow")
    func overflow() throws {
        let stream = try ArchiveFixture.bytes("sample.l6.deflate")
        let size = ArchiveFixture.manifest.streams["sample.l6.deflate"]!.size
        for capacity in [0, 1, size / 2, size - 1] {
            var output = [UInt8](repeating: 0, count: capacity)
            #expect(throws: ArchiveError.outputOverflow(entry: nil, capacity: capacity)) {
                try stream.withUnsafeBytes { input in try output.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) } }
            }
        }
        #expect(throws: ArchiveError.outputOverflow(entry: nil, capacity: 1000)) { try Inflate.decompress(stream, limit: 1000) }
        // A larger buffer is fine: the result says how much was written.
        var roomy = [UInt8](repeating: 0, count: size + 500)
        let result = try stream.withUnsafeBytes { input in try roomy.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) } }
        #expect(result.written == size)
    }

    @Test("hand-made stored blocks")
    func storedBlocks() throws {
        #expect(try Inflate.decompress([0x01, 0x03, 0x00, 0xFC, 0xFF, 0x61, 0x62, 0x63]) == Array("abc".utf8))
        #expect(try Inflate.decompress([0x01, 0x00, 0x00, 0xFF, 0xFF]) == [])
        // Non-final empty stored block, then a final one; trailing bytes are not part of the stream.
        let two: [UInt8] = [0x00, 0x00, 0x00, 0xFF, 0xFF, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x7A, 0xEE, 0xEE]
        #expect(try Inflate.decompress(two) == [0x7A])
        var one: [UInt8] = [0]
        let result = try two.withUnsafeBytes { input in try one.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) } }
        #expect(result.written == 1 && result.consumed == 11)
        #expect(throws: ArchiveError.invalidStoredLength(entry: nil, inputOffset: 1)) {
            try Inflate.decompress([0x01, 0x05, 0x00, 0x00, 0x00, 0x61])
        }
        #expect(throws: ArchiveError.truncatedStream(entry: nil, inputOffset: 7)) {
            try Inflate.decompress([0x01, 0x10, 0x00, 0xEF, 0xFF, 0x61, 0x62])
        }
        #expect(throws: ArchiveError.self) { try Inflate.decompress([0x01, 0x10]) }
        #expect(throws: ArchiveError.self) { try Inflate.decompress([]) }
    }

    @Test("reserved block type 3")
    func invalidBlockType() {
        #expect(throws: ArchiveError.invalidBlockType(entry: nil, inputOffset: 0)) { try Inflate.decompress([0x07, 0x00]) }
    }

    @Test("a match reaching before the output starts", arguments: [false, true])
    func distanceTooFar(longStream: Bool) throws {
        var bits = BitWriter()
        bits.write(1, 1)
        bits.write(1, 2)  // final, fixed Huffman
        let literals = longStream ? 100 : 1  // 100 literals make the fast loop run
        for _ in 0..<literals { bits.fixedSymbol(Int(UInt8(ascii: "a"))) }
        bits.fixedSymbol(257)  // length 3
        bits.code(29, 5)  // distance code 29: 24577 + 13 extra bits
        bits.write(0, 13)
        bits.fixedSymbol(256)
        bits.write(0, 32)  // padding so the fast loop has room to run
        let stream = bits.bytes
        #expect(throws: ArchiveError.distanceTooFar(entry: nil, distance: 24577, outputOffset: literals)) {
            try Inflate.decompress(stream)
        }
        #expect(throws: ArchiveError.distanceTooFar(entry: nil, distance: 24577, outputOffset: literals)) {
            try decodeInSteps(stream, size: 1000, step: 1000, fastLoop: false)
        }
    }

    @Test("matches of every short distance, overlapping their own output", arguments: [false, true])
    func overlappingMatches(fastLoop: Bool) throws {
        var bits = BitWriter()
        var expected: [UInt8] = []
        bits.write(1, 1)
        bits.write(1, 2)
        for distance in 1...20 {
            for i in 0..<distance {
                let byte = UInt8(truncatingIfNeeded: distance * 31 + i * 7)
                bits.fixedSymbol(Int(byte))
                expected.append(byte)
            }
            bits.fixedSymbol(285)  // length 258
            // distance codes 0-3 are 1-4; 4/5: 5-6, 7-8 (1 extra bit); 6/7: 9-12, 13-16; 8: 17-24.
            let (code, base, extra): (Int, Int, Int) =
                distance <= 4 ? (distance - 1, distance, 0)
                : distance <= 6 ? (4, 5, 1) : distance <= 8 ? (5, 7, 1)
                : distance <= 12 ? (6, 9, 2) : distance <= 16 ? (7, 13, 2) : (8, 17, 3)
            bits.code(code, 5)
            bits.write(distance - base, extra)
            for _ in 0..<258 { expected.append(expected[expected.count - distance]) }
        }
        bits.fixedSymbol(256)
        let decoded = try decodeInSteps(bits.bytes, size: expected.count, step: expected.count + 1, fastLoop: fastLoop)
        #expect(decoded == expected)
    }

    @Test("symbols the fixed code has but DEFLATE forbids")
    func invalidFixedSymbols() {
        var length286 = BitWriter()
        length286.write(3, 3)
        length286.fixedSymbol(286)
        length286.write(0, 16)
        #expect(throws: ArchiveError.self) { try Inflate.decompress(length286.bytes) }

        var distance30 = BitWriter()
        distance30.write(3, 3)
        distance30.fixedSymbol(65)
        distance30.fixedSymbol(257)
        distance30.code(30, 5)
        distance30.write(0, 16)
        #expect(throws: ArchiveError.self) { try Inflate.decompress(distance30.bytes) }
    }

    /// A dynamic header whose code-length code gives `symbols` one bit each (in symbol order),
    /// followed by `body` (code-length symbols, with extra bits).
    private func dynamicHeader(literalLengths: Int, distances: Int, precodeSymbols: [Int], body: (inout BitWriter) -> Void) -> [UInt8] {
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var bits = BitWriter()
        bits.write(1, 1)
        bits.write(2, 2)
        bits.write(literalLengths - 257, 5)
        bits.write(distances - 1, 5)
        bits.write(15, 4)  // all 19 code-length lengths
        for symbol in order { bits.write(precodeSymbols.contains(symbol) ? 1 : 0, 3) }
        body(&bits)
        bits.write(0, 32)
        return bits.bytes
    }

    @Test("malformed dynamic block headers")
    func badDynamicHeaders() {
        // Over-subscribed code-length code: three one-bit codes.
        let overSubscribed = dynamicHeader(literalLengths: 257, distances: 1, precodeSymbols: [0, 1, 18]) { _ in }
        #expect(throws: ArchiveError.self) { try Inflate.decompress(overSubscribed) }

        // Too many literal/length symbols (287 > 286).
        let tooMany = dynamicHeader(literalLengths: 287, distances: 1, precodeSymbols: [1, 18]) { _ in }
        #expect(throws: ArchiveError.self) { try Inflate.decompress(tooMany) }

        // Repeat-previous (16) as the very first length. Precode: 1 -> "0", 16 -> "1".
        let repeatFirst = dynamicHeader(literalLengths: 257, distances: 1, precodeSymbols: [1, 16]) { bits in
            bits.code(1, 1)
            bits.write(0, 2)
        }
        #expect(throws: ArchiveError.self) { try Inflate.decompress(repeatFirst) }

        // All lengths zero: no end-of-block code. Precode: 1 -> "0", 18 -> "1".
        let noEndOfBlock = dynamicHeader(literalLengths: 257, distances: 1, precodeSymbols: [1, 18]) { bits in
            bits.code(1, 1)
            bits.write(127, 7)  // 138 zeros
            bits.code(1, 1)
            bits.write(109, 7)  // 120 zeros: 258 in all
        }
        #expect(throws: ArchiveError.self) { try Inflate.decompress(noEndOfBlock) }

        // A repeat running past the last symbol.
        let overrun = dynamicHeader(literalLengths: 257, distances: 1, precodeSymbols: [1, 18]) { bits in
            for _ in 0..<3 {
                bits.code(1, 1)
                bits.write(127, 7)
            }
        }
        #expect(throws: ArchiveError.self) { try Inflate.decompress(overrun) }
    }

    @Test("Huffman table construction accepts exactly zlib's codes")
    func tableRules() {
        func build(_ lengths: [UInt8], _ alphabet: HuffmanAlphabet) -> String? {
            let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 7000)
            defer { table.deallocate() }
            return lengths.withUnsafeBufferPointer {
                HuffmanTable.build(table, capacity: 7000, primaryBits: 11, lengths: $0.baseAddress!, count: lengths.count, alphabet: alphabet)
            }
        }
        #expect(build([1, 1], .literalLength) == nil)
        #expect(build([1, 0], .literalLength) == nil)  // one 1-bit code: incomplete but allowed
        #expect(build([0, 0], .distance) == nil)  // no distance codes at all: allowed
        #expect(build([1, 2], .literalLength) != nil)  // incomplete
        #expect(build([1, 1, 1], .distance) != nil)  // over-subscribed
        #expect(build([1, 0], .codeLength) != nil)  // code-length codes must be complete
        var deep = [UInt8](repeating: 0, count: 288)  // lengths 1, 2, ..., 14, 15, 15: every subtable depth
        for i in 0..<15 { deep[i] = UInt8(i + 1) }
        deep[15] = 15
        #expect(build(deep, .literalLength) == nil)
    }
}

// MARK: - Zip

@Suite("ZipArchive")
struct ZipArchiveTests {
    @Test("entries and contents match Python's zipfile", arguments: ArchiveFixture.goodZipNames)
    func matchesPython(name: String) throws {
        let expected = ArchiveFixture.manifest.zips[name]!.entries
        let archive = try ZipArchive(contentsOf: ArchiveFixture.url(name))
        let fromBytes = try ZipArchive(bytes: ArchiveFixture.bytes(name))
        #expect(archive.entries == fromBytes.entries)
        #expect(archive.entries.map(\.name) == expected.map(\.name))
        for (entry, python) in zip(archive.entries, expected) {
            #expect(entry.method == python.method)
            #expect(entry.compressedSize == python.compressedSize)
            #expect(entry.uncompressedSize == python.size)
            #expect(entry.crc32 == python.crc32)
            #expect(entry.localHeaderOffset == python.headerOffset)
            let data = try archive.extract(entry)
            #expect(data.count == python.size)
            #expect(hex(data) == python.md5, "\(name): \(entry.name)")
        }
    }

    @Test("numpy.savez and savez_compressed hold the same .npy files")
    func numpyArchives() throws {
        let stored = try ZipArchive(contentsOf: ArchiveFixture.url("numpy_savez.npz"))
        let compressed = try ZipArchive(contentsOf: ArchiveFixture.url("numpy_savez_compressed.npz"))
        #expect(stored.entries.allSatisfy { $0.method == 0 })
        #expect(compressed.entries.allSatisfy { $0.method == 8 })
        #expect(stored.entries.map(\.name) == ["train_images.npy", "train_labels.npy", "val_images.npy", "val_labels.npy", "test_images.npy", "test_labels.npy"])
        for entry in stored.entries {
            let plain = try stored.extract(entry)
            #expect(plain.starts(with: [0x93] + Array("NUMPY".utf8)))
            #expect(try compressed.extract(named: entry.name) == plain)
            // A stored entry's bytes sit in the file as they are.
            let offset = try stored.dataOffset(of: entry)
            #expect(Array(try ArchiveFixture.bytes("numpy_savez.npz")[offset..<(offset + plain.count)]) == plain)
        }
        var decoded = 0
        for entry in compressed.entries { decoded += try compressed.extract(entry).count }
        #expect(decoded == compressed.entries.reduce(0) { $0 + $1.uncompressedSize })
    }

    @Test("extraction into a caller's buffer")
    func extractIntoBuffer() throws {
        let archive = try ZipArchive(contentsOf: ArchiveFixture.url("numpy_savez_compressed.npz"))
        let entry = try #require(archive.entry(named: "train_images.npy"))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: entry.uncompressedSize + 10, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)
        #expect(try archive.extract(entry, into: buffer) == entry.uncompressedSize)
        #expect(Array(buffer[0..<entry.uncompressedSize]) == (try archive.extract(entry)))
        #expect(buffer[entry.uncompressedSize..<(entry.uncompressedSize + 10)].allSatisfy { $0 == 0xAB })
        let small = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(entry.uncompressedSize - 1)])
        #expect(throws: ArchiveError.bufferTooSmall(entry: entry.name, needed: entry.uncompressedSize, available: entry.uncompressedSize - 1)) {
            try archive.extract(entry, into: small)
        }
    }

    @Test("zip64 structures and prepended data")
    func zip64AndPrefix() throws {
        let full = try ZipArchive(contentsOf: ArchiveFixture.url("zip64_full.zip"))
        #expect(full.entries.count == 3)
        #expect(full.prefixLength == 0)
        let forced = try ZipArchive(contentsOf: ArchiveFixture.url("zip64_forced.zip"))
        #expect(forced.entries.map(\.name) == ["a.bin", "b.bin"])
        let prefixed = try ZipArchive(contentsOf: ArchiveFixture.url("prefixed.zip"))
        #expect(prefixed.prefixLength == 43)
        let plain = try ZipArchive(contentsOf: ArchiveFixture.url("zipfile_deflated.zip"))
        #expect(try prefixed.extract(named: "sample.bin") == plain.extract(named: "sample.bin"))
        #expect(prefixed.entries[1].name == "données/é.txt")
    }

    @Test("CRC mismatch is detected")
    func crcMismatch() throws {
        let archive = try ZipArchive(contentsOf: ArchiveFixture.url("bad_crc.zip"))
        let entry = try #require(archive.entry(named: "readme.txt"))
        let error = try #require(throws: ArchiveError.self) { try archive.extract(entry) }
        guard case .crcMismatch(let name, let expected, let actual) = error else {
            Issue.record("expected a CRC mismatch, got \(error)")
            return
        }
        #expect(name == "readme.txt")
        #expect(expected == entry.crc32)
        #expect(actual != expected)
        #expect(error.description.hasPrefix("CRC-32 mismatch in entry 'readme.txt': expected 0x"))
        #expect(try archive.extract(named: "image.raw").count == 1024)  // the other entries are intact
    }

    @Test("unsupported features give clear errors")
    func unsupported() throws {
        let encrypted = try ZipArchive(contentsOf: ArchiveFixture.url("encrypted_flag.zip"))
        #expect(encrypted.entries[0].isEncrypted)
        #expect(throws: ArchiveError.unsupported(feature: "encrypted entry", entry: "secret.txt")) {
            try encrypted.extract(named: "secret.txt")
        }
        let others = try ZipArchive(contentsOf: ArchiveFixture.url("other_methods.zip"))
        #expect(throws: ArchiveError.unsupported(feature: "compression method 12 (bzip2)", entry: "bzip2.txt")) {
            try others.extract(named: "bzip2.txt")
        }
        #expect(throws: ArchiveError.unsupported(feature: "compression method 14 (lzma)", entry: "lzma.txt")) {
            try others.extract(named: "lzma.txt")
        }
        #expect(try others.extract(named: "plain.txt") == Array(String(repeating: "deflate ", count: 50).utf8))
        #expect(throws: ArchiveError.entryNotFound(name: "missing.npy")) { try others.extract(named: "missing.npy") }
    }

    @Test("not zip files")
    func notZip() throws {
        #expect(throws: ArchiveError.notAZipArchive(size: 0)) { try ZipArchive(bytes: []) }
        #expect(throws: ArchiveError.notAZipArchive(size: 1000)) { try ZipArchive(bytes: [UInt8](repeating: 7, count: 1000)) }
        #expect(throws: ArchiveError.notAZipArchive(size: 16384)) { try ZipArchive(contentsOf: ArchiveFixture.url("sample.bin")) }
        let missing = ArchiveFixture.url("missing.zip").path
        let error = try #require(throws: FileError.self) { try ZipArchive(path: missing) }
        #expect(error.path == missing && error.systemError?.code == ENOENT)
        let directory = try #require(throws: FileError.self) { try ZipArchive(path: ArchiveFixture.directory.path) }
        #expect(directory.systemError?.code == EISDIR)
    }

    @Test("a truncated entry names itself, its offset and the file end")
    func truncatedEntry() throws {
        // Make the central directory claim 100000 bytes for the stored 'image.raw'.
        var bytes = try ArchiveFixture.bytes("zipfile_stored.zip")
        let record = try #require(findCentralRecord(named: "image.raw", in: bytes))
        for field in [record + 20, record + 24] {
            bytes[field] = 0xA0; bytes[field + 1] = 0x86; bytes[field + 2] = 0x01; bytes[field + 3] = 0
        }
        let archive = try ZipArchive(bytes: bytes)
        let entry = try #require(archive.entry(named: "image.raw"))
        let dataStart = entry.localHeaderOffset + 30 + "image.raw".utf8.count
        let error = try #require(throws: ArchiveError.self) { try archive.extract(entry) }
        #expect(error == .truncated(what: "entry 'image.raw'", needed: 100_000, offset: dataStart, fileSize: bytes.count))
        #expect(error.description == "truncated: entry 'image.raw' needs 100000 bytes at offset \(dataStart) but the file ends at \(bytes.count)")
    }

    @Test("damaged DEFLATE data names the entry")
    func deflateErrorNamesEntry() throws {
        var bytes = try ArchiveFixture.bytes("zipfile_deflated.zip")
        let archive = try ZipArchive(bytes: bytes)
        let entry = try #require(archive.entry(named: "sample.bin"))
        let start = try archive.dataOffset(of: entry)
        bytes[start] = 0x07  // block type 3
        let error = try #require(throws: ArchiveError.self) { try ZipArchive(bytes: bytes).extract(named: "sample.bin") }
        #expect(error == .invalidBlockType(entry: "sample.bin", inputOffset: 0))
        #expect(error.description.contains("in entry 'sample.bin'"))
    }

    private func findCentralRecord(named name: String, in bytes: [UInt8]) -> Int? {
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let nameBytes = Array(name.utf8)
        for i in 0..<(bytes.count - 46) where Array(bytes[i..<(i + 4)]) == signature {
            let length = Int(bytes[i + 28]) | Int(bytes[i + 29]) << 8
            if length == nameBytes.count, Array(bytes[(i + 46)..<(i + 46 + length)]) == nameBytes { return i }
        }
        return nil
    }
}

// MARK: - Fuzzing

@Suite("Archive fuzzing")
struct ArchiveFuzzTests {
    /// Mutations per fixture; set ARCHIVE_FUZZ_SCALE=100 for a long soak run.
    private static let scale = ProcessInfo.processInfo.environment["ARCHIVE_FUZZ_SCALE"].flatMap { Int($0) } ?? 1

    /// Applies one random mutation: bit flips, byte changes, truncation, insertion or deletion.
    private static func mutate(_ original: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var data = original
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                data[Int.random(in: 0..<data.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            }
        case 1:
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                data[Int.random(in: 0..<data.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 2:
            data.removeLast(Int.random(in: 1...data.count, using: &random))
        case 3:
            let at = Int.random(in: 0...data.count, using: &random)
            data.insert(contentsOf: (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
        case 4:
            let at = Int.random(in: 0..<data.count, using: &random)
            data.removeSubrange(at..<min(data.count, at + Int.random(in: 1...64, using: &random)))
        default:
            // Overwrite a run with 0x00 or 0xFF: zeroes sizes, maxes out lengths.
            let at = Int.random(in: 0..<data.count, using: &random)
            let fill: UInt8 = Bool.random(using: &random) ? 0 : 0xFF
            for i in at..<min(data.count, at + Int.random(in: 1...8, using: &random)) { data[i] = fill }
        }
        return data
    }

    @Test("mutated zips throw or extract correct data", .timeLimit(.minutes(1)))
    func mutatedZips() throws {
        let names = ["zipfile_deflated.zip", "numpy_savez_compressed.npz", "zipfile_stored.zip", "zip64_full.zip"]
        var random = SeededRandom(seed: 20_240_116)
        var thrown = 0
        var extracted = 0
        var attempts = 0
        for name in names {
            let original = try ArchiveFixture.bytes(name)
            let expected = Dictionary(
                ArchiveFixture.manifest.zips[name]!.entries.map { ($0.name, $0.md5!) }, uniquingKeysWith: { $1 })
            for _ in 0..<(1500 * Self.scale) {
                attempts += 1
                let mutated = Self.mutate(original, &random)
                guard let archive = try? ZipArchive(bytes: mutated) else {
                    thrown += 1
                    continue
                }
                for entry in archive.entries {
                    do {
                        let data = try archive.extract(entry)
                        extracted += 1
                        // Look the entry up by its raw name: a flipped UTF-8 flag changes only how the name reads.
                        let rawName = String(decoding: entry.rawName, as: UTF8.self)
                        #expect(hex(data) == expected[rawName], "\(name): mutated entry '\(entry.name)' extracted wrongly")
                    } catch is ArchiveError {
                        thrown += 1
                    }
                }
            }
        }
        #expect(attempts == 6000 * Self.scale)
        #expect(thrown > 1000 && extracted > 1000)
    }

    @Test("mutated DEFLATE streams never crash", .timeLimit(.minutes(1)))
    func mutatedStreams() throws {
        let names = ["sample.l6.deflate", "overlap.l9.deflate", "mixed.sync_flush.deflate", "text.fixed.deflate", "sample.l6.memlevel1.deflate"]
        var random = SeededRandom(seed: 1951)
        var thrown = 0
        for name in names {
            let original = try ArchiveFixture.bytes(name)
            let size = ArchiveFixture.manifest.streams[name]!.size
            var output = [UInt8](repeating: 0, count: size)
            for i in 0..<(900 * Self.scale) {
                let mutated = Self.mutate(original, &random)
                do {
                    switch i % 3 {
                    case 0:
                        _ = try Inflate.decompress(mutated, limit: 4 * size)
                    case 1:
                        try mutated.withUnsafeBytes { input in
                            _ = try output.withUnsafeMutableBytes { try Inflate.decompress(input, into: $0) }
                        }
                    default:  // stop and resume at random output limits, as zip extraction does
                        let step = Int.random(in: 1...5000, using: &random)
                        _ = try decodeInSteps(mutated, size: size, step: step, strict: false)
                    }
                } catch is ArchiveError {
                    thrown += 1
                }
            }
        }
        #expect(thrown > 1000)
    }
}
