import MedTensor

/// How a loss combines per-sample values.
public enum Reduction: Sendable { case mean, sum, none }

/// Cross-entropy of logits [N, C] against class indices [N] (PyTorch's `F.cross_entropy`), with optional
/// label smoothing ε: the target is (1−ε)·one-hot + ε/C. Fused: the backward is (softmax − target)·g.
public func crossEntropy(logits: Tensor, labels: IndexTensor, labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], got \(logits.shape)")
    let (n, c) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == n, "crossEntropy: \(labels.count) labels for \(n) rows of logits")
    for label in labels.values { precondition(label >= 0 && label < c, "crossEntropy: label \(label) is outside 0..<\(c)") }
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
