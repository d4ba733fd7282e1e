import Foundation
import MedIO
import MedTensor

/// Writes 8-bit grayscale or RGB PNG files (ISO/IEC 15948): signature, `IHDR`, one `IDAT` holding a zlib
/// stream of filter-0 scanlines, `IEND`; every chunk with its CRC-32.
public enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// PNG bytes of an image stored row-major, `channels` interleaved bytes per pixel (1 gray, 3 RGB).
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "PNGEncoder: 1 or 3 channels, not \(channels)")
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max),
                     "PNGEncoder: bad size \(width)×\(height)")
        precondition(pixels.count == width * height * channels, "PNGEncoder: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // bit depth, colour type, compression, filter, interlace
        let rowBytes = width * channels
        var scanlines = [UInt8]()
        scanlines.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            scanlines.append(0)  // filter type None
            scanlines += pixels[y * rowBytes ..< (y + 1) * rowBytes]
        }
        var out = signature
        out += chunk("IHDR", header)
        out += chunk("IDAT", ZlibWriter.stored(scanlines))
        out += chunk("IEND", [])
        return out
    }

    /// Encodes and writes to `url`.
    public static func write(pixels: [UInt8], width: Int, height: Int, channels: Int, to url: URL) throws {
        let bytes = encode(pixels: pixels, width: width, height: height, channels: channels)
        try AtomicFile.write(bytes, to: url)
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let crc = (typeBytes + data).withUnsafeBytes { CRC32.checksum($0) }
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
