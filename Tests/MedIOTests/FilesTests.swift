import Foundation
@testable import MedIO
import MedTestSupport
import Testing

// The file layer every reader and writer goes through: the one atomic writer, the one memory map and the one
// "error in a file".

/// The names in `directory`, hidden temporary files included.
private func names(in directory: TemporaryDirectory) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
}

private struct Interrupted: Error {}

@Suite struct AtomicFileTests {
    @Test func commitMakesTheFileAndLeavesNoTemporary() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("out.bin")
        let file = try AtomicFile(url)
        // Until the commit only the temporary exists, hidden, in the same directory.
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(URL(fileURLWithPath: file.temporaryPath).deletingLastPathComponent().standardizedFileURL.path
            == directory.url.standardizedFileURL.path)
        #expect(URL(fileURLWithPath: file.temporaryPath).lastPathComponent.hasPrefix(".out.bin.tmp-"))
        try file.write([1, 2, 3])
        try file.write(Data([4, 5]))
        try file.commit()
        #expect(try Data(contentsOf: url) == Data([1, 2, 3, 4, 5]))
        #expect(try names(in: directory) == ["out.bin"])
    }

    /// A writer killed before its commit leaves its temporary; the next writer of the same file removes it when
    /// its process is gone, and leaves a living writer's and another host's alone.
    @Test func abandonedTemporariesOfDeadWritersAreRemoved() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("checkpoint.safetensors")
        let prefix = AtomicFile.temporaryPrefix(for: url)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()  // a pid that is certainly not running (unless reused within this test)
        let dead = "\(prefix)\(finished.processIdentifier)-1a2b"
        let living = "\(prefix)\(getppid())-3c4d"
        let otherHost = ".checkpoint.safetensors.tmp-another_host-\(finished.processIdentifier)-5e6f"
        let otherFile = ".history.csv.tmp-\(prefix.split(separator: "-")[1])-\(finished.processIdentifier)-7a8b"
        for name in [dead, living, otherHost, otherFile] { try Data([1]).write(to: directory.appending(name)) }
        try AtomicFile.write([1, 2], to: url)
        #expect(try names(in: directory) == [living, otherFile, otherHost, "checkpoint.safetensors"].sorted())
    }

    @Test func staticWritesOfBytesPartsAndText() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try AtomicFile.write([9, 8], to: directory.appending("a"))
        try AtomicFile.write([[1], [], [2, 3]], to: directory.appending("b"))
        try AtomicFile.write("héllo\n", to: directory.appending("c"))
        try AtomicFile.write(Data([7]), to: directory.appending("d"))
        #expect(try Data(contentsOf: directory.appending("a")) == Data([9, 8]))
        #expect(try Data(contentsOf: directory.appending("b")) == Data([1, 2, 3]))
        #expect(try String(contentsOf: directory.appending("c"), encoding: .utf8) == "héllo\n")
        #expect(try Data(contentsOf: directory.appending("d")) == Data([7]))
        #expect(try names(in: directory) == ["a", "b", "c", "d"])
    }

    @Test func discardLeavesNoFileAndNoTemporary() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("out.bin")
        do {
            let file = try AtomicFile(url)
            try file.write([1, 2, 3])
            file.discard()
            file.discard()  // twice is harmless
        }
        do {
            // Dropped without a commit: the same.
            let file = try AtomicFile(url)
            try file.write([1])
        }
        #expect(try names(in: directory).isEmpty)
    }

    @Test func aWriterThatThrowsMidwayLeavesTheOldContent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("model.bin")
        try AtomicFile.write([1, 1, 1], to: url)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: url) { file in
                try file.write([2, 2, 2, 2])
                throw Interrupted()
            }
        }
        #expect(try Data(contentsOf: url) == Data([1, 1, 1]))
        #expect(try names(in: directory) == ["model.bin"])
        // And a write that succeeds replaces it.
        try AtomicFile.write([3], to: url)
        #expect(try Data(contentsOf: url) == Data([3]))
        #expect(try names(in: directory) == ["model.bin"])
    }

    @Test func mappedContentsFillTheFileInPlace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("cache.bin")
        let file = try AtomicFile(url)
        try file.withMappedContents(size: 10_000) { buffer in
            for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: i) }
        }
        try file.commit()
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(bytes.count == 10_000 && bytes[9_999] == UInt8(truncatingIfNeeded: 9_999))
        #expect(try names(in: directory) == ["cache.bin"])
    }

    @Test func aMissingDirectoryIsAFileErrorNamingTheDestination() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("no/such/dir/out.bin")
        do {
            try AtomicFile.write([1], to: url)
            Issue.record("expected a FileError")
        } catch let error as FileError {
            #expect(error.path == url.path)
            #expect(error.underlying(as: SystemError.self)?.code == ENOENT)
            #expect(error.description.contains(url.path))
        }
    }
}

@Suite struct MappedFileTests {
    /// A copy-on-write map can be written; the file cannot tell.
    @Test func copyOnWriteMapsLeaveTheFileAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("data.bin")
        try AtomicFile.write([UInt8](repeating: 7, count: 10_000), to: url)
        let map = try MappedFile(url, copyOnWrite: true)
        #expect(map.isCopyOnWrite && map.isMapped)
        UnsafeMutableRawPointer(mutating: map.bytes.baseAddress!).storeBytes(of: 99, toByteOffset: 5000, as: UInt8.self)
        #expect(map.bytes[5000] == 99)
        #expect(try Data(contentsOf: url) == Data(repeating: 7, count: 10_000))
        let fresh = try MappedFile(url)
        withExtendedLifetime(fresh) { #expect(fresh.bytes[5000] == 7) }
    }

    @Test func wholeFileAndAnOffsetRange() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("data.bin")
        // Longer than a page, so that an offset past the first page exercises the alignment.
        let content = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(content, to: url)

        let whole = try MappedFile(path: url.path)
        #expect(whole.count == content.count && Array(whole.bytes) == content)
        #expect(whole.path == url.path)

        for (offset, length) in [(0, 1), (1, 100), (4095, 2), (4096, 4096), (12_345, 7_000), (19_999, 1), (20_000, 0)] {
            let part = try MappedFile(url, offset: offset, length: length)
            #expect(Array(part.bytes) == Array(content[offset..<(offset + length)]), "\(offset) +\(length)")
        }
        // Without a length: to the end.
        let tail = try MappedFile(url, offset: 15_000)
        #expect(Array(tail.bytes) == Array(content[15_000...]))
    }

    @Test func anEmptyFileHasNoBytes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("empty")
        try AtomicFile.write([UInt8](), to: url)
        let file = try MappedFile(url)
        #expect(file.count == 0 && file.bytes.isEmpty)
    }

    @Test func aMissingFileIsAFileErrorWithItsPath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("missing.npy").path
        do {
            _ = try MappedFile(path: path)
            Issue.record("expected a FileError")
        } catch let error as FileError {
            #expect(error.path == path)
            #expect(error.underlying(as: SystemError.self)?.code == ENOENT)
            #expect(error.description.contains(path))
        }
    }

    @Test func aRangeOutsideTheFileIsAFileError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("short")
        try AtomicFile.write([1, 2, 3], to: url)
        #expect(throws: FileError.self) { _ = try MappedFile(url, offset: 2, length: 5) }
        #expect(throws: FileError.self) { _ = try MappedFile(url, offset: 4) }
        #expect(throws: FileError.self) { _ = try MappedFile(path: directory.url.path) }  // a directory
    }
}

@Suite struct FileErrorTests {
    private struct Broken: Error, CustomStringConvertible { var description: String { "broken header" } }

    @Test func descriptionNamesThePathAndWhere() {
        let atOffset = FileError(path: "/data/a.npy", location: .offset(128), Broken())
        #expect(atOffset.description.contains("/data/a.npy"))
        #expect(atOffset.description.contains("128"))
        #expect(atOffset.description.contains("broken header"))

        let atKey = FileError(path: "/data/b.npz", location: .key("train_images"), Broken())
        #expect(atKey.description.contains("/data/b.npz"))
        #expect(atKey.description.contains("train_images"))
        #expect(atKey.description.contains("broken header"))

        let nowhere = FileError(path: "/data/c.pth", Broken())
        #expect(nowhere.description.contains("/data/c.pth") && nowhere.description.contains("broken header"))
    }

    @Test func systemErrorsReadErrnoAndUnderlyingFindsNestedErrors() {
        let error = FileError.system(path: "/x/y", operation: "open for reading", code: ENOENT)
        let system = error.underlying(as: SystemError.self)
        #expect(system?.code == ENOENT)
        #expect(system?.operation == "open for reading")
        #expect(error.description.contains("/x/y") && error.description.contains("open for reading"))
        // A format error wrapped twice is still found; one of another type is not.
        let nested = FileError(path: "/outer", FileError(path: "/inner", location: .key("k"), Broken()))
        #expect(nested.underlying(as: Broken.self) != nil)
        #expect(nested.underlying(as: SystemError.self) == nil)
    }
}
