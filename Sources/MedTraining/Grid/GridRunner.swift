import Foundation
import MedIO
import MedMNISTData
import MedTensor

/// Runs a shard of a grid: each cell whose result file is missing, one after another, under the cell's lock,
/// writing its result (or error record) atomically. A failing cell is recorded and the shard goes on.
public struct GridRunner: Sendable {
    /// Where the result files go (`<dataset>/<size>/<model>/<scheme>-s<seed>.json` below it).
    public var results: URL
    /// The run of a cell: its model, data, scheme and seed on top of the grid's settings.
    public var specification: @Sendable (GridCell) -> ExperimentSpecification
    public var environment: ExperimentEnvironment
    /// Rerun cells that have a result.
    public var force = false
    /// Rerun cells whose last attempt failed (by default they are skipped, their error record kept).
    public var retryFailed = false
    /// Keep each cell's run folder (`….run/`: best weights, history, test CSV) after it succeeds; by default
    /// only the result file stays. A cell interrupted mid-run resumes from its run folder's checkpoint.
    public var keepRunFiles = false
    /// Another host's lock whose heartbeat is older than this is stale.
    public var staleAfter: TimeInterval = 600
    /// Names this worker in records (`slurm 17_3`, `kubernetes 2`, `shard 1/4`).
    public var worker = "local"

    public init(results: URL, environment: ExperimentEnvironment,
                specification: @escaping @Sendable (GridCell) -> ExperimentSpecification) {
        self.results = results
        self.environment = environment
        self.specification = specification
    }

    /// What happened to each cell of a shard.
    public struct Summary: Sendable, Equatable {
        public var succeeded: [GridCell] = []
        public var failed: [GridCell] = []
        /// Skipped: a result (or, without `retryFailed`, an error record) exists.
        public var done: [GridCell] = []
        public var previouslyFailed: [GridCell] = []
        /// Skipped: another live worker holds the cell's lock.
        public var locked: [GridCell] = []
    }

    /// Runs `cells` in order.
    public func run(_ cells: [GridCell]) async -> Summary {
        var summary = Summary()
        for (position, cell) in cells.enumerated() {
            let label = "[\(position + 1)/\(cells.count)] \(cell)"
            let result = url(cell.resultPath), errorRecord = url(cell.errorPath)
            if !force && exists(result) { summary.done.append(cell); environment.log("\(label): done, skipped"); continue }
            if !force && !retryFailed && exists(errorRecord) {
                summary.previouslyFailed.append(cell)
                environment.log("\(label): failed before, skipped (--retry-failed reruns it)")
                continue
            }
            let lock: CellLock
            do {
                switch try CellLock.acquire(url(cell.lockPath), staleAfter: staleAfter) {
                case .held(let holder):
                    summary.locked.append(cell)
                    environment.log("\(label): running elsewhere (\(holder.map(\.description) ?? "unknown holder")), skipped")
                    continue
                case .acquired(let acquired, let previous):
                    lock = acquired
                    if let previous { environment.log("\(label): taking over the lock left by \(previous)") }
                }
            } catch {
                summary.failed.append(cell)
                environment.log("\(label): cannot lock: \(error)")
                continue
            }
            defer { lock.release() }
            // Another worker may have finished it between our check and our lock.
            if !force && exists(result) { summary.done.append(cell); continue }
            environment.log("\(label): running")
            if await runCell(cell, result: result, errorRecord: errorRecord) {
                summary.succeeded.append(cell)
            } else {
                summary.failed.append(cell)
            }
        }
        return summary
    }

    /// Runs one cell under its lock and writes its record; true when it succeeded.
    private func runCell(_ cell: GridCell, result: URL, errorRecord: URL) async -> Bool {
        let started = ISO8601DateFormatter().string(from: Date())
        let clock = ContinuousClock(), start = clock.now
        let runFolder = url(cell.stem + ".run")
        PeakMemory.reset()
        var record = GridRecord(cell: cell, status: .ok, result: nil, error: nil, seconds: 0, peakRSSBytes: nil,
                                machine: .current(threads: Parallel.threadCount), libraryVersion: MedMNISTLibrary.version,
                                gitRevision: BuildInfo.gitRevision, started: started, worker: worker)
        do {
            let resume = FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("checkpoint.safetensors").path)
            record.result = try await Experiment.run(specification(cell), environment: environment, output: runFolder, resume: resume)
        } catch {
            record.status = .failed
            record.error = "\(error)"
        }
        record.seconds = (clock.now - start).seconds
        record.peakRSSBytes = PeakMemory.bytes()
        do {
            let json = try record.json()
            if record.status == .ok {
                try AtomicFile.write(json, to: result)
                try? FileManager.default.removeItem(at: errorRecord)
                if !keepRunFiles { try? FileManager.default.removeItem(at: runFolder) }
            } else {
                try AtomicFile.write(json, to: errorRecord)
            }
        } catch {
            environment.log("\(cell): cannot write its record: \(error)")
            return false
        }
        environment.log(record.status == .ok
            ? String(format: "%@: test ACC %.2f %%, AUC %.2f %%, %.1f s", "\(cell)", (record.result?.test.acc ?? 0) * 100,
                     (record.result?.test.auc ?? 0) * 100, record.seconds)
            : "\(cell): failed: \(record.error ?? "")")
        return record.status == .ok
    }

    private func url(_ relative: String) -> URL { results.appendingPathComponent(relative) }
    private func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// The process's peak resident memory, per cell: Linux lets a process reset its high-water mark.
enum PeakMemory {
    /// Resets the high-water mark (Linux: `5` to `/proc/self/clear_refs`); elsewhere the peak covers the process.
    static func reset() {
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            try? handle.write(contentsOf: Data("5".utf8))
            try? handle.close()
        }
    }

    /// The peak since the last reset, in bytes: `VmHWM` on Linux, `ru_maxrss` elsewhere.
    static func bytes() -> Int? {
        if let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
                return kilobytes.map { $0 * 1024 }
            }
        }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return nil }
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)
        #else
        return Int(usage.ru_maxrss) * 1024
        #endif
    }
}

#if canImport(Darwin)
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#else
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#endif

/// Facts about the running build.
public enum BuildInfo {
    /// The commit of the git checkout the executable was built in (`.git/HEAD` above the executable, e.g.
    /// `<clone>/.build/release/medmnist`), or of the current folder's checkout; nil when neither is one.
    public static let gitRevision: String? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var folder = start.standardizedFileURL
            while folder.path != "/" {
                if let revision = revision(gitDirectory: folder.appendingPathComponent(".git")) { return revision }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }()

    /// HEAD of a `.git` folder: a detached hash, or the branch's ref (loose or packed).
    static func revision(gitDirectory: URL) -> String? {
        guard let head = try? String(contentsOf: gitDirectory.appendingPathComponent("HEAD"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard head.hasPrefix("ref: ") else { return head.count == 40 ? head : nil }
        let ref = String(head.dropFirst(5))
        if let loose = try? String(contentsOf: gitDirectory.appendingPathComponent(ref), encoding: .utf8) {
            return loose.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let packed = (try? String(contentsOf: gitDirectory.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) { return String(line.prefix(40)) }
        return nil
    }
}
