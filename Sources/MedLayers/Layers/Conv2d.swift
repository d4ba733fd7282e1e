import MedTensor

/// 2-D convolution over NCHW input with PyTorch's `nn.Conv2d` weights ([out, in/groups, kH, kW]) and
/// initialisation. Depthwise convolution is `groups == inChannels`.
public final class Conv2d: Module, UnaryLayer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Size2
    public let padding: Size2
    public let dilation: Size2
    public let groups: Int

    public init(inChannels: Int, outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: \(inChannels) → \(outChannels) channels do not split into \(groups) groups")
        let shape = [outChannels, inChannels / groups, kernelSize.height, kernelSize.width]
        let fanIn = shape[1] * shape[2] * shape[3]
        weight = Parameter(Initializer.kaimingUniformDefault(shape, fanIn: fanIn))
        self.bias = bias ? Parameter(Initializer.uniform([outChannels], bound: 1 / Float(max(fanIn, 1)).squareRoot())) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
    }

    public var inChannels: Int { weight.shape[1] * groups }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Size2 { Size2(weight.shape[2], weight.shape[3]) }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "Conv2d(\(inChannels) → \(outChannels)): expected [N, \(inChannels), H, W], got \(input.shape)")
        return input.conv2d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
                            dilation: dilation, groups: groups)
    }
}
