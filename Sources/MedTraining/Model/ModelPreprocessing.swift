import MedMNISTData
import MedModels

/// The data pipeline a model expects, derived from its pretrained configuration (timm's `pretrained_cfg`),
/// so that a model's statistics are written down once, in the registry.
extension Normalization {
    /// The mean and standard deviation `config`'s weights were trained with.
    public init(pretrained config: PretrainedConfig) {
        self.init(mean: config.mean, std: config.std)
    }
}

/// How images reach the model in the training presets (MEDMNIST.md §1.3).
public enum InputResolution: Sendable, Equatable {
    /// The paper's protocol: the native image, normalised, then zero-padded to `side` (224) — pad pixels are 0
    /// in normalised space.
    case padded(to: Int)
    /// The `fast` preset: the native image, normalised, unpadded (transformers pad to their patch grid
    /// themselves).
    case native

    /// The paper's 224-pixel padding.
    public static let paper = InputResolution.padded(to: 224)
}

extension ImageTransform {
    /// The pipeline the presets feed `model`'s pretrained configuration with: grayscale replicated to RGB for a
    /// 3-channel model, the configuration's mean and std, then `resolution`; no augmentation (the paper uses none).
    /// - Parameter model: a registry name, `resnet18` (its default tag's statistics, which the paper also uses
    ///   for randomly initialised models) or `resnet18.a1_in1k`.
    /// - Throws: `ModelRegistryError` for an unknown name.
    public static func forModel(_ model: String, resolution: InputResolution = .paper) throws -> ImageTransform {
        try forModel(ModelRegistry.pretrainedConfig(model), resolution: resolution)
    }

    /// The pipeline for `encoder` (built as `model`) on images of `side` pixels: ``forModel(_:resolution:)``,
    /// except that the `fast` preset's native images smaller than the architecture's smallest input (VGG16 needs
    /// 32, DenseNet-121 29, AlexNet 63) are zero-padded up to that smallest input, as the paper pads to 224, so
    /// that every encoder runs at every size. Returns the padding applied, if any, for the run's notes.
    public static func forModel(_ model: String, encoder: any ImageEncoder, side: Int, resolution: InputResolution)
        throws -> (transform: ImageTransform, paddedTo: Int?) {
        guard resolution == .native, side < encoder.minimumInputSize else {
            return (try forModel(model, resolution: resolution), nil)
        }
        return (try forModel(model, resolution: .padded(to: encoder.minimumInputSize)), encoder.minimumInputSize)
    }

    /// ``forModel(_:resolution:)`` for a configuration in hand.
    public static func forModel(_ config: PretrainedConfig, resolution: InputResolution = .paper) -> ImageTransform {
        let padTo: Int? = switch resolution {
        case .padded(let side): side
        case .native: nil
        }
        return ImageTransform(rgb: config.inputSize.first == 3, normalization: Normalization(pretrained: config), padTo: padTo)
    }
}
