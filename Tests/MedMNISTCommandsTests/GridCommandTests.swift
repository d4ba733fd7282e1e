import Foundation
import MedIO
import MedMNISTCommands
import MedMNISTData
import MedTestSupport
import MedTraining
import Testing

/// A root holding a generated `breastmnist.npz` with the catalog's split sizes (gratings: learnable).
func syntheticRoot(in directory: TemporaryDirectory) async throws -> String {
    let root = directory.appending("data")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    let made = await tool(["synthetic", "--like", "breastmnist", "--pattern", "stripes", "-o", root.appendingPathComponent("breastmnist.npz").path])
    #expect(made.status == .success, "\(made.error)")
    return root.path
}

/// `medmnist grid` in-process: the cell list and the flags.
@Suite struct GridCommandTests {
    @Test func listPrintsTheCellsInOrderWithTheirCount() async {
        let all = await tool(["grid", "--list"])
        #expect(all.status == .success)
        #expect(all.output.hasSuffix("3360 cells; shard 0/1 (local) has 3360\n"))
        let some = await tool(["grid", "--list", "--datasets", "breastmnist", "--sizes", "28,64", "--models", "resnet18",
                               "--seeds", "1,2", "--shard", "1/4"])
        let lines = some.output.split(separator: "\n")
        #expect(lines.count == 11 && lines[0] == "0\tbreastmnist\t28\tresnet18\tend-to-end\t1" && lines[4] == "4\tbreastmnist\t28\tresnet18\tknn\t1")
        #expect(lines.last == "10 cells; shard 1/4 (shard 1/4) has 3")
    }

    @Test(arguments: [
        (["--datasets", "breastmnsit"], "medmnist grid: --datasets: unknown dataset 'breastmnsit'"),
        (["--datasets", "organmnist3d"], "medmnist grid: --datasets: organmnist3d holds 3D volumes"),
        (["--sizes", "32"], "medmnist grid: --sizes: '32' is not one of 28, 64, 128, 224"),
        (["--models", "resnet19"], "medmnist grid: --models: unknown model 'resnet19' (did you mean 'resnet18'?)"),
        (["--schemes", "probe"], "medmnist grid: --schemes: 'probe' is not one of end-to-end, linear-probe, cached-linear-probe, knn"),
        (["--seeds", "-1"], "medmnist grid: --seeds: '-1' is not a non-negative integer"),
        (["--seeds", ","], "medmnist grid: --seeds selects nothing"),
        (["--shard", "4/4"], "medmnist grid: --shard: shard index 4 from --shard is outside 0..<4"),
        (["--shard", "x"], "medmnist grid: --shard: 'x' is not a shard"),
    ])
    func badSelectionsAreUsageErrors(_ arguments: [String], _ message: String) async {
        let run = await tool(["grid", "--list"] + arguments)
        #expect(run.status == .usage)
        #expect(run.firstErrorLine.hasPrefix(message), "\(run.firstErrorLine)")
    }
}

/// The built binary as schedulers run it.
@Suite(.enabled(if: medmnistBinary != nil, "the medmnist executable is not in the build products folder"))
struct GridBinaryTests {
    /// A Kubernetes Indexed Job without a cluster: N processes at once, each with its JOB_COMPLETION_INDEX and
    /// MEDMNIST_SHARDS=N, cover every cell exactly once.
    @Test func indexedJobWorkersCoverEveryCellOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = try await syntheticRoot(in: directory)
        let results = directory.appending("results")
        let flags = ["grid", "--datasets", "breastmnist", "--sizes", "28", "--models", "resnet18", "--schemes", "cached-linear-probe,knn",
                     "--seeds", "1,2,3,4", "--init", "random", "--preset", "fast", "--epochs", "2", "--root", root, "--offline",
                     "--results", results.path, "--threads", "1"]
        let workers = 3
        let processes = try (0..<workers).map { index -> Process in
            let process = Process()
            process.executableURL = medmnistBinary!
            process.arguments = flags
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["JOB_COMPLETION_INDEX": "\(index)", "MEDMNIST_SHARDS": "\(workers)"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let cells = GridSelection(datasets: ["breastmnist"], sizes: [28], models: ["resnet18"], schemes: [.cachedLinearProbe, .knn],
                                  seeds: [1, 2, 3, 4]).cells
        #expect(cells.count == 5)
        for (position, cell) in cells.enumerated() {
            let record = try GridRecord.read(results.appendingPathComponent(cell.resultPath))
            #expect(record.status == .ok && record.worker == "kubernetes \(position % workers)", "\(cell): \(record.worker)")
        }
        let files = FileManager.default.enumerator(atPath: results.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") } ?? []
        #expect(files.count == cells.count, "\(files)")
    }

    /// A worker killed mid-cell leaves no result and a stale lock; the next run takes the lock over, resumes the
    /// cell from its checkpoint and finishes it.
    @Test func aKilledWorkersCellIsTakenOverAndResumed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = try await syntheticRoot(in: directory)
        let results = directory.appending("results")
        let flags = ["grid", "--datasets", "breastmnist", "--sizes", "28", "--models", "resnet18", "--schemes", "end-to-end",
                     "--seeds", "1", "--init", "random", "--preset", "fast", "--epochs", "4", "--patience", "10", "--root", root,
                     "--offline", "--results", results.path]
        let cell = GridCell(dataset: "breastmnist", size: 28, model: "resnet18", scheme: .endToEnd, seed: 1)
        let process = try startBinary(flags)
        let checkpoint = results.appendingPathComponent(cell.stem + ".run/checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && process.isRunning && Date() < deadline { usleep(20_000) }
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(wasRunning, "the cell ended before it could be killed; the test proves nothing this time")
        #expect(!FileManager.default.fileExists(atPath: results.appendingPathComponent(cell.resultPath).path))
        #expect(CellLock.readHolder(results.appendingPathComponent(cell.lockPath).path)?.pid == process.processIdentifier)

        let rerun = try runBinary(flags)
        #expect(rerun.status == 0, "\(rerun.error)")
        #expect(rerun.output.contains("taking over the lock left by"), "\(rerun.output)")
        let record = try GridRecord.read(results.appendingPathComponent(cell.resultPath))
        #expect(record.status == .ok && record.result?.epochsRun == 4)
        #expect(!FileManager.default.fileExists(atPath: results.appendingPathComponent(cell.lockPath).path))
        // A third run finds the cell done.
        let again = try runBinary(flags)
        #expect(again.status == 0 && again.output.contains("0 ran, 0 failed, 1 already done"), "\(again.output)")
    }
}
