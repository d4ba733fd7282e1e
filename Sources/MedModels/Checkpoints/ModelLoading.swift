import Foundation
import MedIO
import MedLayers
import MedTensor

/// Building a model with weights in one call, as `timm.create_model(name, pretrained=True, num_classes=n)`.
extension ModelRegistry {
    /// `name` (`resnet18`, or `resnet18.a1_in1k`) with `numClasses` outputs and the weights of the checkpoint
    /// at `url` — safetensors or a PyTorch `.pth`/`.bin`, told apart by content.
    ///
    /// When the checkpoint's classifier has another class count (the paper puts ImageNet weights under a head
    /// for the dataset's classes) or none, the model keeps its own freshly initialised classifier, as timm
    /// does; pass `replacingClassifier: false` to require the whole checkpoint to fit instead. Every other key
    /// must match in name and shape.
    /// - Throws: ``ModelRegistryError`` for the name, `CheckpointError`/`TensorFileError` for the file,
    ///   `StateDictMismatch` (naming the file) when it is for another architecture.
    public static func create(_ name: String, numClasses: Int, weights url: URL,
                              replacingClassifier: Bool = true) throws -> any ImageEncoder {
        let entries = try CheckpointFile.read(contentsOf: url)
        // A checkpoint that fits entirely overwrites every weight, so the cheap layer defaults suffice; one whose
        // head is replaced keeps the model's head, which must then be initialised as timm would.
        var model = try create(name, numClasses: numClasses, initialization: .layerDefaults)
        var options = LoadOptions.strict
        if replacingClassifier && !classifierFits(entries, model) {
            model = try create(name, numClasses: numClasses, initialization: .timm)
            options = model.replacingClassifierLoadOptions
        }
        do {
            try model.loadStateDict(entries, options: options)
        } catch var mismatch as StateDictMismatch {
            mismatch.source = url.path
            throw mismatch
        }
        return model
    }

    /// `name` (which must carry a pretrained tag, `resnet18.a1_in1k`; a bare architecture takes its default
    /// tag) with its pretrained weights from the cache, downloaded from the hub first when absent
    /// (``PretrainedWeights``), and `numClasses` outputs; see ``create(_:numClasses:weights:replacingClassifier:)``.
    public static func pretrained(_ name: String, numClasses: Int,
                                  configuration: PretrainedWeights.Configuration? = nil) async throws -> any ImageEncoder {
        let config = try pretrainedConfig(name)
        return try create(config.name, numClasses: numClasses, weights: try await pretrainedWeightsURL(name, configuration: configuration))
    }

    /// The cached file of `name`'s pretrained weights (its tag, or the architecture's default tag), downloaded
    /// first when absent: from the hub, or from the tag's own URL for weights published elsewhere (AlexNet).
    public static func pretrainedWeightsURL(_ name: String, configuration: PretrainedWeights.Configuration? = nil) async throws -> URL {
        let config = try pretrainedConfig(name)
        if config.hubRepository == nil, let direct = config.url.flatMap(URL.init(string:)) {
            return try await cachedDirectDownload(config, from: direct, configuration: configuration)
        }
        // Usually `timm/{architecture}.{tag}`; some names share another's repository (the QuickGELU CLIP towers use
        // `timm/vit_base_patch16_clip_224.openai`), and are downloaded and cached under that name.
        if let repository = config.hubRepository, repository.hasPrefix("timm/"), repository != "timm/\(config.name)" {
            return try await PretrainedWeights.localURL(name: String(repository.dropFirst("timm/".count)), configuration: configuration)
        }
        return try await PretrainedWeights.localURL(model: config.architecture, tag: config.tag, configuration: configuration)
    }

    /// Weights published outside the hub (torchvision's AlexNet `.pth`), cached beside the hub's files as
    /// `{architecture}.{tag}.{extension}`.
    private static func cachedDirectDownload(_ config: PretrainedConfig, from remote: URL,
                                             configuration: PretrainedWeights.Configuration?) async throws -> URL {
        let configuration = try configuration ?? PretrainedWeights.Configuration()
        let file = configuration.cacheDirectory.appendingPathComponent("\(config.name).\(remote.pathExtension)")
        if PretrainedWeights.isNonEmptyFile(file) { return file }
        var options = configuration.download
        if options.progressLabel == nil { options.progressLabel = config.name }
        try await FileDownloader.download(from: remote, to: file, options: options)
        return file
    }

    /// True when the checkpoint holds exactly the model's classifier tensors, with the same shapes.
    private static func classifierFits(_ entries: [(key: String, array: TypedArray)], _ model: any ImageEncoder) -> Bool {
        let prefix = model.classifierKeyPrefix + "."
        let wanted = model.namedParameters().filter { $0.key.hasPrefix(prefix) }.map { "\($0.key) \($0.parameter.shape)" }
        let present = entries.filter { $0.key.hasPrefix(prefix) }.map { "\($0.key) \($0.array.shape)" }
        return wanted.sorted() == present.sorted()
    }
}
