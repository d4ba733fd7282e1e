import Foundation

/// MD5 (RFC 1321), incremental. MedMNIST publishes an MD5 for every `.npz`, so downloads can be checked.
///
/// MD5 is broken as a cryptographic hash; it is used here only to detect damaged or wrong files.
/// ```swift
/// var md5 = MD5()
/// md5.update(chunk1)
/// md5.update(chunk2)
/// let hex = md5.hexDigest            // "d41d8cd98f00b204e9800998ecf8427e" for no input
/// let fileHex = try MD5.hexDigest(ofFileAt: url)
/// ```
public struct MD5: MessageDigest, Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
    /// Bytes that did not yet fill a 64-byte block.
    private var pending: [UInt8] = []
    private var totalLength: UInt64 = 0

    /// Starts the digest of an empty message.
    public init() {}

    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalLength &+= UInt64(remaining)
        if !pending.isEmpty {
            let take = min(64 - pending.count, remaining)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: take))
            p += take
            remaining -= take
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { Self.compress(&state, $0.baseAddress!) }
            pending.removeAll(keepingCapacity: true)
        }
        while remaining >= 64 {
            Self.compress(&state, p)
            p += 64
            remaining -= 64
        }
        if remaining > 0 {
            pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: remaining))
        }
    }

    /// The 16-byte digest of everything added so far. Does not end the computation.
    public var digest: [UInt8] {
        var copy = self
        // Padding: 0x80, zeros up to 56 mod 64, then the bit length as little-endian UInt64.
        let bitLength = totalLength &* 8
        var tail: [UInt8] = [0x80]
        tail += [UInt8](repeating: 0, count: (55 &- pending.count + 64) % 64)
        for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        let savedLength = copy.totalLength
        tail.withUnsafeBytes { copy.update($0) }
        copy.totalLength = savedLength
        let s = copy.state
        return [s.0, s.1, s.2, s.3].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    // MARK: - The compression function

    /// Processes one 64-byte block. Written out step by step (64 steps, 4 rounds) so the compiler
    /// keeps all state in registers; the round constants are sin-derived, per RFC 1321.
    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawPointer) {
        var m = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
                 UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        withUnsafeMutableBytes(of: &m) { words in
            words.copyMemory(from: UnsafeRawBufferPointer(start: block, count: 64))
        }
        #if _endian(big)
        m = (m.0.byteSwapped, m.1.byteSwapped, m.2.byteSwapped, m.3.byteSwapped,
             m.4.byteSwapped, m.5.byteSwapped, m.6.byteSwapped, m.7.byteSwapped,
             m.8.byteSwapped, m.9.byteSwapped, m.10.byteSwapped, m.11.byteSwapped,
             m.12.byteSwapped, m.13.byteSwapped, m.14.byteSwapped, m.15.byteSwapped)
        #endif
        var (a, b, c, d) = state

        @inline(__always) func rotl(_ x: UInt32, _ s: UInt32) -> UInt32 { (x &<< s) | (x &>> (32 &- s)) }
        @inline(__always) func ff(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ k: UInt32) {
            a = b &+ rotl(a &+ ((b & c) | (~b & d)) &+ x &+ k, s)
        }
        @inline(__always) func gg(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ k: UInt32) {
            a = b &+ rotl(a &+ ((b & d) | (c & ~d)) &+ x &+ k, s)
        }
        @inline(__always) func hh(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ k: UInt32) {
            a = b &+ rotl(a &+ (b ^ c ^ d) &+ x &+ k, s)
        }
        @inline(__always) func ii(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ x: UInt32, _ s: UInt32, _ k: UInt32) {
            a = b &+ rotl(a &+ (c ^ (b | ~d)) &+ x &+ k, s)
        }

        ff(&a, b, c, d, m.0, 7, 0xD76A_A478); ff(&d, a, b, c, m.1, 12, 0xE8C7_B756)
        ff(&c, d, a, b, m.2, 17, 0x2420_70DB); ff(&b, c, d, a, m.3, 22, 0xC1BD_CEEE)
        ff(&a, b, c, d, m.4, 7, 0xF57C_0FAF); ff(&d, a, b, c, m.5, 12, 0x4787_C62A)
        ff(&c, d, a, b, m.6, 17, 0xA830_4613); ff(&b, c, d, a, m.7, 22, 0xFD46_9501)
        ff(&a, b, c, d, m.8, 7, 0x6980_98D8); ff(&d, a, b, c, m.9, 12, 0x8B44_F7AF)
        ff(&c, d, a, b, m.10, 17, 0xFFFF_5BB1); ff(&b, c, d, a, m.11, 22, 0x895C_D7BE)
        ff(&a, b, c, d, m.12, 7, 0x6B90_1122); ff(&d, a, b, c, m.13, 12, 0xFD98_7193)
        ff(&c, d, a, b, m.14, 17, 0xA679_438E); ff(&b, c, d, a, m.15, 22, 0x49B4_0821)

        gg(&a, b, c, d, m.1, 5, 0xF61E_2562); gg(&d, a, b, c, m.6, 9, 0xC040_B340)
        gg(&c, d, a, b, m.11, 14, 0x265E_5A51); gg(&b, c, d, a, m.0, 20, 0xE9B6_C7AA)
        gg(&a, b, c, d, m.5, 5, 0xD62F_105D); gg(&d, a, b, c, m.10, 9, 0x0244_1453)
        gg(&c, d, a, b, m.15, 14, 0xD8A1_E681); gg(&b, c, d, a, m.4, 20, 0xE7D3_FBC8)
        gg(&a, b, c, d, m.9, 5, 0x21E1_CDE6); gg(&d, a, b, c, m.14, 9, 0xC337_07D6)
        gg(&c, d, a, b, m.3, 14, 0xF4D5_0D87); gg(&b, c, d, a, m.8, 20, 0x455A_14ED)
        gg(&a, b, c, d, m.13, 5, 0xA9E3_E905); gg(&d, a, b, c, m.2, 9, 0xFCEF_A3F8)
        gg(&c, d, a, b, m.7, 14, 0x676F_02D9); gg(&b, c, d, a, m.12, 20, 0x8D2A_4C8A)

        hh(&a, b, c, d, m.5, 4, 0xFFFA_3942); hh(&d, a, b, c, m.8, 11, 0x8771_F681)
        hh(&c, d, a, b, m.11, 16, 0x6D9D_6122); hh(&b, c, d, a, m.14, 23, 0xFDE5_380C)
        hh(&a, b, c, d, m.1, 4, 0xA4BE_EA44); hh(&d, a, b, c, m.4, 11, 0x4BDE_CFA9)
        hh(&c, d, a, b, m.7, 16, 0xF6BB_4B60); hh(&b, c, d, a, m.10, 23, 0xBEBF_BC70)
        hh(&a, b, c, d, m.13, 4, 0x289B_7EC6); hh(&d, a, b, c, m.0, 11, 0xEAA1_27FA)
        hh(&c, d, a, b, m.3, 16, 0xD4EF_3085); hh(&b, c, d, a, m.6, 23, 0x0488_1D05)
        hh(&a, b, c, d, m.9, 4, 0xD9D4_D039); hh(&d, a, b, c, m.12, 11, 0xE6DB_99E5)
        hh(&c, d, a, b, m.15, 16, 0x1FA2_7CF8); hh(&b, c, d, a, m.2, 23, 0xC4AC_5665)

        ii(&a, b, c, d, m.0, 6, 0xF429_2244); ii(&d, a, b, c, m.7, 10, 0x432A_FF97)
        ii(&c, d, a, b, m.14, 15, 0xAB94_23A7); ii(&b, c, d, a, m.5, 21, 0xFC93_A039)
        ii(&a, b, c, d, m.12, 6, 0x655B_59C3); ii(&d, a, b, c, m.3, 10, 0x8F0C_CC92)
        ii(&c, d, a, b, m.10, 15, 0xFFEF_F47D); ii(&b, c, d, a, m.1, 21, 0x8584_5DD1)
        ii(&a, b, c, d, m.8, 6, 0x6FA8_7E4F); ii(&d, a, b, c, m.15, 10, 0xFE2C_E6E0)
        ii(&c, d, a, b, m.6, 15, 0xA301_4314); ii(&b, c, d, a, m.13, 21, 0x4E08_11A1)
        ii(&a, b, c, d, m.4, 6, 0xF753_7E82); ii(&d, a, b, c, m.11, 10, 0xBD3A_F235)
        ii(&c, d, a, b, m.2, 15, 0x2AD7_D2BB); ii(&b, c, d, a, m.9, 21, 0xEB86_D391)

        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
