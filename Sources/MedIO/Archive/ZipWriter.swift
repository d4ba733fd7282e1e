/// Writes zip archives of stored (uncompressed) members, as numpy's `np.savez` does, with ZIP64 records for
/// members or archives past 4 GiB (as Python's `zipfile` writes them). The archive is returned as a list of
/// byte chunks, so large members are not copied into one buffer before they reach the file.
public enum ZipWriter {
    /// The archive holding `members` in order, each `(name, chunks)`.
    /// - Parameter forceZip64: write ZIP64 records even for small members (Python's `force_zip64`).
    public static func storedArchive(_ members: [(name: String, chunks: [[UInt8]])], forceZip64: Bool = false) -> [[UInt8]] {
        var output: [[UInt8]] = []
        var offset: UInt64 = 0
        var central: [UInt8] = []
        for member in members {
            let name = Array(member.name.utf8)
            let size = UInt64(member.chunks.reduce(0) { $0 + $1.count })
            var crc = CRC32()
            for chunk in member.chunks { crc.update(chunk) }
            let zip64 = forceZip64 || size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
            var local = Bytes()
            local.u32(0x0403_4B50); local.u16(zip64 ? 45 : 20); local.u16(0); local.u16(0)   // signature, version, flags, stored
            local.u16(0); local.u16(0x21)                                                    // 1980-01-01 00:00, as numpy's
            local.u32(crc.checksum)
            local.u32(zip64 ? 0xFFFF_FFFF : UInt32(size)); local.u32(zip64 ? 0xFFFF_FFFF : UInt32(size))
            local.u16(UInt16(name.count)); local.u16(zip64 ? 20 : 0)
            local.bytes += name
            if zip64 { local.u16(0x0001); local.u16(16); local.u64(size); local.u64(size) }

            var entry = Bytes()
            entry.u32(0x0201_4B50); entry.u16(zip64 ? 45 : 20); entry.u16(zip64 ? 45 : 20); entry.u16(0); entry.u16(0)
            entry.u16(0); entry.u16(0x21); entry.u32(crc.checksum)
            entry.u32(zip64 ? 0xFFFF_FFFF : UInt32(size)); entry.u32(zip64 ? 0xFFFF_FFFF : UInt32(size))
            entry.u16(UInt16(name.count)); entry.u16(zip64 ? 28 : 0); entry.u16(0); entry.u16(0); entry.u16(0)
            entry.u32(0x81A4 << 16)                                                          // -rw-r--r--
            entry.u32(zip64 ? 0xFFFF_FFFF : UInt32(offset))
            entry.bytes += name
            if zip64 { entry.u16(0x0001); entry.u16(24); entry.u64(size); entry.u64(size); entry.u64(offset) }
            central += entry.bytes

            output.append(local.bytes)
            output += member.chunks
            offset += UInt64(local.bytes.count) + size
        }
        let count = UInt64(members.count), centralSize = UInt64(central.count)
        var end = Bytes()
        if forceZip64 || offset >= 0xFFFF_FFFF || count >= 0xFFFF {
            let record = offset + centralSize
            end.u32(0x0606_4B50); end.u64(44); end.u16(45); end.u16(45); end.u32(0); end.u32(0)
            end.u64(count); end.u64(count); end.u64(centralSize); end.u64(offset)
            end.u32(0x0706_4B50); end.u32(0); end.u64(record); end.u32(1)
        }
        end.u32(0x0605_4B50); end.u16(0); end.u16(0)
        end.u16(UInt16(min(count, 0xFFFF))); end.u16(UInt16(min(count, 0xFFFF)))
        end.u32(UInt32(min(centralSize, 0xFFFF_FFFF))); end.u32(UInt32(min(offset, 0xFFFF_FFFF))); end.u16(0)
        return output + [central + end.bytes]
    }
}

/// Little-endian field writer for the records above.
private struct Bytes {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
}
