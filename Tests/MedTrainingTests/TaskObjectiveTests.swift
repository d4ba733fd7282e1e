import MedLayers
import MedMNISTData
import MedModels
import MedTensor
import MedTestSupport
import MedTraining
import Testing

/// A task's loss, scores and targets, and a model's preprocessing, each said once.
@Suite struct TaskObjectiveTests {
    static let logits = Tensor(shape: [3, 2], scalars: [0.5, -1, 2, 0.25, -0.75, 1.5])

    @Test func singleLabelTasksUseCrossEntropyAndSoftmax() throws {
        for task in [MedMNISTTask.multiClass, .binaryClass, .ordinalRegression] {
            let objective = task.objective
            #expect(objective.lossName == "cross-entropy")
            let labels = IndexTensor(shape: [3, 1], values: [1, 0, 1])   // MedMNIST's [N, 1]
            let loss = try objective.loss(logits: Self.logits, labels: labels)
            let expected = try crossEntropy(logits: Self.logits, labels: IndexTensor([1, 0, 1]))
            #expect(loss.scalars == expected.scalars)
            #expect(objective.scores(logits: Self.logits).scalars == Self.logits.softmax(axis: 1).scalars)
            #expect(throws: LossError.labelOutOfRange(loss: "crossEntropy", sample: 2, label: 2, numClasses: 2)) {
                try objective.loss(logits: Self.logits, labels: IndexTensor(shape: [3, 1], values: [1, 0, 2]))
            }
            #expect(throws: LossError.labelCount(loss: "crossEntropy", labels: [3, 2], rows: 3)) {
                try objective.loss(logits: Self.logits, labels: IndexTensor(shape: [3, 2], values: [1, 0, 1, 0, 1, 0]))
            }
        }
    }

    @Test func multiLabelUsesBCEWithFloatTargetsAndSigmoid() throws {
        let objective = MedMNISTTask.multiLabelBinary.objective
        #expect(objective.lossName == "bce-with-logits")
        let labels = IndexTensor(shape: [3, 2], values: [1, 0, 0, 0, 1, 1])
        let targets = try objective.targets(labels, logits: [3, 2])
        #expect(targets.shape == [3, 2] && targets.scalars == [1, 0, 0, 0, 1, 1])
        let loss = try objective.loss(logits: Self.logits, labels: labels)
        #expect(loss.scalars == binaryCrossEntropyWithLogits(logits: Self.logits, targets: targets).scalars)
        #expect(objective.scores(logits: Self.logits).scalars == Self.logits.sigmoid().scalars)
        #expect(throws: LossError.nonBinaryTarget(loss: "binaryCrossEntropyWithLogits", sample: 2, column: 1, value: 3)) {
            try objective.loss(logits: Self.logits, labels: IndexTensor(shape: [3, 2], values: [1, 0, 0, 0, 1, 3]))
        }
        #expect(throws: LossError.targetShape(loss: "binaryCrossEntropyWithLogits", targets: [3, 1], logits: [3, 2])) {
            try objective.loss(logits: Self.logits, labels: IndexTensor(shape: [3, 1], values: [1, 0, 1]))
        }
        // The message says what and where.
        #expect(LossError.nonBinaryTarget(loss: "bce", sample: 2, column: 1, value: 3).description == "bce: target 3 of sample 2, label 1 is not 0 or 1")
    }

    /// The gradient reaches the logits through both losses (the trainer's backward starts here).
    @Test func lossesAreDifferentiable() throws {
        for (task, labels) in [(MedMNISTTask.multiClass, IndexTensor(shape: [3, 1], values: [1, 0, 1])),
                               (.multiLabelBinary, IndexTensor(shape: [3, 2], values: [1, 0, 0, 0, 1, 1]))] {
            let logits = Self.logits.requiringGrad()
            try task.objective.loss(logits: logits, labels: labels).backward()
            let grad = try #require(logits.grad)
            #expect(grad.shape == [3, 2] && grad.scalars.contains { $0 != 0 }, "\(task)")
        }
    }

    /// A model's pipeline comes from its registry entry: the registry's ImageNet numbers are the data side's.
    @Test func preprocessingComesFromThePretrainedConfiguration() throws {
        #expect(try ImageTransform.forModel("resnet18") == ImageTransform.paper(normalization: .imagenet))
        #expect(try ImageTransform.forModel("resnet18.tv_in1k", resolution: .native)
            == ImageTransform(rgb: true, normalization: .imagenet))
        let ra4 = try ImageTransform.forModel("efficientnet_b0.ra4_e3600_r224_in1k", resolution: .padded(to: 256))
        #expect(ra4.normalization == Normalization(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]) && ra4.padTo == 256 && ra4.rgb)
        for tag in ModelRegistry.pretrainedTags {
            let config = try ModelRegistry.pretrainedConfig(tag)
            #expect(Normalization(pretrained: config).mean == config.mean, "\(tag)")
        }
        #expect(throws: ModelRegistryError.self) { try ImageTransform.forModel("resnet19") }
    }
}
