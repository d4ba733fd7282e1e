/// The fast path of `InflateDecoder`: it refills a 64-bit bit buffer 7 bytes at a time without
/// branches, decodes up to three literals per refill, and copies matches 8 or 16 bytes at a time,
/// overshooting into the output margin instead of testing for the end. It runs only while
/// `fastInputMargin` input bytes and `fastOutputMargin` output bytes remain, so it needs no other
/// bounds checks; table indices are masked or come from entries the table builder bounded.
extension InflateDecoder {
    /// Decodes while both margins hold; returns at the end of the block or when either runs low.
    ///
    /// Loop invariant: at the top, the bit buffer holds at least 56 bits and `entry` is already the
    /// table entry for them. Looking the next entry up before refilling lets the table load overlap
    /// the refill's input load (a refill only adds bits above the ones already there), and after a
    /// match the lookup overlaps the copy.
    func decodeFast(_ out: UnsafeMutablePointer<UInt8>, _ position: inout Int, _ limit: Int) throws {
        guard inputCount >= Self.fastInputMargin, limit >= Self.fastOutputMargin else { return }
        let inLast = inputCount - Self.fastInputMargin
        let outLast = limit - Self.fastOutputMargin
        guard inPos <= inLast, position <= outLast else { return }
        let input = self.input
        let literals = literalLengthTable
        let distances = distanceTable
        let literalMask = (1 << Self.literalLengthBits) - 1
        let distanceMask = (1 << Self.distanceBits) - 1
        var inPos = self.inPos
        var bits = bitBuffer
        var bitsLeft = self.bitsLeft
        var op = position
        defer {
            self.inPos = inPos
            bitBuffer = bits
            self.bitsLeft = bitsLeft
            position = op
        }

        /// Branchless refill to 56-63 bits: load 8 bytes, keep the whole ones that fit.
        @inline(__always) func refill() {
            bits |= UInt64(littleEndian: UnsafeRawPointer(input + inPos).loadUnaligned(as: UInt64.self)) &<< bitsLeft
            inPos &+= Int(truncatingIfNeeded: (63 &- bitsLeft) &>> 3)
            bitsLeft |= 56
        }
        /// Drops the bits an entry accounts for. Shifting by the whole entry is fine: the shift
        /// only uses the low 6 bits, which hold the count (at most 28).
        @inline(__always) func consume(_ entry: UInt32) {
            bits &>>= UInt64(truncatingIfNeeded: entry)
            bitsLeft &-= UInt64(entry & 0xFF)
        }
        @inline(__always) func lookUpLiteral() -> UInt32 {
            literals[Int(truncatingIfNeeded: bits) & literalMask]
        }

        refill()
        var entry = lookUpLiteral()
        while inPos <= inLast && op <= outLast {
            if entry & HuffmanEntry.literal != 0 {
                // Primary-table literals are at most 11 bits, so three fit in one refill.
                consume(entry)
                var byte = UInt8(truncatingIfNeeded: entry >> 16)
                entry = lookUpLiteral()
                out[op] = byte
                op &+= 1
                if entry & HuffmanEntry.literal != 0 {
                    consume(entry)
                    byte = UInt8(truncatingIfNeeded: entry >> 16)
                    entry = lookUpLiteral()
                    out[op] = byte
                    op &+= 1
                    if entry & HuffmanEntry.literal != 0 {
                        consume(entry)
                        byte = UInt8(truncatingIfNeeded: entry >> 16)
                        entry = lookUpLiteral()
                        out[op] = byte
                        op &+= 1
                        refill()
                        continue
                    }
                }
                refill()
            }
            if entry & HuffmanEntry.subtable != 0 {
                bits &>>= UInt64(Self.literalLengthBits)
                bitsLeft &-= UInt64(Self.literalLengthBits)
                entry = literals[Int(entry >> 16) &+ (Int(truncatingIfNeeded: bits) & ((1 &<< Int(entry & 0xFF)) &- 1))]
                if entry & HuffmanEntry.literal != 0 {
                    consume(entry)
                    out[op] = UInt8(truncatingIfNeeded: entry >> 16)
                    op &+= 1
                    refill()
                    entry = lookUpLiteral()
                    continue
                }
            }
            if entry & (HuffmanEntry.endOfBlock | HuffmanEntry.invalid) != 0 {
                guard entry & HuffmanEntry.invalid == 0 else {
                    throw ArchiveError.invalidHuffmanCode(
                        entry: nil, inputOffset: inPos - Int((bitsLeft + 7) / 8), detail: "invalid literal/length code")
                }
                consume(entry)
                phase = .blockHeader
                return
            }

            // Length: base + extra bits, consumed together with the code. 56 bits cover a length
            // (at most 15 + 5 bits) and a distance (at most 15 + 13).
            var saved = bits
            consume(entry)
            var used = UInt64(entry & 0xFF)
            let length = Int(entry >> 16)
                &+ Int(truncatingIfNeeded: (saved & ((1 &<< used) &- 1)) &>> UInt64((entry >> 8) & 0xF))

            entry = distances[Int(truncatingIfNeeded: bits) & distanceMask]
            if entry & HuffmanEntry.subtable != 0 {
                bits &>>= UInt64(Self.distanceBits)
                bitsLeft &-= UInt64(Self.distanceBits)
                entry = distances[Int(entry >> 16) &+ (Int(truncatingIfNeeded: bits) & ((1 &<< Int(entry & 0xFF)) &- 1))]
            }
            guard entry & HuffmanEntry.invalid == 0 else {
                throw ArchiveError.invalidHuffmanCode(
                    entry: nil, inputOffset: inPos - Int((bitsLeft + 7) / 8), detail: "invalid distance code")
            }
            saved = bits
            consume(entry)
            used = UInt64(entry & 0xFF)
            let distance = Int(entry >> 16)
                &+ Int(truncatingIfNeeded: (saved & ((1 &<< used) &- 1)) &>> UInt64((entry >> 8) & 0xF))
            guard distance <= op else {
                throw ArchiveError.distanceTooFar(entry: nil, distance: distance, outputOffset: op)
            }
            refill()
            entry = lookUpLiteral()
            Self.copyMatchFast(out + op, distance: distance, length: length)
            op &+= length
        }
    }

    /// Copies a match in 8- or 16-byte pieces. May write up to 15 bytes past `length`, which the
    /// fast loop's output margin allows; those bytes are overwritten by later output.
    @inline(__always)
    private static func copyMatchFast(_ destination: UnsafeMutablePointer<UInt8>, distance: Int, length: Int) {
        var d = UnsafeMutableRawPointer(destination)
        let end = d + length
        if distance >= 16 {
            var s = UnsafeRawPointer(d - distance)
            repeat {
                let a = s.loadUnaligned(as: UInt64.self)
                let b = s.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                d.storeBytes(of: a, as: UInt64.self)
                d.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
                s += 16
                d += 16
            } while d < end
        } else if distance >= 8 {
            var s = UnsafeRawPointer(d - distance)
            repeat {
                d.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
                s += 8
                d += 8
            } while d < end
        } else if distance == 1 {
            // A run of one byte (black image background): store it 16 bytes at a time.
            let pattern = UInt64(d.load(fromByteOffset: -1, as: UInt8.self)) &* 0x0101_0101_0101_0101
            repeat {
                d.storeBytes(of: pattern, as: UInt64.self)
                d.storeBytes(of: pattern, toByteOffset: 8, as: UInt64.self)
                d += 16
            } while d < end
        } else {
            // Period 2-7 (e.g. flat RGB): lay down 8 bytes one at a time, then copy 8 at a time from
            // a whole number of periods back that is at least 8 bytes, so pieces never overlap.
            let bytes = destination
            for i in 0..<8 { bytes[i] = bytes[i - distance] }
            let stride = distance * ((8 + distance - 1) / distance)
            d += 8
            while d < end {
                d.storeBytes(of: (d - stride).loadUnaligned(as: UInt64.self), as: UInt64.self)
                d += 8
            }
        }
    }
}
