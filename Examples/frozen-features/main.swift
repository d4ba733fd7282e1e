// frozen-features: the paper's two frozen-backbone schemes on one set of features — kNN (k = 11) and a linear
// probe trained on cached features — with a frozen, randomly initialised ViT-Tiny/16 here (28-px images are
// zero-padded to its 32-px patch grid, as timm's dynamic_img_pad); pass a checkpoint (a timm `.safetensors` or
// `.pth` of vit_tiny_patch16_224) to probe pretrained weights instead.
//
//   swift run -c release frozen-features [weights.safetensors]
import Foundation
import MedMNIST

// Gratings at four orientations: what a frozen backbone's pooled features keep (a square's position they lose).
let train = try SyntheticDataset.split(.train, count: 1024, pattern: .stripes)
let val = try SyntheticDataset.split(.val, count: 256, pattern: .stripes)
let test = try SyntheticDataset.split(.test, count: 256, pattern: .stripes)
let weights = CommandLine.arguments.dropFirst().first.map { URL(fileURLWithPath: $0) }
let encoder = try RandomState.withSeed(0) {
    try weights.map { try ModelRegistry.create("vit_tiny_patch16_224", numClasses: train.numClasses, weights: $0) }
        ?? ModelRegistry.create("vit_tiny_patch16_224", numClasses: train.numClasses)
}
let transform = try ImageTransform.forModel("vit_tiny_patch16_224", resolution: .native)

// Pre-logit features of every split, backbone in evaluation mode: [N, 192] (the class token after the final norm).
@MainActor func features(_ split: MedMNISTSplit) throws -> Tensor {
    try FeatureExtraction.features(of: encoder, source: ImageBatches(split, transform: transform), batchSize: 256)
}
let (trainFeatures, valFeatures, testFeatures) = (try features(train), try features(val), try features(test))

// kNN: exact Euclidean neighbours in the training split, majority vote.
let knn = try NearestNeighbors(support: trainFeatures, labels: train.labels, k: 11)
let votes = knn.classify(testFeatures, task: test.task, numClasses: test.numClasses)
let knnMetrics = try MedMNISTMetrics.evaluate(labels: test.labels, scores: votes, task: test.task)
print(String(format: "kNN (k = 11): test ACC %.2f %%", knnMetrics.acc * 100))

// Linear probe on the cached features: only a Linear head trains, with the paper's loop.
let head = RandomState.withSeed(0) { Linear(inFeatures: encoder.numFeatures, outFeatures: train.numClasses) }
var configuration = TrainingConfiguration.preset(.fast, scheme: .linearProbe)
configuration.maxEpochs = 30
configuration.learningRate = 1e-2
let trainer = try Trainer(model: head, task: train.task, configuration: configuration)
try trainer.fit(train: FeatureBatches(features: trainFeatures, labels: train.labels),
                validation: FeatureBatches(features: valFeatures, labels: val.labels))
let probe = try trainer.evaluate(FeatureBatches(features: testFeatures, labels: test.labels))
print(String(format: "linear probe (cached features): test ACC %.2f %%, AUC %.2f %%", probe.metrics.acc * 100, probe.metrics.auc * 100))
