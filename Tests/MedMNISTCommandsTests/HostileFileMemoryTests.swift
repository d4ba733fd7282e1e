import Foundation
import MedTestSupport
import Testing

/// Every file in Tests/Fixtures/hostile (see HostileCheckpointTests) read by the built tool under a 256 MiB
/// address-space limit (`ulimit -v`): each declares gigabytes to terabytes, so one that got as far as
/// allocating what it declares would kill the process (a failed allocation traps) instead of ending with exit 1
/// and one message per file. A valid checkpoint under the same limit reads fine, so the limit itself is not
/// what fails.
@Suite(.enabled(if: medmnistBinary != nil, "the medmnist executable is not in the build products folder"))
struct HostileFilesUnderMemoryLimitTests {
    static let limitKiB = 256 * 1024

    /// Runs `medmnist ARGUMENTS` under the address-space limit; returns the exit status and standard error.
    static func runLimited(_ arguments: [String]) throws -> (status: Int32, error: String) {
        try runBinary(arguments, ulimit: "-v \(limitKiB)")
    }

    @Test func validCheckpointReadsUnderTheLimit() throws {
        let run = try Self.runLimited(["inspect", Fixtures.url("torch/basic.pth").path])
        #expect(run.status == 0, "\(run.error)")
    }

    @Test func hostileFilesAreRefusedUnderTheLimit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // `inspect` takes .pth/.safetensors/.npy names; the raw pickles are copied under a .pth name.
        let sources = try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("hostile").path).sorted()
        var paths: [String] = []
        for name in sources {
            let source = Fixtures.url("hostile/\(name)")
            if name.hasSuffix(".pkl") {
                let copy = directory.url.appendingPathComponent(name.replacingOccurrences(of: ".pkl", with: ".pth"))
                try FileManager.default.copyItem(at: source, to: copy)
                paths.append(copy.path)
            } else {
                paths.append(source.path)
            }
        }
        #expect(paths.count >= 20)
        let run = try Self.runLimited(["inspect"] + paths)
        #expect(run.status == 1, "exit \(run.status) (a signal is 128 + n): \(run.error)")
        let lines = run.error.split(separator: "\n").map(String.init)
        for path in paths {
            let mentions = lines.filter { $0.hasPrefix("medmnist inspect: \(path): ") }
            #expect(mentions.count == 1, "\(path): \(lines)")
        }
        #expect(lines.last == "medmnist: \(paths.count) files could not be read" || lines.last?.hasSuffix("\(paths.count) files could not be read") == true,
                "\(lines.last ?? "")")
    }
}
