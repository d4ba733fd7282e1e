/// Builds the two-level lookup tables that `InflateDecoder` uses to decode DEFLATE's Huffman codes.
///
/// DEFLATE packs codes starting at the least significant bit, so a table is indexed by the next
/// `primaryBits` bits of the bit buffer and each code appears at its bit-reversed position,
/// repeated for every value of the bits after it. Codes longer than `primaryBits` share a primary
/// entry that points to a subtable indexed by the bits that follow.
///
/// Entry layout (UInt32):
/// - bits 0-7: bits to consume (code length + extra bits); for a subtable pointer, the subtable's index width
/// - bits 8-11: code length alone (extra bits start after it)
/// - bits 12-15: flags (`subtable`, `endOfBlock`, `invalid`, `literal`)
/// - bits 16-31: the value: literal byte, length or distance base, code-length symbol, or subtable start
enum HuffmanEntry {
    static let subtable: UInt32 = 0x1000
    static let endOfBlock: UInt32 = 0x2000
    static let invalid: UInt32 = 0x4000
    static let literal: UInt32 = 0x8000
}

/// What a table's symbols mean.
enum HuffmanAlphabet {
    case literalLength  // 0-255 literals, 256 end of block, 257-285 lengths (286, 287 invalid)
    case distance       // 0-29 distances (30, 31 invalid)
    case codeLength     // 0-18, the "precode" of a dynamic block header

    /// The entry without its length fields (flags, value and number of extra bits).
    @inline(__always)
    func payload(of symbol: Int) -> (bits: UInt32, extraBits: Int) {
        switch self {
        case .literalLength:
            if symbol < 256 { return (HuffmanEntry.literal | UInt32(symbol) << 16, 0) }
            if symbol == 256 { return (HuffmanEntry.endOfBlock, 0) }
            let index = symbol - 257
            guard index < 29 else { return (HuffmanEntry.invalid, 0) }
            return (UInt32(Self.lengthBase[index]) << 16, Int(Self.lengthExtra[index]))
        case .distance:
            guard symbol < 30 else { return (HuffmanEntry.invalid, 0) }
            return (UInt32(Self.distanceBase[symbol]) << 16, Int(Self.distanceExtra[symbol]))
        case .codeLength:
            return (UInt32(symbol) << 16, 0)
        }
    }

    private static let lengthBase: [UInt16] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra: [UInt8] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase: [UInt16] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra: [UInt8] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
}

enum HuffmanTable {
    /// Longest code DEFLATE allows.
    static let maxCodeLength = 15

    /// Table capacity (in entries) that no valid or invalid input can exceed: every subtable holds
    /// at least one symbol and at most 2^(15 - primaryBits) entries.
    static func capacity(primaryBits: Int, symbols: Int) -> Int {
        (1 << primaryBits) + symbols * (1 << (maxCodeLength - primaryBits))
    }

    /// Fills `table` for the canonical Huffman code given by `lengths` (0 = symbol unused).
    ///
    /// Follows zlib's rules for what is acceptable: an over-subscribed code is always an error; an
    /// incomplete code is only accepted for literal/length and distance codes that consist of a
    /// single one-bit code, or (distance codes only) of no code at all. Unfilled entries then
    /// decode as `invalid`, so a stream that uses them fails cleanly.
    /// - Returns: nil on success, otherwise what is wrong with the code.
    static func build(
        _ table: UnsafeMutablePointer<UInt32>, capacity: Int, primaryBits: Int,
        lengths: UnsafePointer<UInt8>, count symbolCount: Int, alphabet: HuffmanAlphabet
    ) -> String? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * 16) { scratch in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: max(symbolCount, 1)) { sorted in
                let counts = scratch.baseAddress!
                let remaining = counts + 16
                counts.initialize(repeating: 0, count: 32)
                for symbol in 0..<symbolCount { counts[Int(lengths[symbol])] += 1 }
                counts[0] = 0

                var maxLength = 0
                for length in 1...maxCodeLength where counts[length] > 0 { maxLength = length }
                let primarySize = 1 << primaryBits
                if maxLength == 0 {
                    if alphabet == .codeLength { return "code length code has no codes" }
                    table.update(repeating: HuffmanEntry.invalid, count: primarySize)
                    return nil
                }

                // Kraft sum: `unused` counts free code slots at each depth.
                var unused = 1
                for length in 1...maxCodeLength {
                    unused = (unused << 1) - counts[length]
                    if unused < 0 { return "over-subscribed \(alphabet) code" }
                }
                if unused > 0 {
                    guard alphabet != .codeLength, maxLength == 1 else { return "incomplete \(alphabet) code" }
                    table.update(repeating: HuffmanEntry.invalid, count: primarySize)
                }

                // Symbols sorted by code length, then by symbol: the canonical order.
                var offset = 0
                for length in 1...maxCodeLength {
                    remaining[length] = offset
                    offset += counts[length]
                }
                for symbol in 0..<symbolCount where lengths[symbol] != 0 {
                    let length = Int(lengths[symbol])
                    sorted[remaining[length]] = UInt16(symbol)
                    remaining[length] += 1
                }
                for length in 0..<16 { remaining[length] = counts[length] }

                var code = 0  // canonical code, most significant bit first
                var index = 0
                var nextSubtable = primarySize
                var currentPrefix = -1
                var subtableStart = 0
                var subtableBits = 0
                for length in 1...maxLength {
                    for _ in 0..<counts[length] {
                        let symbol = Int(sorted[index])
                        index += 1
                        let (payload, extraBits) = alphabet.payload(of: symbol)
                        let reversed = reverseBits(code, length)
                        if length <= primaryBits {
                            let entry = payload | UInt32(length) << 8 | UInt32(length + extraBits)
                            var slot = reversed
                            while slot < primarySize {
                                table[slot] = entry
                                slot += 1 << length
                            }
                        } else {
                            let prefix = reversed & (primarySize - 1)
                            if prefix != currentPrefix {
                                // Size the subtable as zlib does: widen it until the codes still to be
                                // placed fill it. Canonical order keeps one prefix's codes together.
                                var bits = length - primaryBits
                                var free = 1 << bits
                                while bits + primaryBits < maxLength {
                                    free -= remaining[bits + primaryBits]
                                    if free <= 0 { break }
                                    bits += 1
                                    free <<= 1
                                }
                                guard nextSubtable + (1 << bits) <= capacity else { return "table overflow" }
                                subtableStart = nextSubtable
                                subtableBits = bits
                                nextSubtable += 1 << bits
                                currentPrefix = prefix
                                table[prefix] = HuffmanEntry.subtable | UInt32(subtableStart) << 16 | UInt32(bits)
                            }
                            let subLength = length - primaryBits
                            guard subLength <= subtableBits else { return "inconsistent \(alphabet) code" }
                            let entry = payload | UInt32(subLength) << 8 | UInt32(subLength + extraBits)
                            var slot = reversed >> primaryBits
                            while slot < 1 << subtableBits {
                                table[subtableStart + slot] = entry
                                slot += 1 << subLength
                            }
                        }
                        remaining[length] -= 1
                        code += 1
                    }
                    code <<= 1
                }
                return nil
            }
        }
    }

    @inline(__always)
    private static func reverseBits(_ code: Int, _ length: Int) -> Int {
        var reversed = 0
        var rest = code
        for _ in 0..<length {
            reversed = (reversed << 1) | (rest & 1)
            rest >>= 1
        }
        return reversed
    }
}
