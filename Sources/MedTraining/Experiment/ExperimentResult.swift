import Foundation
import MedMNISTData

/// ACC and AUC of one split, as fractions.
public struct SplitMetrics: Sendable, Codable, Equatable {
    public var acc: Double
    public var auc: Double
    public var samples: Int

    public init(_ metrics: Metrics, samples: Int) {
        acc = metrics.acc
        auc = metrics.auc
        self.samples = samples
    }
}

/// Wall time of each phase of a run, in seconds.
public struct PhaseSeconds: Sendable, Codable, Equatable {
    public var loading = 0.0
    /// Model construction and weight loading.
    public var model = 0.0
    /// Frozen-feature extraction (kNN, cached probe), cache hits included.
    public var features = 0.0
    public var training = 0.0
    /// Final validation and test evaluation (and the kNN search).
    public var evaluation = 0.0
    public var total = 0.0
}

/// What a run produced: the `metrics.json` of its output directory.
public struct ExperimentResult: Sendable, Codable, Equatable {
    public var specification: ExperimentSpecification
    /// Test metrics of the best-validation-loss weights (kNN: of the vote fractions).
    public var test: SplitMetrics
    public var val: SplitMetrics
    /// 0-based epoch whose weights were evaluated; nil for kNN.
    public var bestEpoch: Int?
    public var epochsRun: Int
    public var stoppedEarly: Bool
    /// Training images (or feature rows) per second over the whole training phase.
    public var trainImagesPerSecond: Double?
    public var seconds: PhaseSeconds
    /// The architecture, its class count and features width, and the dataset's task.
    public var architecture: String
    public var task: MedMNISTTask
    public var numClasses: Int
    /// Feature-cache outcome per split for the frozen-feature schemes (`hit`, `computed`, `rebuilt`).
    public var featureCache: [String: String]
    /// What the reader must know to compare with the paper (preset, AUC of kNN being an addition, …).
    public var notes: [String]
    public var libraryVersion: String
    public var history: [EpochRecord]

    /// The `metrics.json` text: snake_case keys (`best_epoch`, `epochs_run`, as Python readers expect) sorted,
    /// so that two results diff cleanly.
    public func json() throws -> Data { try ResultJSON.encode(self) }

    /// Reads a `metrics.json` written by ``json()``.
    public static func decode(_ data: Data) throws -> ExperimentResult {
        try ResultJSON.decode(ExperimentResult.self, from: data)
    }
}
