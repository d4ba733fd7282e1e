import MedLayers

/// What a trained scheme updates (MEDMNIST.md §1.4).
public enum TrainingScheme: String, Sendable, Codable, CaseIterable {
    /// Every parameter trains.
    case endToEnd = "end-to-end"
    /// Only the classifier trains. As the paper's code, the model stays in training mode, so BatchNorm
    /// statistics in the frozen backbone still update and dropout stays active.
    case linearProbe = "linear-probe"
}

/// How the input reaches the model; everything else is the paper's protocol in both.
public enum TrainingPreset: String, Sendable, Codable, CaseIterable {
    /// The paper's protocol: images zero-padded to 224 pixels after normalisation.
    case paper
    /// The native resolution is fed to the model (transformers pad to their patch grid), many times cheaper
    /// on a CPU. Not the paper's protocol: say so when comparing numbers.
    case fast
}

/// Every setting of a training run. ``preset(_:scheme:)`` gives the paper's values; each can be overridden.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    public var scheme: TrainingScheme
    public var preset: TrainingPreset
    /// At most this many epochs (the paper: 100); also the cosine schedule's cycle length.
    public var maxEpochs: Int
    public var batchSize: Int
    /// Batch size of validation, test and feature extraction (the paper: 256).
    public var evaluationBatchSize: Int
    /// AdamW's learning rate at the start of the cosine schedule (the paper: 1e-4).
    public var learningRate: Float
    /// AdamW's decoupled weight decay (the paper: 0.01).
    public var weightDecay: Float
    /// Stop after this many consecutive epochs without a strictly lower mean validation loss (the paper: 5).
    public var patience: Int
    /// Seeds the model's initialisation, the batch order and dropout.
    public var seed: UInt64

    /// The paper's settings for `scheme` (MEDMNIST.md §1.4), with `preset`'s input handling.
    public static func preset(_ preset: TrainingPreset, scheme: TrainingScheme = .endToEnd) -> TrainingConfiguration {
        TrainingConfiguration(scheme: scheme, preset: preset, maxEpochs: 100, batchSize: 64, evaluationBatchSize: 256,
                              learningRate: 1e-4, weightDecay: 0.01, patience: 5, seed: 0)
    }

    /// The input resolution the preset feeds the model.
    public var resolution: InputResolution { preset == .paper ? .paper : .native }

    /// The paper's learning-rate schedule for these settings: timm's cosine over `maxEpochs`, stepped after each
    /// epoch (``CosineSchedule/learningRateForPaperEpoch(_:)``).
    public var schedule: CosineSchedule { CosineSchedule(baseLearningRate: learningRate, cycleLength: maxEpochs) }

    /// Checks the values a user's flags set, before anything is loaded.
    /// - Throws: ``TrainingConfigurationError`` naming the setting.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: String, _ rule: String) throws {
            if !ok { throw TrainingConfigurationError(setting: name, value: value, rule: rule) }
        }
        try check(maxEpochs >= 1, "epochs", "\(maxEpochs)", "at least 1")
        try check(batchSize >= 1, "batch size", "\(batchSize)", "at least 1")
        try check(evaluationBatchSize >= 1, "evaluation batch size", "\(evaluationBatchSize)", "at least 1")
        try check(learningRate.isFinite && learningRate > 0, "learning rate", "\(learningRate)", "a positive number")
        try check(weightDecay.isFinite && weightDecay >= 0, "weight decay", "\(weightDecay)", "zero or positive")
        try check(patience >= 1, "patience", "\(patience)", "at least 1")
    }
}

/// A training setting outside what it can be.
public struct TrainingConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    public let setting: String
    public let value: String
    public let rule: String

    public init(setting: String, value: String, rule: String) {
        self.setting = setting
        self.value = value
        self.rule = rule
    }

    public var description: String { "\(setting) \(value) is invalid: it must be \(rule)" }
}
