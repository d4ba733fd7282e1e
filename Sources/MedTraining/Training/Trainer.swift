import Foundation
import MedIO
import MedLayers
import MedMNISTData
import MedModels
import MedTensor

/// Receives a run's progress (the command-line tool draws its bar and epoch lines from it).
public protocol TrainingObserver: AnyObject {
    /// After each training step; `step` counts from 1 to `steps` within the 0-based `epoch`.
    func trainingStepFinished(epoch: Int, step: Int, steps: Int, samples: Int)
    /// After each epoch's validation.
    func epochFinished(_ record: EpochRecord)
}

/// The paper's training loop (MEDMNIST.md §1.4) over any model: AdamW, timm's cosine schedule stepped after
/// each epoch, early stopping on the mean validation loss, and the best-validation-loss weights kept.
///
/// ```swift
/// let trainer = try Trainer(model: model, task: train.task, configuration: .preset(.fast), checkpointDirectory: output)
/// let progress = try trainer.fit(train: ImageBatches(train, transform: t), validation: ImageBatches(val, transform: t))
/// let test = try trainer.evaluate(ImageBatches(testSplit, transform: t))   // with the best weights
/// ```
///
/// With a `checkpointDirectory`, every epoch ends by writing one checkpoint atomically; `fit(…, resume: true)`
/// continues from it and ends with exactly the metrics of an uninterrupted run (the same seed and thread count
/// give bit-identical results; each epoch's batch order and dropout masks come from the seed and the epoch).
public final class Trainer {
    public let model: any UnaryLayer
    public let configuration: TrainingConfiguration
    public let objective: TaskObjective
    /// Where `checkpoint.safetensors` is kept; nil trains in memory only.
    public let checkpointDirectory: URL?
    public weak var observer: (any TrainingObserver)?

    private let optimizer: Adam

    /// - Parameters:
    ///   - model: trained as `configuration.scheme` says: for ``TrainingScheme/linearProbe`` an ``ImageEncoder``'s
    ///     backbone is frozen (any other module, such as a bare head on cached features, trains whole).
    ///   - task: chooses the loss and scores (``TaskObjective``).
    /// - Throws: ``TrainingConfigurationError`` for a setting out of range.
    public init(model: any UnaryLayer, task: MedMNISTTask, configuration: TrainingConfiguration, checkpointDirectory: URL? = nil) throws {
        try configuration.validate()
        if let encoder = model as? any ImageEncoder {
            switch configuration.scheme {
            case .endToEnd: encoder.unfreeze()
            case .linearProbe: encoder.freezeBackbone()
            }
        }
        self.model = model
        self.configuration = configuration
        self.objective = task.objective
        self.checkpointDirectory = checkpointDirectory
        optimizer = AdamW(model.trainableParameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    }

    /// The checkpoint file of this run, when it has a directory.
    public var checkpointURL: URL? { checkpointDirectory?.appendingPathComponent(TrainingCheckpoint.fileName) }

    /// Trains until `maxEpochs` or early stopping, then leaves the model holding the weights of the epoch with
    /// the lowest validation loss. Returns the run's progress (history, best epoch).
    /// - Parameters:
    ///   - resume: continue from the checkpoint in `checkpointDirectory` when there is one (a fresh run otherwise).
    ///   - epochBudget: run at most this many epochs now and return (the model then holds the best weights so far);
    ///     a later `fit(…, resume: true)` goes on — for schedulers with time limits.
    /// - Throws: ``TrainingError`` (a NaN or infinite loss names the epoch and step; a checkpoint from other
    ///   settings), `LossError` when labels do not fit the model, file errors from the checkpoint.
    @discardableResult
    public func fit(train: any BatchSource, validation: any BatchSource, resume: Bool = false,
                    epochBudget: Int? = nil) throws -> TrainingProgress {
        guard train.count > 0 else { throw TrainingError.emptySplit("training") }
        guard validation.count > 0 else { throw TrainingError.emptySplit("validation") }
        var progress = TrainingProgress()
        var best: [(key: String, array: TypedArray)] = []
        if let url = checkpointURL {
            if resume, FileManager.default.fileExists(atPath: url.path) {
                (progress, best) = try restore(from: url)
            } else {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            }
        }
        let schedule = configuration.schedule
        let lastEpoch = min(configuration.maxEpochs, progress.completedEpochs + (epochBudget ?? configuration.maxEpochs))
        while progress.completedEpochs < lastEpoch && !progress.stoppedEarly {
            let epoch = progress.completedEpochs
            optimizer.learningRate = schedule.learningRateForPaperEpoch(epoch)
            let clock = ContinuousClock(), started = clock.now
            let trainLoss = try trainEpoch(epoch, on: train)
            let trained = clock.now
            let scored = try objective.evaluate(model, on: validation, batchSize: configuration.evaluationBatchSize)
            let record = EpochRecord(
                epoch: epoch, learningRate: optimizer.learningRate, trainLoss: trainLoss, validationLoss: scored.loss,
                validationACC: scored.metrics.acc, validationAUC: scored.metrics.auc,
                trainSeconds: (trained - started).seconds, validationSeconds: (clock.now - trained).seconds,
                imagesPerSecond: Double(train.count) / max((trained - started).seconds, 1e-9))
            // The paper keeps the checkpoint of a strictly lower mean validation loss.
            if let previous = progress.bestValidationLoss, !(scored.loss < previous) {
                progress.epochsWithoutImprovement += 1
            } else {
                progress.bestValidationLoss = scored.loss
                progress.bestEpoch = epoch
                progress.epochsWithoutImprovement = 0
                best = model.stateDict()
            }
            progress.stoppedEarly = progress.epochsWithoutImprovement >= configuration.patience
            progress.completedEpochs += 1
            progress.history.append(record)
            if let url = checkpointURL {
                try TrainingCheckpoint(configuration: configuration, progress: progress, model: model.stateDict(), best: best,
                                       optimizer: optimizer.stateDict()).write(to: url)
            }
            observer?.epochFinished(record)
        }
        if !best.isEmpty { try model.loadStateDict(best) }
        return progress
    }

    /// The model (in evaluation mode, without gradients) on every sample of `source`.
    public func evaluate(_ source: any BatchSource) throws -> SplitEvaluation {
        try objective.evaluate(model, on: source, batchSize: configuration.evaluationBatchSize)
    }

    /// One pass over the training data in training mode; the mean of the per-batch losses.
    private func trainEpoch(_ epoch: Int, on source: any BatchSource) throws -> Double {
        model.train()
        let steps = (source.count + configuration.batchSize - 1) / configuration.batchSize
        var lossSum = 0.0, step = 0
        try RandomState.withSeed(Self.seed(configuration.seed, epoch: epoch, stream: 1)) {
            let batches = try source.batches(size: configuration.batchSize,
                                             shuffleSeed: Self.seed(configuration.seed, epoch: epoch, stream: 0))
            for batch in batches {
                step += 1
                optimizer.zeroGrad()
                let loss = try objective.loss(logits: model(batch.inputs), labels: batch.labels)
                let value = loss.scalars[0]
                guard value.isFinite else {
                    let kept = checkpointURL.flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0.path : nil }
                    throw TrainingError.nonFiniteLoss(epoch: epoch + 1, step: step, value: value, checkpoint: kept)
                }
                loss.backward()
                optimizer.step()
                lossSum += Double(value)
                observer?.trainingStepFinished(epoch: epoch, step: step, steps: steps, samples: batch.labels.shape[0])
            }
        }
        return lossSum / Double(max(step, 1))
    }

    private func restore(from url: URL) throws -> (TrainingProgress, [(key: String, array: TypedArray)]) {
        let checkpoint = try TrainingCheckpoint.read(from: url)
        guard checkpoint.configuration == configuration else {
            throw TrainingError.resumeMismatch(checkpoint: url.path, reason: "it was written with other settings "
                + "(\(Self.differences(checkpoint.configuration, configuration)))")
        }
        do {
            try model.loadStateDict(checkpoint.model)
            try optimizer.loadStateDict(checkpoint.optimizer)
        } catch {
            throw TrainingError.resumeMismatch(checkpoint: url.path, reason: "it belongs to another model: \(error)")
        }
        return (checkpoint.progress, checkpoint.best)
    }

    /// The settings that differ, `seed 0 → 1`.
    private static func differences(_ old: TrainingConfiguration, _ new: TrainingConfiguration) -> String {
        let pairs = zip(Mirror(reflecting: old).children, Mirror(reflecting: new).children)
        return pairs.compactMap { a, b in
            "\(a.value)" == "\(b.value)" ? nil : "\(a.label ?? "?") \(a.value) → \(b.value)"
        }.joined(separator: ", ")
    }

    /// A seed for one purpose (`stream`) of one epoch, from the run's seed: SplitMix64's finaliser over the three.
    static func seed(_ seed: UInt64, epoch: Int, stream: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(epoch) &+ 1) &+ stream &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
