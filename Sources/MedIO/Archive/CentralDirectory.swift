/// Finds and parses a zip file's end records and central directory, following Python's `zipfile`
/// where the format leaves room for interpretation.
enum CentralDirectory {
    struct Location {
        /// Byte range of the central directory in the file.
        var start: Int
        var end: Int
        /// Bytes in front of the archive proper (see `ZipArchive.prefixLength`).
        var prefixLength: Int
    }

    static let endRecordSignature: UInt32 = 0x0605_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64EndRecordSignature: UInt32 = 0x0606_4B50
    static let recordSignature: UInt32 = 0x0201_4B50
    static let endRecordSize = 22
    static let zip64LocatorSize = 20
    static let zip64EndRecordSize = 56

    /// Locates the central directory through the end-of-central-directory record and, if present,
    /// the zip64 locator and zip64 end record.
    static func locate(in bytes: ArchiveBytes) throws -> Location {
        let size = bytes.count
        let end = try findEndRecord(in: bytes)
        var directorySize = Int(bytes.u32(end + 12))
        var directoryOffset = Int(bytes.u32(end + 16))
        var directoryEnd = end

        let locator = end - zip64LocatorSize
        if locator >= 0, bytes.u32(locator) == zip64LocatorSignature {
            // Zip64: the real sizes live in the zip64 end record, which writers (Python's zipfile
            // among them) put directly before the locator; the locator's own offset is a fallback.
            guard bytes.u32(locator + 4) == 0, bytes.u32(locator + 16) <= 1 else {
                throw ArchiveError.unsupported(feature: "archive split over several disks", entry: nil)
            }
            var record = locator - zip64EndRecordSize
            if record < 0 || bytes.u32(record) != zip64EndRecordSignature {
                let recorded = bytes.u64(locator + 8)
                guard locator >= zip64EndRecordSize, recorded <= UInt64(locator - zip64EndRecordSize),
                    bytes.u32(Int(recorded)) == zip64EndRecordSignature
                else {
                    throw ArchiveError.badSignature(what: "zip64 end-of-central-directory record", offset: max(record, 0))
                }
                record = Int(recorded)
            }
            guard bytes.u32(record + 16) == 0, bytes.u32(record + 20) == 0 else {
                throw ArchiveError.unsupported(feature: "archive split over several disks", entry: nil)
            }
            guard let zip64Size = Int(exactly: bytes.u64(record + 40)),
                let zip64Offset = Int(exactly: bytes.u64(record + 48))
            else {
                throw ArchiveError.malformed(
                    what: "zip64 end-of-central-directory record", offset: record, detail: "size or offset out of range")
            }
            directorySize = zip64Size
            directoryOffset = zip64Offset
            directoryEnd = record
        } else {
            let disk = bytes.u16(end + 4)
            let directoryDisk = bytes.u16(end + 6)
            guard disk == 0, directoryDisk == 0 else {
                throw ArchiveError.unsupported(feature: "archive split over several disks", entry: nil)
            }
        }

        // The directory ends where the end records begin. Comparing that with the recorded offset
        // reveals data prepended to the archive, which shifts every recorded offset.
        guard directorySize <= directoryEnd else {
            throw ArchiveError.truncated(
                what: "central directory", needed: directorySize, offset: directoryEnd - directorySize, fileSize: size)
        }
        let start = directoryEnd - directorySize
        guard directoryOffset <= start else {
            throw ArchiveError.malformed(
                what: "end-of-central-directory record", offset: end,
                detail: "central directory offset \(directoryOffset) lies past where the directory must start (\(start))")
        }
        return Location(start: start, end: directoryEnd, prefixLength: start - directoryOffset)
    }

    /// The last end record in the file's final 64 KiB + 22 bytes (a comment may follow it) whose comment fits the file.
    private static func findEndRecord(in bytes: ArchiveBytes) throws -> Int {
        let size = bytes.count
        guard size >= endRecordSize else { throw ArchiveError.notAZipArchive(size: size) }
        let lowest = max(0, size - endRecordSize - 0xFFFF)
        var position = size - endRecordSize
        while position >= lowest {
            if bytes.u32(position) == endRecordSignature, bytes.u16(position + 20) <= size - position - endRecordSize {
                return position
            }
            position -= 1
        }
        throw ArchiveError.notAZipArchive(size: size)
    }

    /// Parses every central directory record.
    static func readEntries(in bytes: ArchiveBytes, _ location: Location) throws -> [ZipEntry] {
        var entries: [ZipEntry] = []
        var position = location.start
        while position < location.end {
            let what = "central directory record"
            guard location.end - position >= 46 else {
                throw ArchiveError.truncated(what: what, needed: 46, offset: position, fileSize: location.end)
            }
            guard bytes.u32(position) == recordSignature else {
                throw ArchiveError.badSignature(what: what, offset: position)
            }
            let nameLength = bytes.u16(position + 28)
            let extraLength = bytes.u16(position + 30)
            let commentLength = bytes.u16(position + 32)
            let recordLength = 46 + nameLength + extraLength + commentLength
            guard location.end - position >= recordLength else {
                throw ArchiveError.truncated(what: what, needed: recordLength, offset: position, fileSize: location.end)
            }
            let flags = UInt16(bytes.u16(position + 8))
            let rawName = bytes.bytes(position + 46, nameLength)
            let name = decodeName(rawName, isUTF8: flags & 0x800 != 0)

            var compressedSize = UInt64(bytes.u32(position + 20))
            var uncompressedSize = UInt64(bytes.u32(position + 24))
            var headerOffset = UInt64(bytes.u32(position + 42))
            try readZip64Extra(
                bytes, from: position + 46 + nameLength, length: extraLength, entry: name,
                uncompressed: &uncompressedSize, compressed: &compressedSize, headerOffset: &headerOffset)
            guard let compressed = Int(exactly: compressedSize), let uncompressed = Int(exactly: uncompressedSize),
                let recordedOffset = Int(exactly: headerOffset),
                case (let offset, false) = recordedOffset.addingReportingOverflow(location.prefixLength)
            else {
                throw ArchiveError.malformed(
                    what: "central directory record of entry '\(name)'", offset: position, detail: "size or offset out of range")
            }
            entries.append(
                ZipEntry(
                    name: name, method: UInt16(bytes.u16(position + 10)), flags: flags, crc32: bytes.u32(position + 16),
                    compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: offset,
                    rawName: rawName, recordOffset: position))
            position += recordLength
        }
        return entries
    }

    /// Replaces the 32-bit fields that are 0xFFFFFFFF with the 64-bit values of the zip64 extra
    /// field (id 1), which lists them in this order and only those that overflowed.
    private static func readZip64Extra(
        _ bytes: ArchiveBytes, from start: Int, length: Int, entry: String,
        uncompressed: inout UInt64, compressed: inout UInt64, headerOffset: inout UInt64
    ) throws {
        var position = start
        let end = start + length
        while end - position >= 4 {
            let id = bytes.u16(position)
            let fieldLength = bytes.u16(position + 2)
            guard end - position - 4 >= fieldLength else {
                throw ArchiveError.malformed(
                    what: "extra field of entry '\(entry)'", offset: position,
                    detail: "field 0x\(String(id, radix: 16)) claims \(fieldLength) bytes but only \(end - position - 4) remain")
            }
            if id == 1 {
                var field = position + 4
                let fieldEnd = field + fieldLength
                func next() throws -> UInt64 {
                    guard fieldEnd - field >= 8 else {
                        throw ArchiveError.malformed(
                            what: "zip64 extra field of entry '\(entry)'", offset: position,
                            detail: "too short for the 64-bit values it must hold")
                    }
                    defer { field += 8 }
                    return bytes.u64(field)
                }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                if compressed == 0xFFFF_FFFF { compressed = try next() }
                if headerOffset == 0xFFFF_FFFF { headerOffset = try next() }
            }
            position += 4 + fieldLength
        }
    }

    /// Zip names are UTF-8 when flag bit 11 is set and code page 437 otherwise (Python's rule too).
    static func decodeName(_ raw: [UInt8], isUTF8: Bool) -> String {
        if isUTF8 || raw.allSatisfy({ $0 < 0x80 }) { return String(decoding: raw, as: UTF8.self) }
        return String(raw.map { $0 < 0x80 ? Character(Unicode.Scalar($0)) : codePage437High[Int($0 - 0x80)] })
    }

    private static let codePage437High: [Character] = Array(
        "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}")
}
