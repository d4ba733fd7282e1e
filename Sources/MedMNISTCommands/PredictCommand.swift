import Foundation
import MedIO
import MedLayers
import MedModels
import MedTensor

/// `medmnist predict`: run an encoder on a Float32 .npy batch and write logits or pre-logit features.
enum PredictCommand: Command {
    static let specification = CommandSpecification(
        name: "predict", abstract: "Run a model on an .npy batch (eval mode) and write logits or features as .npy.",
        options: [
            Option("model", required: true, valueName: "name",
                   help: "timm name, e.g. resnet18, efficientnet_b0, vgg16, densenet121, alexnet, vit_base_patch16_224, eva02_base_patch16_clip_224, samvit_base_patch16 (a tag such as resnet18.a1_in1k is accepted)."),
            Option("input", kind: .path(extensions: ["npy"]), required: true, help: "Float32 (N, C, H, W) images, fed as they are."),
            Option("output", kind: .path(extensions: ["npy"]), required: true, help: "Where to write the Float32 logits or features."),
            Option("weights", kind: .path(extensions: ["safetensors", "pth", "bin", "pt"]), valueName: "file",
                   help: "A checkpoint with the model's timm/torchvision keys: safetensors, or a PyTorch state dict (zip or legacy format). A checkpoint whose classifier has another class count keeps a fresh classifier. Without it, the model is randomly initialised from --seed, as is a replaced classifier."),
            Option("num-classes", kind: .nonNegativeInteger, valueName: "n",
                   help: "Classifier size; default: the checkpoint's head, else 1000. 0 means no head."),
            .flag("features", help: "Write pre-logit features instead of logits (works with a headless checkpoint)."),
            Option("batch-size", kind: .positiveInteger, default: "32", help: "Images per forward pass."),
            DataOptions.precision,
            DataOptions.seed("Seed for random initialisation."),
        ],
        discussion: """
        X is a Float32 (N, C, H, W) array fed to the model as it is (no preprocessing), in evaluation mode and
        without autograd. Y is Float32 (N, classes) logits, or with --features the pre-logit features (N, D) that
        the paper's kNN and linear probe use.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let modelName = parsed.string("model")!
        let inputPath = parsed.string("input")!, outputPath = parsed.string("output")!
        let batchSize = parsed.integer("batch-size")!
        let seed = parsed.integer("seed")!
        let precision = try DataOptions.precision(parsed)
        guard FileManager.default.fileExists(atPath: inputPath) else { throw CommandFailure("no such input file: \(inputPath)") }

        let model: any ImageEncoder
        if let weights = parsed.string("weights") {
            let url = URL(fileURLWithPath: weights)
            guard FileManager.default.fileExists(atPath: url.path) else { throw CommandFailure("no such weights file: \(weights)") }
            let numClasses = try parsed.integer("num-classes") ?? headSize(CheckpointFile.read(contentsOf: url))
            // The seed initialises a classifier the checkpoint does not fit (another class count).
            model = try RandomState.withSeed(UInt64(seed)) {
                try ModelRegistry.create(modelName, numClasses: numClasses, weights: url)
            }
        } else {
            let numClasses = parsed.integer("num-classes") ?? 1000
            model = try RandomState.withSeed(UInt64(seed)) {
                try ModelRegistry.create(modelName, numClasses: numClasses, initialization: .timm)
            }
        }
        model.eval()

        let array = try Npy.read(contentsOf: URL(fileURLWithPath: inputPath))
        guard array.dtype == .float32 else {
            throw CommandFailure("\(inputPath): expected Float32 images, found \(array.dtype.rawValue)")
        }
        try FileError.wrapping(path: inputPath) { try model.validateInput(shape: array.shape) }
        let images = Tensor(array)
        let wantFeatures = parsed.flag("features")
        var outputs: [Tensor] = []
        for start in stride(from: 0, to: images.shape[0], by: batchSize) {
            let batch = images.narrowed(axis: 0, start: start, length: min(batchSize, images.shape[0] - start))
            outputs.append(GEMM.$precision.withValue(precision) { withoutGrad { wantFeatures ? model.preLogits(batch) : model(batch) } })
        }
        let result = outputs.isEmpty ? Tensor.zeros([0, wantFeatures ? model.numFeatures : model.numClasses]) : Tensor.concatenate(outputs)
        try Npy.write(result.typedArray(), to: URL(fileURLWithPath: outputPath))
        console.writeError("wrote \(outputPath): \(wantFeatures ? "features" : "logits") of shape \(result.shape)")
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
