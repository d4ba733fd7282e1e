import Foundation
import MedLayers
import MedMNISTData
import MedModels
import MedTensor
import MedTestSupport
import MedTraining
import Testing

/// The paper's training loop on generated data whose classes differ in image content.
@Suite struct TrainerTests {
    /// A small ResNet (timm's structure, narrow) that trains in seconds at 28 pixels.
    static func smallResNet(_ classes: Int, seed: UInt64 = 1) -> ResNet {
        RandomState.withSeed(seed) {
            ResNet(block: .basic, layers: [1, 1, 1, 1], channels: [8, 16, 24, 32], numClasses: classes, architecture: "resnet18")
        }
    }

    static func configuration(epochs: Int, lr: Float = 3e-3, scheme: TrainingScheme = .endToEnd, patience: Int = 5) -> TrainingConfiguration {
        var c = TrainingConfiguration.preset(.fast, scheme: scheme)
        c.maxEpochs = epochs
        c.batchSize = 32
        c.evaluationBatchSize = 64
        c.learningRate = lr
        c.patience = patience
        return c
    }

    static let transform = ImageTransform(rgb: true, normalization: .half)

    static func sources(task: MedMNISTTask = .multiClass, classes: Int = 4, train: Int = 384, other: Int = 128)
        throws -> (train: ImageBatches, val: ImageBatches, test: ImageBatches) {
        func source(_ split: Split, _ count: Int) throws -> ImageBatches {
            ImageBatches(try SyntheticDataset.split(split, task: task, numClasses: classes, count: count, seed: 7), transform: transform)
        }
        return (try source(.train, train), try source(.val, other), try source(.test, other))
    }

    /// The timings are the only fields that differ between identical runs.
    static func withoutTimings(_ history: [EpochRecord]) -> [EpochRecord] {
        history.map { var r = $0; r.trainSeconds = 0; r.validationSeconds = 0; r.imagesPerSecond = 0; return r }
    }

    @Test func endToEndLearnsSeparableClasses() throws {
        let data = try Self.sources()
        let trainer = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: Self.configuration(epochs: 6))
        let progress = try trainer.fit(train: data.train, validation: data.val)
        let test = try trainer.evaluate(data.test)
        #expect(test.metrics.acc >= 0.95, "test ACC \(test.metrics.acc); history \(progress.history.map(\.summary))")
        #expect(progress.history.count == 6 && progress.bestEpoch != nil)
        // The model holds the best epoch's weights: validating again reproduces that epoch's loss exactly.
        let best = try #require(progress.bestEpoch)
        #expect(try trainer.evaluate(data.val).loss == progress.history[best].validationLoss)
    }

    /// The schedule is the paper's: timm's cosine stepped after each epoch, so epochs 0 and 1 share the base rate.
    @Test func learningRatePerEpochIsThePapers() throws {
        let data = try Self.sources(train: 64, other: 32)
        let configuration = Self.configuration(epochs: 3, lr: 1e-4)
        let progress = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: configuration)
            .fit(train: data.train, validation: data.val)
        let schedule = CosineSchedule(baseLearningRate: 1e-4, cycleLength: 3)
        let expected: [Float] = [1e-4, 1e-4, schedule.learningRate(at: 1)]
        #expect(progress.history.map(\.learningRate) == expected)
        #expect(progress.history.map(\.epoch) == [0, 1, 2])
    }

    @Test func sameSeedGivesBitIdenticalRuns() throws {
        let data = try Self.sources(train: 128, other: 64)
        func run() throws -> ([EpochRecord], SplitEvaluation) {
            let trainer = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: Self.configuration(epochs: 2))
            let progress = try trainer.fit(train: data.train, validation: data.val)
            return (Self.withoutTimings(progress.history), try trainer.evaluate(data.test))
        }
        let (a, testA) = try run(), (b, testB) = try run()
        #expect(a == b && testA.scores == testB.scores && testA.metrics == testB.metrics)
        var other = Self.configuration(epochs: 2)
        other.seed = 1
        let trainer = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: other)
        #expect(Self.withoutTimings(try trainer.fit(train: data.train, validation: data.val).history) != a)
    }

    /// Stopped after two epochs and resumed from its checkpoint by a new process's worth of objects, a run ends
    /// exactly where an uninterrupted one does.
    @Test func resumedRunEqualsUninterruptedRun() throws {
        let data = try Self.sources(train: 128, other: 64)
        let configuration = Self.configuration(epochs: 4)
        let whole = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: configuration)
        let wholeProgress = try whole.fit(train: data.train, validation: data.val)
        let wholeTest = try whole.evaluate(data.test)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: configuration, checkpointDirectory: directory.url)
        #expect(try first.fit(train: data.train, validation: data.val, epochBudget: 2).completedEpochs == 2)
        // A different initialisation proves the weights come from the checkpoint.
        let second = try Trainer(model: Self.smallResNet(4, seed: 99), task: .multiClass, configuration: configuration,
                                 checkpointDirectory: directory.url)
        let resumed = try second.fit(train: data.train, validation: data.val, resume: true)
        #expect(Self.withoutTimings(resumed.history) == Self.withoutTimings(wholeProgress.history))
        let resumedTest = try second.evaluate(data.test)
        #expect(resumedTest.scores == wholeTest.scores && resumedTest.metrics == wholeTest.metrics)

        // Other settings cannot continue this run.
        var changed = configuration
        changed.learningRate = 1e-3
        let third = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: changed, checkpointDirectory: directory.url)
        let error = #expect(throws: TrainingError.self) { try third.fit(train: data.train, validation: data.val, resume: true) }
        #expect(error?.description.contains("learningRate 0.003 → 0.001") == true, "\(String(describing: error))")
    }

    /// Validation labels the model cannot learn make the validation loss rise: the run stops after `patience`
    /// epochs without a strictly lower loss and keeps the best epoch's weights.
    @Test func earlyStoppingKeepsTheBestEpoch() throws {
        let data = try Self.sources(train: 128, other: 64)
        var random = RandomGenerator(seed: 3)
        let val = data.val.split
        let shuffledLabels = IndexTensor(shape: val.labels.shape, values: val.labels.values.map { _ in random.nextInt(below: 4) })
        let noise = ImageBatches(try MedMNISTSplit(name: "noise", split: .val, task: .multiClass, images: val.images,
                                                   labels: shuffledLabels, numClasses: 4), transform: Self.transform)
        let trainer = try Trainer(model: Self.smallResNet(4), task: .multiClass, configuration: Self.configuration(epochs: 30, lr: 1e-2, patience: 2))
        let progress = try trainer.fit(train: data.train, validation: noise)
        let losses = progress.history.map(\.validationLoss)
        let best = try #require(progress.bestEpoch)
        #expect(progress.stoppedEarly && progress.history.count == best + 3, "\(losses)")
        #expect(losses[best] == losses.min() && losses[..<best].allSatisfy { $0 > losses[best] })
        #expect(try trainer.evaluate(noise).loss == losses[best])
    }

    /// A NaN loss stops the run naming epoch and step; the last good checkpoint stays intact.
    @Test func nonFiniteLossStopsAndKeepsTheCheckpoint() throws {
        var generator = RandomGenerator(seed: 11)
        let features = Tensor.normal([40, 6], generator: &generator)
        let labels = IndexTensor(shape: [40, 1], values: (0..<40).map { $0 % 3 })
        let good = FeatureBatches(features: features, labels: labels)
        let poisoned = FeatureBatches(features: features * Tensor(Float.nan), labels: labels)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let head = RandomState.withSeed(2) { Linear(inFeatures: 6, outFeatures: 3) }
        let configuration = Self.configuration(epochs: 5)
        let trainer = try Trainer(model: head, task: .multiClass, configuration: configuration, checkpointDirectory: directory.url)
        try trainer.fit(train: good, validation: good, epochBudget: 1)
        let checkpoint = try #require(trainer.checkpointURL)
        let before = try Data(contentsOf: checkpoint)
        let resumed = try Trainer(model: head, task: .multiClass, configuration: configuration, checkpointDirectory: directory.url)
        let error = #expect(throws: TrainingError.self) { try resumed.fit(train: poisoned, validation: good, resume: true) }
        guard case .nonFiniteLoss(2, 1, let value, checkpoint.path)? = error else {
            Issue.record("expected a NaN stop at epoch 2, step 1, got \(String(describing: error))")
            return
        }
        #expect(value.isNaN && error?.description.hasPrefix("training loss is nan at epoch 2, step 1; stopped.") == true)
        #expect(try Data(contentsOf: checkpoint) == before)
    }

    /// Both trained schemes on every kind of task: the loss, the scores and the evaluator agree with the task.
    @Test(arguments: [(MedMNISTTask.binaryClass, 2), (.multiClass, 5), (.ordinalRegression, 4), (.multiLabelBinary, 3)])
    func everySchemeOnEveryTask(_ task: MedMNISTTask, _ classes: Int) throws {
        let data = try Self.sources(task: task, classes: classes, train: 64, other: 32)
        for scheme in TrainingScheme.allCases {
            let model = Self.smallResNet(classes)
            let trainer = try Trainer(model: model, task: task, configuration: Self.configuration(epochs: 1, scheme: scheme))
            let before = model.stateDict()
            let progress = try trainer.fit(train: data.train, validation: data.val)
            let test = try trainer.evaluate(data.test)
            #expect(progress.history.count == 1 && progress.history[0].trainLoss.isFinite, "\(task) \(scheme)")
            #expect(test.scores.shape == [32, classes] && (0...1).contains(test.metrics.acc) && (0...1).contains(test.metrics.auc))
            // Linear probing trains the classifier only (BatchNorm statistics still move, as in the paper's code).
            let changed = Set(zip(before, model.stateDict()).filter { $0.0.array != $0.1.array }.map(\.0.key))
            let changedParameters = changed.filter { !$0.contains("running_") && !$0.contains("num_batches_tracked") }
            if scheme == .linearProbe {
                #expect(changedParameters == ["fc.weight", "fc.bias"], "\(task)")
                #expect(changed.contains("bn1.running_mean"))
            } else {
                #expect(changedParameters.contains("conv1.weight") && changedParameters.contains("fc.weight"))
            }
        }
    }

    @Test func settingsOutOfRangeAreTypedErrors() throws {
        var c = Self.configuration(epochs: 0)
        #expect(throws: TrainingConfigurationError(setting: "epochs", value: "0", rule: "at least 1")) {
            try Trainer(model: Self.smallResNet(2), task: .binaryClass, configuration: c)
        }
        c = Self.configuration(epochs: 1, lr: .nan)
        #expect(throws: TrainingConfigurationError.self) { try Trainer(model: Self.smallResNet(2), task: .binaryClass, configuration: c) }
        let data = try Self.sources(task: .multiClass, classes: 4, train: 32, other: 16)
        // A model with fewer outputs than the data's classes: the loss names the label, not a crash.
        let trainer = try Trainer(model: Self.smallResNet(2), task: .multiClass, configuration: Self.configuration(epochs: 1))
        #expect(throws: LossError.self) { try trainer.fit(train: data.train, validation: data.val) }
    }
}
