import MedLayers
import MedMNISTData
import MedTensor

/// What a MedMNIST task asks of a classifier, said once for every scheme: the training loss, the scores the
/// evaluator reads, and how the split's integer labels become the loss's targets.
///
/// | task | loss | scores | targets |
/// |---|---|---|---|
/// | multi-class, binary-class, ordinal-regression | cross-entropy | softmax over classes | class index per sample |
/// | multi-label, binary-class (ChestMNIST) | BCE with logits | sigmoid per label | `[N, L]` floats of 0/1 |
///
/// These are the paper's choices (MEDMNIST.md §1.4): binary sets are trained as two-class problems, not with
/// a single sigmoid output.
public struct TaskObjective: Sendable, Equatable {
    public let task: MedMNISTTask

    public init(_ task: MedMNISTTask) { self.task = task }

    /// The name of the loss, as the run's log and result files spell it.
    public var lossName: String { task.isMultiLabel ? "bce-with-logits" : "cross-entropy" }

    /// The mean loss of `logits` `[N, C]` against a batch's `labels` (`[N, 1]` or `[N]` class indices, or
    /// `[N, L]` 0/1 for multi-label sets).
    /// - Throws: `LossError` when a label does not fit the logits (out of range, wrong shape, not 0/1).
    public func loss(logits: Tensor, labels: IndexTensor) throws -> Tensor {
        if task.isMultiLabel {
            return binaryCrossEntropyWithLogits(logits: logits, targets: try targets(labels, logits: logits.shape))
        }
        return try crossEntropy(logits: logits, labels: classIndices(labels))
    }

    /// Probabilities from logits `[N, C]`, what the `medmnist` evaluator expects: softmax along the classes,
    /// or an independent sigmoid per label.
    public func scores(logits: Tensor) -> Tensor {
        task.isMultiLabel ? logits.sigmoid() : logits.softmax(axis: 1)
    }

    /// Multi-label targets `[N, L]` as Float 0/1, checked against the logits' shape.
    /// - Throws: `LossError.targetShape` or `.nonBinaryTarget`.
    public func targets(_ labels: IndexTensor, logits shape: [Int]) throws -> Tensor {
        let loss = "binaryCrossEntropyWithLogits"
        guard labels.shape == shape else { throw LossError.targetShape(loss: loss, targets: labels.shape, logits: shape) }
        let columns = shape.count == 2 ? shape[1] : 1
        for (offset, value) in labels.values.enumerated() where value != 0 && value != 1 {
            throw LossError.nonBinaryTarget(loss: loss, sample: offset / columns, column: offset % columns, value: value)
        }
        return Tensor(shape: shape, scalars: labels.values.map(Float.init))
    }

    /// One class index per sample: `[N, 1]` (how MedMNIST stores them) flattened to `[N]`.
    /// - Throws: `LossError.labelCount` for labels with more than one column.
    public func classIndices(_ labels: IndexTensor) throws -> IndexTensor {
        if labels.shape.count == 1 { return labels }
        guard labels.shape.count == 2, labels.shape[1] == 1 else {
            throw LossError.labelCount(loss: "crossEntropy", labels: labels.shape, rows: labels.shape.first ?? 0)
        }
        return IndexTensor(labels.values)
    }
}

extension MedMNISTTask {
    /// The loss, scores and targets of this task; see ``TaskObjective``.
    public var objective: TaskObjective { TaskObjective(self) }
}
