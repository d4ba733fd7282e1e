/// What the evaluator refuses, each where the `medmnist` package would fail an assert, raise, or (with
/// scikit-learn ≥ 1.6) return NaN with an `UndefinedMetricWarning`.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    /// The scores' shape does not fit the labels and the task.
    case scoresShape(scores: [Int], labels: [Int], task: MedMNISTTask, expected: String)
    /// The labels' shape does not fit the task (after the package's `squeeze`).
    case labelsShape(labels: [Int], task: MedMNISTTask, expected: String)
    /// AUC is undefined: in `column` (a class for one-vs-rest, a label for multi-label, 1 for binary) every
    /// sample is positive or every sample is negative. scikit-learn's `roc_auc_score` raises (older versions)
    /// or returns NaN (newer) here.
    case undefinedAUC(column: Int, task: MedMNISTTask, positives: Int, negatives: Int)
    /// A binary or multi-label column holds a label other than 0 and 1.
    case nonBinaryLabel(column: Int, value: Int)
    /// A score is NaN (scikit-learn: "Input contains NaN").
    case notANumber(index: Int)
    /// A score is +∞ or −∞ (scikit-learn's `roc_auc_score`: "Input contains infinity").
    case infinite(index: Int, value: Float)

    public var description: String {
        switch self {
        case .scoresShape(let scores, let labels, let task, let expected):
            "scores of shape \(shapeText(scores)) do not fit labels of shape \(shapeText(labels)) for a \(task.rawValue) task: expected \(expected)"
        case .labelsShape(let labels, let task, let expected):
            "labels of shape \(shapeText(labels)) do not fit a \(task.rawValue) task: expected \(expected)"
        case .undefinedAUC(let column, let task, let positives, let negatives):
            "AUC is undefined: \(task == .multiLabelBinary ? "label" : "class") \(column) has \(positives) positive and \(negatives) negative samples (a class absent from the labels); scikit-learn's roc_auc_score cannot score it either"
        case .nonBinaryLabel(let column, let value):
            "label column \(column) holds \(value); binary and multi-label tasks need labels 0 and 1"
        case .notANumber(let index):
            "score \(index) (row-major) is NaN"
        case .infinite(let index, let value):
            "score \(index) (row-major) is \(value); AUC needs finite scores (scikit-learn refuses infinity too)"
        }
    }
}

/// `(N, C)` → "(N, C)"; `(N,)` for rank 1, as numpy prints shapes.
func shapeText(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}
