import Foundation
import MedIO
import MedLayers
import MedModels
import MedTensor

/// `medmnist predict`: run an encoder on a Float32 .npy batch and write logits or pre-logit features.
enum PredictCommand: Subcommand {
    static let name = "predict"
    static let summary = "Run a model on an .npy batch (eval mode) and write logits or features as .npy."
    static let help = """
    USAGE: medmnist predict --model NAME --input X.npy --output Y.npy [--weights FILE] [--num-classes N]
                            [--features] [--batch-size B] [--seed S]

    X is a Float32 (N, C, H, W) array fed to the model as it is (no preprocessing), in evaluation mode and
    without autograd. Y is Float32 (N, classes) logits, or with --features the pre-logit features (N, D) that
    the paper's kNN and linear probe use.

    OPTIONS:
      --model NAME        timm name, e.g. resnet18, efficientnet_b0, vgg16, densenet121, alexnet (a tag such
                          as resnet18.a1_in1k is accepted).
      --weights FILE      A checkpoint with the model's timm/torchvision keys: safetensors, or a PyTorch
                          state dict (.pth/.bin, zip or legacy format). Without it, the model is randomly
                          initialised from --seed.
      --num-classes N     Classifier size; default: the checkpoint's head, else 1000. 0 means no head.
      --features          Write pre-logit features instead of logits (works with a headless checkpoint).
      --batch-size B      Images per forward pass (default 32).
      --seed S            Seed for random initialisation (default 0).
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: ["model", "input", "output", "weights", "num-classes", "batch-size", "seed"],
                                    flagNames: ["features"])
        guard options.positional.isEmpty else { throw UsageError("unexpected argument '\(options.positional[0])'") }
        guard let modelName = options.value("model") else { throw UsageError("--model is required") }
        guard let inputPath = options.value("input") else { throw UsageError("--input is required") }
        guard let outputPath = options.value("output") else { throw UsageError("--output is required") }
        let batchSize = try options.integer("batch-size", default: 32)
        guard batchSize > 0 else { throw UsageError("--batch-size must be positive") }
        let seed = try options.integer("seed", default: 0)

        // safetensors, or a PyTorch .pth/.bin state dict (read by a restricted unpickler), chosen by content.
        let checkpoint = try options.value("weights").map { try CheckpointFile.read(contentsOf: URL(fileURLWithPath: $0)) }
        let numClasses: Int
        if let text = options.value("num-classes") {
            guard let value = Int(text), value >= 0 else { throw UsageError("--num-classes must be a non-negative integer") }
            numClasses = value
        } else {
            numClasses = checkpoint.map(headSize) ?? 1000
        }
        let model = try RandomState.withSeed(UInt64(truncatingIfNeeded: seed)) {
            try ModelRegistry.create(modelName, numClasses: numClasses,
                                     initialization: checkpoint == nil ? .timm : .layerDefaults)
        }
        if let checkpoint {
            do {
                try model.loadStateDict(checkpoint)
            } catch var mismatch as StateDictMismatch {
                mismatch.source = options.value("weights")
                throw mismatch
            }
        }
        model.eval()

        let array = try Npy.read(contentsOf: URL(fileURLWithPath: inputPath))
        guard array.dtype == .float32 else {
            throw PredictError("\(inputPath): expected Float32 images, found \(array.dtype.rawValue)")
        }
        try model.validateInput(shape: array.shape)
        let images = Tensor(array)
        let wantFeatures = options.flag("features")
        var outputs: [Tensor] = []
        for start in stride(from: 0, to: images.shape[0], by: batchSize) {
            let batch = images.narrowed(axis: 0, start: start, length: min(batchSize, images.shape[0] - start))
            outputs.append(withoutGrad { wantFeatures ? model.preLogits(batch) : model(batch) })
        }
        let result = outputs.isEmpty ? Tensor.zeros([0, wantFeatures ? model.numFeatures : numClasses]) : Tensor.concatenate(outputs)
        try Npy.write(result.typedArray(), to: URL(fileURLWithPath: outputPath))
        printError("wrote \(outputPath): \(wantFeatures ? "features" : "logits") of shape \(result.shape)")
    }

    /// Output size of the checkpoint's classifier: the first dimension of its last 2-D weight named like a head.
    private static func headSize(_ entries: [(key: String, array: TypedArray)]) -> Int {
        let heads = ["fc.weight", "head.fc.weight", "classifier.weight", "classifier.6.weight", "head.weight"]
        for key in heads {
            if let array = entries.first(where: { $0.key == key })?.array, array.shape.count == 2 { return array.shape[0] }
        }
        return 0
    }
}

struct PredictError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
