import MedTensor

/// Layer normalisation over the last `normalizedShape.count` axes (PyTorch's `nn.LayerNorm`). `eps` is part
/// of the model's configuration, not of its checkpoint: 1e-6 in timm's ViT, 1e-5 in CLIP and PyTorch.
public final class LayerNorm: Module, UnaryLayer {
    public let weight: Parameter?
    public let bias: Parameter?
    public let normalizedShape: [Int]
    public let eps: Float

    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Parameter(.ones(normalizedShape)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(.zeros(normalizedShape)) : nil
        super.init()
    }

    public convenience init(_ features: Int, eps: Float = 1e-5) { self.init([features], eps: eps) }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                     "LayerNorm\(normalizedShape): input \(input.shape) does not end in the normalised shape")
        let axes = Array((input.rank - normalizedShape.count)..<input.rank)
        let mean = input.mean(axes: axes, keepDims: true)
        let centered = input - mean
        let variance = centered.square().mean(axes: axes, keepDims: true)
        var output = centered * (variance + eps).rsqrt()
        if let weight { output = output * weight.value }
        if let bias { output = output + bias.value }
        return output
    }
}

/// LayerNorm over the channels of NCHW input (timm's `LayerNorm2d`, used by SAM's neck and ConvNeXt).
public final class LayerNorm2d: Module, UnaryLayer {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-6) {
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let channels = weight.shape[0]
        precondition(input.rank == 4 && input.shape[1] == channels, "LayerNorm2d(\(channels)): expected [N, \(channels), H, W], got \(input.shape)")
        let mean = input.mean(axis: 1, keepDims: true)
        let centered = input - mean
        let variance = centered.square().mean(axis: 1, keepDims: true)
        let shape = [1, channels, 1, 1]
        return centered * (variance + eps).rsqrt() * weight.value.reshaped(shape) + bias.value.reshaped(shape)
    }
}

/// Group normalisation (PyTorch's `nn.GroupNorm`): statistics over each group of channels and all pixels.
public final class GroupNorm: Module, UnaryLayer {
    public let weight: Parameter?
    public let bias: Parameter?
    public let groups: Int
    public let eps: Float

    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        self.groups = groups
        self.eps = eps
        weight = affine ? Parameter(.ones([channels])) : nil
        bias = affine ? Parameter(.zeros([channels])) : nil
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let (n, c) = (input.shape[0], input.shape[1])
        let grouped = input.reshaped([n, groups, -1])
        let mean = grouped.mean(axis: 2, keepDims: true)
        let centered = grouped - mean
        let variance = centered.square().mean(axis: 2, keepDims: true)
        var output = (centered * (variance + eps).rsqrt()).reshaped(input.shape)
        let shape = [1, c] + Array(repeating: 1, count: input.rank - 2)
        if let weight { output = output * weight.value.reshaped(shape) }
        if let bias { output = output + bias.value.reshaped(shape) }
        return output
    }
}
