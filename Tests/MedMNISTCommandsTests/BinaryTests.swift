import Foundation
import MedIO
import MedTestSupport
import Testing

/// The built `medmnist` executable, in the build products folder beside the test bundle; nil when it was
/// not built (the tests below are then reported as skipped).
let medmnistBinary: URL? = {
    var candidates: [URL] = []
    if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for folder in candidates {
        // On Linux the bundle is `….xctest` in the products folder; on macOS the executable sits in
        // `….xctest/Contents/MacOS`, three levels below it.
        for up in [folder, folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()] {
            let binary = up.appendingPathComponent("medmnist")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
    }
    return nil
}()

/// Runs the binary (with `environment` added to this process's) and returns its exit status, standard output
/// and standard error.
func runBinary(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = medmnistBinary!
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Runs `medmnist ARGUMENTS` through the shell after `ulimit LIMIT` (`-f 4` for a tiny disk, `-v 262144` for
/// 256 MiB of address space), standard output discarded; the exit status and standard error.
func runBinary(_ arguments: [String], ulimit limit: String) throws -> (status: Int32, error: String) {
    let quoted = ([medmnistBinary!.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "ulimit \(limit) && exec \(quoted)"]
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Starts the binary with its output discarded, for a test that kills it.
func startBinary(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = medmnistBinary!
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// A few runs of the real executable: the exit statuses the shell sees.
@Suite(.enabled(if: medmnistBinary != nil, "the medmnist executable is not in the build products folder"))
struct BinaryTests {
    @Test func helpAndVersion() throws {
        let help = try runBinary(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("EXIT STATUS"))
        #expect(try runBinary(["verify", "--help"]).status == 0)
        #expect(try runBinary(["--version"]).output.hasPrefix("medmnist "))
    }

    @Test func goodRun() throws {
        let run = try runBinary(["verify", "--dataset", "breastmnist", "--root", Fixtures.url("data/npz").path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("ok in"))
    }

    @Test func badInvocations() throws {
        let unknown = try runBinary(["no-such-command"])
        #expect(unknown.status == 64)
        #expect(unknown.error.hasPrefix("medmnist: unknown command 'no-such-command'"))
        let option = try runBinary(["system", "--sise", "4"])
        #expect(option.status == 64)
        #expect(option.error.hasPrefix("medmnist system: unknown option --sise; did you mean --size?"))
        let missing = try runBinary(["evaluate", "--dataset", "breastmnist"])
        #expect(missing.status == 64)
        let seed = try runBinary(["montage", "--dataset", "breastmnist", "--output", "a.png", "--seed", "-1"])
        #expect(seed.status == 64)
        #expect(seed.error.hasPrefix("medmnist montage: --seed must not be negative"))
        let file = try runBinary(["verify", "--file", "/nonexistent/custom.npz"])
        #expect(file.status == 1)
        #expect(file.error.hasPrefix("medmnist verify: "))
    }
}
