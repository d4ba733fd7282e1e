import Foundation
import MedTensor

/// The `medmnist` package's `Evaluator(flag, split, size, root)`: the labels of one split (read from the npz
/// without decoding any image) and the set's task; `evaluate` returns AUC and ACC as the package does.
public struct Evaluator: Sendable {
    public let info: DatasetInfo
    public let size: Int
    public let split: Split
    /// `(N, L)` labels of the split.
    public let labels: IndexTensor

    public var task: MedMNISTTask { info.task }

    /// Reads the labels of `split` from `{flag}{size_flag}.npz` in `root`.
    public init(flag: String, split: Split, size: Int = 28, root: DatasetRoot = DatasetRoot()) throws {
        let info = try MedMNISTCatalog.info(flag)
        try self.init(info: info, split: split, size: size, labels: root.labels(info, size: size, split: split))
    }

    /// An evaluator over labels you already have.
    public init(info: DatasetInfo, split: Split, size: Int = 28, labels: IndexTensor) throws {
        _ = try info.file(size: size)
        self.info = info
        self.size = size
        self.split = split
        self.labels = labels
    }

    /// The shapes of scores this set accepts: `(N, C)` for multi-class and ordinal sets, `(N, L)` for
    /// multi-label, `(N, 2)`, `(N, 1)` or `(N,)` for binary.
    public var expectedScoreShapes: [[Int]] {
        let n = labels.shape[0]
        switch task {
        case .binaryClass: return [[n, 2], [n, 1], [n]]
        case .multiLabelBinary, .multiClass, .ordinalRegression: return [[n, info.numClasses]]
        }
    }

    /// Checks the scores' shape against the set (the package asserts only the sample count; a wrong class
    /// count is caught here rather than turning into a silently wrong AUC).
    public func checkShape(_ scores: ScoreArray) throws {
        guard expectedScoreShapes.contains(scores.shape) else {
            throw EvaluationError.scoresShape(
                scores: scores.shape, labels: labels.shape, task: task,
                expected: expectedScoreShapes.map(shapeText).joined(separator: " or "))
        }
    }

    /// AUC and ACC of `scores` (probabilities: softmax, or sigmoid for multi-label).
    public func evaluate(_ scores: ScoreArray) throws -> Metrics {
        try checkShape(scores)
        return try MedMNISTMetrics.evaluate(labels: labels, scores: scores, task: task)
    }

    /// The AUC of every column that the package averages.
    public func perClassAUC(_ scores: ScoreArray) throws -> [Double] {
        try checkShape(scores)
        return try MedMNISTMetrics.perClassAUC(labels: labels, scores: scores, task: task)
    }

    /// Evaluates and writes the package's prediction CSV into `folder`; returns the metrics and the file.
    public func evaluate(_ scores: ScoreArray, saveTo folder: URL, run: String = PredictionCSV.defaultRun()) throws -> (Metrics, URL) {
        let metrics = try evaluate(scores)
        let url = try PredictionCSV.write(scores, flag: info.flag, size: size, split: split, metrics: metrics, run: run, folder: folder)
        return (metrics, url)
    }

    /// The package's `get_standard_evaluation_filename(metrics, run)`.
    public func standardFileName(_ metrics: Metrics, run: String) -> String {
        PredictionCSV.standardFileName(flag: info.flag, size: size, split: split, metrics: metrics, run: run)
    }
}
