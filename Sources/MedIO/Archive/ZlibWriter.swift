/// Wraps data in a zlib stream (RFC 1950) made of stored deflate blocks (RFC 1951 BTYPE 00): no compression,
/// but valid for every inflater, and simple enough to be obviously right. PNG requires zlib framing.
public enum ZlibWriter {
    /// The largest stored block.
    static let maxBlock = 65535

    /// `data` as a zlib stream: header `78 01`, stored blocks, Adler-32 (big-endian).
    public static func stored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / maxBlock * 5 + 11)
        // CMF 0x78: deflate, 32 KiB window. FLG 0x01: fastest level, and (0x7801 % 31 == 0).
        out += [0x78, 0x01]
        var start = 0
        repeat {
            let length = min(maxBlock, data.count - start)
            let final: UInt8 = start + length == data.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE = 00; the rest of the byte is padding
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[start..<start + length]
            start += length
        } while start < data.count
        let adler = Adler32.checksum(data)
        out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return out
    }
}
