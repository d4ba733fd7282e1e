import Foundation
import MedIO
import MedTestSupport
import MedTensor
import Testing
@testable import MedMNISTData

/// A PNG reader just strict enough to check the encoder: chunks, CRCs, zlib framing, stored blocks, Adler-32.
struct PNGCheck {
    var width = 0, height = 0, colourType = 0
    var pixels: [UInt8] = []

    init(_ png: [UInt8]) throws {
        struct Bad: Error { let why: String }
        guard Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Bad(why: "signature") }
        func be32(_ i: Int) -> UInt32 { png[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        var offset = 8
        var idat: [UInt8] = []
        var chunks: [String] = []
        while offset < png.count {
            let length = Int(be32(offset))
            let type = String(decoding: png[offset + 4..<offset + 8], as: UTF8.self)
            let body = Array(png[offset + 8..<offset + 8 + length])
            let crc = Array(png[offset + 4..<offset + 8 + length]).withUnsafeBytes { CRC32.checksum($0) }
            guard crc == be32(offset + 8 + length) else { throw Bad(why: "CRC of \(type)") }
            chunks.append(type)
            if type == "IHDR" {
                width = Int(body[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
                height = Int(body[4..<8].reduce(0) { $0 << 8 | UInt32($1) })
                guard body[8] == 8 else { throw Bad(why: "bit depth") }
                colourType = Int(body[9])
            }
            if type == "IDAT" { idat += body }
            offset += 12 + length
        }
        guard chunks.first == "IHDR", chunks.last == "IEND" else { throw Bad(why: "chunk order \(chunks)") }
        // zlib: CMF/FLG check, stored blocks, Adler-32 of the inflated data.
        guard idat[0] & 0x0F == 8, (UInt16(idat[0]) << 8 | UInt16(idat[1])) % 31 == 0 else { throw Bad(why: "zlib header") }
        var position = 2
        var raw: [UInt8] = []
        while true {
            let header = idat[position]
            guard header & 0x06 == 0 else { throw Bad(why: "not a stored block") }
            let len = Int(idat[position + 1]) | Int(idat[position + 2]) << 8
            let nlen = Int(idat[position + 3]) | Int(idat[position + 4]) << 8
            guard len ^ nlen == 0xFFFF else { throw Bad(why: "LEN/NLEN") }
            raw += idat[position + 5..<position + 5 + len]
            position += 5 + len
            if header & 1 == 1 { break }
        }
        let adler = idat[position..<position + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard adler == Adler32.checksum(raw) else { throw Bad(why: "Adler-32") }
        let channels = colourType == 2 ? 3 : 1
        let stride = width * channels + 1
        guard raw.count == height * stride else { throw Bad(why: "scanline bytes") }
        for y in 0..<height {
            guard raw[y * stride] == 0 else { throw Bad(why: "filter") }
            pixels += raw[y * stride + 1..<(y + 1) * stride]
        }
    }
}

@Suite struct PNGMontageTests {
    @Test func pngDecodesBackToThePixels() throws {
        for (width, height, channels) in [(1, 1, 1), (300, 250, 3), (17, 3, 1)] {
            var pixels = [UInt8](repeating: 0, count: width * height * channels)
            for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i * 7 + i / 13) }
            let png = PNGEncoder.encode(pixels: pixels, width: width, height: height, channels: channels)
            let decoded = try PNGCheck(png)
            #expect(decoded.width == width && decoded.height == height && decoded.colourType == (channels == 3 ? 2 : 0))
            #expect(decoded.pixels == pixels)
        }
    }

    /// The grid equals skimage.util.montage (the package's montage2d) for the same selection.
    @Test func montageMatchesScikitImage() throws {
        let sel = try Fixtures.npy("data/montage/sel.npy").int64s().map { Int($0) }
        for (name, layout) in [("gray", ImageLayout.grayscale), ("rgb", .rgb)] {
            let images = try Fixtures.images("data/montage/\(name).npy", layout: layout)
            let expected = try Fixtures.npy("data/montage/\(name)_montage.npy")
            let montage = Montage(images, indices: sel)
            #expect([montage.height, montage.width] == Array(expected.shape.prefix(2)))
            #expect(montage.pixels == expected.bytes, "\(name)")
        }
        // Fewer images than tiles: skimage's mean fill.
        let images = ImageArray(shape: [2, 1, 1], layout: .grayscale, bytes: [10, 21])
        #expect(Montage(images, indices: [0, 1]).pixels == [10, 21, 15, 15])
    }

    @Test func volumesUseTheMiddleSlice() {
        var bytes = [UInt8](repeating: 0, count: 2 * 4 * 2 * 2)
        for i in bytes.indices { bytes[i] = UInt8(i) }
        let volumes = ImageArray(shape: [2, 4, 2, 2], layout: .volume, bytes: bytes)
        let montage = Montage(volumes, indices: [1])
        #expect(montage.pixels == [UInt8]([24, 25, 26, 27]))
    }

    @Test func selectionIsSeededAndDistinct() throws {
        let a = try Montage.selection(count: 100, length: 5, seed: 1)
        let b = try Montage.selection(count: 100, length: 5, seed: 1)
        #expect(a.count == 25 && Set(a).count == 25 && a == b)
        #expect(throws: MontageError.notEnoughSamples(available: 10, requested: 16)) { try Montage.selection(count: 10, length: 4, seed: 0) }
        #expect(try Montage.selection(count: 3, length: 2, seed: 0, replace: true).count == 4)
    }
}
