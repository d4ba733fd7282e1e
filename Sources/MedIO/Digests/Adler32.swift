/// Adler-32 (RFC 1950), the checksum that ends a zlib stream.
public enum Adler32 {
    /// Adler-32 of `bytes`, continuing from `initial` (1 for a fresh stream).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 1) -> UInt32 {
        var a = initial & 0xFFFF, b = initial >> 16
        var index = 0
        // 5552 is the largest n for which 255·n·(n+1)/2 + (n+1)·(65520) stays below 2³²: reduce once per block.
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            while index < end {
                a &+= UInt32(bytes[index])
                b &+= a
                index += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    public static func checksum(_ bytes: [UInt8], initial: UInt32 = 1) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, initial: initial) }
    }
}
