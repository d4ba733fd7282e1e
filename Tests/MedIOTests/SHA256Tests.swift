import Foundation
@testable import MedIO
import MedTestSupport
import Testing

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest([UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesInAnyPiecesAgree() throws {
        let data = Array((0..<5).flatMap { _ in (0...255).map { UInt8($0) } })
        let whole = SHA256.hexDigest(data)
        #expect(whole == "d414b085826eb06778483ba35564dc849e643359f69ed9747878ba6e54985bed")  // hashlib
        for split in [1, 3, 55, 56, 63, 64, 65, 127, 128, 200] {
            var sha = SHA256()
            var i = 0
            while i < data.count {
                let end = min(data.count, i + split)
                sha.update(Array(data[i..<end]))
                i = end
            }
            #expect(sha.hexDigest == whole, "pieces of \(split)")
            #expect(sha.digest.count == 32)
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("data.bin")
        try Data(data).write(to: url)
        #expect(try SHA256.hexDigest(ofFileAt: url) == whole)
    }
}
