import Foundation
import MedIO
import MedMNISTData
import MedTensor
import MedModels
import MedTraining

/// `medmnist train`: the paper's end-to-end training or linear probing (or kNN) of one model on one set, from
/// the data (downloaded when missing) to `metrics.json`, `history.csv`, `best.safetensors` and the evaluator's
/// test CSV. The defaults train ResNet-18 on BreastMNIST at 28 px with the fast preset.
enum TrainCommand: Command {
    static let specification = CommandSpecification(
        name: "train", abstract: "Train or probe a model on a set (the paper's protocol) and write its metrics and weights.",
        options: ExperimentOptions.data + ExperimentOptions.model + [
            Option("scheme", kind: .choice(["end-to-end", "linear-probe", "knn"]), default: "end-to-end", valueName: "scheme",
                   help: "end-to-end (every parameter trains), linear-probe (only the classifier), or knn (no training)."),
            Option("probe", kind: .choice(["paper", "cached"]), default: "paper", valueName: "mode",
                   help: "With --scheme linear-probe: paper (the backbone runs in training mode every step, as the paper's code) or cached (features computed once in eval mode, only the head trains: not in the paper, much faster)."),
        ] + ExperimentOptions.training(defaultPreset: .fast) + [
            Option("k", kind: .positiveInteger, default: "11", help: "With --scheme knn: neighbours per vote."),
            .flag("resume", help: "Continue the run in --output from its last completed epoch."),
        ] + ExperimentOptions.output,
        discussion: """
        Without flags: ResNet-18, randomly initialised, end-to-end on BreastMNIST 28 px, preset fast, into
        runs/breastmnist-28-resnet18-end-to-end-s0. A missing catalog file is downloaded into --root first
        (--offline never downloads). --npz FILE trains on any npz with the six MedMNIST keys instead.
        A run killed at any moment continues with --resume and ends with the result an uninterrupted run gives.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) async throws {
        var scheme = ExperimentScheme(rawValue: parsed.string("scheme")!)!
        if scheme == .knn {
            try parsed.reject(["probe", "epochs", "batch-size", "lr", "weight-decay", "patience", "resume"], "with --scheme knn (it does not train)")
        } else {
            try parsed.reject(["k"], "without --scheme knn")
        }
        if parsed.string("probe") == "cached" {
            guard scheme == .linearProbe else { throw UsageError("--probe cached applies to --scheme linear-probe only") }
            scheme = .cachedLinearProbe
        }
        try await ExperimentOptions.run(parsed, scheme: scheme, training: ExperimentOptions.trainingConfiguration(parsed), k: parsed.integer("k")!,
                                        resume: parsed.flag("resume"), console: console)
    }
}

/// `medmnist knn`: the paper's kNN on frozen pre-logit features (k = 11, Euclidean, training split as support).
enum KNNCommand: Command {
    static let specification = CommandSpecification(
        name: "knn", abstract: "Classify with k nearest neighbours on a model's frozen features (the paper's kNN).",
        options: ExperimentOptions.data + ExperimentOptions.model + [
            Option("preset", kind: .choice(TrainingPreset.allCases.map(\.rawValue)), default: TrainingPreset.fast.rawValue, valueName: "preset",
                   help: "paper (inputs zero-padded to 224) or fast (the native size)."),
            Option("k", kind: .positiveInteger, default: "11", help: "Neighbours per vote."),
            Option("eval-batch-size", kind: .positiveInteger, default: "256", help: "Batch size of the feature pass."),
        ] + ExperimentOptions.output,
        discussion: """
        Features come from the feature cache (ROOT/.cache/features) when present. ACC is the paper's; AUC from
        the neighbours' vote fractions is an addition. Same as 'medmnist train --scheme knn'.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) async throws {
        var training = TrainingConfiguration.preset(TrainingPreset(rawValue: parsed.string("preset")!)!)
        training.evaluationBatchSize = parsed.integer("eval-batch-size")!
        try await ExperimentOptions.run(parsed, scheme: .knn, training: training, k: parsed.integer("k")!, resume: false, console: console)
    }
}

/// The options `train` and `knn` share, and the run they both end in.
enum ExperimentOptions {
    static let data: [Option] = [
        Option("dataset", default: "breastmnist", valueName: "flag",
               help: "The MedMNIST+ set, by its flag (e.g. pathmnist, breastmnist; 'medmnist info' lists them)."),
        DataOptions.size, DataOptions.root,
        Option("npz", kind: .path(extensions: ["npz"]), valueName: "file",
               help: "Train on this npz (the six MedMNIST keys) instead of a catalog set."),
        Option("task", kind: .choice(MedMNISTTask.allCases.map(\.rawValue)), valueName: "task",
               help: "With --npz: the task (default: inferred from the labels)."),
        .flag("offline", help: "Never download; a missing catalog file is an error naming where it belongs."),
    ]

    static let model: [Option] = [
        Option("model", default: "resnet18", valueName: "name", help: "The encoder ('medmnist info --models' lists them)."),
        Option("weights", kind: .path(extensions: ["safetensors", "pth", "bin", "pt"]), valueName: "file",
               help: "Start from this checkpoint (timm/torchvision keys); a classifier of another class count is replaced."),
        Option("pretrained", valueName: "tag",
               help: "Start from the pretrained weights of this tag (e.g. a1_in1k; 'default' for the model's default " +
                   "tag), downloaded into the weights cache; 'medmnist info --models' lists the tags."),
        DataOptions.seed("Seeds the initialisation, batch order and dropout."),
        Option("threads", kind: .positiveInteger, help: "Kernel threads (default: $MEDTENSOR_NUM_THREADS, else every core)."),
        DataOptions.precision,
    ]

    /// The protocol's settings, each with the preset's value as its default.
    static func training(defaultPreset: TrainingPreset) -> [Option] {[
        Option("preset", kind: .choice(TrainingPreset.allCases.map(\.rawValue)), default: defaultPreset.rawValue, valueName: "preset",
               help: "paper (inputs zero-padded to 224) or fast (the native size; otherwise the same)."),
        Option("epochs", kind: .positiveInteger, default: "100", help: "At most this many epochs (early stopping may end sooner)."),
        Option("batch-size", kind: .positiveInteger, default: "64", help: "Training batch size."),
        Option("eval-batch-size", kind: .positiveInteger, default: "256", help: "Evaluation batch size."),
        Option("lr", kind: .double, default: "1e-4", valueName: "x", help: "AdamW learning rate (cosine schedule per epoch)."),
        Option("weight-decay", kind: .double, default: "0.01", valueName: "x", help: "AdamW weight decay."),
        Option("patience", kind: .positiveInteger, default: "5", help: "Stop after this many epochs without a lower mean validation loss."),
    ]}

    /// The configuration ``training(defaultPreset:)``'s flags describe (the seed is set elsewhere).
    static func trainingConfiguration(_ parsed: ParsedArguments) -> TrainingConfiguration {
        var training = TrainingConfiguration.preset(TrainingPreset(rawValue: parsed.string("preset")!)!)
        training.maxEpochs = parsed.integer("epochs")!
        training.batchSize = parsed.integer("batch-size")!
        training.evaluationBatchSize = parsed.integer("eval-batch-size")!
        training.learningRate = Float(parsed.double("lr")!)
        training.weightDecay = Float(parsed.double("weight-decay")!)
        training.patience = parsed.integer("patience")!
        return training
    }

    static let output: [Option] = [
        Option("output", short: "o", kind: .path(extensions: []), valueName: "dir",
               help: "The run's folder (default: runs/<dataset>-<size>-<model>-<scheme>-s<seed>)."),
    ]

    /// Builds the specification from the flags, runs it with progress on the console, and prints the result.
    static func run(_ parsed: ParsedArguments, scheme: ExperimentScheme, training: TrainingConfiguration, k: Int,
                    resume: Bool, console: any Console) async throws {
        let (specification, environment) = try experiment(parsed, scheme: scheme, training: training, k: k, console: console)
        let output = URL(fileURLWithPath: parsed.string("output")
            ?? "runs/\(specification.data.name)-\(parsed.integer("size")!)-\(specification.model)-\(scheme.rawValue)-s\(specification.training.seed)")
        let existed = FileManager.default.fileExists(atPath: output.path)
        try FileError.wrapping(path: output.path) {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        }
        let progress = ProgressPrinter(console: console)
        let result: ExperimentResult
        do {
            result = try await Experiment.run(specification, environment: environment, output: output, resume: resume, observer: progress)
        } catch {
            progress.finish()
            // A run that failed before writing anything leaves no empty folder behind.
            if !existed, (try? FileManager.default.contentsOfDirectory(atPath: output.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: output)
            }
            throw error
        }
        progress.finish()
        for line in summary(result, output: output) { console.write(line) }
    }

    /// The run the data and model flags describe, and where it reads from; applies `--threads`.
    static func experiment(_ parsed: ParsedArguments, scheme: ExperimentScheme, training: TrainingConfiguration, k: Int,
                           console: any Console) throws -> (ExperimentSpecification, ExperimentEnvironment) {
        if let threads = parsed.integer("threads") { Parallel.threadCount = threads }
        var training = training
        training.seed = UInt64(parsed.integer("seed")!)
        let data: DataSelection
        if let npz = parsed.string("npz") {
            try parsed.reject(["dataset", "size", "offline"], "with --npz (it trains on the file as custom data)")
            data = .file(path: npz, task: parsed.string("task").flatMap(MedMNISTTask.init(rawValue:)))
        } else {
            try parsed.reject(["task"], "without --npz (a catalog set's task is known)")
            let info = try DataOptions.info(parsed)
            data = .catalog(flag: info.flag, size: try DataOptions.size(parsed, for: info))
        }
        if parsed.isGiven("pretrained") && parsed.isGiven("weights") { throw UsageError("give --weights or --pretrained, not both") }
        var model = parsed.string("model")!
        let architecture = ModelRegistry.split(model).architecture
        guard ModelRegistry.architectures.contains(architecture) else {
            let hint = nearestSuggestion(for: architecture, among: ModelRegistry.architectures).map { "did you mean '\($0)'? " } ?? ""
            throw UsageError("--model: unknown model '\(model)'; \(hint)the architectures: " +
                             ModelRegistry.architectures.joined(separator: ", "))
        }
        var weights: WeightsSelection = parsed.string("weights").map { .file(path: $0) } ?? .random
        if let tag = parsed.string("pretrained") {
            model = try pretrainedModel(model, tag: tag)
            weights = .pretrained
        }
        let precision = try DataOptions.precision(parsed)
        guard precision == .float32 || scheme.usesFrozenFeatures else {
            throw UsageError("--precision bf16 applies to frozen features only (--scheme knn, --probe cached, 'medmnist knn' and 'medmnist features'), not to a model that trains")
        }
        let specification = ExperimentSpecification(model: model, weights: weights, data: data, scheme: scheme,
                                                    training: training, k: k, precision: precision == .float32 ? nil : precision)
        let environment = ExperimentEnvironment(root: DataOptions.root(parsed), downloader: parsed.flag("offline") ? nil : Downloader(),
                                                log: { console.write($0) })
        return (specification, environment)
    }

    /// `model` with the pretrained `tag` (`default`: the architecture's default tag), as a registry name such as
    /// `resnet18.a1_in1k`; a usage error, with the valid tags, when the registry does not know it.
    static func pretrainedModel(_ model: String, tag: String) throws -> String {
        let (architecture, modelTag) = ModelRegistry.split(model)
        let tags = ModelRegistry.pretrainedTags.filter { ModelRegistry.split($0).architecture == architecture }
            .compactMap { ModelRegistry.split($0).tag }
        if tag == "default" {
            return modelTag == nil ? try ModelRegistry.defaultTag(architecture) : model
        }
        if let modelTag, modelTag != tag {
            throw UsageError("--model \(model) already names the tag \(modelTag); --pretrained \(tag) names another")
        }
        guard tags.contains(tag) else {
            let hint = nearestSuggestion(for: tag, among: tags).map { "did you mean '\($0)'? " } ?? ""
            throw UsageError("\(architecture) has no pretrained tag '\(tag)'; \(hint)its tags: \(tags.joined(separator: ", "))")
        }
        return "\(architecture).\(tag)"
    }

    /// The closing lines: test and validation metrics, best epoch, times and where the files are.
    static func summary(_ result: ExperimentResult, output: URL) -> [String] {
        let aucLabel = result.specification.scheme == .knn ? "AUC (from vote fractions, not in the paper)" : "AUC"
        var lines = [
            String(format: "test: ACC %.2f %%, %@ %.2f %% (%d images)", result.test.acc * 100, aucLabel, result.test.auc * 100, result.test.samples),
            String(format: "val:  ACC %.2f %%, %@ %.2f %% (%d images)", result.val.acc * 100, aucLabel, result.val.auc * 100, result.val.samples),
        ]
        if let best = result.bestEpoch {
            lines.append("best epoch \(best + 1) of \(result.epochsRun)\(result.stoppedEarly ? " (stopped early)" : "")")
        }
        lines.append(String(format: "%.1f s (loading %.1f, model %.1f, features %.1f, training %.1f, evaluation %.1f)",
                            result.seconds.total, result.seconds.loading, result.seconds.model, result.seconds.features,
                            result.seconds.training, result.seconds.evaluation))
        lines.append("wrote \(output.path)/metrics.json, history.csv, best.safetensors and the test predictions CSV")
        return lines
    }
}

/// Epoch lines on the console, and on a terminal a progress bar for the steps of the running epoch.
final class ProgressPrinter: TrainingObserver, @unchecked Sendable {  // called from the training loop only
    let console: any Console
    let showsBar = isatty(STDERR_FILENO) == 1
    private var barShown = false

    init(console: any Console) { self.console = console }

    func trainingStepFinished(epoch: Int, step: Int, steps: Int, samples: Int) {
        guard showsBar, steps > 0 else { return }
        let width = 30, filled = width * step / steps
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\repoch \(epoch + 1) [\(bar)] \(step)/\(steps)".utf8))
        barShown = true
    }

    func epochFinished(_ record: EpochRecord) {
        finish()
        console.write(record.summary)
    }

    /// Clears the bar's line.
    func finish() {
        if barShown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        barShown = false
    }
}

/// `medmnist features`: one split's pre-logit features to `.npy`, through the feature cache.
enum FeaturesCommand: Command {
    static let specification = CommandSpecification(
        name: "features", abstract: "Write a split's pre-logit features under a model to .npy (through the feature cache).",
        options: ExperimentOptions.data + ExperimentOptions.model + [
            DataOptions.split(default: .train),
            Option("preset", kind: .choice(TrainingPreset.allCases.map(\.rawValue)), default: TrainingPreset.fast.rawValue, valueName: "preset",
                   help: "paper (inputs zero-padded to 224) or fast (the native size)."),
            Option("eval-batch-size", kind: .positiveInteger, default: "256", help: "Batch size of the feature pass."),
            Option("output", short: "o", kind: .path(extensions: ["npy"]), required: true, valueName: "file.npy",
                   help: "Where to write the Float32 (N, features) array."),
        ],
        discussion: """
        The model runs in evaluation mode on the split with the preset's preprocessing; the features are the
        model's pre-logits (the input of its classifier), as kNN and the cached probe use them. They are read from
        the feature cache (ROOT/.cache/features) when there, and stored there otherwise.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) async throws {
        var training = TrainingConfiguration.preset(TrainingPreset(rawValue: parsed.string("preset")!)!)
        training.evaluationBatchSize = parsed.integer("eval-batch-size")!
        let (specification, environment) = try ExperimentOptions.experiment(parsed, scheme: .knn, training: training, k: 11, console: console)
        let split = DataOptions.split(parsed)
        let (features, outcome) = try await Experiment.features(specification, split: split, environment: environment)
        let output = URL(fileURLWithPath: parsed.string("output")!)
        try Npy.write(features.typedArray(), to: output)
        console.write("\(split.rawValue): \(features.shape) float32 features (\(outcome.rawValue == "hit" ? "from the cache" : "computed")) to \(output.path)")
    }
}
