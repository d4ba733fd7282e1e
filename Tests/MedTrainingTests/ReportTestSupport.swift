import Foundation
import MedIO
import MedMNISTData
@testable import MedTraining

/// Grid records with chosen numbers, for the report's tests (nothing here ran: the metrics are made up).
enum ReportFixtures {
    /// A successful record of one cell; `acc` and `auc` are fractions, as the grid writes them.
    static func record(_ dataset: String, _ size: Int, _ model: String, _ scheme: ExperimentScheme, seed: Int,
                       acc: Double, auc: Double, seconds: Double = 10) -> GridRecord {
        let cell = GridCell(dataset: dataset, size: size, model: model, scheme: scheme, seed: seed)
        var phases = PhaseSeconds()
        phases.total = seconds
        let result = ExperimentResult(
            specification: ExperimentSpecification(model: model, data: .catalog(flag: dataset, size: size), scheme: scheme),
            test: SplitMetrics(Metrics(auc: auc, acc: acc), samples: 100), val: SplitMetrics(Metrics(auc: auc, acc: acc), samples: 50),
            bestEpoch: scheme == .knn ? nil : 3, epochsRun: scheme == .knn ? 0 : 8, stoppedEarly: true, trainImagesPerSecond: nil,
            seconds: phases, architecture: model, task: .multiClass, numClasses: 4, featureCache: [:], notes: ["generated for a test"],
            libraryVersion: MedMNISTLibrary.version, history: [])
        return GridRecord(cell: cell, status: .ok, result: result, error: nil, seconds: seconds, peakRSSBytes: 1 << 28,
                          machine: MachineDescription(host: "test", processor: nil, cores: 2, threads: 2, system: "test"),
                          libraryVersion: MedMNISTLibrary.version, gitRevision: nil, started: "2025-01-01T00:00:00Z", worker: "test")
    }

    /// A failed record of one cell.
    static func failed(_ cell: GridCell) -> GridRecord {
        GridRecord(cell: cell, status: .failed, result: nil, error: "NaN loss", seconds: 1, peakRSSBytes: nil,
                   machine: MachineDescription(host: "test", processor: nil, cores: 2, threads: 2, system: "test"),
                   libraryVersion: MedMNISTLibrary.version, gitRevision: nil, started: "2025-01-01T00:00:00Z", worker: "test")
    }

    /// Writes `record` at its cell's result path (or error path) under `folder`, as the grid does.
    @discardableResult
    static func write(_ record: GridRecord, under folder: URL, asError: Bool = false) throws -> URL {
        let url = folder.appendingPathComponent(asError ? record.cell.errorPath : record.cell.resultPath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try record.json(), to: url)
        return url
    }
}
