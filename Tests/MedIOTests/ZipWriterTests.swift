import Foundation
import MedIO
import MedTensor
import MedTestSupport
import Testing

/// Archives the writer makes read back through the library's own reader, entry for entry, and `.npz` files
/// read back as `np.load` would.
@Suite struct ZipWriterTests {
    @Test(arguments: [false, true])
    func storedArchivesRoundTrip(_ forceZip64: Bool) throws {
        let members: [(name: String, chunks: [[UInt8]])] = [
            ("a.npy", [[1, 2, 3], [4, 5]]), ("empty.npy", []), ("b/c.bin", [Array(repeating: 7, count: 70_000)]),
        ]
        let archive = try ZipArchive(bytes: ZipWriter.storedArchive(members, forceZip64: forceZip64).flatMap { $0 })
        #expect(archive.entries.map(\.name) == members.map(\.name))
        for member in members { #expect(try archive.extract(named: member.name) == member.chunks.flatMap { $0 }, "\(member.name)") }
    }

    @Test func npzWritesWhatNpyReads() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("data.npz")
        let images = TypedArray(uint8s: (0..<48).map { UInt8($0) }, shape: [3, 4, 4])
        let labels = TypedArray(uint8s: [0, 1, 1], shape: [3, 1])
        try Npz.write([("train_images", images), ("train_labels", labels)], to: url)
        let archive = try ZipArchive(bytes: [UInt8](try Data(contentsOf: url)))
        #expect(archive.entries.map(\.name) == ["train_images.npy", "train_labels.npy"])
        #expect(try Npy.decode(archive.extract(named: "train_images.npy")) == images)
        #expect(try Npy.decode(archive.extract(named: "train_labels.npy")) == labels)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["data.npz"])
    }
}
