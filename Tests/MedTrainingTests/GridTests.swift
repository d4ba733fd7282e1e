import Foundation
import MedIO
import MedMNISTData
import MedTestSupport
import MedTraining
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The grid's cells, shards and locks.
@Suite struct GridSelectionTests {
    @Test func thePapersGridHas3360CellsInAFixedOrder() {
        let cells = GridSelection.paper.cells
        #expect(cells.count == 3360)
        #expect(Set(cells).count == 3360)
        #expect(cells.first == GridCell(dataset: "pathmnist", size: 28, model: "vgg16", scheme: .endToEnd, seed: 9_930_641))
        #expect(cells.filter { $0.scheme == .knn }.allSatisfy { $0.seed == 9_930_641 })
        #expect(cells.filter { $0.scheme == .knn }.count == 12 * 4 * 10)
        #expect(cells[0].resultPath == "pathmnist/28/vgg16/end-to-end-s9930641.json")
    }

    @Test func shardsCoverEveryCellExactlyOnce() throws {
        let cells = GridSelection.paper.cells
        for count in [1, 7, 64] {
            let covered = try (0..<count).flatMap { try Shard(index: $0, count: count).cells(cells) }
            #expect(covered.count == cells.count && Set(covered) == Set(cells), "\(count) shards")
        }
        #expect(try Shard.parse("3/10") == Shard(index: 3, count: 10))
        for bad in ["3", "10/10", "-1/4", "a/b", "1/0"] { #expect(throws: ShardError.self) { try Shard.parse(bad) } }
    }
}

@Suite struct ShardEnvironmentTests {
    func shard(_ environment: [String: String], shards: Int? = nil) throws -> Shard? {
        try Shard.fromEnvironment(environment, shards: shards)?.shard
    }

    func slurm(_ id: Int, min: Int, max: Int, count: Int, step: Int = 1) -> [String: String] {
        ["SLURM_ARRAY_JOB_ID": "17", "SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(min)",
         "SLURM_ARRAY_TASK_MAX": "\(max)", "SLURM_ARRAY_TASK_COUNT": "\(count)", "SLURM_ARRAY_TASK_STEP": "\(step)"]
    }

    /// The variables real Slurm 22.05 sets (recorded on this machine with `sbatch --array=…`).
    @Test func slurmArraysAreNumberedZeroToCountMinusOne() throws {
        // --array=0-9:3 → IDs 0, 3, 6, 9
        #expect(try [0, 3, 6, 9].map { try shard(slurm($0, min: 0, max: 9, count: 4, step: 3))!.index } == [0, 1, 2, 3])
        // --array=1,3,5 → Slurm reports STEP=1; the spacing comes from MIN, MAX, COUNT
        #expect(try [1, 3, 5].map { try shard(slurm($0, min: 1, max: 5, count: 3))! } == [0, 1, 2].map { try Shard(index: $0, count: 3) })
        // --array=4-7
        #expect(try shard(slurm(6, min: 4, max: 7, count: 4)) == Shard(index: 2, count: 4))
        // --array=5 (one task)
        #expect(try shard(slurm(5, min: 5, max: 5, count: 1)) == Shard.all)
        // --array=2,3,7 cannot be numbered from the variables…
        #expect(throws: ShardError.self) { try shard(slurm(3, min: 2, max: 7, count: 3)) }
        // …but with a count the task ID is the index (resubmitting some shards of an earlier array).
        #expect(try shard(slurm(7, min: 2, max: 7, count: 3), shards: 10) == Shard(index: 7, count: 10))
        #expect(try shard(slurm(7, min: 3, max: 7, count: 2), shards: nil)?.index == 1)
        #expect(throws: ShardError.self) { try shard(slurm(12, min: 2, max: 12, count: 3), shards: 10) }
        #expect(try Shard.fromEnvironment(slurm(3, min: 1, max: 5, count: 3), shards: nil)?.source == "slurm 17_3")
    }

    @Test func kubernetesIndexedJobsNeedACount() throws {
        #expect(try shard(["JOB_COMPLETION_INDEX": "2", "MEDMNIST_SHARDS": "5"]) == Shard(index: 2, count: 5))
        #expect(try shard(["JOB_COMPLETION_INDEX": "2"], shards: 3) == Shard(index: 2, count: 3))
        #expect(throws: ShardError.missingCount(index: 2)) { try shard(["JOB_COMPLETION_INDEX": "2"]) }
        #expect(throws: ShardError.self) { try shard(["JOB_COMPLETION_INDEX": "5", "MEDMNIST_SHARDS": "5"]) }
        #expect(throws: ShardError.self) { try shard(["JOB_COMPLETION_INDEX": "x", "MEDMNIST_SHARDS": "5"]) }
        #expect(try shard([:]) == nil)
    }
}

@Suite struct CellLockTests {
    @Test func oneHolderAtATimeAndTheFileGoesWithIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("a/b/cell.lock")
        guard case .acquired(let lock, let previous) = try CellLock.acquire(url) else { Issue.record("not acquired"); return }
        #expect(previous == nil)
        let holder = try #require(CellLock.readHolder(url.path))
        #expect(holder.pid == getpid() && holder.host == ProcessInfo.processInfo.hostName)
        guard case .held(let by) = try CellLock.acquire(url) else { Issue.record("a second holder got the lock"); return }
        #expect(by == holder)
        lock.release()
        #expect(!FileManager.default.fileExists(atPath: url.path))
        guard case .acquired(let again, _) = try CellLock.acquire(url) else { Issue.record("not acquired after release"); return }
        again.release()
    }

    /// A holder killed with SIGKILL leaves its file; the kernel dropped its lock, so the next worker takes over.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "util-linux's flock is not installed"))
    func aDeadHoldersLockIsTakenOver() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("cell.lock")
        // A child process that locks the file and then becomes `sleep` (one process holds the lock: killing it frees it).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "exec 9>>\"$0\" && /usr/bin/flock -x 9 && exec sleep 30", url.path]
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }
        // Wait until the child holds the lock (probing with a raw flock, which unlinks nothing).
        let deadline = Date().addingTimeInterval(10)
        var held = false
        while !held && Date() < deadline {
            let fd = open(url.path, O_RDONLY)
            if fd >= 0 {
                if flock(fd, LOCK_EX | LOCK_NB) != 0 { held = errno == EWOULDBLOCK } else { flock(fd, LOCK_UN) }
                close(fd)
            }
            if !held { usleep(20_000) }
        }
        #expect(held, "the child did not take the lock")
        try "host=\(ProcessInfo.processInfo.hostName)\npid=\(child.processIdentifier)\nstarted=then\n".write(to: url, atomically: false, encoding: .utf8)
        guard case .held = try CellLock.acquire(url) else { Issue.record("a live holder's lock was taken"); return }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        guard case .acquired(let lock, let previous) = try CellLock.acquire(url) else { Issue.record("stale lock not taken over"); return }
        #expect(previous?.pid == child.processIdentifier)
        lock.release()
    }

    /// Another host's file with a fresh heartbeat is respected even though the lock (local here) is free;
    /// once its heartbeat is older than `staleAfter` it is taken over.
    @Test func anotherHostsFreshHeartbeatIsRespected() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("cell.lock")
        try "host=elsewhere\npid=1\nstarted=now\n".write(to: url, atomically: false, encoding: .utf8)
        guard case .held(let by) = try CellLock.acquire(url, staleAfter: 600) else { Issue.record("fresh foreign lock ignored"); return }
        #expect(by?.host == "elsewhere")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-700)], ofItemAtPath: url.path)
        guard case .acquired(let lock, let previous) = try CellLock.acquire(url, staleAfter: 600) else { Issue.record("stale foreign lock kept"); return }
        #expect(previous?.host == "elsewhere")
        lock.release()
    }
}

/// The runner over generated data: results, skips, failures, retries.
@Suite struct GridRunnerTests {
    static func root(in directory: TemporaryDirectory) throws -> DatasetRoot {
        let root = directory.appending("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let info = try MedMNISTCatalog.info("breastmnist")
        func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
            try SyntheticDataset.split(split, task: info.task, numClasses: info.numClasses, count: count, pattern: .stripes)
        }
        try SyntheticDataset.writeNpz(train: split(.train, info.splitSizes.train), val: split(.val, info.splitSizes.val),
                                      test: split(.test, info.splitSizes.test), to: root.appendingPathComponent("breastmnist.npz"))
        return DatasetRoot(path: root.path)
    }

    static func runner(_ directory: TemporaryDirectory, root: DatasetRoot) -> GridRunner {
        let environment = ExperimentEnvironment(root: root, downloader: nil, featureCache: FeatureCache(directory: directory.appending("features")))
        return GridRunner(results: directory.appending("results"), environment: environment) { cell in
            var training = TrainingConfiguration.preset(.fast)
            training.maxEpochs = 1
            training.seed = UInt64(cell.seed)
            return ExperimentSpecification(model: cell.model, data: .catalog(flag: cell.dataset, size: cell.size), scheme: cell.scheme,
                                           training: training)
        }
    }

    @Test func resultsSkipsFailuresAndRetries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let root = try Self.root(in: directory)
        let selection = GridSelection(datasets: ["breastmnist", "pneumoniamnist"], sizes: [28], models: ["resnet18"],
                                      schemes: [.cachedLinearProbe, .knn], seeds: [1, 2])
        let cells = selection.cells
        #expect(cells.count == 6)
        var runner = Self.runner(directory, root: root)
        runner.worker = "test"
        let first = await runner.run(cells)
        // pneumoniamnist is not in the root (and nothing downloads): its three cells fail and are recorded.
        #expect(first.succeeded.count == 3 && first.failed.count == 3)
        for cell in cells {
            let ok = FileManager.default.fileExists(atPath: runner.results.appendingPathComponent(cell.resultPath).path)
            let failed = FileManager.default.fileExists(atPath: runner.results.appendingPathComponent(cell.errorPath).path)
            #expect(ok == (cell.dataset == "breastmnist") && failed == !ok, "\(cell)")
            #expect(!FileManager.default.fileExists(atPath: runner.results.appendingPathComponent(cell.lockPath).path))
            #expect(!FileManager.default.fileExists(atPath: runner.results.appendingPathComponent(cell.stem + ".run").path))
        }
        let record = try GridRecord.read(runner.results.appendingPathComponent(cells[0].resultPath))
        #expect(record.status == .ok && record.cell == cells[0] && record.worker == "test" && record.result?.test.samples == 156)
        #expect((record.peakRSSBytes ?? 0) > 10_000_000 && record.machine.cores >= 1)
        let failure = try GridRecord.read(runner.results.appendingPathComponent(cells[3].errorPath))
        #expect(failure.status == .failed && failure.result == nil && failure.error?.contains("pneumoniamnist") == true)

        // Rerun: everything is skipped, failures included.
        let second = await runner.run(cells)
        #expect(second.done.count == 3 && second.previouslyFailed.count == 3 && second.succeeded.isEmpty && second.failed.isEmpty)
        // --retry-failed after the data arrived: the failed cells run, the finished ones stay.
        let info = try MedMNISTCatalog.info("pneumoniamnist")
        func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
            try SyntheticDataset.split(split, task: info.task, numClasses: info.numClasses, count: count, pattern: .stripes)
        }
        try SyntheticDataset.writeNpz(train: split(.train, info.splitSizes.train), val: split(.val, info.splitSizes.val),
                                      test: split(.test, info.splitSizes.test), to: root.url(flag: "pneumoniamnist", size: 28))
        runner.retryFailed = true
        let third = await runner.run(cells)
        #expect(third.succeeded.count == 3 && third.done.count == 3)
        #expect(!FileManager.default.fileExists(atPath: runner.results.appendingPathComponent(cells[3].errorPath).path))
    }
}
