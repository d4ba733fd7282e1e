import MedTensor

/// How a loss combines per-sample values.
public enum Reduction: Sendable { case mean, sum, none }

/// Labels a loss cannot use: they come from a user's data file, so they are reported, not trapped on.
public enum LossError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Not one class index per row of logits (e.g. a multi-label `[N, L]` array given to ``crossEntropy(logits:labels:labelSmoothing:reduction:)``).
    case labelCount(loss: String, labels: [Int], rows: Int)
    /// A class index outside `0..<numClasses`, the logits' width; `sample` is its row.
    case labelOutOfRange(loss: String, sample: Int, label: Int, numClasses: Int)
    /// Multi-label targets whose shape is not the logits' `[N, L]`.
    case targetShape(loss: String, targets: [Int], logits: [Int])
    /// A multi-label target other than 0 or 1; `sample` and `column` locate it.
    case nonBinaryTarget(loss: String, sample: Int, column: Int, value: Int)

    public var description: String {
        switch self {
        case let .labelCount(loss, labels, rows):
            "\(loss): labels of shape \(labels) do not give one class index for each of the \(rows) rows of logits"
        case let .labelOutOfRange(loss, sample, label, numClasses):
            "\(loss): label \(label) of sample \(sample) is outside 0..<\(numClasses), the classes of the logits " +
                "(does the model's class count match the data's?)"
        case let .targetShape(loss, targets, logits):
            "\(loss): targets of shape \(targets) do not match the logits' \(logits) (one 0/1 column per label)"
        case let .nonBinaryTarget(loss, sample, column, value):
            "\(loss): target \(value) of sample \(sample), label \(column) is not 0 or 1"
        }
    }
}

/// Cross-entropy of logits [N, C] against class indices [N] (PyTorch's `F.cross_entropy`), with optional
/// label smoothing ε: the target is (1−ε)·one-hot + ε/C. Fused: the backward is (softmax − target)·g.
///
/// The labels are checked before anything is computed, as PyTorch does ("Target 9 is out of bounds").
/// - Throws: ``LossError`` when there is not one label per row or a label is outside `0..<C`.
/// - Precondition: `logits` is [N, C] (a shape the caller's model decides, not the data).
public func crossEntropy(logits: Tensor, labels: IndexTensor, labelSmoothing: Float = 0, reduction: Reduction = .mean) throws -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], got \(logits.shape)")
    let (n, c) = (logits.shape[0], logits.shape[1])
    guard labels.count == n else { throw LossError.labelCount(loss: "crossEntropy", labels: labels.shape, rows: n) }
    for (sample, label) in labels.values.enumerated() where label < 0 || label >= c {
        throw LossError.labelOutOfRange(loss: "crossEntropy", sample: sample, label: label, numClasses: c)
    }
    let logProbabilities = logits.detached().logSoftmax(axis: 1)
    let values = logProbabilities.scalars
    var perSample = [Float](repeating: 0, count: n)
    for i in 0..<n {
        let row = values[(i * c)..<((i + 1) * c)]
        let nll = -row[i * c + labels.values[i]]
        let smooth = labelSmoothing == 0 ? 0 : -row.reduce(0, +) / Float(c)
        perSample[i] = (1 - labelSmoothing) * nll + labelSmoothing * smooth
    }
    let losses = Tensor(shape: [n], scalars: perSample)
    let result: Tensor
    switch reduction {
    case .mean: result = Tensor(perSample.reduce(0, +) / Float(n))
    case .sum: result = Tensor(perSample.reduce(0, +))
    case .none: result = losses
    }
    return Tensor.record(result, "cross_entropy", inputs: [logits]) { g in
        // d loss_i / d logits_i = softmax_i − target_i.
        var target = [Float](repeating: labelSmoothing / Float(c), count: n * c)
        for i in 0..<n { target[i * c + labels.values[i]] += 1 - labelSmoothing }
        let difference = logProbabilities.exp() - Tensor(shape: [n, c], scalars: target)
        switch reduction {
        case .mean: return [difference * (g / Float(n))]
        case .sum: return [difference * g]
        case .none: return [difference * g.reshaped([n, 1])]
        }
    }
}

/// Binary cross-entropy with logits against targets in [0, 1] of the same shape (PyTorch's
/// `BCEWithLogitsLoss`; ChestMNIST's multi-label loss), computed stably as max(z,0) − z·y + log(1+e^−|z|).
public func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.shape == targets.shape, "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) differ")
    let z = logits.detached(), y = targets.detached()
    let perElement = z.relu() - z * y + ((-z.abs()).exp() + 1).log()
    let result: Tensor
    switch reduction {
    case .mean: result = perElement.mean()
    case .sum: result = perElement.sum()
    case .none: result = perElement
    }
    let count = Float(logits.count)
    return Tensor.record(result, "binary_cross_entropy_with_logits", inputs: [logits]) { g in
        let difference = z.sigmoid() - y
        switch reduction {
        case .mean: return [difference * (g / count)]
        case .sum: return [difference * g]
        case .none: return [difference * g]
        }
    }
}

/// Mean squared error (PyTorch's `MSELoss`).
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    let squared = (prediction - target).square()
    switch reduction {
    case .mean: return squared.mean()
    case .sum: return squared.sum()
    case .none: return squared
    }
}
