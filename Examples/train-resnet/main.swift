// train-resnet: trains ResNet-18 end-to-end with the paper's loop (AdamW, cosine schedule per epoch, early
// stopping, best weights), on a MedMNIST set when one is in the dataset root, otherwise on generated data.
//
//   swift run -c release train-resnet                  # generated 4-class data, 3 epochs
//   swift run -c release train-resnet bloodmnist 10    # BloodMNIST-28 from ~/.medmnist, 10 epochs
import Foundation
import MedMNIST

let arguments = CommandLine.arguments.dropFirst()
let flag = arguments.first
let epochs = arguments.dropFirst().first.flatMap { Int($0) } ?? 3

let train: MedMNISTSplit, val: MedMNISTSplit, test: MedMNISTSplit
if let flag {
    let root = DatasetRoot()
    (train, val, test) = (try root.load(flag, split: .train), try root.load(flag, split: .val), try root.load(flag, split: .test))
} else {
    (train, val, test) = (try SyntheticDataset.split(.train, count: 1024), try SyntheticDataset.split(.val, count: 256),
                          try SyntheticDataset.split(.test, count: 256))
}

// The model with the dataset's class count, and the pipeline its pretrained configuration asks for, at the
// native resolution (the `fast` preset; `.paper` pads to 224 as the paper does).
let model = try RandomState.withSeed(0) { try ModelRegistry.create("resnet18", numClasses: train.numClasses) }
let transform = try ImageTransform.forModel("resnet18", resolution: .native)
try ModelDataCompatibility.validate(model: model, for: train, transform: transform)

var configuration = TrainingConfiguration.preset(.fast)
configuration.maxEpochs = epochs
configuration.learningRate = 1e-3
let trainer = try Trainer(model: model, task: train.task, configuration: configuration)

final class EpochPrinter: TrainingObserver {
    func trainingStepFinished(epoch: Int, step: Int, steps: Int, samples: Int) {}
    func epochFinished(_ record: EpochRecord) { print(record.summary) }
}
let printer = EpochPrinter()
trainer.observer = printer
let progress = try trainer.fit(train: ImageBatches(train, transform: transform), validation: ImageBatches(val, transform: transform))
let result = try trainer.evaluate(ImageBatches(test, transform: transform))
print(String(format: "test ACC %.2f %%, AUC %.2f %% (best epoch %d)", result.metrics.acc * 100, result.metrics.auc * 100,
             (progress.bestEpoch ?? 0) + 1))
