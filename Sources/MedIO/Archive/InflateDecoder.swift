/// The resumable DEFLATE decoder behind `Inflate` and the zip reader.
///
/// `decode(into:position:limit:)` writes into `out[position..<limit]` and returns `.outputFull`
/// when it needs room past `limit`; calling it again with a larger limit (the same buffer, or a
/// bigger copy of it) continues where it stopped. The zip reader uses this to checksum the output in
/// cache-sized pieces right after decoding them; `Inflate` uses it to grow an output buffer.
///
/// Speed comes from a fast loop (InflateFastLoop.swift) that runs while at least `fastInputMargin`
/// input bytes and `fastOutputMargin` output bytes remain. Near either end the careful loop here
/// takes over, checking every bit and byte.
final class InflateDecoder {
    enum Progress: Equatable { case finished, outputFull }

    enum Phase: Equatable {
        case blockHeader
        case stored(remaining: Int)
        case huffman
        case done
    }

    // Table geometry: 11-bit primary tables catch nearly every literal/length code in one lookup.
    static let literalLengthBits = 11
    static let distanceBits = 8
    static let codeLengthBits = 7
    static let literalLengthCapacity = HuffmanTable.capacity(primaryBits: literalLengthBits, symbols: 288)
    static let distanceCapacity = HuffmanTable.capacity(primaryBits: distanceBits, symbols: 32)
    static let codeLengthCapacity = 1 << codeLengthBits

    /// One fast-loop step may refill twice, each refill reading 8 bytes and advancing up to 7.
    static let fastInputMargin = 16
    /// One fast-loop step writes at most two literals and a 258-byte match, plus up to 15 bytes
    /// of copy overshoot; rounded up.
    static let fastOutputMargin = 290

    let input: UnsafePointer<UInt8>
    let inputCount: Int
    var inPos = 0
    /// Bits not yet consumed, least significant first. Above `bitsLeft` it may hold a copy of the
    /// low bits of `input[inPos]`, which the next refill ORs in again unchanged.
    var bitBuffer: UInt64 = 0
    var bitsLeft: UInt64 = 0
    /// Zero bytes appended past the end of the input so a lookup can peek at 15 bits near the end.
    /// Consuming any of them means the stream is truncated.
    private var virtualBytes = 0

    var phase = Phase.blockHeader
    private var sawFinalBlock = false
    /// A match cut short by the output limit, finished on the next call.
    private var pendingLength = 0
    private var pendingDistance = 0

    private let tables: UnsafeMutablePointer<UInt32>
    /// Code lengths: literal/length at 0..<288, distance at 288..<320, and at 320... a dynamic
    /// header's combined list as read, before it is split.
    private let codeLengths: UnsafeMutablePointer<UInt8>
    private var fixedTablesLoaded = false

    /// Testing aid: decode everything with the careful loop, to check the fast loop against it.
    var disableFastLoop = false

    init(input: UnsafeRawBufferPointer) {
        // An empty input never gets dereferenced; any non-nil pointer will do.
        self.input = input.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 0x10)!
        inputCount = input.count
        tables = .allocate(capacity: Self.literalLengthCapacity + Self.distanceCapacity + Self.codeLengthCapacity)
        codeLengths = .allocate(capacity: 288 + 32 + 320)
    }

    deinit {
        tables.deallocate()
        codeLengths.deallocate()
    }

    var literalLengthTable: UnsafeMutablePointer<UInt32> { tables }
    var distanceTable: UnsafeMutablePointer<UInt32> { tables + Self.literalLengthCapacity }
    private var codeLengthTable: UnsafeMutablePointer<UInt32> { tables + Self.literalLengthCapacity + Self.distanceCapacity }

    /// Input bytes used so far; after `.finished`, the length of the DEFLATE stream.
    var consumedBytes: Int {
        let unusedRealBits = Int(bitsLeft) - 8 * virtualBytes
        return inPos - max(0, unusedRealBits) / 8
    }

    /// Decodes into `out[position..<limit]`, advancing `position`. Everything before `position` is
    /// earlier output of this stream, which matches may refer back to.
    func decode(into out: UnsafeMutablePointer<UInt8>, position: inout Int, limit: Int) throws -> Progress {
        precondition(position >= 0 && position <= limit, "output position outside the buffer")
        while true {
            switch phase {
            case .done:
                return .finished
            case .blockHeader:
                if sawFinalBlock {
                    phase = .done
                    return .finished
                }
                try readBlockHeader()
            case .stored(let remaining):
                let count = min(remaining, limit - position)
                guard inputCount - inPos >= count else { throw ArchiveError.truncatedStream(entry: nil, inputOffset: inputCount) }
                (out + position).update(from: input + inPos, count: count)
                inPos += count
                position += count
                if count < remaining {
                    phase = .stored(remaining: remaining - count)
                    return .outputFull
                }
                phase = .blockHeader
            case .huffman:
                if pendingLength > 0 {
                    let count = min(pendingLength, limit - position)
                    Self.copyMatchCarefully(out, at: position, distance: pendingDistance, length: count)
                    position += count
                    pendingLength -= count
                    if pendingLength > 0 { return .outputFull }
                }
                if !disableFastLoop { try decodeFast(out, &position, limit) }
                if phase == .huffman, try decodeCarefully(out, &position, limit) == .outputFull {
                    return .outputFull
                }
            }
        }
    }

    // MARK: - Bit input for the careful paths

    /// The input byte holding the next unread bit, where an error is reported.
    private var inputOffsetForErrors: Int {
        let unusedRealBits = max(0, Int(bitsLeft) - 8 * virtualBytes)
        return max(0, inPos - (unusedRealBits + 7) / 8)
    }

    /// Makes at least `count` (at most 56) bits available, padding with zero bytes past the end.
    @inline(__always)
    private func ensureBits(_ count: UInt64) {
        while bitsLeft < count {
            if inPos < inputCount {
                bitBuffer |= UInt64(input[inPos]) &<< bitsLeft
                inPos += 1
            } else {
                virtualBytes += 1
            }
            bitsLeft += 8
        }
    }

    /// Drops `count` bits (at most `bitsLeft`); throws if that used any of the padding past the end.
    @inline(__always)
    private func consumeBits(_ count: UInt64) throws {
        bitBuffer &>>= count
        bitsLeft -= count
        if virtualBytes > 0, bitsLeft < UInt64(8 * virtualBytes) {
            throw ArchiveError.truncatedStream(entry: nil, inputOffset: inputCount)
        }
    }

    private func readBits(_ count: UInt64) throws -> Int {
        ensureBits(count)
        let value = Int(truncatingIfNeeded: bitBuffer & ((1 &<< count) &- 1))
        try consumeBits(count)
        return value
    }

    // MARK: - Block headers

    private func readBlockHeader() throws {
        let header = try readBits(3)
        sawFinalBlock = header & 1 != 0
        switch header >> 1 {
        case 0: try startStoredBlock()
        case 1: try loadFixedTables()
        case 2: try readDynamicTables()
        default: throw ArchiveError.invalidBlockType(entry: nil, inputOffset: inputOffsetForErrors)
        }
    }

    private func startStoredBlock() throws {
        // Stored data starts at the next byte boundary: skip the partial byte, then give the whole
        // bytes still in the bit buffer back to the input.
        try consumeBits(bitsLeft & 7)
        inPos -= Int(bitsLeft / 8) - virtualBytes
        bitBuffer = 0
        bitsLeft = 0
        virtualBytes = 0
        guard inputCount - inPos >= 4 else { throw ArchiveError.truncatedStream(entry: nil, inputOffset: inputCount) }
        let length = Int(input[inPos]) | Int(input[inPos + 1]) << 8
        let complement = Int(input[inPos + 2]) | Int(input[inPos + 3]) << 8
        guard length == complement ^ 0xFFFF else {
            throw ArchiveError.invalidStoredLength(entry: nil, inputOffset: inPos)
        }
        inPos += 4
        phase = .stored(remaining: length)
    }

    private func loadFixedTables() throws {
        if !fixedTablesLoaded {
            let lengths = codeLengths
            lengths.update(repeating: 8, count: 144)
            (lengths + 144).update(repeating: 9, count: 112)
            (lengths + 256).update(repeating: 7, count: 24)
            (lengths + 280).update(repeating: 8, count: 8)
            (lengths + 288).update(repeating: 5, count: 32)
            try buildTables(literalLengthCount: 288, distanceCount: 32)
            fixedTablesLoaded = true
        }
        phase = .huffman
    }

    /// Order in which a dynamic header lists the code-length code's lengths.
    private static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private func readDynamicTables() throws {
        fixedTablesLoaded = false
        let literalLengthCount = try readBits(5) + 257
        let distanceCount = try readBits(5) + 1
        let codeLengthCount = try readBits(4) + 4
        // Like zlib, reject the RFC's unused symbols 286-287 and 30-31 here.
        guard literalLengthCount <= 286, distanceCount <= 30 else {
            throw invalidCode("too many length or distance symbols")
        }
        let lengths = codeLengths
        lengths.update(repeating: 0, count: 19)
        for i in 0..<codeLengthCount {
            lengths[Self.codeLengthOrder[i]] = UInt8(try readBits(3))
        }
        if let problem = HuffmanTable.build(
            codeLengthTable, capacity: Self.codeLengthCapacity, primaryBits: Self.codeLengthBits,
            lengths: lengths, count: 19, alphabet: .codeLength)
        {
            throw invalidCode(problem)
        }

        let total = literalLengthCount + distanceCount
        let sequence = lengths + 320
        var index = 0
        while index < total {
            ensureBits(UInt64(Self.codeLengthBits))
            let entry = codeLengthTable[Int(truncatingIfNeeded: bitBuffer) & ((1 << Self.codeLengthBits) - 1)]
            try consumeBits(UInt64(entry & 0xFF))
            let symbol = Int(entry >> 16)
            if symbol < 16 {
                sequence[index] = UInt8(symbol)
                index += 1
                continue
            }
            let repeated: UInt8
            let count: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw invalidCode("repeat of a previous length with no previous length") }
                repeated = sequence[index - 1]
                count = 3 + (try readBits(2))
            case 17:
                repeated = 0
                count = 3 + (try readBits(3))
            default:
                repeated = 0
                count = 11 + (try readBits(7))
            }
            guard count <= total - index else { throw invalidCode("code length repeat runs past the last symbol") }
            (sequence + index).update(repeating: repeated, count: count)
            index += count
        }
        guard sequence[256] != 0 else { throw invalidCode("no end-of-block code") }
        lengths.update(from: sequence, count: literalLengthCount)
        (lengths + 288).update(from: sequence + literalLengthCount, count: distanceCount)
        try buildTables(literalLengthCount: literalLengthCount, distanceCount: distanceCount)
        phase = .huffman
    }

    /// Builds both tables from `codeLengths[0..<literalLengthCount]` and `codeLengths[288...]`.
    private func buildTables(literalLengthCount: Int, distanceCount: Int) throws {
        if let problem = HuffmanTable.build(
            literalLengthTable, capacity: Self.literalLengthCapacity, primaryBits: Self.literalLengthBits,
            lengths: codeLengths, count: literalLengthCount, alphabet: .literalLength)
        {
            throw invalidCode(problem)
        }
        if let problem = HuffmanTable.build(
            distanceTable, capacity: Self.distanceCapacity, primaryBits: Self.distanceBits,
            lengths: codeLengths + 288, count: distanceCount, alphabet: .distance)
        {
            throw invalidCode(problem)
        }
    }

    private func invalidCode(_ detail: String) -> ArchiveError {
        .invalidHuffmanCode(entry: nil, inputOffset: inputOffsetForErrors, detail: detail)
    }

    // MARK: - Huffman data, careful loop

    /// Decodes symbols one at a time with every bound checked, until the block ends
    /// (`.finished`) or the output is full.
    private func decodeCarefully(_ out: UnsafeMutablePointer<UInt8>, _ position: inout Int, _ limit: Int) throws -> Progress {
        let literalMask = (1 << Self.literalLengthBits) - 1
        let distanceMask = (1 << Self.distanceBits) - 1
        while true {
            // 48 bits cover the longest length code with extra bits (20) plus the longest distance (28).
            ensureBits(48)
            var prefixBits: UInt64 = 0
            var entry = literalLengthTable[Int(truncatingIfNeeded: bitBuffer) & literalMask]
            if entry & HuffmanEntry.subtable != 0 {
                prefixBits = UInt64(Self.literalLengthBits)
                let index = Int(truncatingIfNeeded: bitBuffer &>> prefixBits) & ((1 << Int(entry & 0xFF)) - 1)
                entry = literalLengthTable[Int(entry >> 16) + index]
            }
            if entry & HuffmanEntry.literal != 0 {
                guard position < limit else { return .outputFull }
                try consumeBits(prefixBits + UInt64(entry & 0xFF))
                out[position] = UInt8(truncatingIfNeeded: entry >> 16)
                position += 1
                continue
            }
            if entry & HuffmanEntry.invalid != 0 { throw invalidCode("invalid literal/length code") }
            if entry & HuffmanEntry.endOfBlock != 0 {
                try consumeBits(prefixBits + UInt64(entry & 0xFF))
                phase = .blockHeader
                return .finished
            }
            let length = Int(entry >> 16) + (try readExtra(entry, after: prefixBits))

            prefixBits = 0
            entry = distanceTable[Int(truncatingIfNeeded: bitBuffer) & distanceMask]
            if entry & HuffmanEntry.subtable != 0 {
                prefixBits = UInt64(Self.distanceBits)
                let index = Int(truncatingIfNeeded: bitBuffer &>> prefixBits) & ((1 << Int(entry & 0xFF)) - 1)
                entry = distanceTable[Int(entry >> 16) + index]
            }
            if entry & HuffmanEntry.invalid != 0 { throw invalidCode("invalid distance code") }
            let distance = Int(entry >> 16) + (try readExtra(entry, after: prefixBits))
            guard distance <= position else {
                throw ArchiveError.distanceTooFar(entry: nil, distance: distance, outputOffset: position)
            }
            let count = min(length, limit - position)
            Self.copyMatchCarefully(out, at: position, distance: distance, length: count)
            position += count
            if count < length {
                pendingLength = length - count
                pendingDistance = distance
                return .outputFull
            }
        }
    }

    /// Consumes a length or distance code (after `prefixBits` of subtable prefix) and returns its extra bits.
    @inline(__always)
    private func readExtra(_ entry: UInt32, after prefixBits: UInt64) throws -> Int {
        let bits = bitBuffer &>> prefixBits
        let total = UInt64(entry & 0xFF)
        let codeLength = UInt64((entry >> 8) & 0xF)
        try consumeBits(prefixBits + total)
        return Int(truncatingIfNeeded: (bits & ((1 &<< total) &- 1)) &>> codeLength)
    }

    /// Byte-by-byte copy; correct for any overlap because each byte is written before it is re-read.
    @inline(__always)
    private static func copyMatchCarefully(_ out: UnsafeMutablePointer<UInt8>, at position: Int, distance: Int, length: Int) {
        let destination = out + position
        let source = destination - distance
        for i in 0..<length { destination[i] = source[i] }
    }
}
