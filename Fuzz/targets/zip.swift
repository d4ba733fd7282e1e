// libFuzzer target: the zip central directory and inflate. Invariants: an extracted entry has its declared
// size and CRC-32 (extract checks both; here it is checked again), and raw DEFLATE of the input either fails
// or, re-compressed by the zlib writer, inflates back to the same bytes.
public func fuzzZip(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let archive = try? ZipArchive(bytes: bytes) {
        for entry in archive.entries.prefix(16) {
            guard (try? archive.checkPlausibleSize(entry)) != nil, let content = try? archive.extract(entry) else { continue }
            precondition(content.count == entry.uncompressedSize, "zip: \(entry.name) extracted to \(content.count) bytes")
            precondition(CRC32.checksum(content) == entry.crc32, "zip: \(entry.name) extracted with another CRC")
        }
    }
    if let inflated = try? Inflate.decompress(bytes, limit: 1 << 24) {
        let stream = ZlibWriter.stored(inflated)
        guard let again = try? Inflate.decompress(Array(stream.dropFirst(2).dropLast(4))) else {
            preconditionFailure("inflate: our own DEFLATE stream does not inflate")
        }
        precondition(again == inflated, "inflate: round trip differs")
    }
    return 0
}
