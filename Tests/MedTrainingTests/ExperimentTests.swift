import Foundation
import MedIO
import MedMNISTData
import MedModels
import MedTensor
import MedTestSupport
import MedTraining
import Testing

/// Whole runs, from an `.npz` on disk to the result files, for every scheme.
@Suite struct ExperimentTests {
    /// A generated 4-class set written as MedMNIST's `.npz` into `directory`.
    static func writeSet(in directory: TemporaryDirectory, task: MedMNISTTask = .multiClass, classes: Int = 4,
                         counts: (Int, Int, Int) = (256, 64, 64), pattern: SyntheticDataset.Pattern = .squares) throws -> URL {
        let url = directory.appending("synthetic.npz")
        func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
            try SyntheticDataset.split(split, task: task, numClasses: classes, count: count, pattern: pattern, seed: 5)
        }
        try SyntheticDataset.writeNpz(train: split(.train, counts.0), val: split(.val, counts.1), test: split(.test, counts.2), to: url)
        return url
    }

    static func specification(_ scheme: ExperimentScheme, data: URL, epochs: Int = 2) -> ExperimentSpecification {
        var training = TrainingConfiguration.preset(.fast)
        training.maxEpochs = epochs
        training.batchSize = 32
        training.learningRate = 1e-3
        return ExperimentSpecification(model: "resnet18", data: .file(path: data.path, task: nil), scheme: scheme, training: training)
    }

    @Test func endToEndWritesEveryResultFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.writeSet(in: directory)
        let output = directory.appending("run")
        let result = try await Experiment.run(Self.specification(.endToEnd, data: data), environment: ExperimentEnvironment(downloader: nil),
                                              output: output)
        #expect(result.epochsRun == 2 && result.history.count == 2 && result.bestEpoch != nil && result.task == .multiClass)
        #expect(result.numClasses == 4 && result.test.samples == 64 && (0...1).contains(result.test.acc))
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(files.contains("metrics.json") && files.contains("history.csv") && files.contains("best.safetensors")
            && files.contains("checkpoint.safetensors") && files.contains { $0.hasPrefix("synthetic_test_[AUC]") && $0.hasSuffix(".csv") })
        let decoded = try ExperimentResult.decode(Data(contentsOf: output.appendingPathComponent("metrics.json")))
        #expect(decoded == result)
        // The keys the readers (Python, jq) look for.
        let raw = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("metrics.json"))) as? [String: Any])
        #expect(raw["best_epoch"] is Int && raw["epochs_run"] as? Int == 2 && (raw["test"] as? [String: Any])?["acc"] is Double)
        let history = try String(contentsOf: output.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
        #expect(history.count == 3 && history[0] == Substring(EpochRecord.csvHeader))
        // best.safetensors is a whole model with timm's keys: it loads back by name and scores the same.
        let reloaded = try ModelRegistry.create("resnet18", numClasses: 4, weights: output.appendingPathComponent("best.safetensors"),
                                                replacingClassifier: false)
        #expect(reloaded.numClasses == 4)
    }

    /// The frozen-feature schemes share the cache: the second run computes nothing.
    @Test func knnAndCachedProbeShareTheFeatureCache() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.writeSet(in: directory)
        let environment = ExperimentEnvironment(downloader: nil, featureCache: FeatureCache(directory: directory.appending("features")))
        let knn = try await Experiment.run(Self.specification(.knn, data: data), environment: environment)
        #expect(knn.featureCache == ["train": "computed", "val": "computed", "test": "computed"] && knn.bestEpoch == nil)
        // Even random features separate these classes' bright squares.
        #expect(knn.test.acc > 0.5 && knn.notes.contains { $0.contains("AUC from neighbour vote fractions is an addition") })
        let probe = try await Experiment.run(Self.specification(.cachedLinearProbe, data: data, epochs: 3), environment: environment)
        #expect(probe.featureCache == ["train": "hit", "val": "hit", "test": "hit"] && probe.epochsRun == 3)
    }

    /// Every scheme on every kind of task, from the file to the result: the task is inferred from the labels,
    /// the class count follows it, and both splits are scored.
    @Test(arguments: [(MedMNISTTask.binaryClass, 2), (.multiClass, 5), (.ordinalRegression, 4), (.multiLabelBinary, 3)])
    func everySchemeOnEveryTask(_ task: MedMNISTTask, _ classes: Int) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.writeSet(in: directory, task: task, classes: classes, counts: (48, 24, 24))
        let environment = ExperimentEnvironment(downloader: nil, featureCache: FeatureCache(directory: directory.appending("features")))
        for scheme in ExperimentScheme.allCases {
            var specification = Self.specification(scheme, data: data, epochs: 1)
            // Ordinal labels look multi-class; the file cannot say which, so the run is told.
            specification.data = .file(path: data.path, task: task == .ordinalRegression ? task : nil)
            let output = directory.appending("\(scheme.rawValue)")
            let result = try await Experiment.run(specification, environment: environment, output: output)
            #expect(result.task == task && result.numClasses == classes, "\(scheme)")
            #expect(result.test.samples == 24 && (0...1).contains(result.test.acc) && (0...1).contains(result.val.auc), "\(scheme)")
            #expect(result.epochsRun == (scheme == .knn ? 0 : 1), "\(scheme)")
            let csv = try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix(".csv") && $0 != "history.csv" }
            let rows = try String(contentsOf: output.appendingPathComponent(try #require(csv)), encoding: .utf8).split(separator: "\n")
            #expect(rows.count == 24, "\(scheme): the test scores, one row per image")
        }
    }

    /// A frozen backbone's features separate classes that differ in what global pooling keeps (a grating's
    /// orientation): kNN and the cached linear probe on a random ResNet-18 reach 95 %.
    @Test func frozenFeaturesLearnGeneratedGratings() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.writeSet(in: directory, counts: (600, 200, 200), pattern: .stripes)
        let environment = ExperimentEnvironment(downloader: nil, featureCache: FeatureCache(directory: directory.appending("features")))
        let knn = try await Experiment.run(Self.specification(.knn, data: data), environment: environment)
        var probe = Self.specification(.cachedLinearProbe, data: data, epochs: 60)
        probe.training.learningRate = 1e-2
        probe.training.batchSize = 64
        let probed = try await Experiment.run(probe, environment: environment)
        #expect(knn.test.acc >= 0.95, "kNN: \(knn.test.acc)")
        #expect(probed.test.acc >= 0.95, "cached probe: \(probed.test.acc)")
    }

    /// A generated set of 28³ volumes with binary labels, as MedMNIST's 3D files hold them.
    static func writeVolumes(to url: URL) throws {
        var arrays: [(key: String, array: TypedArray)] = []
        for (split, count) in [(Split.train, 8), (.val, 4), (.test, 4)] {
            arrays.append((split.imagesKey, TypedArray(uint8s: [UInt8](repeating: 9, count: count * 28 * 28 * 28), shape: [count, 28, 28, 28])))
            arrays.append((split.labelsKey, TypedArray(uint8s: (0..<count).map { UInt8($0 % 2) }, shape: [count, 1])))
        }
        try Npz.write(arrays, to: url)
    }

    /// The fast preset pads native images smaller than the architecture's smallest input up to it (AlexNet: 63),
    /// and says so in the result's notes.
    @Test func smallImagesArePaddedToTheSmallestInput() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try Self.writeSet(in: directory, counts: (32, 16, 16))
        var specification = Self.specification(.knn, data: data)
        specification.model = "alexnet"
        let result = try await Experiment.run(specification, environment: ExperimentEnvironment(downloader: nil,
                                              featureCache: FeatureCache(directory: directory.appending("features"))))
        #expect(result.notes.contains("28-px images zero-padded to 63, the smallest input alexnet accepts"), "\(result.notes)")
    }

    @Test func problemsAreTypedErrorsBeforeTraining() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = Self.specification(.endToEnd, data: directory.appending("absent.npz"))
        await #expect(throws: DataFileError.self) { try await Experiment.run(missing, environment: ExperimentEnvironment(downloader: nil)) }
        let data = try Self.writeSet(in: directory, counts: (8, 4, 4))
        var unknown = Self.specification(.endToEnd, data: data)
        unknown.model = "resnet19"
        await #expect(throws: ModelRegistryError.self) { try await Experiment.run(unknown, environment: ExperimentEnvironment(downloader: nil)) }
        // Volumes do not fit a 2D encoder.
        let volumes = directory.appending("volumes.npz")
        try Self.writeVolumes(to: volumes)
        await #expect(throws: ModelDataMismatch.self) {
            try await Experiment.run(Self.specification(.endToEnd, data: volumes), environment: ExperimentEnvironment(downloader: nil))
        }
        var zeroEpochs = Self.specification(.endToEnd, data: data)
        zeroEpochs.training.maxEpochs = 0
        await #expect(throws: TrainingConfigurationError.self) {
            try await Experiment.run(zeroEpochs, environment: ExperimentEnvironment(downloader: nil))
        }
    }
}
