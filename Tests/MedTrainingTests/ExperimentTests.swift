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
                         counts: (Int, Int, Int) = (256, 64, 64)) throws -> URL {
        let url = directory.appending("synthetic.npz")
        try SyntheticDataset.writeNpz(
            train: SyntheticDataset.split(.train, task: task, numClasses: classes, count: counts.0, seed: 5),
            val: SyntheticDataset.split(.val, task: task, numClasses: classes, count: counts.1, seed: 5),
            test: SyntheticDataset.split(.test, task: task, numClasses: classes, count: counts.2, seed: 5), to: url)
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

    @Test func problemsAreTypedErrorsBeforeTraining() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = Self.specification(.endToEnd, data: directory.appending("absent.npz"))
        await #expect(throws: DataFileError.self) { try await Experiment.run(missing, environment: ExperimentEnvironment(downloader: nil)) }
        let data = try Self.writeSet(in: directory, counts: (8, 4, 4))
        var unknown = Self.specification(.endToEnd, data: data)
        unknown.model = "resnet19"
        await #expect(throws: ModelRegistryError.self) { try await Experiment.run(unknown, environment: ExperimentEnvironment(downloader: nil)) }
        // AlexNet needs 63 pixels at least; the fast preset feeds it 28.
        var small = Self.specification(.endToEnd, data: data)
        small.model = "alexnet"
        await #expect(throws: ModelDataMismatch.self) { try await Experiment.run(small, environment: ExperimentEnvironment(downloader: nil)) }
        var zeroEpochs = Self.specification(.endToEnd, data: data)
        zeroEpochs.training.maxEpochs = 0
        await #expect(throws: TrainingConfigurationError.self) {
            try await Experiment.run(zeroEpochs, environment: ExperimentEnvironment(downloader: nil))
        }
    }
}
