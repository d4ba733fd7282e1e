import Dispatch

/// CRC-32 of a large buffer on several threads: each thread checksums one piece with ``CRC32``, and the
/// pieces are joined with zlib's `crc32_combine` (multiplication by x^(8·length) modulo the polynomial).
public enum ParallelCRC32 {
    static let polynomial: UInt32 = 0xEDB8_8320

    /// The same value as `CRC32.checksum(bytes)`, computed on at most `threads` threads, in pieces of at
    /// least `minimumPiece` bytes.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, threads: Int, minimumPiece: Int = 8 << 20) -> UInt32 {
        let pieces = max(1, min(threads, bytes.count / max(minimumPiece, 1)))
        if pieces == 1 { return CRC32.checksum(bytes) }
        var crcs = [UInt32](repeating: 0, count: pieces)
        crcs.withUnsafeMutableBufferPointer { out in
            let results = UnsafeSendableBuffer(out)
            let input = UnsafeSendableRawBuffer(bytes)
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                let piece = UnsafeRawBufferPointer(rebasing: input.buffer[bounds(p, pieces, input.buffer.count)])
                results.buffer[p] = CRC32.checksum(piece)
            }
        }
        var crc = crcs[0]
        for p in 1..<pieces { crc = combine(crc, crcs[p], length2: bounds(p, pieces, bytes.count).count) }
        return crc
    }

    private static func bounds(_ p: Int, _ pieces: Int, _ count: Int) -> Range<Int> {
        count * p / pieces ..< count * (p + 1) / pieces
    }

    /// zlib's `crc32_combine(crc1, crc2, len2)`: the CRC of A followed by B from the CRCs of A and B.
    public static func combine(_ crc1: UInt32, _ crc2: UInt32, length2: Int) -> UInt32 {
        multiply(powerOfX(length2, 3), crc1) ^ crc2
    }

    /// a·b modulo the CRC polynomial, in the reflected representation (bit 31 is x⁰).
    private static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31, p: UInt32 = 0, b = b
        while true {
            if a & m != 0 {
                p ^= b
                if a & (m - 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
        }
        return p
    }

    /// x^(n·2^k) modulo the polynomial.
    private static func powerOfX(_ n: Int, _ k: Int) -> UInt32 {
        var p: UInt32 = 1 << 31, n = n, k = k
        while n != 0 {
            if n & 1 != 0 { p = multiply(powers[k & 31], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// `powers[k]` = x^(2^k) modulo the polynomial.
    private static let powers: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 32)
        var p: UInt32 = 1 << 30  // x¹
        table[0] = p
        for k in 1..<32 {
            p = multiply(p, p)
            table[k] = p
        }
        return table
    }()
}

/// The result slots of the worker threads; each thread writes only its own element.
private struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<UInt32>
    init(_ buffer: UnsafeMutableBufferPointer<UInt32>) { self.buffer = buffer }
}

/// The input, read (never written) by every worker thread.
private struct UnsafeSendableRawBuffer: @unchecked Sendable {
    let buffer: UnsafeRawBufferPointer
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }
}
