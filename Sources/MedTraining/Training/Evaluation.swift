import MedLayers
import MedMNISTData
import MedTensor

/// A model scored on one split: the mean loss (of per-batch means, as the paper's validation loss), the
/// probabilities the evaluator reads, and ACC/AUC as the `medmnist` evaluator computes them.
public struct SplitEvaluation: Sendable {
    /// Mean of the per-batch mean losses (MEDMNIST.md §1.4).
    public var loss: Double
    /// Softmax (or sigmoid, multi-label) scores, `[N, C]`.
    public var scores: ScoreArray
    public var metrics: Metrics
}

extension TaskObjective {
    /// `model` in evaluation mode over every sample of `source`, in order, without gradients. The model's
    /// training mode is restored afterwards.
    /// - Throws: `LossError` when labels do not fit the logits, `MedMNISTMetrics`' errors for degenerate labels.
    public func evaluate(_ model: any UnaryLayer, on source: any BatchSource, batchSize: Int) throws -> SplitEvaluation {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var lossSum = 0.0, batches = 0
        var scores: [Tensor] = []
        try withoutGrad {
            for batch in try source.batches(size: batchSize, shuffleSeed: nil) {
                let logits = model(batch.inputs)
                lossSum += Double(try loss(logits: logits, labels: batch.labels).scalars[0])
                batches += 1
                scores.append(self.scores(logits: logits))
            }
        }
        let all = ScoreArray(Tensor.concatenate(scores))
        let metrics = try MedMNISTMetrics.evaluate(labels: source.labels, scores: all, task: task)
        return SplitEvaluation(loss: batches == 0 ? .nan : lossSum / Double(batches), scores: all, metrics: metrics)
    }
}
