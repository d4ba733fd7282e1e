import MedTensor

/// `bn(conv(x))`, with the batch norm folded into the convolution in evaluation mode.
///
/// In evaluation a BatchNorm is an affine map per channel, so conv→BN is one convolution with weights
/// W·s and bias (b − μ)·s + β (s = γ/√(σ² + ε)): one pass over the output instead of two. The folded
/// weights are a derived cache kept on the BatchNorm, rebuilt whenever a parameter or running statistic of
/// either layer changes (loading, an optimizer step, training-mode statistics updates all bump their
/// `cacheVersion`); the state dict never changes. Training mode, or gradients wanted for these parameters,
/// take the ordinary two-layer path.
public func convBatchNorm(_ conv: Conv2d, _ bn: BatchNorm2d, _ input: Tensor) -> Tensor {
    let parameters = conv.namedDirectParameters.map(\.parameter) + bn.namedDirectParameters.map(\.parameter)
    let wantsParameterGradients = GradMode.isEnabled && parameters.contains { $0.requiresGrad }
    guard !bn.isTraining, bn.runningMean != nil, !wantsParameterGradients else { return bn(conv(input)) }
    let key = [ObjectIdentifier(conv).hashValue] + parameters.map(\.cacheVersion)
    let folded: (weight: Tensor, bias: Tensor)
    if let cached = bn.foldCache, cached.key == key {
        folded = (cached.weight, cached.bias)
    } else {
        folded = withoutGrad {
            let (scale, shift) = bn.evaluationAffine()
            let weight = (conv.weight.value * scale.reshaped([-1, 1, 1, 1])).contiguous()
            let bias = (conv.bias.map { $0.value * scale } ?? Tensor.zeros([conv.outChannels])) + shift
            return (weight, bias)
        }
        bn.foldCache = .init(key: key, weight: folded.weight, bias: folded.bias)
    }
    return input.conv2d(weight: folded.weight, bias: folded.bias, stride: conv.stride, padding: conv.padding,
                        dilation: conv.dilation, groups: conv.groups)
}

/// The folded convolution weights of ``convBatchNorm(_:_:_:)`` and the parameter versions they came from.
final class FoldedConvolution {
    let key: [Int]
    let weight: Tensor
    let bias: Tensor
    init(key: [Int], weight: Tensor, bias: Tensor) {
        self.key = key
        self.weight = weight
        self.bias = bias
    }
}
