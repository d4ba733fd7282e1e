import MedIO
import Testing

// Adler-32 and the parallel CRC-32 (CRC-32, MD5 and SHA-256 have their own suites in ArchiveTests and
// SHA256Tests).
@Suite struct DigestTests {
    @Test func adler32KnownValues() {
        #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Adler32.checksum([]) == 1)
        let big = [UInt8](repeating: 255, count: 100_000)
        // Reference from zlib.adler32(b'\xff' * 100000).
        #expect(Adler32.checksum(big) == 0x149A_302C)
    }

    @Test func parallelCRCEqualsSequential() {
        var state: UInt64 = 8
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for count in [0, 1, 7, 4096, 3 << 20, (5 << 20) + 3] {
            let bytes = (0..<count).map { _ in next() }
            bytes.withUnsafeBytes { raw in
                for threads in [1, 2, 4] {
                    #expect(ParallelCRC32.checksum(raw, threads: threads, minimumPiece: 1 << 20) == CRC32.checksum(raw),
                            "\(count) bytes on \(threads) threads")
                }
            }
        }
        // zlib: crc32_combine(crc32(b"hello "), crc32(b"world"), 5) == crc32(b"hello world") == 0x0d4a1185.
        #expect(ParallelCRC32.combine(CRC32.checksum(Array("hello ".utf8)), CRC32.checksum(Array("world".utf8)), length2: 5) == 0x0D4A_1185)
    }
}
