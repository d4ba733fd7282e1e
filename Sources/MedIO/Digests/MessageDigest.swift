import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An incremental message digest (``MD5``, ``SHA256``): what each algorithm supplies, and the hex, byte-array
/// and file forms they share.
public protocol MessageDigest {
    /// Starts the digest of an empty message.
    init()
    /// Adds `bytes` to the message.
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// The digest of everything added so far. Does not end the computation.
    var digest: [UInt8] { get }
}

extension MessageDigest {
    /// Adds `bytes` to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as lowercase hexadecimal digits (the form MedMNIST and the Hugging Face hub publish).
    public var hexDigest: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The hex digest of `bytes`.
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        var hash = Self()
        hash.update(bytes)
        return hash.hexDigest
    }

    /// The hex digest of a file, read in 1 MiB chunks so files of any size use constant memory.
    /// - Throws: ``FileError`` when the file cannot be opened or read.
    public static func hexDigest(ofFileAt url: URL) throws -> String {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.system(path: path, operation: "open for reading") }
        defer { close(fd) }
        let chunkSize = 1 << 20
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { chunk.deallocate() }
        var hash = Self()
        while true {
            let n = read(fd, chunk.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: path, operation: "read")
            }
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        return hash.hexDigest
    }
}
