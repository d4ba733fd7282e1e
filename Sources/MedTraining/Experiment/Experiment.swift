import Foundation
import MedIO
import MedLayers
import MedMNISTData
import MedModels
import MedTensor

/// Where an experiment finds its data, weights and feature cache, and how it reports.
public struct ExperimentEnvironment: Sendable {
    public var root: DatasetRoot
    /// Fetches a missing catalog file before loading; nil never downloads (a missing file is then an error
    /// naming the file and where to put it).
    public var downloader: Downloader?
    /// The pretrained-weights cache and hub; nil reads them from the environment.
    public var weights: PretrainedWeights.Configuration?
    /// The feature cache of the frozen-feature schemes; nil uses `{root}/.cache/features`.
    public var featureCache: FeatureCache?
    /// One line of progress at a time (loading, features, the phases); epoch lines go to the observer.
    public var log: @Sendable (String) -> Void

    public init(root: DatasetRoot = DatasetRoot(), downloader: Downloader? = Downloader(), weights: PretrainedWeights.Configuration? = nil,
                featureCache: FeatureCache? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.root = root
        self.downloader = downloader
        self.weights = weights
        self.featureCache = featureCache
        self.log = log
    }
}

/// One run of one scheme on one dataset, from loading to the result files: what `medmnist train` and
/// `medmnist knn` do, and each cell of the grid.
///
/// With an `output` directory it writes `metrics.json` (``ExperimentResult``), `history.csv`, the best
/// weights as `best.safetensors` (timm's keys), the test scores as the `medmnist` evaluator's CSV, and the
/// training checkpoint that `resume` continues from.
public enum Experiment {
    /// Runs `specification`; see ``Experiment``.
    /// - Throws: typed errors for every input a user controls: ``TrainingConfigurationError``, `DataFileError`
    ///   and `DownloadError` for the data, `ModelRegistryError`/`StateDictMismatch`/checkpoint errors for the
    ///   weights, ``ModelDataMismatch`` when they do not fit, ``TrainingError`` during training.
    public static func run(_ specification: ExperimentSpecification, environment: ExperimentEnvironment = ExperimentEnvironment(),
                           output: URL? = nil, resume: Bool = false, observer: (any TrainingObserver)? = nil) async throws -> ExperimentResult {
        var training = specification.training
        if let scheme = specification.scheme.trainingScheme { training.scheme = scheme }
        try training.validate()
        try specification.validatePrecision()
        guard specification.k >= 1 else { throw TrainingConfigurationError(setting: "k", value: "\(specification.k)", rule: "at least 1") }
        let clock = ContinuousClock(), started = clock.now
        var seconds = PhaseSeconds()
        func lap(_ since: ContinuousClock.Instant) -> Double { (clock.now - since).seconds }

        var phase = clock.now
        let splits = try await loadSplits(specification.data, environment)
        seconds.loading = lap(phase)
        environment.log("data: \(splits.train.flag) \(splits.train.size) px, \(splits.train.count)/\(splits.val.count)/\(splits.test.count) images, \(splits.train.task.rawValue), \(splits.train.numClasses) classes")

        phase = clock.now
        let (model, weightsIdentity) = try await buildModel(specification, classes: splits.train.numClasses, environment: environment)
        seconds.model = lap(phase)
        let (transform, paddedTo) = try ImageTransform.forModel(specification.model, encoder: model, side: splits.train.size,
                                                                 resolution: training.resolution)
        try ModelDataCompatibility.validate(model: model, for: splits.train, transform: transform,
                                            use: specification.scheme.usesFrozenFeatures ? .features : .logits)
        if let output { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) }

        var progress = TrainingProgress()
        var valEvaluation: SplitEvaluation, testEvaluation: SplitEvaluation
        var cacheOutcomes: [String: String] = [:]
        var notes = training.preset == .fast
            ? ["preset fast: native resolution fed to the model (the paper pads to 224)"] : ["preset paper: zero padding to 224 after normalisation"]
        if let paddedTo {
            notes.append("\(splits.train.size)-px images zero-padded to \(paddedTo), the smallest input \(model.architecture) accepts")
        }
        switch specification.scheme {
        case .endToEnd, .linearProbe:
            let trainer = try Trainer(model: model, task: splits.train.task, configuration: training, checkpointDirectory: output)
            trainer.observer = observer
            phase = clock.now
            progress = try trainer.fit(train: ImageBatches(splits.train, transform: transform),
                                       validation: ImageBatches(splits.val, transform: transform), resume: resume)
            seconds.training = lap(phase)
            phase = clock.now
            valEvaluation = try trainer.evaluate(ImageBatches(splits.val, transform: transform))
            testEvaluation = try trainer.evaluate(ImageBatches(splits.test, transform: transform))
            seconds.evaluation = lap(phase)

        case .cachedLinearProbe, .knn:
            phase = clock.now
            var features: [Split: Tensor] = [:]
            for (split, data) in [(Split.train, splits.train), (.val, splits.val), (.test, splits.test)] {
                let (tensor, outcome) = try cachedFeatures(of: model, weightsIdentity: weightsIdentity, data: data, split: split,
                                                           specification: specification, transform: transform,
                                                           batchSize: training.evaluationBatchSize, environment: environment)
                features[split] = tensor
                cacheOutcomes[split.rawValue] = outcome.rawValue
            }
            seconds.features = lap(phase)
            if specification.scheme == .knn {
                phase = clock.now
                let knn = try NearestNeighbors(support: features[.train]!, labels: splits.train.labels, k: specification.k)
                func score(_ split: MedMNISTSplit, _ queries: Tensor) throws -> SplitEvaluation {
                    let scores = knn.classify(queries, task: split.task, numClasses: split.numClasses)
                    return SplitEvaluation(loss: .nan, scores: scores,
                                           metrics: try MedMNISTMetrics.evaluate(labels: split.labels, scores: scores, task: split.task))
                }
                valEvaluation = try score(splits.val, features[.val]!)
                testEvaluation = try score(splits.test, features[.test]!)
                seconds.evaluation = lap(phase)
                notes.append("kNN: k = \(specification.k), Euclidean on raw pre-logit features, training split as support; "
                    + "ACC as the paper; AUC from neighbour vote fractions is an addition (the paper reports none)")
            } else {
                let head = RandomState.withSeed(training.seed) { Linear(inFeatures: model.numFeatures, outFeatures: splits.train.numClasses) }
                let trainer = try Trainer(model: head, task: splits.train.task, configuration: training, checkpointDirectory: output)
                trainer.observer = observer
                phase = clock.now
                progress = try trainer.fit(train: FeatureBatches(features: features[.train]!, labels: splits.train.labels),
                                           validation: FeatureBatches(features: features[.val]!, labels: splits.val.labels), resume: resume)
                seconds.training = lap(phase)
                phase = clock.now
                valEvaluation = try trainer.evaluate(FeatureBatches(features: features[.val]!, labels: splits.val.labels))
                testEvaluation = try trainer.evaluate(FeatureBatches(features: features[.test]!, labels: splits.test.labels))
                seconds.evaluation = lap(phase)
                // The trained head goes into the encoder, so best.safetensors is a whole timm-loadable model.
                let prefix = model.classifierKeyPrefix
                try model.loadStateDict(head.stateDict().map { (key: "\(prefix).\($0.key)", array: $0.array) },
                                          options: LoadOptions(strict: false))
                notes.append("cached linear probe (not in the paper): backbone in evaluation mode, features computed once")
            }
        }
        seconds.total = lap(started)
        let trainSeconds = progress.history.reduce(0) { $0 + $1.trainSeconds }
        let result = ExperimentResult(
            specification: specification, test: SplitMetrics(testEvaluation.metrics, samples: splits.test.count),
            val: SplitMetrics(valEvaluation.metrics, samples: splits.val.count), bestEpoch: progress.bestEpoch,
            epochsRun: progress.completedEpochs, stoppedEarly: progress.stoppedEarly,
            trainImagesPerSecond: trainSeconds > 0 ? Double(progress.completedEpochs * splits.train.count) / trainSeconds : nil,
            seconds: seconds, architecture: ModelRegistry.split(specification.model).architecture, task: splits.train.task,
            numClasses: splits.train.numClasses, featureCache: cacheOutcomes, notes: notes, libraryVersion: MedMNISTLibrary.version,
            history: progress.history)
        if let output {
            try writeOutputs(result, model: model, test: testEvaluation, split: splits.test, to: output)
        }
        return result
    }

    /// The three splits, downloading a missing catalog file first when a downloader is given.
    /// The pre-logit features of one split of `specification`'s data under its model and weights, from the
    /// feature cache when present (computed and stored otherwise): what `medmnist features` writes.
    /// - Returns: `[N, numFeatures]` features and whether the cache held them.
    public static func features(_ specification: ExperimentSpecification, split: Split,
                                environment: ExperimentEnvironment = ExperimentEnvironment())
        async throws -> (features: Tensor, outcome: FeatureCache.Outcome) {
        try specification.training.validate()
        try specification.validatePrecision()
        let splits = try await loadSplits(specification.data, environment)
        let data = split == .train ? splits.train : split == .val ? splits.val : splits.test
        let (model, weightsIdentity) = try await buildModel(specification, classes: splits.train.numClasses, environment: environment)
        let transform = try ImageTransform.forModel(specification.model, encoder: model, side: data.size,
                                                    resolution: specification.training.resolution).transform
        try ModelDataCompatibility.validate(model: model, for: data, transform: transform, use: .features)
        return try cachedFeatures(of: model, weightsIdentity: weightsIdentity, data: data, split: split, specification: specification,
                                  transform: transform, batchSize: specification.training.evaluationBatchSize, environment: environment)
    }

    /// One split's features through the cache, keyed by model, weights, dataset, size, split and preprocessing.
    static func cachedFeatures(of model: any ImageEncoder, weightsIdentity: String, data: MedMNISTSplit, split: Split,
                               specification: ExperimentSpecification, transform: ImageTransform, batchSize: Int,
                               environment: ExperimentEnvironment) throws -> (features: Tensor, outcome: FeatureCache.Outcome) {
        let cache = environment.featureCache ?? FeatureCache(directory: environment.root.cacheDirectory.appendingPathComponent("features"))
        let precision = specification.featurePrecision
        let key = FeatureCacheKey(model: specification.model, weights: weightsIdentity, dataset: specification.data.name,
                                  size: data.size, split: split, transform: transform, precision: precision)
        return try cache.features(for: key) {
            environment.log("features: \(split.rawValue) (\(data.count) images\(precision == .float32 ? "" : ", \(precision.rawValue) products"))")
            return try GEMM.$precision.withValue(precision) {
                try FeatureExtraction.features(of: model, source: ImageBatches(data, transform: transform), batchSize: batchSize)
            }
        }
    }

    static func loadSplits(_ data: DataSelection, _ environment: ExperimentEnvironment) async throws
        -> (train: MedMNISTSplit, val: MedMNISTSplit, test: MedMNISTSplit) {
        switch data {
        case let .catalog(flag, size):
            let info = try MedMNISTCatalog.info(flag)
            let file = try info.file(size: size)
            if !FileManager.default.fileExists(atPath: environment.root.url(for: file).path), let downloader = environment.downloader {
                environment.log("download: \(file.fileName) into \(environment.root.url.path)")
                _ = try await downloader.download(file, into: environment.root)
            }
            return (try environment.root.load(info, size: size, split: .train), try environment.root.load(info, size: size, split: .val),
                    try environment.root.load(info, size: size, split: .test))
        case let .file(path, task):
            let url = URL(fileURLWithPath: path)
            return (try CustomDataset.load(contentsOf: url, split: .train, task: task),
                    try CustomDataset.load(contentsOf: url, split: .val, task: task),
                    try CustomDataset.load(contentsOf: url, split: .test, task: task))
        }
    }

    /// The model with its starting weights, and an identity of those weights for the feature cache.
    static func buildModel(_ specification: ExperimentSpecification, classes: Int, environment: ExperimentEnvironment) async throws
        -> (any ImageEncoder, String) {
        let seed = specification.training.seed
        switch specification.weights {
        case .random:
            let model = try RandomState.withSeed(seed) { try ModelRegistry.create(specification.model, numClasses: classes) }
            return (model, "random-seed-\(seed)")
        case .file(let path):
            let url = URL(fileURLWithPath: path)
            let model = try RandomState.withSeed(seed) { try ModelRegistry.create(specification.model, numClasses: classes, weights: url) }
            return (model, "sha256:" + (try SHA256.hexDigest(ofFileAt: url)))
        case .pretrained:
            let config = try ModelRegistry.pretrainedConfig(specification.model)
            environment.log("weights: \(config.name)")
            let url = try await ModelRegistry.pretrainedWeightsURL(config.name, configuration: environment.weights)
            // The new head is drawn from the run's seed, so seeds differ in it as the paper's runs do.
            let model = try RandomState.withSeed(seed) { try ModelRegistry.create(config.name, numClasses: classes, weights: url) }
            return (model, "pretrained:\(config.name)")
        }
    }

    /// `metrics.json`, `history.csv`, `best.safetensors` and the evaluator's test CSV.
    static func writeOutputs(_ result: ExperimentResult, model: any UnaryLayer, test: SplitEvaluation, split: MedMNISTSplit,
                             to output: URL) throws {
        try AtomicFile.write(result.json(), to: output.appendingPathComponent("metrics.json"))
        let csv = ([EpochRecord.csvHeader] + result.history.map(\.csvRow)).joined(separator: "\n") + "\n"
        try AtomicFile.write(csv, to: output.appendingPathComponent("history.csv"))
        try model.save(to: output.appendingPathComponent("best.safetensors"), metadata: [
            "format": "pt", "medmnist.model": result.specification.model, "medmnist.task": result.task.rawValue,
        ])
        _ = try PredictionCSV.write(test.scores, flag: split.flag, size: split.size, split: .test,
                                    metrics: Metrics(auc: result.test.auc, acc: result.test.acc), run: "medmnist-swift", folder: output)
    }
}
