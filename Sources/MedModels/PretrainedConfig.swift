/// How a pretrained tag expects its images, as timm's `pretrained_cfg` (`default_cfg`) gives it.
///
/// MedTraining turns it into the data pipeline (`ImageTransform(pretrained:protocol:)`), so the model's
/// statistics are written down once, here.
public struct PretrainedConfig: Sendable, Equatable {
    /// How timm resizes for this tag (`interpolation`).
    public enum Interpolation: String, Sendable, CaseIterable {
        case bilinear, bicubic, nearest
    }

    /// How timm's evaluation transform crops (`crop_mode`).
    public enum CropMode: String, Sendable, CaseIterable {
        /// Resize the short side to `size / cropPct`, then crop the centre.
        case center
        /// Resize both sides to `size / cropPct` (aspect not kept), then crop the centre.
        case squash
        /// Resize the long side, then pad the borders.
        case border
    }

    /// `architecture.tag`, e.g. `resnet18.a1_in1k`.
    public var name: String
    public var architecture: String
    public var tag: String
    /// Hugging Face hub repository of the weights (`timm/resnet18.a1_in1k`; timm's `hf_hub_id`), nil when
    /// they live elsewhere.
    public var hubRepository: String?
    /// Direct download URL when the weights are not on the hub (torchvision's AlexNet).
    public var url: String?
    /// [channels, height, width] the weights were trained at.
    public var inputSize: [Int]
    /// timm's `test_input_size`, when the tag recommends a larger evaluation size.
    public var testInputSize: [Int]?
    public var cropPct: Double
    public var testCropPct: Double?
    public var cropMode: CropMode
    public var interpolation: Interpolation
    /// Per-channel normalisation mean and standard deviation the weights were trained with.
    public var mean: [Float]
    public var std: [Float]
    /// Classes of the checkpoint's head (ImageNet-1k: 1000; 0 for a headless checkpoint).
    public var numClasses: Int
    /// Key prefix of the first convolution and of the classifier in the checkpoint.
    public var firstConv: String
    public var classifier: String
}
