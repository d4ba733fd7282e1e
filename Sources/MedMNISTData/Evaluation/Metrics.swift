import MedTensor

/// AUC and ACC of one evaluation, as fractions (the package's `Metrics(AUC, ACC)`; the paper reports × 100).
public struct Metrics: Sendable, Equatable, CustomStringConvertible {
    /// Area under the ROC curve, in [0, 1].
    public var auc: Double
    /// Accuracy, in [0, 1].
    public var acc: Double

    /// Both metrics.
    public init(auc: Double, acc: Double) {
        self.auc = auc
        self.acc = acc
    }

    public var description: String { "Metrics(AUC=\(auc), ACC=\(acc))" }
}

/// `medmnist.evaluator.getAUC` and `getACC`, rule for rule (MEDMNIST.md §2.5).
///
/// Both first squeeze every size-1 axis from the labels and the scores, as the package does. Then:
/// - multi-label, binary-class: per label column, ROC AUC and accuracy of `score > threshold`; unweighted mean.
/// - binary-class: a 2-D score keeps its last column (P(class 1)); AUC of that column, accuracy of
///   `score > threshold`. Scores may be `(N, 2)`, `(N, 1)` or `(N,)`.
/// - multi-class and ordinal-regression: one-vs-rest AUC per score column, unweighted mean; accuracy of the
///   argmax (the first maximum, as `np.argmax`).
/// Means are summed column by column and divided once, in the package's order.
public enum MedMNISTMetrics {
    /// The package's `getAUC(y_true, y_score, task)`.
    public static func auc(labels: IndexTensor, scores: ScoreArray, task: MedMNISTTask) throws -> Double {
        let perColumn = try perClassAUC(labels: labels, scores: scores, task: task)
        var sum = 0.0
        for value in perColumn { sum += value }
        return sum / Double(perColumn.count)
    }

    /// The AUC of every column the package averages: one per class (one-vs-rest), one per label (multi-label),
    /// or the single binary AUC.
    public static func perClassAUC(labels: IndexTensor, scores: ScoreArray, task: MedMNISTTask) throws -> [Double] {
        let problem = try Problem(labels: labels, scores: scores, task: task)
        if let nan = scores.values.firstIndex(where: \.isNaN) { throw EvaluationError.notANumber(index: nan) }
        if let infinite = scores.values.firstIndex(where: \.isInfinite) {
            throw EvaluationError.infinite(index: infinite, value: Float(scores.values[infinite]))
        }
        var result: [Double] = []
        for column in 0..<problem.scoreColumns {
            let positive: [Bool]
            switch task {
            case .multiLabelBinary, .binaryClass:
                positive = try (0..<problem.n).map { row in
                    let value = problem.label(row, column)
                    guard value == 0 || value == 1 else { throw EvaluationError.nonBinaryLabel(column: column, value: value) }
                    return value == 1
                }
            case .multiClass, .ordinalRegression:
                positive = (0..<problem.n).map { problem.label($0, 0) == column }
            }
            let columnScores = (0..<problem.n).map { problem.score($0, column) }
            let (auc, positives, negatives) = ROCAUC.binary(positive: positive, scores: columnScores)
            guard let auc else {
                throw EvaluationError.undefinedAUC(
                    column: task == .binaryClass ? 1 : column, task: task, positives: positives, negatives: negatives)
            }
            result.append(auc)
        }
        return result
    }

    /// The package's `getACC(y_true, y_score, task, threshold)`.
    public static func accuracy(
        labels: IndexTensor, scores: ScoreArray, task: MedMNISTTask, threshold: Double = 0.5
    ) throws -> Double {
        let problem = try Problem(labels: labels, scores: scores, task: task)
        let n = Double(problem.n)
        switch task {
        case .multiLabelBinary:
            var sum = 0.0
            for column in 0..<problem.labelColumns {
                var correct = 0
                for row in 0..<problem.n where problem.label(row, column) == (problem.score(row, column) > threshold ? 1 : 0) {
                    correct += 1
                }
                sum += Double(correct) / n
            }
            return sum / Double(problem.labelColumns)
        case .binaryClass:
            var correct = 0
            for row in 0..<problem.n where problem.label(row, 0) == (problem.score(row, 0) > threshold ? 1 : 0) {
                correct += 1
            }
            return Double(correct) / n
        case .multiClass, .ordinalRegression:
            var correct = 0
            for row in 0..<problem.n where problem.label(row, 0) == problem.argmax(row) { correct += 1 }
            return Double(correct) / n
        }
    }

    /// AUC and ACC together (`Evaluator.evaluate`).
    public static func evaluate(labels: IndexTensor, scores: ScoreArray, task: MedMNISTTask) throws -> Metrics {
        Metrics(auc: try auc(labels: labels, scores: scores, task: task),
                acc: try accuracy(labels: labels, scores: scores, task: task))
    }
}

/// Labels and scores after the package's squeeze and column selection.
struct Problem {
    let n: Int
    let labelColumns: Int
    /// Score columns the metrics loop over (1 for binary after taking the last column).
    let scoreColumns: Int
    private let labels: [Int]
    private let scores: [Double]
    private let scoreStride: Int
    private let scoreOffset: Int

    init(labels: IndexTensor, scores: ScoreArray, task: MedMNISTTask) throws {
        let labelShape = labels.shape.filter { $0 != 1 }
        let scoreShape = scores.shape.filter { $0 != 1 }
        func scoresError(_ expected: String) -> EvaluationError {
            .scoresShape(scores: scores.shape, labels: labels.shape, task: task, expected: expected)
        }
        switch task {
        case .multiLabelBinary:
            guard labelShape.count == 2 else {
                throw EvaluationError.labelsShape(labels: labels.shape, task: task, expected: "(N, L) with N > 1 and L > 1")
            }
            guard scoreShape == labelShape else { throw scoresError("\(shapeText(labelShape)), one probability per label") }
            n = labelShape[0]
            labelColumns = labelShape[1]
            scoreColumns = labelShape[1]
            scoreStride = labelShape[1]
            scoreOffset = 0
        case .binaryClass:
            guard labelShape.count == 1 else {
                throw EvaluationError.labelsShape(labels: labels.shape, task: task, expected: "(N,) or (N, 1) with N > 1")
            }
            n = labelShape[0]
            labelColumns = 1
            scoreColumns = 1
            if scoreShape.count == 2, scoreShape[0] == n {
                scoreStride = scoreShape[1]
                scoreOffset = scoreShape[1] - 1  // the last column: P(class 1)
            } else if scoreShape == [n] {
                scoreStride = 1
                scoreOffset = 0
            } else {
                throw scoresError("(\(n), 2), (\(n), 1) or (\(n),)")
            }
        case .multiClass, .ordinalRegression:
            guard labelShape.count == 1 else {
                throw EvaluationError.labelsShape(labels: labels.shape, task: task, expected: "(N,) or (N, 1) with N > 1")
            }
            n = labelShape[0]
            guard scoreShape.count == 2, scoreShape[0] == n else { throw scoresError("(\(n), C), one probability per class") }
            labelColumns = 1
            scoreColumns = scoreShape[1]
            scoreStride = scoreShape[1]
            scoreOffset = 0
        }
        self.labels = labels.values
        self.scores = scores.values
    }

    @inline(__always) func label(_ row: Int, _ column: Int) -> Int { labels[row * labelColumns + column] }
    @inline(__always) func score(_ row: Int, _ column: Int) -> Double { scores[row * scoreStride + scoreOffset + column] }

    /// `np.argmax` over a row: the first maximum; a NaN counts as the maximum.
    func argmax(_ row: Int) -> Int {
        var best = 0
        var bestValue = score(row, 0)
        if bestValue.isNaN { return 0 }
        for column in 1..<max(scoreColumns, 1) {
            let value = score(row, column)
            if value.isNaN { return column }
            if value > bestValue { best = column; bestValue = value }
        }
        return best
    }
}
