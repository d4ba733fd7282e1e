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
        return LayerNormKernels.forward(input, count: normalizedShape.reduce(1, *), weight: weight?.value, bias: bias?.value, eps: eps)
    }
}

/// Fused layer norm over the last `count` elements of each row: two passes for the statistics and one to
/// normalise, and a backward pass that recomputes x̂ from the saved per-row μ and 1/σ
/// (dX = 1/σ · (g − mean(g) − x̂·mean(g·x̂)), g = dY·γ), in MedTensor's `NormalizationKernels`; the weight and
/// bias gradients are sums of dY·x̂ and dY over the rows. One op in the graph instead of eight.
enum LayerNormKernels {
    static func forward(_ input: Tensor, count n: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let x = input.detached().contiguous()
        let rows = n == 0 ? 0 : x.count / n
        let mean = Tensor.uninitialized([rows]), inverseStd = Tensor.uninitialized([rows]), output = Tensor.uninitialized(x.shape)
        // A bias without a weight is a weight of ones (the C kernel adds beta only with gamma).
        let gamma = weight.map { $0.detached().contiguous() } ?? (bias != nil ? Tensor.ones([n]) : nil)
        let beta = bias.map { $0.detached().contiguous() }
        NormalizationKernels.layerNormForward(x.contiguousPointer, rows: rows, n: n, eps: eps, gamma: gamma?.contiguousPointer,
                                              beta: beta?.contiguousPointer, output: output.contiguousPointer,
                                              mean: mean.contiguousPointer, inverseStd: inverseStd.contiguousPointer)
        withExtendedLifetime((gamma, beta)) {}
        var inputs = [input]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let (hasWeight, hasBias, parameterShape) = (weight != nil, bias != nil, weight?.shape ?? bias?.shape ?? [n])
        return Tensor.record(output, "layer_norm", inputs: inputs) { gradient in
            let dy = gradient.contiguous()
            let dx = Tensor.uninitialized(x.shape), normalized = Tensor.uninitialized(x.shape)
            NormalizationKernels.layerNormBackward(dy.contiguousPointer, input: x.contiguousPointer, rows: rows, n: n,
                                                   gamma: gamma?.contiguousPointer, mean: mean.contiguousPointer,
                                                   inverseStd: inverseStd.contiguousPointer, gradInput: dx.contiguousPointer,
                                                   normalized: normalized.contiguousPointer)
            withExtendedLifetime((x, gamma, mean, inverseStd)) {}
            let dy2 = dy.reshaped([rows, n])
            var result: [Tensor?] = [dx]
            if hasWeight { result.append((dy2 * normalized.reshaped([rows, n])).sum(axis: 0).reshaped(parameterShape)) }
            if hasBias { result.append(dy2.sum(axis: 0).reshaped(parameterShape)) }
            return result
        }
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
