import MedTensor

/// Squeeze-and-excitation as timm's EfficientNet uses it (`conv_reduce`, act, `conv_expand`, sigmoid
/// gate): x · σ(W₂ · act(W₁ · mean_hw(x) + b₁) + b₂).
public final class SqueezeExcite: Module, UnaryLayer {
    public let convReduce: Conv2d
    public let act: any UnaryLayer
    public let convExpand: Conv2d

    public init(channels: Int, reducedChannels: Int, activation: any UnaryLayer = SiLU()) {
        convReduce = Conv2d(inChannels: channels, outChannels: reducedChannels, kernelSize: 1)
        act = activation
        convExpand = Conv2d(inChannels: reducedChannels, outChannels: channels, kernelSize: 1)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let squeezed = input.mean(axes: [2, 3], keepDims: true)
        return input * convExpand(act(convReduce(squeezed))).sigmoid()
    }
}
