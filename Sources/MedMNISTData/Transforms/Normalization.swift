/// Per-channel `(x − mean) / std` on values in [0, 1], as `torchvision.transforms.Normalize`.
public struct Normalization: Sendable, Equatable {
    /// Per-channel means (or one for all channels).
    public var mean: [Float]
    /// Per-channel standard deviations (or one for all channels).
    public var std: [Float]

    /// One value per output channel (1 or 3), or a single value for all channels.
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "Normalization: mean and std need the same, non-zero length")
        precondition(std.allSatisfy { $0 != 0 }, "Normalization: std must not be 0")
        self.mean = mean
        self.std = std
    }

    /// ImageNet statistics (timm's `IMAGENET_DEFAULT_MEAN/STD`), used by most of the paper's models.
    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// mean = std = 0.5 per channel (the MedMNIST v2 baselines; also timm's ViT/EVA/SAM "inception" stats).
    public static let half = Normalization(mean: [0.5], std: [0.5])
    /// OpenAI CLIP statistics.
    public static let clip = Normalization(
        mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711])

    /// Mean and std of channel `c` (a single value applies to every channel).
    func parameters(channel c: Int) -> (mean: Float, std: Float) {
        mean.count == 1 ? (mean[0], std[0]) : (mean[c], std[c])
    }

    /// `(Float(v) / 255 − mean) / std` for every byte value, in the same Float32 operations as torchvision's
    /// `ToTensor` followed by `Normalize`, so table look-ups are bit-identical to PyTorch.
    func table(channel c: Int) -> [Float] {
        let (m, s) = parameters(channel: c)
        return (0..<256).map { (Float($0) / 255 - m) / s }
    }
}

/// `Float(v) / 255` for every byte value (torchvision `ToTensor`).
let unitTable: [Float] = (0..<256).map { Float($0) / 255 }
