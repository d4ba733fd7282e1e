import Foundation
import MedIO
import MedTestSupport
import MedLayers
import MedTensor
@testable import MedModels

/// Fixtures written by Tests/Fixtures/make_model_fixtures.py: `models/` (reduced variants, committed) and
/// `models-full/` (full-size, regenerated locally with `--full`).
enum ModelFixtures {
    static let reducedDirectory = Fixtures.url("models")
    static let fullDirectory = Fixtures.url("models-full")
    static let regenerateHint = "full-size fixtures absent: run `python3 Tests/Fixtures/make_model_fixtures.py --full` " +
        "(writes Tests/Fixtures/models-full/, about 3.3 GB: 1.2 for the convolutional models, 1.4 for the ViTs, 0.7 for EVA-02 " +
        "and SAM; not committed)"

    static let reducedModels = ["resnet18_reduced", "resnet50_reduced", "vgg16_reduced", "alexnet_reduced",
                                "densenet121_reduced", "efficientnet_b0_reduced", "efficientnet_b4_reduced"] + reducedViTs +
        reducedEvaSAM
    /// The reduced models built with a classifier (all but DINO's).
    static var reducedModelsWithHead: [String] { reducedModels.filter { $0 != "vit_base_dino_reduced" } }
    /// Two-block ViTs (make_model_fixtures.py's VIT_REDUCED): every flag of the family at a small width.
    static let reducedViTs = ["vit_tiny_reduced", "vit_small_reduced", "vit_base_reduced", "vit_base_dino_reduced",
                              "vit_base_clip_reduced", "vit_base_clip_quickgelu_reduced"]
    /// make_model_fixtures.py's EVA_REDUCED and SAM_REDUCED: a 2-block EVA-02 (two 64-wide heads) and a 2-block
    /// SAM (block 0 windowed, block 1 global, trained-size 1024 px, neck 32 wide).
    static let reducedEvaSAM = ["eva02_base_reduced", "samvit_base_reduced"]
    static let fullModels = ["resnet18", "resnet50", "vgg16", "alexnet", "densenet121", "efficientnet_b0", "efficientnet_b4"] + fullViTs +
        ["eva02_base_patch16_clip_224", "samvit_base_patch16"]
    static let fullViTs = ["vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_base_patch16_224.dino",
                           "vit_base_patch16_clip_224", "vit_base_patch16_clip_quickgelu_224"]

    /// The inputs file of a fixture: the transformers have their own (with 128 px), the convolutional models share `inputs`.
    static func inputs(for name: String) -> String {
        ["vit_", "eva02_", "samvit_"].contains { name.hasPrefix($0) } ? "vit_inputs" : "inputs"
    }

    /// The reduced EVA-02 and SAM of make_model_fixtures.py.
    static func reducedEvaSAM(_ name: String) -> (any ImageEncoder)? {
        switch name {
        case "eva02_base_reduced":
            return Eva(Eva.Configuration(embedDim: 128, depth: 2, numHeads: 2), numClasses: 9, architecture: name)
        case "samvit_base_reduced":
            var configuration = VisionTransformerSAM.Configuration(embedDim: 96, depth: 2, numHeads: 12)
            configuration.globalAttentionIndexes = [1]
            configuration.neckChannels = 32
            return VisionTransformerSAM(configuration, numClasses: 9, architecture: name)
        default: return nil
        }
    }

    /// The reduced ViT configurations of make_model_fixtures.py (dynamic size and padding, as the registry's).
    static func reducedViT(_ name: String) -> VisionTransformer? {
        var configuration: VisionTransformer.Configuration
        var classes = 9
        switch name {
        case "vit_tiny_reduced": configuration = .init(embedDim: 192, depth: 2, numHeads: 3)
        case "vit_small_reduced": configuration = .init(embedDim: 96, depth: 2, numHeads: 6)
        case "vit_base_reduced": configuration = .init(embedDim: 96, depth: 2, numHeads: 12)
        case "vit_base_dino_reduced": configuration = .init(embedDim: 96, depth: 2, numHeads: 12); classes = 0
        case "vit_base_clip_reduced", "vit_base_clip_quickgelu_reduced":
            configuration = .vitBaseCLIP(quickGELU: name.contains("quickgelu"))
            (configuration.embedDim, configuration.depth) = (96, 2)
        default: return nil
        }
        return VisionTransformer(configuration, numClasses: classes, architecture: name)
    }

    static func url(_ name: String, full: Bool) -> URL {
        (full ? fullDirectory : reducedDirectory).appendingPathComponent("\(name).safetensors")
    }

    static func exists(_ name: String, full: Bool) -> Bool { FileManager.default.fileExists(atPath: url(name, full: full).path) }

    static var fullAvailable: Bool { exists("inputs", full: true) || exists("vit_inputs", full: true) }

    static func read(_ name: String, full: Bool) throws -> SafeTensorsFile {
        try SafeTensorsFile.read(contentsOf: url(name, full: full))
    }

    /// The Swift model for a fixture name: the registry's for full-size names, the same reduced configuration
    /// as the script for `*_reduced`.
    static func model(_ name: String) throws -> any ImageEncoder {
        if let vit = reducedViT(name) { return vit }
        if let model = reducedEvaSAM(name) { return model }
        return switch name {
        case "resnet18_reduced": ResNet(block: .basic, layers: [1, 1, 1, 1], channels: [8, 16, 24, 32], numClasses: 9)
        case "resnet50_reduced": ResNet(block: .bottleneck, layers: [1, 1, 1, 1], channels: [4, 8, 12, 16], numClasses: 9)
        case "vgg16_reduced":
            VGG(configuration: [8, 8, nil, 16, 16, nil, 16, 16, 16, nil, 24, 24, 24, nil, 24, 24, 24, nil], numClasses: 9, hiddenSize: 32)
        case "alexnet_reduced": AlexNet(numClasses: 9, widths: [8, 16, 24, 16, 16], hiddenSize: 32)
        case "densenet121_reduced": DenseNet(growthRate: 8, blockConfig: [2, 3, 4, 2], bnSize: 2, numClasses: 9)
        case "efficientnet_b0_reduced": EfficientNet(channelMultiplier: 0.125, depthMultiplier: 0.5, numClasses: 9)
        case "efficientnet_b4_reduced": EfficientNet(channelMultiplier: 0.125, depthMultiplier: 0.9, numClasses: 9)
        // DINO's checkpoints have no head.
        case "vit_base_patch16_224.dino": try ModelRegistry.create(name, numClasses: 0, initialization: .layerDefaults)
        default: try ModelRegistry.create(name, numClasses: 9, initialization: .layerDefaults)   // weights are loaded
        }
    }
}

extension SafeTensorsFile {
    func tensor(_ name: String) -> Tensor {
        guard let array = self[name] else { fatalError("fixture has no tensor '\(name)'") }
        return Tensor(shape: array.shape, scalars: array.floats())
    }

    /// Entries under `prefix`, with the prefix removed.
    func entries(prefix: String) -> [(key: String, array: TypedArray)] {
        entries.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.array) }
    }

    /// The resolutions (`28`, `64`, `224`, `72x56`) this fixture has logits for.
    var resolutions: [String] {
        names.filter { $0.hasPrefix("logits.") }.map { String($0.dropFirst("logits.".count)) }
    }
}

/// Loads a fixture's weights into the model and returns, per resolution, the relative errors of the logits
/// and of the pre-logit features in evaluation mode (against PyTorch in float64), with PyTorch float32's own
/// errors against the same reference (`torch`, from the fixture's metadata) for comparison.
func evalParity(_ name: String, full: Bool) throws
    -> [(resolution: String, logits: Double, features: Double, torch: String)] {
    let file = try ModelFixtures.read(name, full: full)
    let inputs = try ModelFixtures.read(ModelFixtures.inputs(for: name), full: full)
    let model = try RandomState.withSeed(1) { try ModelFixtures.model(name) }
    try model.loadStateDict(file.entries(prefix: "param."))
    model.eval()
    return withoutGrad {
        file.resolutions.map { resolution in
            let input = inputs.tensor("input.\(resolution)")
            let trunk = model.forwardFeatures(input)
            let logits = model.forwardHead(trunk, preLogits: false)
            let features = model.forwardHead(trunk, preLogits: true)
            let torch = "\(file.metadata["torch_float32_logits_error.\(resolution)"] ?? "?"), " +
                "\(file.metadata["torch_float32_features_error.\(resolution)"] ?? "?")"
            return (resolution, relativeError(logits, file.tensor("logits.\(resolution)")),
                    relativeError(features, file.tensor("features.\(resolution)")), torch)
        }
    }
}

/// One training step (forward, cross-entropy, backward) against PyTorch's (computed in float64): the relative
/// errors of the loss, the logits, every parameter gradient and every BatchNorm buffer after the step.
///
/// Some gradients are zero in exact arithmetic: a BatchNorm bias whose per-channel constant the next
/// training-mode BatchNorm subtracts again (EfficientNet's `bn3.bias` before a 1×1 conv and BN). The float64
/// reference holds rounding noise there (~1e-15), so a relative error means nothing; those tensors (max |ref|
/// below 1e-7 of the model's largest gradient) are keyed `zero.<key>` and measured against the largest gradient.
func trainingParity(_ name: String, full: Bool) throws -> (errors: [String: Double], metadata: [String: String]) {
    let file = try ModelFixtures.read("train_\(name)", full: full)
    let model = try RandomState.withSeed(1) { try ModelFixtures.model(name) }
    try model.loadStateDict(file.entries(prefix: "param."))
    model.train()
    let labels = IndexTensor(try file["labels"]!.int64s().map { Int($0) })
    let logits = model(file.tensor("input"))
    let loss = try crossEntropy(logits: logits, labels: labels)
    loss.backward()
    var errors = ["loss": relativeError(loss.detached(), file.tensor("loss")),
                  "logits": relativeError(logits.detached(), file.tensor("logits"))]
    let parameters = model.namedParameters(includeBuffers: false)
    let references = parameters.map { file.tensor("grad.\($0.key)") }
    let scale = references.map { $0.scalars.map { abs(Double($0)) }.max() ?? 0 }.max() ?? 0
    for ((key, parameter), reference) in zip(parameters, references) {
        guard let gradient = parameter.grad else { errors["grad.\(key)"] = .infinity; continue }
        let magnitude = reference.scalars.map { abs(Double($0)) }.max() ?? 0
        if magnitude <= 1e-7 * scale {
            let difference = zip(gradient.scalars, reference.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
            errors["zero.\(key)"] = difference / scale
        } else {
            errors["grad.\(key)"] = relativeError(gradient, reference)
        }
    }
    for (key, parameter) in model.namedParameters() where parameter.isBuffer {
        errors["after.\(key)"] = relativeError(parameter.value, file.tensor("after.\(key)"))
    }
    for (key, buffer) in model.namedIntegerBuffers() {
        errors["after.\(key)"] = try file["after.\(key)"]!.int64s() == buffer.values ? 0 : 1
    }
    return (errors, file.metadata)
}

/// "key dtype [shape]" lines of a golden state-dict list (Tests/Fixtures/state-dict-keys/).
func goldenKeys(_ name: String) throws -> [String] {
    let url = Fixtures.url("state-dict-keys/\(name).txt")
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        .map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
}

/// The same lines for a model's `stateDict()`.
func stateDictLines(_ model: Module) -> [String] {
    model.stateDict().map { "\($0.key) \($0.array.dtype.rawValue) \($0.array.shape)" }
}
