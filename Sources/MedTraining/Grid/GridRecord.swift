import Foundation
import MedIO

/// What a grid cell leaves in its result file (`…/<scheme>-s<seed>.json`) or, when it failed, in its error
/// record (`….error.json`): the cell, the run's full result, where and how long it ran. Written atomically
/// with snake_case keys, so that `medmnist report`, jq and pandas read the same thing.
public struct GridRecord: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case ok, failed }

    public var cell: GridCell
    public var status: Status
    /// The run's metrics, configuration, timings and history; nil when it failed.
    public var result: ExperimentResult?
    /// What went wrong, when it failed.
    public var error: String?
    /// Wall time of the whole cell, data loading included.
    public var seconds: Double
    /// The worker's peak resident memory during the cell (Linux: VmHWM, reset before the cell), in bytes.
    public var peakRSSBytes: Int?
    public var machine: MachineDescription
    public var libraryVersion: String
    /// The source revision of the running build, when it runs from a git checkout.
    public var gitRevision: String?
    /// When the cell started (ISO 8601, UTC), and the scheduler task that ran it (`slurm 1234_5`, `k8s 3`, …).
    public var started: String
    public var worker: String

    public init(cell: GridCell, status: Status, result: ExperimentResult?, error: String?, seconds: Double,
                peakRSSBytes: Int?, machine: MachineDescription, libraryVersion: String, gitRevision: String?,
                started: String, worker: String) {
        self.cell = cell
        self.status = status
        self.result = result
        self.error = error
        self.seconds = seconds
        self.peakRSSBytes = peakRSSBytes
        self.machine = machine
        self.libraryVersion = libraryVersion
        self.gitRevision = gitRevision
        self.started = started
        self.worker = worker
    }

    // Spelled so that the snake_case conversion round-trips (`peak_rss_bytes`).
    private enum CodingKeys: String, CodingKey {
        case cell, status, result, error, seconds, machine, libraryVersion, gitRevision, started, worker
        case peakRSSBytes = "peakRssBytes"
    }

    /// The file's text: pretty-printed, sorted snake_case keys.
    public func json() throws -> Data { try ResultJSON.encode(self) }

    /// Reads a record written by ``json()``.
    public static func decode(_ data: Data) throws -> GridRecord {
        try ResultJSON.decode(GridRecord.self, from: data)
    }

    /// Reads the record at `url`.
    /// - Throws: ``FileError`` naming the file (missing, unreadable, not a record).
    public static func read(_ url: URL) throws -> GridRecord {
        try FileError.wrapping(path: url.path) { try decode(Data(contentsOf: url)) }
    }
}

/// The machine a cell ran on, as far as the report needs it: to compare timings and to name the processor.
public struct MachineDescription: Sendable, Codable, Equatable {
    public var host: String
    /// `/proc/cpuinfo`'s model name (Linux), or `sysctl machdep.cpu.brand_string` (macOS), when readable.
    public var processor: String?
    public var cores: Int
    /// Kernel threads the run used.
    public var threads: Int
    public var system: String

    public init(host: String, processor: String?, cores: Int, threads: Int, system: String) {
        self.host = host
        self.processor = processor
        self.cores = cores
        self.threads = threads
        self.system = system
    }

    /// This machine, with `threads` kernel threads.
    public static func current(threads: Int) -> MachineDescription {
        let info = ProcessInfo.processInfo
        return MachineDescription(host: info.hostName, processor: processorName(), cores: info.activeProcessorCount,
                                  threads: threads, system: info.operatingSystemVersionString)
    }

    static func processorName() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
