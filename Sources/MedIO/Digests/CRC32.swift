/// CRC-32 with the reflected polynomial 0xEDB88320, the checksum of zip, gzip, zlib's `crc32` and PNG.
///
/// Incremental: feed any number of chunks to `update`, read `checksum` at any time.
/// ```swift
/// var crc = CRC32()
/// crc.update(chunk1)
/// crc.update(chunk2)
/// let value = crc.checksum   // same as CRC32.checksum(chunk1 + chunk2)
/// ```
/// It uses slicing-by-16: sixteen 256-entry tables let each loop step fold 16 input bytes with
/// independent table loads, so the loop is limited by load throughput instead of a chain of
/// dependent byte lookups (several times faster than the classic one-table loop).
public struct CRC32: Sendable, Hashable {
    /// The checksum of all bytes given so far (0 for no bytes).
    public private(set) var checksum: UInt32

    /// Starts a checksum, optionally continuing from the `checksum` of earlier data (as zlib's `crc32(seed, ...)`).
    public init(continuing seed: UInt32 = 0) {
        checksum = seed
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        checksum = Self.update(checksum, bytes)
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// zlib-style update: the checksum of (data that gave `crc`) followed by `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return crc }
        return tables.withUnsafeBufferPointer { ~slicingBy16(~crc, start, bytes.count, $0.baseAddress!) }
    }

    /// The CRC register after `count` bytes, without the initial and final inversion.
    private static func slicingBy16(_ crc: UInt32, _ start: UnsafeRawPointer, _ count: Int, _ t: UnsafePointer<UInt32>) -> UInt32 {
        var c = crc
        var p = start
        var remaining = count
        @inline(__always) func lookUp(_ table: Int, _ word: UInt32, _ shift: UInt32) -> UInt32 {
            t[table &* 256 &+ Int((word &>> shift) & 0xFF)]
        }
        while remaining >= 16 {
            // Only the first word depends on the running CRC; the other twelve lookups can run
            // ahead of it. The XORs are grouped as trees so the dependent chain stays short.
            let w0 = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ c
            let w1 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let w2 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let w3 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            let rest1 = (lookUp(11, w1, 0) ^ lookUp(10, w1, 8)) ^ (lookUp(9, w1, 16) ^ lookUp(8, w1, 24))
            let rest2 = (lookUp(7, w2, 0) ^ lookUp(6, w2, 8)) ^ (lookUp(5, w2, 16) ^ lookUp(4, w2, 24))
            let rest3 = (lookUp(3, w3, 0) ^ lookUp(2, w3, 8)) ^ (lookUp(1, w3, 16) ^ lookUp(0, w3, 24))
            let first = (lookUp(15, w0, 0) ^ lookUp(14, w0, 8)) ^ (lookUp(13, w0, 16) ^ lookUp(12, w0, 24))
            c = first ^ (rest1 ^ (rest2 ^ rest3))
            p += 16
            remaining &-= 16
        }
        while remaining > 0 {
            c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c &>> 8)
            p += 1
            remaining &-= 1
        }
        return c
    }

    /// `tables[k * 256 + b]` is the CRC contribution of byte `b` followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 16 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            t[b] = c
        }
        for k in 1..<16 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()
}
