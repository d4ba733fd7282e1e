import Foundation
@testable import MedIO
import MedTestSupport
import Testing

// Hostile files, in one place: code execution through __reduce__ (zip, legacy and raw pickles), huge declared
// sizes (storages, shapes, npy headers, safetensors offsets and header lengths), storage offsets out of range,
// deeply nested and self-referencing containers, and zip members with `..` or absolute names. The files are in
// Tests/Fixtures/hostile, written by Tests/Fixtures/make_hostile_fixtures.py (which says how each is built).
//
// Each must be rejected by the reader an application uses (CheckpointFile, Npy, SafeTensorsFile) with a
// FileError naming the file around the format's typed error, whose message says what is wrong; quickly (no
// walk over a declared 2^40 elements). That nothing large is allocated is checked by HostileFilesUnderMemoryLimit
// in MedMNISTCommandsTests, which reads every file here with the `medmnist` binary under a 256 MiB address-space
// limit.

/// One hostile file and how it must be refused.
struct HostileCase: CustomStringConvertible, Sendable {
    enum Reader: Sendable { case checkpoint, npy, safetensors }

    var file: String
    var reader: Reader = .checkpoint
    /// Text the message must contain after the path.
    var message: String
    /// Whether the typed error is the expected case.
    var matches: @Sendable (any Error) -> Bool
    var description: String { file }

    static func checkpoint(_ file: String, _ message: String, _ matches: @escaping @Sendable (CheckpointError) -> Bool) -> HostileCase {
        HostileCase(file: file, message: message, matches: { ($0 as? FileError)?.underlying(as: CheckpointError.self).map(matches) ?? false })
    }

    static func tensorFile(_ file: String, _ reader: Reader, _ message: String, _ matches: @escaping @Sendable (TensorFileError) -> Bool) -> HostileCase {
        HostileCase(file: file, reader: reader, message: message,
                    matches: { ($0 as? FileError)?.underlying(as: TensorFileError.self).map(matches) ?? false })
    }
}

let hostileCases: [HostileCase] = [
    // __reduce__ to os.system: refused at the GLOBAL opcode that names it, before any REDUCE.
    .checkpoint("reduce_system_zip.pth", "pickle reduce_system_zip/data.pkl refers to 'os.system'") {
        if case .forbiddenGlobal(_, _, "os", "system") = $0 { true } else { false }
    },
    .checkpoint("reduce_system_legacy.pth", "pickle file refers to 'os.system'") {
        if case .forbiddenGlobal("file", _, "os", "system") = $0 { true } else { false }
    },
    .checkpoint("reduce_system.pkl", "pickle file refers to 'os.system' at byte 2") {
        if case .forbiddenGlobal("file", 2, "os", "system") = $0 { true } else { false }
    },
    .checkpoint("reduce_system_p0.pkl", "not a checkpoint: neither safetensors nor a PyTorch zip or legacy file (it starts with 63 6f 73") {
        if case .unrecognizedFormat = $0 { true } else { false }
    },
    // Huge declared sizes.
    .checkpoint("huge_storage_zip.pth", "storage '0' should hold 4398046511104 bytes but the file has 16") {
        $0 == .storageSize(key: "0", expected: 1 << 42, actual: 16)
    },
    .checkpoint("huge_storage_legacy.pth", "storage '0' should hold 4398046511104 bytes but the file has 16") {
        $0 == .storageSize(key: "0", expected: 1 << 42, actual: 16)
    },
    .checkpoint("huge_shape_zip.pth", "tensor 'w': size [2097152, 2097152, 2097152] overflows") {
        if case .invalidTensor("w", _) = $0 { true } else { false }
    },
    .checkpoint("huge_view_zip.pth", "tensor 'w': size [16384, 16384, 4096] would take the state dict past") {
        if case .invalidTensor("w", let detail) = $0 { detail.contains("damaged or hostile") } else { false }
    },
    // Storage offsets out of range.
    .checkpoint("offset_out_of_range_zip.pth", "tensor 'w': size [4], stride [1] and offset 1000 reach elements 1000...1003 of a storage of 4") {
        if case .invalidTensor("w", _) = $0 { true } else { false }
    },
    .checkpoint("negative_offset_zip.pth", "tensor 'w': storage offset -1 is negative") {
        if case .invalidTensor("w", _) = $0 { true } else { false }
    },
    .checkpoint("view_out_of_range_legacy.pth", "storage view 100..<104 lies outside storage '0'") {
        if case .pickleMalformed("file", _, "BINPERSID", _) = $0 { true } else { false }
    },
    // Deep nesting (100,000 levels) and memo self references: built without recursion, refused as not tensors.
    .checkpoint("nested_tuples_zip.pth", "not a state dict: 'w' holds a tuple of 1, not a tensor") {
        if case .notAStateDict = $0 { true } else { false }
    },
    .checkpoint("nested_lists_zip.pth", "not a state dict: 'w' holds a list of 1, not a tensor") {
        if case .notAStateDict = $0 { true } else { false }
    },
    .checkpoint("memo_self_dict_zip.pth", "state dict entry 'state_dict' is a dict of 1, not a tensor") {
        $0 == .notATensor(key: "state_dict", found: "a dict of 1")
    },
    .checkpoint("memo_self_list_zip.pth", "not a state dict: 'w' holds a list of 1, not a tensor") {
        if case .notAStateDict = $0 { true } else { false }
    },
    // Zip member names that climb out of the archive or are absolute (the first used to load).
    .checkpoint("zip_dotdot.pth", "record '../data.pkl' has an unsafe name") {
        if case .invalidRecord("../data.pkl", _) = $0 { true } else { false }
    },
    .checkpoint("zip_absolute.pth", "record '/tmp/archive/data.pkl' has an unsafe name") {
        if case .invalidRecord("/tmp/archive/data.pkl", _) = $0 { true } else { false }
    },
    .checkpoint("zip_extra_dotdot.pth", "record 'archive/../../../etc/passwd' has an unsafe name") {
        if case .invalidRecord("archive/../../../etc/passwd", _) = $0 { true } else { false }
    },
    // The tensor formats' huge declarations: checked against the file before anything is allocated.
    .tensorFile("npy_huge_shape.npy", .npy, "file ends inside the npy data at byte 128: needs 4398046511104 bytes, 0 remain") {
        $0 == .truncated(what: "npy data", offset: 128, needed: 1 << 42, available: 0)
    },
    .tensorFile("npy_overflow_shape.npy", .npy, "shape [1099511627776, 1099511627776, 1099511627776] is invalid: element count overflows") {
        if case .invalidShape = $0 { true } else { false }
    },
    .tensorFile("safetensors_huge_offsets.safetensors", .safetensors, "tensor 'w' has data_offsets [0, 4398046511104] beyond the 16-byte data buffer") {
        if case .safetensorsOffsetsOutOfBounds("w", 0, 1 << 42, 16, _) = $0 { true } else { false }
    },
    .tensorFile("safetensors_huge_header.safetensors", .safetensors, "safetensors header length 1152921504606846976 (at byte 0) runs past the end of the 16-byte file") {
        $0 == .safetensorsHeaderLength(length: 1 << 60, fileSize: 16)
    },
    // The same files through the format-detecting reader that `--weights` uses.
    .tensorFile("safetensors_huge_offsets.safetensors", .checkpoint, "tensor 'w' has data_offsets [0, 4398046511104]") {
        if case .safetensorsOffsetsOutOfBounds = $0 { true } else { false }
    },
]

@Suite struct HostileCheckpointTests {
    @Test(arguments: hostileCases)
    func hostileFileIsRejected(_ c: HostileCase) throws {
        let url = Fixtures.url("hostile/\(c.file)")
        let clock = ContinuousClock()
        let started = clock.now
        do {
            switch c.reader {
            case .checkpoint: _ = try CheckpointFile.read(contentsOf: url)
            case .npy: _ = try Npy.read(contentsOf: url)
            case .safetensors: _ = try SafeTensorsFile.read(contentsOf: url)
            }
            Issue.record("\(c.file) was read without an error")
        } catch {
            let elapsed = clock.now - started
            let text = "\(error)"
            #expect((error as? FileError)?.path == url.path, "\(c.file): \(type(of: error)) \(text)")
            #expect(text.hasPrefix(url.path + ": "), "\(c.file): \(text)")
            #expect(text.contains(c.message), "\(c.file): \(text)")
            #expect(!text.contains("\n"), "\(c.file): one line: \(text)")
            #expect(c.matches(error), "\(c.file): another error case: \(text)")
            // Nothing declared is walked: a few dozen milliseconds here; generous for a loaded 2-core machine.
            #expect(elapsed < .seconds(2), "\(c.file): took \(elapsed)")
        }
    }

    /// The refusal is in the reader, not in the way the file is opened: the same bytes from memory.
    @Test(arguments: hostileCases.filter { $0.reader == .checkpoint && $0.file.hasSuffix(".pth") })
    func hostileBytesAreRejected(_ c: HostileCase) throws {
        let bytes = try Fixtures.bytes("hostile/\(c.file)")
        #expect(throws: CheckpointError.self, "\(c.file)") { _ = try TorchCheckpoint.decode(bytes) }
    }

    @Test func unsafeMemberNames() {
        for name in ["../data.pkl", "a/../b", "/abs/data.pkl", "\\abs", "..\\data.pkl", "C:data.pkl", "x/.."] {
            #expect(TorchCheckpoint.isUnsafeMemberName(name), "\(name)")
        }
        for name in ["archive/data.pkl", "archive/data/0", "a..b/data.pkl", "archive/.data/serialization_id", "data.pkl"] {
            #expect(!TorchCheckpoint.isUnsafeMemberName(name), "\(name)")
        }
    }

    /// Every fixture the generating script lists is tested here, and every file here is listed.
    @Test func everyHostileFixtureHasACase() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("hostile").path)
        #expect(Set(files) == Set(hostileCases.map(\.file)))
    }
}
