// custom-model: a small CNN defined from the library's layers, trained with the same loop as the paper's
// encoders. Any `UnaryLayer` trains; state-dict keys follow the property names, as PyTorch's would.
//
//   swift run -c release custom-model
import Foundation
import MedMNIST

/// conv(3→16) → BN → ReLU → pool → conv(16→32) → BN → ReLU → global average pool → linear.
final class SmallCNN: Module, UnaryLayer {
    let conv1 = Conv2d(inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1)
    let bn1 = BatchNorm2d(16)
    let conv2 = Conv2d(inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1)
    let bn2 = BatchNorm2d(32)
    let head: Linear

    init(classes: Int) {
        head = Linear(inFeatures: 32, outFeatures: classes)
        super.init()
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = bn1(conv1(x)).relu().maxPool2d(kernelSize: 2).values
        let z = bn2(conv2(y)).relu().adaptiveAvgPool2d(outputSize: 1).flattened(from: 1)
        return head(z)
    }
}

let train = try SyntheticDataset.split(.train, count: 1024), val = try SyntheticDataset.split(.val, count: 256)
let test = try SyntheticDataset.split(.test, count: 256)
let transform = ImageTransform(normalization: .half)     // grayscale in, mean = std = 0.5
let model = RandomState.withSeed(0) { SmallCNN(classes: train.numClasses) }
print("parameters: \(model.parameterCount); keys: \(model.stateDict().map(\.key).prefix(4).joined(separator: ", ")), …")

var configuration = TrainingConfiguration.preset(.fast)
configuration.maxEpochs = 5
configuration.learningRate = 3e-3
let trainer = try Trainer(model: model, task: train.task, configuration: configuration)
let progress = try trainer.fit(train: ImageBatches(train, transform: transform), validation: ImageBatches(val, transform: transform))
for record in progress.history { print(record.summary) }
let result = try trainer.evaluate(ImageBatches(test, transform: transform))
print(String(format: "test ACC %.2f %%", result.metrics.acc * 100))
