/// Everything a 2-D convolution kernel needs to know about its operands, in PyTorch's layouts:
/// input [batch, inChannels, height, width] (NCHW), weight [outChannels, inChannels/groups, kH, kW] (OIHW),
/// output [batch, outChannels, outputSize.height, outputSize.width], all contiguous.
///
/// It is the one argument of the compute entry points (`ConvolutionKernels`), so that a faster kernel can
/// replace a path without touching the op or its autograd rule. PyTorch's `nn.Conv2d` arguments, checked.
public struct Conv2dGeometry: Hashable, Sendable {
    /// N, the number of images.
    public let batch: Int
    public let inChannels: Int
    /// Input height and width.
    public let inputSize: Size2
    public let outChannels: Int
    /// kH, kW.
    public let kernel: Size2
    public let stride: Size2
    /// Zeros added on both sides of each spatial axis.
    public let padding: Size2
    /// Spacing between kernel taps (1 = adjacent).
    public let dilation: Size2
    /// Channel groups: input channel group g only feeds output channel group g.
    public let groups: Int
    /// floor((in + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1 on each axis, as `torch.nn.Conv2d`.
    public let outputSize: Size2

    /// Checks the arguments as PyTorch does (positive kernel, stride and dilation; channels divisible by
    /// groups; a non-empty output) and computes the output size.
    public init(batch: Int, inChannels: Int, inputSize: Size2, outChannels: Int, kernel: Size2,
                stride: Size2 = 1, padding: Size2 = 0, dilation: Size2 = 1, groups: Int = 1) {
        precondition(batch >= 0 && inputSize.height > 0 && inputSize.width > 0,
                     "conv2d: invalid input batch \(batch), size \(inputSize)")
        precondition(kernel.height > 0 && kernel.width > 0, "conv2d: kernel size must be positive, got \(kernel)")
        precondition(stride.height > 0 && stride.width > 0, "conv2d: stride must be positive, got \(stride)")
        precondition(dilation.height > 0 && dilation.width > 0, "conv2d: dilation must be positive, got \(dilation)")
        precondition(padding.height >= 0 && padding.width >= 0, "conv2d: padding must be non-negative, got \(padding)")
        precondition(groups > 0 && inChannels > 0 && inChannels % groups == 0 && outChannels > 0 && outChannels % groups == 0,
                     "conv2d: \(inChannels) input and \(outChannels) output channels must both be divisible by groups = \(groups)")
        self.batch = batch
        self.inChannels = inChannels
        self.inputSize = inputSize
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        func output(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> Int {
            let span = size + 2 * p - d * (k - 1) - 1
            return span < 0 ? 0 : span / s + 1
        }
        outputSize = Size2(output(inputSize.height, kernel.height, stride.height, padding.height, dilation.height),
                           output(inputSize.width, kernel.width, stride.width, padding.width, dilation.width))
        precondition(outputSize.height > 0 && outputSize.width > 0,
                     "conv2d: input \(inputSize) with padding \(padding) is smaller than the dilated kernel \(kernel) (dilation \(dilation))")
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    public var kernelArea: Int { kernel.height * kernel.width }
    /// Rows of one group's column matrix (and the reduction length of its GEMM): inChannels/groups · kH · kW.
    public var columnRows: Int { inChannelsPerGroup * kernelArea }
    public var inputPlane: Int { inputSize.height * inputSize.width }
    public var outputPlane: Int { outputSize.height * outputSize.width }
    public var inputShape: [Int] { [batch, inChannels, inputSize.height, inputSize.width] }
    public var weightShape: [Int] { [outChannels, inChannelsPerGroup, kernel.height, kernel.width] }
    public var outputShape: [Int] { [batch, outChannels, outputSize.height, outputSize.width] }
    /// A 1×1 kernel with stride 1 and no padding: the output is the weight times the input, a plain GEMM.
    public var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    /// One input channel per group (groups == inChannels), each giving `depthMultiplier` output channels.
    public var isDepthwise: Bool { groups > 1 && inChannelsPerGroup == 1 }
    public var depthMultiplier: Int { outChannels / groups }

    /// The kernel taps that reach the input from some output position, as ranges of kernel rows and columns,
    /// when they are fewer than the kernel's and cut equally from both sides (so that symmetric padding still
    /// describes the smaller kernel); nil otherwise. The taps outside only ever multiply padding: a 3×3
    /// convolution with padding 1 over a 1×1 input (ResNet's last stage at 28 px) is a 1×1 convolution of its
    /// centre tap, with a ninth of the work.
    public var reachableTaps: (rows: Range<Int>, columns: Range<Int>)? {
        func reachable(_ k: Int, _ size: Int, _ outSize: Int, _ s: Int, _ p: Int, _ d: Int) -> Range<Int>? {
            // Tap t reads input positions −p + t·d … (outSize − 1)·s − p + t·d.
            let taps = (0..<k).filter { t in (outSize - 1) * s - p + t * d >= 0 && -p + t * d < size }
            guard let first = taps.first, let last = taps.last else { return nil }
            return first..<(last + 1)
        }
        guard let rows = reachable(kernel.height, inputSize.height, outputSize.height, stride.height, padding.height, dilation.height),
              let columns = reachable(kernel.width, inputSize.width, outputSize.width, stride.width, padding.width, dilation.width),
              rows.count < kernel.height || columns.count < kernel.width,
              rows.lowerBound == kernel.height - rows.upperBound, columns.lowerBound == kernel.width - columns.upperBound,
              padding.height - rows.lowerBound * dilation.height >= 0, padding.width - columns.lowerBound * dilation.width >= 0
        else { return nil }
        return (rows, columns)
    }
}

extension Tensor {
    /// 2-D cross-correlation over an NCHW input (or an unbatched CHW one) with an OIHW `weight` of shape
    /// [outChannels, inChannels/groups, kH, kW] and an optional `bias` of shape [outChannels], as
    /// `torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups)`.
    /// Differentiable with respect to the input, the weight and the bias.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                       dilation: Size2 = 1, groups: Int = 1) -> Tensor {
        if rank == 3 {
            return unsqueezed(axis: 0)
                .conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
                .squeezed(axis: 0)
        }
        precondition(rank == 4, "conv2d: input must be [N, C, H, W] or [C, H, W], got \(shape)")
        precondition(weight.rank == 4, "conv2d: weight must be [outC, inC/groups, kH, kW], got \(weight.shape)")
        precondition(groups > 0 && weight.shape[1] * groups == shape[1],
                     "conv2d: weight \(weight.shape) with groups = \(groups) expects \(weight.shape[1] * groups) input channels, input has \(shape[1])")
        let geometry = Conv2dGeometry(batch: shape[0], inChannels: shape[1], inputSize: Size2(shape[2], shape[3]),
                                      outChannels: weight.shape[0], kernel: Size2(weight.shape[2], weight.shape[3]),
                                      stride: stride, padding: padding, dilation: dilation, groups: groups)
        if let bias {
            precondition(bias.shape == [geometry.outChannels], "conv2d: bias must be [\(geometry.outChannels)], got \(bias.shape)")
        }
        if let taps = geometry.reachableTaps {
            // The same convolution with the taps that only see padding cut away (their weight gradient is zero,
            // which the narrowing's backward pass writes).
            let cropped = weight.narrowed(axis: 2, start: taps.rows.lowerBound, length: taps.rows.count)
                .narrowed(axis: 3, start: taps.columns.lowerBound, length: taps.columns.count)
            let croppedPadding = Size2(padding.height - taps.rows.lowerBound * dilation.height,
                                       padding.width - taps.columns.lowerBound * dilation.width)
            return conv2d(weight: cropped, bias: bias, stride: stride, padding: croppedPadding, dilation: dilation, groups: groups)
        }
        let x = contiguousData(), w = weight.contiguousData(), b = bias?.contiguousData()
        let output = Tensor.uninitialized(geometry.outputShape)
        let recorded = GradMode.isEnabled && (requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        ConvolutionKernels.forward(geometry, input: x.pointer, weight: w.pointer, bias: b?.pointer,
                                   output: output.storage.pointer, forTraining: recorded)
        withExtendedLifetime((x.owner, w.owner, b?.owner)) {}

        let (needInput, needWeight, needBias) = (requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        // Save only what the backward pass reads: the input for dW, the weight for dX.
        let savedInput = needWeight ? x.owner.detached() : nil
        let savedWeight = needInput ? w.owner.detached() : nil
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        let hasBias = bias != nil
        return Tensor.record(output, "conv2d", inputs: inputs) { gradient in
            let gy = gradient.contiguousData()
            defer { withExtendedLifetime(gy.owner) {} }
            var gradients: [Tensor?] = [nil, nil]
            if let savedWeight {
                let gx = Tensor.uninitialized(geometry.inputShape)
                ConvolutionKernels.backwardInput(geometry, gradOutput: gy.pointer, weight: savedWeight.contiguousPointer,
                                                 gradInput: gx.storage.pointer)
                gradients[0] = gx
            }
            if let savedInput {
                let gw = Tensor.uninitialized(geometry.weightShape)
                ConvolutionKernels.backwardWeight(geometry, input: savedInput.contiguousPointer, gradOutput: gy.pointer,
                                                  gradWeight: gw.storage.pointer)
                gradients[1] = gw
            }
            if hasBias {
                var gb: Tensor? = nil
                if needBias {
                    gb = Tensor.uninitialized([geometry.outChannels])
                    ConvolutionKernels.backwardBias(geometry, gradOutput: gy.pointer, gradBias: gb!.storage.pointer)
                }
                gradients.append(gb)
            }
            withExtendedLifetime((savedInput, savedWeight)) {}
            return gradients
        }
    }
}
